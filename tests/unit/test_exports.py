"""orgvend.exports: every format read back by a real parser (no AWS involved)."""

import configparser
import csv
import io
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.session
import pytest
from botocore.configloader import build_profile_map, raw_config_parse
from botocore.credentials import SSOProvider
from pydantic import ValidationError

from orgvend import rules
from orgvend.exports import (
    CSV_COLUMNS,
    PROFILE_NAME_PATTERN,
    SSO_REGISTRATION_SCOPES,
    ClientSetting,
    ExportFormat,
    ExportOptions,
    IdentityCenterNotConfigured,
    client_colour,
    display_name_for,
    export_accounts,
    profile_names,
    truncate_display_name,
)
from orgvend.models import AccessAssignment, AccountAccess, AccountRecord, AccountStatus
from orgvend.switch_role import CONSOLE_COLOURS, DISPLAY_NAME_MAX_LENGTH, SWITCH_ROLE_ENDPOINT

ROLE = "OrganizationAccountAccessRole"
MANAGEMENT_ACCOUNT = "999988887777"
EPOCH = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
HOSTILE_CLIENT = '<script>alert("client")</script>'
HOSTILE_ACCOUNT_NAME = "<img src=x onerror=alert(1)> & \"quoted\" 'single'"
HOSTILE_PROJECT = '"><b>bold</b>'
PORTAL = "https://d-1234567890.awsapps.com/start"
SSO_REGION = "eu-central-1"
# What the API gives every export when the stack names an Identity Center instance.
WITH_PORTAL = ExportOptions(sso_start_url=PORTAL, sso_region=SSO_REGION)
ADMIN, READ_ONLY = rules.KEPT_PERMISSION_SETS


def access(*grants: tuple[str, str], configured: bool = True) -> AccountAccess:
    """An account's access: (group, permission set) assignments, as AssignAccess records them."""
    return AccountAccess(
        configured=configured,
        portal_url=PORTAL if configured else None,
        sso_region=SSO_REGION if configured else None,
        assignments=[
            AccessAssignment(
                group=group,
                group_id=f"id-{group}",
                permission_set=permission_set,
                permission_set_arn=f"arn:aws:sso:::permissionSet/ssoins-1/{permission_set}",
                rule="rule",
            )
            for group, permission_set in grants
        ],
    )


def record(number: int, client: str = "acme", project: str = "web", **changes: Any) -> AccountRecord:
    fields: dict[str, Any] = {
        "account_id": f"{number:012d}",
        "account_name": f"{client}-{project}",
        "email": f"aws+{number}@example.com",
        "client": client,
        "project": project,
        "role_name": ROLE,
        "status": AccountStatus.ACTIVE,
        "ou_id": "ou-ab12-cdef3456",
        "created_at": EPOCH + timedelta(days=number),
        "updated_at": EPOCH + timedelta(days=number, hours=1),
    }
    fields.update(changes)
    return AccountRecord(**fields)


def sample() -> list[AccountRecord]:
    """Three clients; acme/web held by two accounts (a profile-name collision)."""
    return [
        record(101, "acme", "web", access=access(("acme-ops", READ_ONLY), ("acme-admins", ADMIN))),
        record(102, "acme", "api", tags={"cost-center": "42"}),
        record(103, "acme", "web", access=access(("acme-admins", ADMIN), ("agency-admins", ADMIN))),
        record(201, "globex", "data", access=access(("globex", READ_ONLY))),
        record(301, "initech", "tps-reports", role_name="Admin"),
    ]


def query_of(href: str) -> dict[str, str]:
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SWITCH_ROLE_ENDPOINT
    values = parse_qs(parts.query, strict_parsing=True)
    assert all(len(value) == 1 for value in values.values()), values
    return {name: value[0] for name, value in values.items()}


def expected_query(account: AccountRecord, options: ExportOptions | None = None) -> dict[str, str]:
    return {
        "account": account.account_id,
        "roleName": account.role_name,
        "displayName": display_name_for(account.client, account.project, options),
        "color": client_colour(account.client, options),
    }


