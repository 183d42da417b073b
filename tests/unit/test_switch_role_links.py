"""The switch-role link is computed from the registry's account ID, role, client and project, never stored.

Rename the access role (an adoption that takes the entry over with another role) or move the account to
another client and project (its tags, synced from Organizations), and every output shows the new link: the
API's account and list, the CLI's views, each export format, the operators' message. An item written
with a stored link (before links were computed) shows the computed one, and loses the stored one at its
next write.
"""

import configparser
import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from orgvend.account_sync import sync_account
from orgvend.exports import ExportFormat, ExportOptions, client_colour, export_accounts
from orgvend.models import AccountRecord, AccountStatus, Onboarding, OnboardingStatus
from orgvend.notifications import onboarded_message
from orgvend.organizations import Scope
from orgvend.registry import Registry
from orgvend.registry.accounts import pending_record
from orgvend.registry.items import attribute_values
from orgvend.steps.onboarding.notify_onboarded import NotifyOnboardedInput
from orgvend.switch_role import DISPLAY_NAME_MAX_LENGTH, SWITCH_ROLE_ENDPOINT, switch_role_url
from orgvend.workflows.accounts import Accounts
from orgvend_cli import render

STALE_ROLE = "RetiredAccessRole"
# Every account, whatever its status (the switch-role formats list only ACTIVE ones by default).
EVERY_ACCOUNT = ExportOptions(statuses=frozenset(AccountStatus))
STALE_LINK = f"{SWITCH_ROLE_ENDPOINT}?account=210987654321&roleName={STALE_ROLE}&displayName=gone%2Fold"


