"""Exports of the registry's accounts: CLI profiles, SSO profiles, extension config, bookmarks, a page, CSV, JSON.

The console's switch-role history keeps only five roles, in a cookie of one
browser; these exports give every account a caller can see to every tool
people switch roles with. Pure code: the caller reads the registry (and
filters by client and project), this module only formats.

Every format is deterministic: the same accounts give the same bytes, whatever
their order. Profile names are ``<client>-<project>``; when accounts share that
name the oldest keeps it and the others get their account ID appended, so adding
an account never renames an existing profile.

The SSO profiles (``aws-config-sso``) sign in through the AWS access portal of IAM Identity Center
instead of assuming the access role: one profile per account and permission set orgvend assigned,
named ``<client>-<project>-<permission set>``.
"""

import base64
import csv
import hashlib
import html
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Annotated, Any

from pydantic import Field, field_validator

from orgvend import rules
from orgvend.models import AccountRecord, AccountStatus, Model
from orgvend.spreadsheet import formula_guarded
from orgvend.switch_role import (
    CONSOLE_COLOURS,
    clean_text,
    display_name,
    switch_role_url,
    truncate_display_name,
)

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_PROFILE_REGION",
    "SSO_REGISTRATION_SCOPES",
    "SSO_SESSION_NAME",
    "SWITCHABLE_STATUSES",
    "ClientSetting",
    "Export",
    "ExportFormat",
    "ExportOptions",
    "IdentityCenterNotConfigured",
    "client_colour",
    "client_label",
    "display_name_for",
    "export_accounts",
    "page_policy",
    "profile_names",
    "role_arn",
    "truncate_display_name",
]


class ExportFormat(StrEnum):
    AWS_CONFIG = "aws-config"
    AWS_CONFIG_SSO = "aws-config-sso"
    EXTEND_SWITCH_ROLES = "extend-switch-roles"
    BOOKMARKS = "bookmarks"
    HTML = "html"
    CSV = "csv"
    JSON = "json"


# The formats people switch roles with list only accounts whose role can be assumed;
# the registry formats (csv, json) list every account. ExportOptions.statuses overrides.
SWITCHABLE_STATUSES = frozenset({AccountStatus.ACTIVE})
_SWITCH_FORMATS = frozenset(
    {
        ExportFormat.AWS_CONFIG,
        ExportFormat.AWS_CONFIG_SSO,
        ExportFormat.EXTEND_SWITCH_ROLES,
        ExportFormat.BOOKMARKS,
        ExportFormat.HTML,
    }
)
# The region of a role profile when the caller names none (an SSO profile takes the portal's region).
DEFAULT_PROFILE_REGION = "us-east-1"
# The SSO token's scope: listing and signing in to the portal's accounts, what `aws configure sso` asks for.
SSO_REGISTRATION_SCOPES = "sso:account:access"
# The [sso-session] every SSO profile names: `aws sso login --sso-session orgvend` signs in to all of them.
SSO_SESSION_NAME = "orgvend"

# Profile and section names: what the AWS CLI, configparser and the extension all read
# the same way (no spaces, quotes, brackets, ; # or =).
PROFILE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
_PROFILE_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{0,32}$")
_NOT_PROFILE_CHARACTERS = re.compile(r"[^a-z0-9_.]+")
_REGION_PATTERN = rules.REGION_PATTERN
_ROLE_SESSION_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
# The extension's base account: the account ID, or its alias when it has one.
_BASE_ACCOUNT_PATTERN = re.compile(r"^(?:[0-9]{12}|[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9])$")
_COLOUR_PATTERN = re.compile(r"^[0-9A-Fa-f]{6}$")
# The portal's URL is written into an INI value: no whitespace (a newline would add keys), nor ; or #.
_START_URL_PATTERN = re.compile(r"^https://[^\s;#]{1,2000}$")


class IdentityCenterNotConfigured(ValueError):
    """An SSO export was asked for, but the options name no access portal: the stack has no Identity Center."""