class Page(HTMLParser):
    """Links (with their bookmark folders), every tag, script bodies and the visible text of a page."""

    def __init__(self, content: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.links: list[dict[str, Any]] = []
        self.folders: list[str | None] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.rows: list[dict[str, str | None]] = []
        self._folder_name: str | None = None
        self._capture: list[str] | None = None
        self._in: str | None = None
        self.feed(content)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        attributes = dict(attrs)
        if tag == "dl":
            self.folders.append(self._folder_name)
            self._folder_name = None
        elif tag in ("h3", "a", "script"):
            self._in, self._capture = tag, []
            if tag == "a":
                folders = [name for name in self.folders if name is not None]
                self.links.append({"href": attributes.get("href"), "attrs": attributes, "folders": folders})
        elif tag == "tr" and "data-search" in attributes:
            self.rows.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "dl" and self.folders:
            self.folders.pop()
        if tag == self._in and self._capture is not None:
            captured = "".join(self._capture)
            if tag == "h3":
                self._folder_name = captured
            elif tag == "a":
                self.links[-1]["text"] = captured
            else:
                self.scripts.append(captured)
            self._in, self._capture = None, None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture.append(data)
        if self._in != "script":
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def ini(content: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.read_string(content)
    return parser


# --------------------------------------------------------------------------- aws-config


def test_aws_config_profiles_read_back_by_configparser_and_botocore(tmp_path: Path) -> None:
    accounts = sample()
    options = ExportOptions(source_profile="orgvend-admin", region="eu-west-1", role_session_name="alice")
    export = export_accounts(accounts, ExportFormat.AWS_CONFIG, options)

    parser = ini(export.content)
    names = profile_names(accounts, options)
    assert parser.sections() == [f"profile {names[account.account_id]}" for account in _sorted(accounts)]
    for account in accounts:
        profile = parser[f"profile {names[account.account_id]}"]
        assert dict(profile) == {
            "role_arn": f"arn:aws:iam::{account.account_id}:role/{account.role_name}",
            "source_profile": "orgvend-admin",
            "region": "eu-west-1",
            "role_session_name": "alice",
        }
    # The AWS CLI's own loader sees the same profiles.
    path = tmp_path / "config"
    path.write_text(export.content)
    cli_profiles = build_profile_map(raw_config_parse(str(path)))["profiles"]
    assert set(cli_profiles) == set(names.values())
    assert cli_profiles["acme-web"]["role_arn"] == f"arn:aws:iam::000000000101:role/{ROLE}"
    assert export.count == len(accounts)
    assert export.warnings == ()


def test_aws_config_defaults_and_no_session_name() -> None:
    parser = ini(export_accounts(sample(), "aws-config").content)
    for section in parser.sections():
        assert parser[section]["source_profile"] == "default"
        assert parser[section]["region"] == "us-east-1"
        assert "role_session_name" not in parser[section]


# --------------------------------------------------------------------------- aws-config-sso


def test_aws_config_sso_profiles_resolve_through_botocore_to_the_portal_account_and_permission_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = sample()
    export = export_accounts(accounts, ExportFormat.AWS_CONFIG_SSO, WITH_PORTAL)
    path = tmp_path / "config"
    path.write_text(export.content)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    names = profile_names(accounts)
    expected = {
        f"{names[account.account_id]}-{permission_set}": (account.account_id, permission_set)
        for account in accounts
        if account.access
        for permission_set in account.access.permission_sets
    }
    # acme/web twice (the newer one with the account ID), each permission set once per account.
    assert set(expected) == {
        "acme-web-AdministratorMinusBilling",
        "acme-web-ReadOnlyAccess",
        "acme-web-000000000103-AdministratorMinusBilling",
        "globex-data-ReadOnlyAccess",
    }
    session = botocore.session.Session()
    assert set(session.full_config["profiles"]) == set(expected)
    assert session.full_config["sso_sessions"] == {
        "orgvend": {
            "sso_start_url": PORTAL,
            "sso_region": SSO_REGION,
            "sso_registration_scopes": SSO_REGISTRATION_SCOPES,
        }
    }
    for name, (account_id, permission_set) in expected.items():
        assert PROFILE_NAME_PATTERN.fullmatch(name)
        profile = botocore.session.Session(profile=name)
        assert (
            profile.get_scoped_config()["region"] == SSO_REGION
        )  # the file's (the tests' environment sets one)
        # The SSO credential provider's own reading of the profile (what `aws sso login` then uses):
        # the session's start URL and region, the profile's account and role (the permission set).
        provider = SSOProvider(
            load_config=lambda: session.full_config, client_creator=None, profile_name=name
        )
        assert provider._load_sso_config() == {
            "sso_start_url": PORTAL,
            "sso_region": SSO_REGION,
            "sso_account_id": account_id,
            "sso_role_name": permission_set,
            "sso_session": "orgvend",
        }
    assert export.count == 3  # accounts with profiles: acme/api and initech have no access
    assert export.warnings == ()


def test_aws_config_sso_profiles_take_the_given_region_and_prefix() -> None:
    options = WITH_PORTAL.model_copy(update={"region": "us-west-2", "profile_prefix": "agency-"})
    parser = ini(export_accounts(sample(), ExportFormat.AWS_CONFIG_SSO, options).content)
    assert parser["sso-session agency-orgvend"]["sso_region"] == SSO_REGION
    profile = parser["profile agency-globex-data-ReadOnlyAccess"]
    assert dict(profile) == {
        "sso_session": "agency-orgvend",
        "sso_account_id": "000000000201",
        "sso_role_name": READ_ONLY,
        "region": "us-west-2",
    }


def test_accounts_without_access_through_the_portal_get_no_sso_profile() -> None:
    accounts = [
        record(1, "acme", "none"),
        record(2, "acme", "unconfigured", access=access(configured=False)),
        record(3, "acme", "unassigned", access=access()),
        record(4, "acme", "unknown-set", access=access(("ops", "SomeoneElsesSet"))),
        record(5, "acme", "closed", access=access(("ops", ADMIN)), status=AccountStatus.CLOSED),
        record(6, "acme", "web", access=access(("ops", ADMIN))),
    ]
    export = export_accounts(accounts, ExportFormat.AWS_CONFIG_SSO, WITH_PORTAL)
    assert ini(export.content).sections() == [
        "sso-session orgvend",
        "profile acme-web-AdministratorMinusBilling",
    ]
    assert export.count == 1


@pytest.mark.parametrize(
    "options",
    [ExportOptions(), ExportOptions(sso_start_url=PORTAL), ExportOptions(sso_region=SSO_REGION)],
)
def test_sso_profiles_without_a_portal_are_refused_naming_identity_center(options: ExportOptions) -> None:
    with pytest.raises(IdentityCenterNotConfigured, match=r"aws-config-sso.*Identity Center"):
        export_accounts(sample(), ExportFormat.AWS_CONFIG_SSO, options)
    # The role exports need no Identity Center.
    assert export_accounts(sample(), ExportFormat.AWS_CONFIG, options).count == len(sample())


def _sorted(accounts: list[AccountRecord]) -> list[AccountRecord]:
    return sorted(accounts, key=lambda account: (account.client, account.project, account.account_id))


# --------------------------------------------------------------------------- profile names


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_every_format_is_stable_across_runs_and_input_order(fmt: ExportFormat) -> None:
    accounts = sample()
    first = export_accounts(accounts, fmt, WITH_PORTAL).content
    shuffled = accounts[:]
    random.Random(7).shuffle(shuffled)
    assert export_accounts(accounts, fmt, WITH_PORTAL).content == first
    assert export_accounts(reversed(accounts), fmt, WITH_PORTAL).content == first
    assert export_accounts(iter(shuffled), fmt, WITH_PORTAL).content == first


def test_profile_names_collide_only_with_the_account_id_and_the_oldest_keeps_the_plain_name() -> None:
    accounts = sample()
    names = profile_names(accounts)
    assert names == {
        "000000000101": "acme-web",  # the oldest acme/web
        "000000000103": "acme-web-000000000103",
        "000000000102": "acme-api",
        "000000000201": "globex-data",
        "000000000301": "initech-tps-reports",
    }
    # A newer account of the same client and project renames no existing profile.
    grown = profile_names([*accounts, record(104, "acme", "web")])
    assert {account_id: grown[account_id] for account_id in names} == names
    assert grown["000000000104"] == "acme-web-000000000104"
    assert len(set(grown.values())) == len(grown)


def test_profile_names_stay_unique_when_a_suffixed_name_is_another_accounts_plain_name() -> None:
    accounts = [
        record(1, "acme", "web"),
        record(2, "acme", "web"),
        record(3, "acme", "web-000000000002"),  # its plain name is the suffixed name of account 2
    ]
    names = profile_names(accounts)
    assert names["000000000003"] == "acme-web-000000000002"
    assert names["000000000002"] == "acme-web-000000000002-2"
    assert len(set(names.values())) == 3
    assert names == profile_names(reversed(accounts))


def test_profile_names_use_only_characters_the_cli_accepts() -> None:
    accounts = [
        record(1, "Ünïcode Corp!", "Web Site"),
        record(2, HOSTILE_CLIENT, HOSTILE_PROJECT),
        record(3, "[profile x]", "a;b#c=d"),
        record(4, "***", "..."),
        record(5, "ACME", "web"),
        record(6, "acme", "web"),  # ACME and acme both make acme-web
    ]
    names = profile_names(accounts)
    for name in names.values():
        assert re.fullmatch(r"[a-z0-9_.-]+", name), name
        assert not name.startswith(("-", ".")), name
    assert names["000000000001"] == "unicode-corp-web-site"
    assert names["000000000004"] == "client-project"
    assert sorted([names["000000000005"], names["000000000006"]]) == ["acme-web", "acme-web-000000000006"]
    assert len(set(names.values())) == len(accounts)
    assert ini(export_accounts(accounts, "aws-config").content).sections() == [
        f"profile {names[account.account_id]}" for account in _sorted_like_export(accounts)
    ]


def _sorted_like_export(accounts: list[AccountRecord]) -> list[AccountRecord]:
    return sorted(
        accounts,
        key=lambda a: (a.client.casefold(), a.client, a.project.casefold(), a.project, a.account_id),
    )


def test_profile_names_never_shadow_the_source_profile_and_take_the_prefix() -> None:
    accounts = [record(1, "acme", "web"), record(2, "globex", "data")]
    names = profile_names(accounts, ExportOptions(source_profile="acme-web"))
    assert names["000000000001"] == "acme-web-000000000001"
    prefixed = profile_names(accounts, ExportOptions(profile_prefix="ov-"))
    assert prefixed == {"000000000001": "ov-acme-web", "000000000002": "ov-globex-data"}


# --------------------------------------------------------------------------- extend-switch-roles


def test_extend_switch_roles_profiles_read_back_by_configparser() -> None:
    accounts = sample()
    options = ExportOptions(
        management_account_id=MANAGEMENT_ACCOUNT, source_profile="orgvend", region="eu-west-3"
    )
    export = export_accounts(accounts, ExportFormat.EXTEND_SWITCH_ROLES, options)
    parser = ini(export.content)

    # The base account: aws_account_id and no role_name (how the extension tells it apart).
    assert dict(parser["orgvend"]) == {"aws_account_id": MANAGEMENT_ACCOUNT}
    names = profile_names(accounts, options)
    for account in accounts:
        profile = parser[f"profile {names[account.account_id]}"]
        assert dict(profile) == {
            "aws_account_id": account.account_id,
            "role_name": account.role_name,
            "color": client_colour(account.client).lower(),
            "region": "eu-west-3",
            "source_profile": "orgvend",
        }
    colours = {parser[f"profile {names[a.account_id]}"]["color"] for a in accounts if a.client == "acme"}
    assert len(colours) == 1  # one colour per client
    assert export.count == len(accounts)
    assert export.warnings == ()


def test_extend_switch_roles_lines_survive_the_extensions_own_parser() -> None:
    """The extension cuts a line at ; or # and splits key=value at the first = only."""
    options = ExportOptions(management_account_id=MANAGEMENT_ACCOUNT)
    content = export_accounts(
        [*sample(), record(9, HOSTILE_CLIENT, HOSTILE_PROJECT)], "extend-switch-roles", options
    )
    for line in content.content.splitlines():
        if not line or line.startswith("#"):
            continue
        assert ";" not in line and "#" not in line, line
        if not line.startswith("["):
            assert line.count("=") == 1, line


def test_extend_switch_roles_without_a_management_account_is_a_simple_configuration() -> None:
    export = export_accounts(sample(), ExportFormat.EXTEND_SWITCH_ROLES)
    parser = ini(export.content)
    assert all(section.startswith("profile ") for section in parser.sections())
    assert all("source_profile" not in parser[section] for section in parser.sections())
    assert export.warnings == ("no management account given: profiles are listed without a base account",)


def test_role_names_that_would_inject_ini_lines_are_left_out_with_a_warning() -> None:
    injected = "Admin\n[profile evil]\ncredential_process = touch /tmp/pwned"
    accounts = [record(1, "acme", "web"), record(2, "acme", "evil", role_name=injected)]
    for fmt in (ExportFormat.AWS_CONFIG, ExportFormat.EXTEND_SWITCH_ROLES):
        export = export_accounts(accounts, fmt, ExportOptions(management_account_id=MANAGEMENT_ACCOUNT))
        parser = ini(export.content)
        assert "profile evil" not in parser.sections()
        assert not any("credential_process" in parser[section] for section in parser.sections())
        assert "000000000002" not in export.content
        assert export.warnings == ("000000000002 left out: its role name is not a valid IAM role name",)
        assert export.count == 1


def test_a_role_name_with_an_equals_sign_is_left_out_of_the_extension_only() -> None:
    accounts = [record(1, "acme", "web", role_name="Admin=Full")]
    assert "role/Admin=Full" in export_accounts(accounts, "aws-config").content
    export = export_accounts(
        accounts, "extend-switch-roles", ExportOptions(management_account_id=MANAGEMENT_ACCOUNT)
    )
    assert export.warnings == ("000000000001 left out: its role name contains '='",)
    assert ini(export.content).sections() == ["default"]


# --------------------------------------------------------------------------- bookmarks


def test_bookmarks_parse_into_one_folder_per_client_with_switch_role_links() -> None:
    accounts = sample()
    export = export_accounts(accounts, ExportFormat.BOOKMARKS)
    assert export.content.startswith("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n")
    page = Page(export.content)

    by_account = {query_of(link["href"])["account"]: link for link in page.links}
    assert set(by_account) == {account.account_id for account in accounts}
    for account in accounts:
        link = by_account[account.account_id]
        assert query_of(link["href"]) == expected_query(account)
        assert link["folders"] == ["AWS accounts", account.client]
        assert link["text"] == f"{account.client}/{account.project} ({account.account_id})"
        assert link["attrs"]["add_date"] == str(int(account.created_at.timestamp()))
    assert [link["folders"][-1] for link in page.links] == ["acme", "acme", "acme", "globex", "initech"]
    assert page.tags["script"] == 0


# --------------------------------------------------------------------------- html


def test_html_page_lists_every_account_with_a_switch_role_link() -> None:
    accounts = sample()
    export = export_accounts(accounts, ExportFormat.HTML)
    page = Page(export.content)

    links = [link for link in page.links if "switch" in (link["attrs"].get("class") or "")]
    assert len(links) == len(accounts) == len(page.rows)
    by_account = {query_of(link["href"])["account"]: link for link in links}
    for account in accounts:
        link = by_account[account.account_id]
        assert query_of(link["href"]) == expected_query(account)
        assert link["text"] == display_name_for(account.client, account.project)
        assert link["attrs"]["rel"] == "noopener noreferrer"
    assert all("hidden" not in row for row in page.rows)
    search = {row["data-search"] for row in page.rows}
    assert any("globex" in text and "000000000201" in text for text in search)


def test_html_page_is_self_contained() -> None:
    content = export_accounts(sample(), ExportFormat.HTML).content
    page = Page(content)
    assert page.tags["script"] == 1
    assert page.tags["link"] == 0 and page.tags["img"] == 0 and page.tags["iframe"] == 0
    hrefs = [link["href"] for link in page.links]
    assert all(href.startswith(SWITCH_ROLE_ENDPOINT + "?") for href in hrefs)
    assert not re.search(r"\bsrc\s*=", content)
    assert "@import" not in content and "url(" not in content
    assert "Content-Security-Policy" in content and "default-src &#x27;none&#x27;" in content


def test_hostile_names_are_escaped_in_html_and_bookmarks() -> None:
    hostile = record(7, HOSTILE_CLIENT, HOSTILE_PROJECT, account_name=HOSTILE_ACCOUNT_NAME)
    accounts = [hostile, record(8, "acme", "web")]
    for fmt, scripts in ((ExportFormat.HTML, 1), (ExportFormat.BOOKMARKS, 0)):
        content = export_accounts(accounts, fmt).content
        page = Page(content)
        assert page.tags["script"] == scripts, fmt  # only the page's own script
        assert page.tags["img"] == 0 and page.tags["b"] == 0, fmt
        assert "<script>alert" not in content and "<img" not in content, fmt
        assert HOSTILE_CLIENT in page.all_text, fmt  # shown as text, literally
        link = next(link for link in page.links if "000000000007" in link["href"])
        assert query_of(link["href"]) == expected_query(hostile)
        assert query_of(link["href"])["displayName"] == f"{HOSTILE_CLIENT}/{HOSTILE_PROJECT}"
    html_page = Page(export_accounts(accounts, ExportFormat.HTML).content)
    assert HOSTILE_ACCOUNT_NAME in html_page.all_text
    assert "alert" not in html_page.scripts[0]


# --------------------------------------------------------------------------- csv and json


def test_csv_reads_back_with_dictreader_and_lists_every_status() -> None:
    closed = record(401, "umbrella", "lab", status=AccountStatus.CLOSED)
    accounts = [*sample(), closed]
    export = export_accounts(accounts, ExportFormat.CSV)
    reader = csv.DictReader(io.StringIO(export.content, newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    assert len(rows) == len(accounts) == export.count
    by_account = {row["accountId"]: row for row in rows}
    for account in accounts:
        row = by_account[account.account_id]
        assert row == {
            "accountId": account.account_id,
            "accountName": account.account_name,
            "email": account.email,
            "client": account.client,
            "project": account.project,
            "roleName": account.role_name,
            "status": account.status.value,
            "ouId": account.ou_id,
            "billingMode": "consolidated",
            "switchRoleUrl": row["switchRoleUrl"],
            "createdAt": account.created_at.isoformat(),
            "updatedAt": account.updated_at.isoformat(),
        }
        assert query_of(row["switchRoleUrl"]) == expected_query(account)
    assert by_account["000000000401"]["status"] == "CLOSED"


def test_csv_neutralises_spreadsheet_formulas_unless_told_not_to() -> None:
    formula = '=HYPERLINK("https://evil.example","click")'
    accounts = [record(1, "acme", "web", account_name=formula, email="-a@example.com")]
    guarded = next(csv.DictReader(io.StringIO(export_accounts(accounts, "csv").content, newline="")))
    assert guarded["accountName"] == "'" + formula
    assert guarded["email"] == "'-a@example.com"
    raw = export_accounts(accounts, "csv", ExportOptions(csv_formula_guard=False)).content
    assert next(csv.DictReader(io.StringIO(raw, newline="")))["accountName"] == formula


def test_csv_with_a_comma_quote_and_newline_in_a_name_round_trips() -> None:
    name = 'Acme, "the" company\nsecond line'
    row = next(
        csv.DictReader(
            io.StringIO(export_accounts([record(1, account_name=name)], "csv").content, newline="")
        )
    )
    assert row["accountName"] == name


def test_json_reads_back_with_json_loads() -> None:
    accounts = [*sample(), record(401, "umbrella", "lab", status=AccountStatus.DETACHED, ou_id=None)]
    export = export_accounts(accounts, ExportFormat.JSON)
    assert export.media_type == "application/json"
    document = json.loads(export.content)
    assert document["count"] == len(accounts) == len(document["accounts"])
    by_account = {entry["accountId"]: entry for entry in document["accounts"]}
    for account in accounts:
        entry = by_account[account.account_id]
        assert entry["accountName"] == account.account_name
        assert entry["email"] == account.email
        assert (entry["client"], entry["project"], entry["roleName"]) == (
            account.client,
            account.project,
            account.role_name,
        )
        assert entry["status"] == account.status.value
        assert entry["ouId"] == account.ou_id
        assert entry["billingMode"] == "consolidated"
        assert entry["tags"] == account.tags
        assert datetime.fromisoformat(entry["createdAt"]) == account.created_at
        assert datetime.fromisoformat(entry["updatedAt"]) == account.updated_at
        assert query_of(entry["switchRoleUrl"]) == expected_query(account)
    assert by_account["000000000102"]["tags"] == {"cost-center": "42"}
    assert by_account["000000000401"]["ouId"] is None


def test_billing_mode_is_exported_for_every_record() -> None:
    accounts = [record(1).model_copy(update={"billing_mode": "direct"}), record(2, "globex", "data")]
    document = json.loads(export_accounts(accounts, "json").content)
    assert [entry["billingMode"] for entry in document["accounts"]] == ["direct", "consolidated"]
    rows = list(csv.DictReader(io.StringIO(export_accounts(accounts, "csv").content, newline="")))
    assert [row["billingMode"] for row in rows] == ["direct", "consolidated"]


# --------------------------------------------------------------------------- display names and colours


def test_display_names_are_cut_at_the_consoles_64_characters() -> None:
    long_client = "a-client-with-a-rather-long-name-" * 2
    account = record(1, long_client, "a-project-with-a-long-name-too")
    display = display_name_for(account.client, account.project)
    assert len(display) == DISPLAY_NAME_MAX_LENGTH == 64
    assert display.endswith("\u2026")
    assert f"{long_client}/a-project-with-a-long-name-too".startswith(display[:-1])
    for fmt in (ExportFormat.HTML, ExportFormat.BOOKMARKS):
        link = next(link for link in Page(export_accounts([account], fmt).content).links if link["href"])
        assert query_of(link["href"])["displayName"] == display
    exact = "c" * 30 + "/" + "p" * 33
    assert truncate_display_name(exact) == exact  # 64 exactly: untouched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 62 + "n\u0333" + "tail", "x" * 62 + "\u2026"),  # never strips a mark from its letter
        ("x" * 62 + "e\u0301" + "tail", "x" * 62 + "\u00e9\u2026"),  # NFC first: e + accent is one é
        ("x" * 62 + "\U0001f600" + "tail", "x" * 62 + "\u2026"),  # an emoji is 2 UTF-16 units: no room
        ("x" * 60 + "\U0001f469\u200d\U0001f4bb" + "tail", "x" * 60 + "\u2026"),  # a ZWJ sequence stays whole
        ("x" * 70 + "\u202eevil", "x" * 63 + "\u2026"),  # bidi override dropped
        ("line\nbreak\tand\x00nul", "line break and nul"),  # controls become spaces
    ],
)
def test_truncation_never_splits_a_character(text: str, expected: str) -> None:
    result = truncate_display_name(text)
    assert result == expected
    assert len(result.encode("utf-16-le")) // 2 <= DISPLAY_NAME_MAX_LENGTH
    result.encode("utf-8")  # no lone surrogate


def test_default_colours_come_from_the_palette_by_a_hash_of_the_client_name() -> None:
    clients = [f"client-{number}" for number in range(40)]
    colours = {client: client_colour(client) for client in clients}
    assert set(colours.values()) == set(CONSOLE_COLOURS)
    # Pinned: a client's colour never changes between releases or runs.
    assert (client_colour("acme"), client_colour("globex"), client_colour("initech")) == (
        "FAD791",
        "99BCE3",
        "B7CA9D",
    )
    # Not the order of appearance: a client's colour is the same alone or among others.
    alone = export_accounts([record(1, "globex", "data")], "extend-switch-roles").content
    among = export_accounts(
        [record(2, "zeta", "x"), record(1, "globex", "data")], "extend-switch-roles"
    ).content
    assert "color = 99bce3" in alone and "color = 99bce3" in among


def test_client_settings_override_colour_and_display_name() -> None:
    options = ExportOptions(
        management_account_id=MANAGEMENT_ACCOUNT,
        client_settings={"acme": ClientSetting(colour="#12ab9f", display_name="Acme Corp")},
    )
    accounts = sample()
    parser = ini(export_accounts(accounts, "extend-switch-roles", options).content)
    names = profile_names(accounts, options)
    for account in accounts:
        colour = parser[f"profile {names[account.account_id]}"]["color"]
        assert colour == ("12ab9f" if account.client == "acme" else client_colour(account.client).lower())
    assert names["000000000101"] == "acme-web"  # profile names keep the client slug

    page = Page(export_accounts(accounts, "html", options).content)
    acme_links = [query_of(link["href"]) for link in page.links if "000000000101" in link["href"]]
    assert acme_links == [
        {"account": "000000000101", "roleName": ROLE, "displayName": "Acme Corp/web", "color": "12AB9F"}
    ]
    bookmarks = Page(export_accounts(accounts, "bookmarks", options).content)
    assert {link["folders"][-1] for link in bookmarks.links} == {"Acme Corp", "globex", "initech"}


def test_client_setting_accepts_camel_case_json_as_an_api_would_send_it() -> None:
    options = ExportOptions.model_validate(
        {"sourceProfile": "ops", "clientSettings": {"acme": {"colour": "99bce3", "displayName": "ACME"}}}
    )
    assert options.client_settings["acme"] == ClientSetting(colour="99BCE3", display_name="ACME")


@pytest.mark.parametrize(
    "changes",
    [
        {"client_settings": {"acme": {"colour": "red"}}},
        {"region": "Europe"},
        {"source_profile": "my profile"},
        {"source_profile": "a#b"},
        {"role_session_name": "bad session"},
        {"management_account_id": "12345"},
        {"management_account_id": "Has Space"},
        {"profile_prefix": "a b"},
        {"sso_start_url": "http://d-1234567890.awsapps.com/start"},
        {"sso_start_url": PORTAL + "\ncredential_process = evil"},
        {"sso_start_url": PORTAL + " ;comment"},
        {"sso_region": "Europe"},
        {"unknown": 1},
    ],
)
def test_options_refuse_values_that_would_break_a_file(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ExportOptions(**changes)


# --------------------------------------------------------------------------- selection and edges


def test_switch_role_formats_list_active_accounts_unless_told_otherwise() -> None:
    accounts = [
        record(1, "acme", "web"),
        record(2, "acme", "old", status=AccountStatus.CLOSED),
        record(3, "acme", "new", status=AccountStatus.NEEDS_ROLE),
    ]
    for fmt in (
        ExportFormat.AWS_CONFIG,
        ExportFormat.EXTEND_SWITCH_ROLES,
        ExportFormat.BOOKMARKS,
        ExportFormat.HTML,
    ):
        export = export_accounts(accounts, fmt)
        assert export.count == 1, fmt
        assert "000000000002" not in export.content and "000000000003" not in export.content, fmt
    everything = ExportOptions(statuses=frozenset(AccountStatus))
    assert export_accounts(accounts, "html", everything).count == 3
    html_rows = Page(export_accounts(accounts, "html", everything).content).rows
    assert len(html_rows) == 3
    assert export_accounts(accounts, "json").count == 3
    assert export_accounts(accounts, "csv", ExportOptions(statuses={AccountStatus.CLOSED})).count == 1


def test_profile_names_of_a_repeated_account_do_not_fail() -> None:
    assert profile_names([record(1), record(1)]) == {"000000000001": "acme-web"}


def test_a_repeated_account_is_listed_once_with_its_latest_record() -> None:
    older = record(1, "acme", "web", role_name="OldRole")
    newer = record(1, "acme", "web", role_name="NewRole", updated_at=older.updated_at + timedelta(days=1))
    for accounts in ([older, newer], [newer, older]):
        document = json.loads(export_accounts(accounts, "json").content)
        assert [entry["roleName"] for entry in document["accounts"]] == ["NewRole"]
    # Two versions with the same update time: the same one wins whatever the order.
    twin = record(1, "acme", "web", role_name="TwinRole", updated_at=older.updated_at)
    assert export_accounts([older, twin], "json").content == export_accounts([twin, older], "json").content


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_empty_input_gives_a_valid_empty_export(fmt: ExportFormat) -> None:
    export = export_accounts([], fmt, WITH_PORTAL)
    assert export.count == 0
    if fmt in (ExportFormat.AWS_CONFIG, ExportFormat.EXTEND_SWITCH_ROLES):
        assert ini(export.content).sections() == []
    elif fmt == ExportFormat.AWS_CONFIG_SSO:
        assert ini(export.content).sections() == ["sso-session orgvend"]
    elif fmt == ExportFormat.CSV:
        reader = csv.DictReader(io.StringIO(export.content, newline=""))
        assert list(reader) == [] and tuple(reader.fieldnames or ()) == CSV_COLUMNS
    elif fmt == ExportFormat.JSON:
        assert json.loads(export.content) == {"title": "AWS accounts", "count": 0, "accounts": []}
    else:
        page = Page(export.content)
        assert page.links == [] and page.rows == []
    if fmt == ExportFormat.HTML:
        assert "No account matches." in Page(export.content).all_text
        assert '<p id="empty">' in export.content  # shown, not hidden


@pytest.mark.parametrize(
    ("fmt", "media_type", "filename"),
    [
        ("aws-config", "text/plain; charset=utf-8", "orgvend-aws-config.ini"),
        ("aws-config-sso", "text/plain; charset=utf-8", "orgvend-aws-config-sso.ini"),
        ("extend-switch-roles", "text/plain; charset=utf-8", "orgvend-extend-switch-roles.ini"),
        ("bookmarks", "text/html; charset=utf-8", "orgvend-bookmarks.html"),
        ("html", "text/html; charset=utf-8", "orgvend-switch-roles.html"),
        ("csv", "text/csv; charset=utf-8", "orgvend-accounts.csv"),
        ("json", "application/json", "orgvend-accounts.json"),
    ],
)
def test_media_types_and_file_names(fmt: str, media_type: str, filename: str) -> None:
    export = export_accounts(sample(), fmt, WITH_PORTAL)
    assert (export.media_type, export.filename) == (media_type, filename)
    assert export.content.endswith("\n")


def test_an_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="yaml"):
        export_accounts(sample(), "yaml")