def query_of(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == SWITCH_ROLE_ENDPOINT
    values = parse_qs(parts.query, strict_parsing=True)
    assert all(len(value) == 1 for value in values.values()), values
    return {name: value[0] for name, value in values.items()}


class Links(HTMLParser):
    def __init__(self, content: str) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.feed(content)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def own_links(registry: Registry, account_id: str) -> dict[str, str]:
    """The account's own link in every output that shows one without an export's colour."""
    accounts = Accounts(registry, organizations=None)
    view = accounts.get(account_id).to_json()
    page = accounts.page(view["client"], None, None, 100, None).to_json()
    [listed] = [item for item in page["items"] if item["accountId"] == account_id]
    [detail_line] = [
        line for line in render.account_detail(view).splitlines() if line.startswith("Switch role")
    ]
    cli_csv = dict(zip(render.ACCOUNT_CSV, render.account_csv_row(view), strict=True))
    record = registry.get_account(account_id)
    assert record is not None
    _, message = onboarded_message(record)
    [message_link] = [line.strip() for line in message.splitlines() if SWITCH_ROLE_ENDPOINT in line]
    return {
        "api account": view["switchRoleUrl"],
        "api list": listed["switchRoleUrl"],
        "cli account": detail_line.split()[-1],
        "cli csv": cli_csv["switchRoleUrl"],
        "operators' message": message_link,
        "record": record.switch_role_url,
    }


def export_links(registry: Registry, account_id: str) -> dict[str, str]:
    """The account's link in each export format that carries one (with the client's console colour)."""
    records = list(registry.all_accounts())
    as_csv = csv.DictReader(
        io.StringIO(export_accounts(records, ExportFormat.CSV, EVERY_ACCOUNT).content, newline="")
    )
    document = json.loads(export_accounts(records, ExportFormat.JSON, EVERY_ACCOUNT).content)
    links = {
        "csv": next(row["switchRoleUrl"] for row in as_csv if row["accountId"] == account_id),
        "json": next(a["switchRoleUrl"] for a in document["accounts"] if a["accountId"] == account_id),
    }
    for fmt in (ExportFormat.HTML, ExportFormat.BOOKMARKS):
        hrefs = Links(export_accounts(records, fmt, EVERY_ACCOUNT).content).hrefs
        [links[fmt.value]] = [href for href in hrefs if query_of(href)["account"] == account_id]
    return links


def profile_of(registry: Registry, fmt: ExportFormat, account_id: str) -> dict[str, str]:
    """The account's profile in an INI export (they name the role, not a link)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(export_accounts(registry.all_accounts(), fmt, EVERY_ACCOUNT).content)
    [profile] = [
        dict(parser[section])
        for section in parser.sections()
        if account_id in parser[section].get("role_arn", parser[section].get("aws_account_id", ""))
    ]
    return profile


def assert_every_output_links(
    registry: Registry, account_id: str, role: str, client: str, project: str
) -> None:
    expected = {"account": account_id, "roleName": role, "displayName": f"{client}/{project}"}
    own = own_links(registry, account_id)
    assert {output: query_of(link) for output, link in own.items()} == dict.fromkeys(own, expected)
    coloured = expected | {"color": client_colour(client)}
    exported = export_links(registry, account_id)
    assert {output: query_of(link) for output, link in exported.items()} == dict.fromkeys(exported, coloured)
    assert profile_of(registry, ExportFormat.AWS_CONFIG, account_id)["role_arn"] == (
        f"arn:aws:iam::{account_id}:role/{role}"
    )
    assert profile_of(registry, ExportFormat.EXTEND_SWITCH_ROLES, account_id)["role_name"] == role


def raw_account_item(table_items: Callable[[], list[dict[str, Any]]], account_id: str) -> dict[str, Any]:
    [item] = [item for item in table_items() if item["pk"]["S"] == f"ACCOUNT#{account_id}"]
    return item


# --------------------------------------------------------------------------- the one function


def test_the_link_is_the_consoles_switch_role_url_from_the_registrys_fields() -> None:
    link = switch_role_url("210987654321", "OrganizationAccountAccessRole", "acme", "web")
    assert link == (
        "https://signin.aws.amazon.com/switchrole?account=210987654321"
        "&roleName=OrganizationAccountAccessRole&displayName=acme%2Fweb"
    )
    coloured = switch_role_url(
        "210987654321", "Admin", "acme", "web", client_label="Acme Corp", colour="99BCE3"
    )
    assert query_of(coloured) == {
        "account": "210987654321",
        "roleName": "Admin",
        "displayName": "Acme Corp/web",
        "color": "99BCE3",
    }


@pytest.mark.parametrize(
    ("role", "client", "project"),
    [
        ("a=b&c", "acme", "web"),  # IAM allows = in a role name: it must not add a query parameter
        ("Admin", "acme&account=000000000000", "web#frag"),  # whatever a client or project says
    ],
)
def test_nothing_in_a_name_changes_the_links_parameters(role: str, client: str, project: str) -> None:
    query = query_of(switch_role_url("210987654321", role, client, project))
    assert query == {"account": "210987654321", "roleName": role, "displayName": f"{client}/{project}"}


def test_a_long_display_name_is_cut_to_the_consoles_64_units() -> None:
    display = query_of(switch_role_url("210987654321", "Admin", "c" * 40, "p" * 40))["displayName"]
    assert len(display) == DISPLAY_NAME_MAX_LENGTH and display.endswith("\u2026")


# --------------------------------------------------------------------------- the record: computed, not stored


def test_the_record_computes_its_link_and_its_registry_form_leaves_it_out(make_onboarding) -> None:
    record = pending_record(
        make_onboarding(client="acme", project="web"), "210987654321", AccountStatus.ACTIVE
    )
    assert record.to_json()["switchRoleUrl"] == record.switch_role_url
    assert query_of(record.switch_role_url)["displayName"] == "acme/web"
    assert "switchRoleUrl" not in record.stored_json()
    renamed = record.model_copy(update={"role_name": "Renamed-Access", "project": "api"})
    assert query_of(renamed.switch_role_url)["roleName"] == "Renamed-Access"
    assert query_of(renamed.switch_role_url)["displayName"] == "acme/api"


@pytest.mark.parametrize("key", ["switchRoleUrl", "switch_role_url"])
def test_a_stored_link_in_a_record_or_a_running_workflows_state_is_ignored(make_onboarding, key: str) -> None:
    record = pending_record(make_onboarding(), "210987654321", AccountStatus.ACTIVE)
    old_shape = {**record.stored_json(), key: STALE_LINK}

    read = AccountRecord.model_validate(old_shape)
    step_input = NotifyOnboardedInput.model_validate({"account": old_shape})

    for account in (read, step_input.account):
        assert account == record
        assert account.switch_role_url == record.switch_role_url != STALE_LINK
        assert STALE_ROLE not in onboarded_message(account)[1]


def test_a_record_still_refuses_a_field_it_does_not_know(make_onboarding) -> None:
    record = pending_record(make_onboarding(), "210987654321", AccountStatus.ACTIVE)
    with pytest.raises(ValueError, match="switchRoleLink"):
        AccountRecord.model_validate({**record.stored_json(), "switchRoleLink": STALE_LINK})


# --------------------------------------------------------------------------- renamed: every output follows


def test_an_adoption_with_another_role_changes_every_link(
    registry: Registry, opened_onboarding: Callable[..., Onboarding], table_items
) -> None:
    account_id = "210987654321"
    first = opened_onboarding(client="acme", project="web")
    registry.save_account(pending_record(first, account_id, AccountStatus.NEEDS_ROLE))
    assert_every_output_links(registry, account_id, first.role_name, "acme", "web")

    # Adopted again (it waited for its role), with the role the operators created instead.
    adoption = opened_onboarding(mode="adopt", account_id=account_id, role_name="Renamed-Access")
    registry.save_account(
        pending_record(adoption, account_id, AccountStatus.ACTIVE),
        onboarding_status=OnboardingStatus.SUCCEEDED,
    )

    assert_every_output_links(registry, account_id, "Renamed-Access", "acme", "web")
    assert "switchRoleUrl" not in raw_account_item(table_items, account_id)


def test_a_client_and_project_renamed_in_organizations_change_every_link(
    registry: Registry,
    opened_onboarding: Callable[..., Onboarding],
    create_member: Callable[..., str],
    setup_client: Callable[..., Any],
    organizations: Any,
    scope: Scope,
    table_items,
) -> None:
    account_id = create_member("member@example.com", tags={"client": "acme", "project": "web"})
    onboarding = opened_onboarding(mode="adopt", account_id=account_id, client="acme", project="web")
    registry.save_account(pending_record(onboarding, account_id, AccountStatus.ACTIVE))
    assert_every_output_links(registry, account_id, onboarding.role_name, "acme", "web")

    setup_client("organizations").tag_resource(
        ResourceId=account_id,
        Tags=[{"Key": "client", "Value": "globex"}, {"Key": "project", "Value": "data"}],
    )
    record = registry.get_account(account_id)
    assert record is not None
    changed = sync_account(record, organizations, registry, scope.require_account(account_id))

    assert {"client", "project"} <= set(changed)
    assert_every_output_links(registry, account_id, onboarding.role_name, "globex", "data")
    assert "switchRoleUrl" not in raw_account_item(table_items, account_id)


def test_a_tag_that_is_not_a_slug_renames_nothing(
    registry: Registry,
    opened_onboarding: Callable[..., Onboarding],
    create_member: Callable[..., str],
    setup_client: Callable[..., Any],
    organizations: Any,
    scope: Scope,
) -> None:
    account_id = create_member("member@example.com", tags={"client": "acme", "project": "web"})
    onboarding = opened_onboarding(mode="adopt", account_id=account_id, client="acme", project="web")
    registry.save_account(pending_record(onboarding, account_id, AccountStatus.ACTIVE))
    setup_client("organizations").tag_resource(
        ResourceId=account_id, Tags=[{"Key": "client", "Value": "Not A Slug"}]
    )
    record = registry.get_account(account_id)
    assert record is not None

    sync_account(record, organizations, registry, scope.require_account(account_id))

    assert_every_output_links(registry, account_id, onboarding.role_name, "acme", "web")


# --------------------------------------------------------------------------- items written with a stored link


def put_old_shape_item(setup_client: Callable[..., Any], table_name: str, record: AccountRecord) -> None:
    """The account's item as orgvend wrote it while it stored the link (here one naming an old role)."""
    item = record.stored_json() | {
        "switchRoleUrl": STALE_LINK,
        "pk": f"ACCOUNT#{record.account_id}",
        "sk": "ACCOUNT",
        "gsi1pk": f"CLIENT#{record.client}",
        "gsi1sk": f"{record.project}#{record.account_id}",
        "gsi2pk": f"STATUS#{record.status.value}",
        "gsi2sk": f"{record.client}#{record.project}#{record.account_id}",
        "gsi3pk": "ACCOUNT",
        "gsi3sk": f"{record.client}#{record.project}#{record.account_id}",
        "version": 3,
    }
    setup_client("dynamodb").put_item(TableName=table_name, Item=attribute_values(item))


def test_an_item_with_a_stored_link_shows_the_computed_one_and_loses_it_at_its_next_write(
    registry: Registry, make_onboarding, setup_client, table_name: str, table_items
) -> None:
    record = pending_record(
        make_onboarding(client="acme", project="web"), "210987654321", AccountStatus.ACTIVE
    )
    put_old_shape_item(setup_client, table_name, record)
    assert raw_account_item(table_items, record.account_id)["switchRoleUrl"] == {"S": STALE_LINK}

    assert_every_output_links(registry, record.account_id, record.role_name, "acme", "web")
    # A write of single attributes (an owner's confirmation) leaves the old attribute, still ignored.
    assert registry.confirm_root_secured(record.account_id, "arn:aws:iam::210987654321:root") is not None
    assert_every_output_links(registry, record.account_id, record.role_name, "acme", "web")

    # The next write of the whole entry (any change: here a status) writes it without the link.
    registry.update_account(
        record.account_id,
        lambda current: current.model_copy(
            update={"status": AccountStatus.NEEDS_ROLE, "updated_at": datetime.now(UTC)}
        ),
    )

    item = raw_account_item(table_items, record.account_id)
    assert "switchRoleUrl" not in item and item["version"] == {"N": "5"}
    assert_every_output_links(registry, record.account_id, record.role_name, "acme", "web")


# --------------------------------------------------------------------------- the CLI on its own


def test_the_cli_builds_the_link_from_the_account_not_from_what_the_server_sent() -> None:
    account = {
        "accountId": "210987654321",
        "roleName": "Renamed-Access",
        "client": "globex",
        "project": "data",
        "switchRoleUrl": STALE_LINK,  # an older server's stored link
    }
    expected = switch_role_url("210987654321", "Renamed-Access", "globex", "data")
    assert render.account_link(account) == expected
    assert re.search(rf"^Switch role\s+{re.escape(expected)}$", render.account_detail(account), re.MULTILINE)
    row = dict(zip(render.ACCOUNT_CSV, render.account_csv_row(account), strict=True))
    assert row["switchRoleUrl"] == expected


@pytest.mark.parametrize("missing", ["accountId", "roleName", "client", "project"])
def test_the_cli_shows_no_link_for_an_answer_without_the_fields_it_needs(missing: str) -> None:
    account = {"accountId": "210987654321", "roleName": "Admin", "client": "acme", "project": "web"}
    del account[missing]
    assert render.account_link(account) is None
    assert "Switch role" not in render.account_detail(account)
    row = dict(zip(render.ACCOUNT_CSV, render.account_csv_row(account), strict=True))
    assert row["switchRoleUrl"] is None