def _colour(value: str | None) -> str | None:
    if value is None:
        return None
    bare = value.strip().removeprefix("#")
    if not _COLOUR_PATTERN.fullmatch(bare):
        raise ValueError("must be an RGB hex colour such as F2B0A9 (a leading # is allowed)")
    return bare.upper()


class ClientSetting(Model):
    """How one client's accounts look: console colour and the label shown for the client."""

    colour: str | None = Field(default=None, description="RGB hex, e.g. 99BCE3; default from the palette.")
    display_name: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        default=None, description="Shown instead of the client's name: '<display name>/<project>'."
    )

    @field_validator("colour")
    @classmethod
    def _valid_colour(cls, value: str | None) -> str | None:
        return _colour(value)


class ExportOptions(Model):
    """Everything an export can be told; every field has a working default."""

    source_profile: str = Field(
        default="default", description="Profile with the credentials that assume the roles."
    )
    region: str | None = Field(
        default=None,
        description=f"The profiles' region; default {DEFAULT_PROFILE_REGION}, or the SSO region for SSO profiles.",
    )
    sso_start_url: str | None = Field(
        default=None, description="The AWS access portal's URL; SSO profiles need it (and sso_region)."
    )
    sso_region: str | None = Field(default=None, description="The IAM Identity Center instance's Region.")
    role_session_name: str | None = None
    management_account_id: str | None = Field(
        default=None,
        description="The extension's base account: the management account's ID, or its alias if it has one.",
    )
    profile_prefix: str = Field(default="", description="Prepended to every generated profile name.")
    client_settings: dict[str, ClientSetting] = Field(default_factory=dict)
    statuses: frozenset[AccountStatus] | None = Field(
        default=None,
        description="Accounts to list; default ACTIVE only for switch-role formats, all for csv and json.",
    )
    title: Annotated[str, Field(min_length=1, max_length=200)] = "AWS accounts"
    csv_formula_guard: bool = Field(
        default=True, description="Prefix cells a spreadsheet would run as formulas with an apostrophe."
    )

    @field_validator("source_profile")
    @classmethod
    def _valid_source_profile(cls, value: str) -> str:
        if not PROFILE_NAME_PATTERN.fullmatch(value):
            raise ValueError("must be 1 to 128 characters of letters, digits and _.@+-")
        return value

    @field_validator("region", "sso_region")
    @classmethod
    def _valid_region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION_PATTERN.fullmatch(value):
            raise ValueError("must be an AWS Region code such as us-east-1")
        return value

    @field_validator("sso_start_url")
    @classmethod
    def _valid_start_url(cls, value: str | None) -> str | None:
        if value is not None and not _START_URL_PATTERN.fullmatch(value):
            raise ValueError("must be an https:// URL without spaces, ; or #")
        return value

    @property
    def role_profile_region(self) -> str:
        return self.region or DEFAULT_PROFILE_REGION

    @field_validator("role_session_name")
    @classmethod
    def _valid_role_session_name(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_SESSION_NAME_PATTERN.fullmatch(value):
            raise ValueError("must be 2 to 64 characters of letters, digits and +=,.@_-")
        return value

    @field_validator("management_account_id")
    @classmethod
    def _valid_base_account(cls, value: str | None) -> str | None:
        # An all-digit value is meant as an account ID: a short one is a typo, not an alias.
        if value is not None and (
            not _BASE_ACCOUNT_PATTERN.fullmatch(value) or (value.isdigit() and len(value) != 12)
        ):
            raise ValueError("must be a 12-digit account ID or an account alias")
        return value

    @field_validator("profile_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not _PROFILE_PREFIX_PATTERN.fullmatch(value):
            raise ValueError("must be at most 32 characters of letters, digits and _.-")
        return value


@dataclass(frozen=True)
class Export:
    """One export, ready to send: the body, its Content-Type and a download file name."""

    content: str
    media_type: str
    filename: str
    count: int
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- naming


def client_colour(client: str, options: ExportOptions | None = None) -> str:
    """The client's console colour: its setting, else a palette entry chosen by a hash of its name."""
    setting = (options.client_settings if options else {}).get(client)
    if setting and setting.colour:
        return setting.colour
    digest = hashlib.sha256(client.encode("utf-8")).digest()
    return CONSOLE_COLOURS[int.from_bytes(digest[:8], "big") % len(CONSOLE_COLOURS)]


def client_label(client: str, options: ExportOptions | None = None) -> str:
    setting = (options.client_settings if options else {}).get(client)
    return setting.display_name if setting and setting.display_name else client


def display_name_for(client: str, project: str, options: ExportOptions | None = None) -> str:
    """The console display name: ``<client label>/<project>``, at most 64 characters."""
    return display_name(client, project, client_label(client, options))


def _full_title(record: AccountRecord, options: ExportOptions) -> str:
    """The untruncated label of an account, for bookmarks and the page."""
    return clean_text(f"{client_label(record.client, options)}/{record.project}")


def _profile_token(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_PROFILE_CHARACTERS.sub("-", ascii_text).strip("-.")


def _profile_base(record: AccountRecord, options: ExportOptions) -> str:
    client = _profile_token(record.client) or "client"
    project = _profile_token(record.project) or "project"
    return f"{options.profile_prefix}{client}-{project}"


def _sort_key(record: AccountRecord) -> tuple[str, str, str, str, str]:
    return (
        record.client.casefold(),
        record.client,
        record.project.casefold(),
        record.project,
        record.account_id,
    )


def profile_names(records: Iterable[AccountRecord], options: ExportOptions | None = None) -> dict[str, str]:
    """A unique AWS CLI profile name for each account ID, independent of the records' order.

    The oldest account of a ``<client>-<project>`` name gets it plain; the others
    get ``-<account id>`` appended. The source profile's name and ``default`` are never used.
    """
    options = options or ExportOptions()
    # The index only breaks full ties (the same account twice), so records are never compared.
    ordered = sorted(
        ((_profile_base(record, options), record.created_at.timestamp(), record.account_id, index), record)
        for index, record in enumerate(records)
    )
    taken = {options.source_profile, "default"}
    names: dict[str, str] = {}
    later: list[tuple[AccountRecord, str]] = []
    seen: set[str] = set()
    for (base, *_), record in ordered:
        if record.account_id in seen:  # the same account twice: one name
            continue
        seen.add(record.account_id)
        if base in taken:
            later.append((record, base))
        else:
            names[record.account_id] = base
            taken.add(base)
    for record, base in later:
        candidate, attempt = f"{base}-{record.account_id}", 1
        while candidate in taken:
            attempt += 1
            candidate = f"{base}-{record.account_id}-{attempt}"
        names[record.account_id] = candidate
        taken.add(candidate)
    return names


def role_arn(record: AccountRecord) -> str:
    return f"arn:aws:iam::{record.account_id}:role/{record.role_name}"


# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class _Row:
    """One account with everything derived from the options, computed once."""

    record: AccountRecord
    profile: str
    colour: str
    display_name: str
    url: str


def _newer(record: AccountRecord, known: AccountRecord) -> bool:
    """The later update wins; a tie is settled by content, never by input order."""
    if record.updated_at.timestamp() != known.updated_at.timestamp():
        return record.updated_at.timestamp() > known.updated_at.timestamp()
    return record.model_dump_json() > known.model_dump_json()


def _latest_per_account(records: Iterable[AccountRecord]) -> list[AccountRecord]:
    latest: dict[str, AccountRecord] = {}
    for record in records:
        known = latest.get(record.account_id)
        if known is None or _newer(record, known):
            latest[record.account_id] = record
    return sorted(latest.values(), key=_sort_key)


def _rows(records: Iterable[AccountRecord], fmt: ExportFormat, options: ExportOptions) -> list[_Row]:
    statuses = options.statuses
    if statuses is None and fmt in _SWITCH_FORMATS:
        statuses = SWITCHABLE_STATUSES
    selected = [
        record
        for record in _latest_per_account(records)
        if statuses is None or AccountStatus(record.status) in statuses
    ]
    names = profile_names(selected, options)
    colours: dict[str, str] = {}
    rows = []
    for record in selected:
        if record.client not in colours:
            colours[record.client] = client_colour(record.client, options)
        colour = colours[record.client]
        label = client_label(record.client, options)
        rows.append(
            _Row(
                record=record,
                profile=names[record.account_id],
                colour=colour,
                display_name=display_name(record.client, record.project, label),
                url=switch_role_url(
                    record.account_id,
                    record.role_name,
                    record.client,
                    record.project,
                    client_label=label,
                    colour=colour,
                ),
            )
        )
    return rows


def _by_client(rows: Sequence[_Row]) -> list[tuple[str, list[_Row]]]:
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        groups.setdefault(row.record.client, []).append(row)
    return list(groups.items())  # rows are sorted by client already


@dataclass(frozen=True)
class _Written:
    content: str
    count: int
    warnings: tuple[str, ...] = ()


def _writable(
    rows: Sequence[_Row], problem_of: Callable[[AccountRecord], str | None]
) -> tuple[list[_Row], list[str]]:
    """The rows a format can hold, and a warning for each one it cannot."""
    kept, warnings = [], []
    for row in rows:
        problem = problem_of(row.record)
        if problem:
            warnings.append(f"{row.record.account_id} left out: {problem}")
        else:
            kept.append(row)
    return kept, warnings


def _comment(text: str) -> str:
    return "# " + clean_text(text)


# --------------------------------------------------------------------------- INI formats


def _role_problem(record: AccountRecord) -> str | None:
    # A role name is written into an INI value: anything outside IAM's characters
    # (a newline, a bracket) could add sections or keys such as credential_process.
    if not rules.ROLE_NAME_PATTERN.fullmatch(record.role_name):
        return "its role name is not a valid IAM role name"
    return None


def _aws_config(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    kept, warnings = _writable(rows, _role_problem)
    lines = [
        _comment(f"orgvend: AWS CLI profiles for {len(kept)} accounts ({options.title})."),
        _comment(f"Append to ~/.aws/config; profile [{options.source_profile}] must hold the credentials."),
    ]
    for row in kept:
        record = row.record
        lines += [
            "",
            _comment(f"{row.display_name}: {record.account_name}"),
            f"[profile {row.profile}]",
            f"role_arn = {role_arn(record)}",
            f"source_profile = {options.source_profile}",
            f"region = {options.role_profile_region}",
        ]
        if options.role_session_name:
            lines.append(f"role_session_name = {options.role_session_name}")
    return _Written("\n".join(lines) + "\n", len(kept), tuple(warnings))


def _sso_profile_lines(row: _Row, permission_set: str, session: str, region: str) -> list[str]:
    return [
        f"[profile {row.profile}-{permission_set}]",
        f"sso_session = {session}",
        f"sso_account_id = {row.record.account_id}",
        f"sso_role_name = {permission_set}",
        f"region = {region}",
    ]


def _offered_permission_sets(record: AccountRecord) -> list[str]:
    """The permission sets people sign in to the account with; none when orgvend assigned it no access."""
    if record.access is None or not record.access.configured:
        return []
    return record.access.permission_sets


def _aws_config_sso(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    """One [sso-session] and a profile per account and permission set, as `aws configure sso` writes them.

    A profile's name is the account's role-profile name and the permission set: the account's part is
    unique and lowercase while a kept permission set's name starts with a capital, so no two collide.
    """
    if not options.sso_start_url or not options.sso_region:
        raise IdentityCenterNotConfigured(
            f"format {ExportFormat.AWS_CONFIG_SSO} needs an AWS access portal: this stack names no "
            "IAM Identity Center instance (IdentityCenterInstanceArn, IdentityStoreId)"
        )
    session = f"{options.profile_prefix}{SSO_SESSION_NAME}"
    region = options.region or options.sso_region
    offered = [(row, _offered_permission_sets(row.record)) for row in rows]
    kept = [(row, permission_sets) for row, permission_sets in offered if permission_sets]
    lines = [
        _comment(
            f"orgvend: AWS CLI SSO profiles for {len(kept)} accounts ({options.title}), "
            "through the AWS access portal."
        ),
        _comment(f"Append to ~/.aws/config, then sign in once: aws sso login --sso-session {session}"),
        "",
        f"[sso-session {session}]",
        f"sso_start_url = {options.sso_start_url}",
        f"sso_region = {options.sso_region}",
        f"sso_registration_scopes = {SSO_REGISTRATION_SCOPES}",
    ]
    for row, permission_sets in kept:
        lines += ["", _comment(f"{row.display_name}: {row.record.account_name}")]
        for permission_set in permission_sets:
            lines += _sso_profile_lines(row, permission_set, session, region)
    return _Written("\n".join(lines) + "\n", len(kept))


def _extension_problem(record: AccountRecord) -> str | None:
    # The extension splits "key = value" at the first = and keeps only the first two parts.
    return _role_problem(record) or ("its role name contains '='" if "=" in record.role_name else None)


def _extend_switch_roles(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    """The extension's INI: its parser ends a line at ; or # and splits a key at the first =."""
    kept, warnings = _writable(rows, _extension_problem)
    base = options.management_account_id
    lines = [
        _comment(
            f"orgvend: aws-extend-switch-roles configuration for {len(kept)} accounts ({options.title})."
        )
    ]
    if base:
        lines += [
            _comment("Base account: sign in there, then pick a role from the extension's menu."),
            "",
            f"[{options.source_profile}]",
            f"aws_account_id = {base}",
        ]
    else:
        warnings.insert(0, "no management account given: profiles are listed without a base account")
    for row in kept:
        record = row.record
        lines += [
            "",
            f"[profile {row.profile}]",
            f"aws_account_id = {record.account_id}",
            f"role_name = {record.role_name}",
            f"color = {row.colour.lower()}",
            f"region = {options.role_profile_region}",
        ]
        if base:
            lines.append(f"source_profile = {options.source_profile}")
    return _Written("\n".join(lines) + "\n", len(kept), tuple(warnings))


# --------------------------------------------------------------------------- HTML formats


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _bookmarks(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    lines = [
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>",
        "<!-- This is an automatically generated file.",
        "     It will be read and overwritten.",
        "     DO NOT EDIT! -->",
        '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">',
        "<TITLE>Bookmarks</TITLE>",
        "<H1>Bookmarks</H1>",
        "<DL><p>",
        f"    <DT><H3>{_escape(options.title)}</H3>",
        "    <DL><p>",
    ]
    for client, client_rows in _by_client(rows):
        lines += [
            f"        <DT><H3>{_escape(clean_text(client_label(client, options)))}</H3>",
            "        <DL><p>",
        ]
        for row in client_rows:
            record = row.record
            added = int(record.created_at.timestamp())
            text = f"{_full_title(record, options)} ({record.account_id})"
            lines.append(
                f'            <DT><A HREF="{_escape(row.url)}" ADD_DATE="{added}">{_escape(text)}</A>'
            )
        lines.append("        </DL><p>")
    lines += ["    </DL><p>", "</DL><p>"]
    return _Written("\n".join(lines) + "\n", len(rows))


# The page's style and script are package data (page.css, page.js): files an editor and a linter read as
# what they are. The script's hash goes in the page's Content-Security-Policy, so it must be read as is.
_PAGE_STYLE = resources.files(__package__).joinpath("page.css").read_text(encoding="utf-8")

_PAGE_SCRIPT = resources.files(__package__).joinpath("page.js").read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _search_text(row: _Row, options: ExportOptions) -> str:
    record = row.record
    parts = (
        record.client,
        client_label(record.client, options),
        record.project,
        record.account_name,
        record.account_id,
        record.role_name,
        record.email,
        row.profile,
        str(record.status),
    )
    return clean_text(" ".join(parts)).lower()


def _page_row(row: _Row, options: ExportOptions) -> str:
    record = row.record
    status = (
        ""
        if record.status == AccountStatus.ACTIVE
        else f' <span class="status">{_escape(record.status)}</span>'
    )
    title = f"Switch to {record.role_name} in {record.account_id} ({_full_title(record, options)})"
    return (
        f'<tr data-search="{_escape(_search_text(row, options))}">'
        f"<td>{_escape(clean_text(record.project))}</td>"
        f"<td>{_escape(clean_text(record.account_name))}{status}</td>"
        f'<td class="mono">{_escape(record.account_id)}</td>'
        f'<td class="mono">{_escape(record.role_name)}</td>'
        f'<td class="mono">{_escape(row.profile)}</td>'
        f'<td><a class="switch" href="{_escape(row.url)}" target="_blank" rel="noopener noreferrer"'
        f' title="{_escape(title)}">{_escape(row.display_name)}</a></td>'
        "</tr>"
    )


def _page_section(client: str, rows: Sequence[_Row], options: ExportOptions) -> list[str]:
    label = clean_text(client_label(client, options))
    shown_client = clean_text(client)
    slug = f' <span class="slug">{_escape(shown_client)}</span>' if label != shown_client else ""
    return [
        f'<section class="client k-{rows[0].colour}" data-client="{_escape(client)}">',
        f'<h2>{_escape(label)}{slug}<span class="n">{_count(len(rows), "account")}</span></h2>',
        "<table><thead><tr><th>Project</th><th>Account</th><th>Account ID</th><th>Role</th>"
        "<th>CLI profile</th><th>Switch role</th></tr></thead><tbody>",
        *(_page_row(row, options) for row in rows),
        "</tbody></table>",
        "</section>",
    ]


def page_policy(style: str, script: str | None = None) -> str:
    """The Content-Security-Policy of every page orgvend writes: only its own style (and script) may run,
    whatever a name in the page says; nothing is loaded from anywhere."""
    scripts = f"script-src {_csp_hash(script)}; " if script is not None else ""
    return (
        f"default-src 'none'; style-src {_csp_hash(style)}; {scripts}"
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )


def _page(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    colours = sorted({row.colour for row in rows})
    style = _PAGE_STYLE + "".join(f".k-{colour}{{--c:#{colour}}}\n" for colour in colours)
    policy = page_policy(style, _PAGE_SCRIPT)
    clients = _by_client(rows)
    title = _escape(clean_text(options.title))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_escape(policy)}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{title}: switch roles</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{title}</h1>",
        '<input id="q" type="search" autocomplete="off" spellcheck="false" '
        'placeholder="Filter by client, project, account, ID, role or profile  (press /)" '
        'aria-label="Filter accounts">',
        f'<span id="count" aria-live="polite">{_count(len(rows), "account")}</span>',
        "</header>",
        "<main>",
        f'<p class="intro">{_count(len(rows), "account")} of {_count(len(clients), "client")} from the orgvend registry. '
        "Sign in to the console with an identity that may assume these roles, then click one: "
        "the console switches to that account with its colour and name. Unlike the console's "
        "role history (five roles, in one browser's cookie) this list is complete.</p>",
        '<noscript><p class="intro">The filter needs JavaScript; every link works without it.</p></noscript>',
    ]
    for client, client_rows in clients:
        parts += _page_section(client, client_rows, options)
    parts += [
        f'<p id="empty"{"" if not rows else " hidden"}>No account matches.</p>',
        "</main>",
        f"<script>{_PAGE_SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return _Written("\n".join(parts) + "\n", len(rows))


# --------------------------------------------------------------------------- registry formats

CSV_COLUMNS = (
    "accountId",
    "accountName",
    "email",
    "client",
    "project",
    "roleName",
    "status",
    "ouId",
    "billingMode",
    "switchRoleUrl",
    "createdAt",
    "updatedAt",
)


def _billing_mode(record: AccountRecord) -> str | None:
    """The record's billing mode when the model has one (older records and models do not)."""
    value = getattr(record, "billing_mode", None)
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _registry_entry(row: _Row) -> dict[str, Any]:
    record = row.record
    return {
        "accountId": record.account_id,
        "accountName": record.account_name,
        "email": record.email,
        "client": record.client,
        "project": record.project,
        "roleName": record.role_name,
        "status": str(record.status),
        "ouId": record.ou_id,
        "billingMode": _billing_mode(record),
        "switchRoleUrl": row.url,
        "createdAt": record.created_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
    }


def _cell(value: Any, guard: bool) -> str:
    text = "" if value is None else str(value)
    return formula_guarded(text) if guard else text


def _csv(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    guard = options.csv_formula_guard
    for row in rows:
        entry = _registry_entry(row)
        writer.writerow([_cell(entry[column], guard) for column in CSV_COLUMNS])
    return _Written(buffer.getvalue(), len(rows))


def _json(rows: Sequence[_Row], options: ExportOptions) -> _Written:
    accounts = []
    for row in rows:
        entry = _registry_entry(row)
        entry["tags"] = dict(sorted(row.record.tags.items()))
        accounts.append(entry)
    document = {"title": options.title, "count": len(accounts), "accounts": accounts}
    return _Written(json.dumps(document, indent=2, ensure_ascii=False) + "\n", len(accounts))


# --------------------------------------------------------------------------- entry point

_Writer = Callable[[Sequence[_Row], ExportOptions], _Written]
_FORMATS: dict[ExportFormat, tuple[_Writer, str, str]] = {
    ExportFormat.AWS_CONFIG: (_aws_config, "text/plain; charset=utf-8", "orgvend-aws-config.ini"),
    ExportFormat.AWS_CONFIG_SSO: (_aws_config_sso, "text/plain; charset=utf-8", "orgvend-aws-config-sso.ini"),
    ExportFormat.EXTEND_SWITCH_ROLES: (
        _extend_switch_roles,
        "text/plain; charset=utf-8",
        "orgvend-extend-switch-roles.ini",
    ),
    ExportFormat.BOOKMARKS: (_bookmarks, "text/html; charset=utf-8", "orgvend-bookmarks.html"),
    ExportFormat.HTML: (_page, "text/html; charset=utf-8", "orgvend-switch-roles.html"),
    ExportFormat.CSV: (_csv, "text/csv; charset=utf-8", "orgvend-accounts.csv"),
    ExportFormat.JSON: (_json, "application/json", "orgvend-accounts.json"),
}


def export_accounts(
    records: Iterable[AccountRecord], fmt: ExportFormat | str, options: ExportOptions | None = None
) -> Export:
    """``records`` in format ``fmt``; a string format must be one of ExportFormat's values.

    Raises ValueError for an unknown format, IdentityCenterNotConfigured for SSO profiles without
    ``options.sso_start_url`` and ``options.sso_region``. Accounts that a format cannot hold
    safely (an invalid role name in an INI file) are left out and named in ``warnings``.
    """
    fmt = ExportFormat(fmt)
    options = options or ExportOptions()
    writer, media_type, filename = _FORMATS[fmt]
    written = writer(_rows(records, fmt, options), options)
    return Export(
        content=written.content,
        media_type=media_type,
        filename=filename,
        count=written.count,
        warnings=written.warnings,
    )
