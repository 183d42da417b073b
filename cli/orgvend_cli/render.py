"""Plain-text output: aligned tables, key/value blocks, CSV, and the onboarding and offboarding views."""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orgvend.account_settings.runs import AccountOutcome
from orgvend.costs.models import CostReport, CostRow, GroupBy, money
from orgvend.spreadsheet import formula_guarded
from orgvend.switch_role import switch_role_url

EMPTY = "-"


def text(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items()) or EMPTY
    return " ".join(str(value).split())  # one line per cell


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Columns aligned with two spaces between them; no trailing spaces."""
    cells = [[text(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *cells]
    ]
    return "\n".join(lines)


def pairs(items: Iterable[tuple[str, Any]]) -> str:
    """A key/value block; items whose value is None are left out."""
    present = [(label, value) for label, value in items if value is not None]
    width = max((len(label) for label, _ in present), default=0)
    return "\n".join(f"{label.ljust(width)}  {text(value)}" for label, value in present)


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else csv_cell(cell) for cell in row])
    return buffer.getvalue()


def csv_cell(value: Any) -> str:
    """One cell, guarded against spreadsheet formulas the same way as the API's CSV export."""
    if isinstance(value, dict):
        return formula_guarded(";".join(f"{key}={item}" for key, item in value.items()))
    return formula_guarded(str(value))


def truncate(value: str | None, width: int) -> str | None:
    if value is None or len(value) <= width:
        return value
    return value[: width - 3] + "..."


# -- times -------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def show_time(value: Any) -> str | None:
    parsed = parse_time(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if parsed else None


def duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def elapsed(start: Any, stop: Any) -> str | None:
    started, stopped = parse_time(start), parse_time(stop)
    if started is None or stopped is None:
        return None
    return duration((stopped - started).total_seconds())


# -- accounts ------------------------------------------------------------------------------

ACCOUNT_COLUMNS = ("ACCOUNT ID", "NAME", "CLIENT", "PROJECT", "STATUS", "EMAIL", "CREATED (UTC)")
ACCOUNT_CSV = (
    "accountId",
    "accountName",
    "client",
    "project",
    "status",
    "email",
    "ouId",
    "roleName",
    "switchRoleUrl",
    "onboardingId",
    "failure",
    "tags",
    "createdAt",
    "updatedAt",
)


def account_link(account: dict[str, Any]) -> str | None:
    """The account's switch-role link, built from its ID, role, client and project as the server builds it
    (so it is the current one whatever the server's version; None when the answer lacks a field)."""
    fields = [account.get(key) for key in ("accountId", "roleName", "client", "project")]
    present = [field for field in fields if isinstance(field, str) and field]
    if len(present) != len(fields):
        return None
    account_id, role_name, client, project = present
    return switch_role_url(account_id, role_name, client, project)


def account_csv_row(account: dict[str, Any]) -> list[Any]:
    return [account_link(account) if key == "switchRoleUrl" else account.get(key) for key in ACCOUNT_CSV]


def account_row(account: dict[str, Any]) -> list[Any]:
    return [
        account.get("accountId"),
        account.get("accountName"),
        account.get("client"),
        account.get("project"),
        account.get("status"),
        account.get("email"),
        show_time(account.get("createdAt")),
    ]


def account_detail(account: dict[str, Any]) -> str:
    return pairs(
        [
            ("Account", account.get("accountId")),
            ("Name", account.get("accountName")),
            ("Status", account.get("status")),
            ("Client", account.get("client")),
            ("Project", account.get("project")),
            ("Email", account.get("email")),
            ("OU", account.get("ouId")),
            ("Role", account.get("roleName")),
            ("Switch role", account_link(account)),
            ("Access portal", access_portal(account)),
            ("Permission sets", ", ".join(account.get("permissionSets") or []) or None),
            ("Tags", account.get("tags") or None),
            ("Baseline policy", account.get("baselinePolicyArn")),
            ("Settings", applied_settings(account)),
            ("Settings drift", settings_drift(account)),
            ("Billing", account.get("billingMode")),
            ("Monthly budget", monthly_budget(account)),
            ("Root access", root_access(account)),
            ("Onboarding", account.get("onboardingId")),
            ("Offboarding", account.get("offboardingId")),
            ("Offboarded", utc(account.get("offboardedAt"))),
            ("Failure", account.get("failure")),
            ("Created", utc(account.get("createdAt"))),
            ("Updated", utc(account.get("updatedAt"))),
        ]
    )


def monthly_budget(account: dict[str, Any]) -> str | None:
    """The account's monthly cost budget and whom its alerts go to; None when the entry records none."""
    limit = account.get("monthlyBudgetUsd")
    if not isinstance(limit, int | float):
        return None
    amount = f"{limit:,.2f}".removesuffix(".00")
    alerts = account.get("budgetAlertEmail") or account.get("email")
    return f"{amount} USD (orgvend-{account.get('accountId')}; alerts to {alerts} and the operators)"


def applied_settings(account: dict[str, Any]) -> str | None:
    """The settings profile the account was set up with: its name, version and when."""
    settings = account.get("settings")
    if not isinstance(settings, dict):
        return None
    applied = f"{settings.get('profile')} version {settings.get('version')}, applied {utc(settings.get('appliedAt'))}"
    kept = settings.get("kept") or []
    return applied + (f"; kept: {', '.join(str(item) for item in kept)}" if kept else "")


def settings_drift(account: dict[str, Any]) -> str | None:
    """How the account differed from its profile when last checked (``settingsDrift``)."""
    report = account.get("settingsDrift")
    if not isinstance(report, dict):
        return None
    checked = f"checked {utc(report.get('checkedAt'))} against {report.get('profile')} version {report.get('version')}"
    drift = [item for item in report.get("drift") or [] if isinstance(item, dict)]
    if not drift:
        return f"none ({checked})"
    found = "; ".join(
        f"{item.get('setting')}"
        + (f".{item['field']}" if item.get("field") and item.get("field") != item.get("setting") else "")
        + (f" in {item['region']}" if item.get("region") else "")
        + f": expected {_drift_value(item.get('expected'))}, found {_drift_value(item.get('actual'))}"
        for item in drift
    )
    return f"{found} ({checked}{', repaired' if report.get('repaired') else ''})"


def _drift_value(value: Any) -> str:
    return "none" if value is None else _scalar(value)


def access_portal(account: dict[str, Any]) -> str | None:
    """Where people sign in to the account through IAM Identity Center; None when orgvend assigned no access."""
    access = account.get("access")
    if not isinstance(access, dict) or not access.get("configured"):
        return None
    portal = access.get("portalUrl")
    return portal if isinstance(portal, str) and portal else None


def needs_root_mfa(account: dict[str, Any]) -> bool:
    """An account whose owner has not confirmed the root password reset and MFA, when that is needed."""
    return (
        account.get("status") == "ACTIVE"
        and account.get("rootCredentialsManagement") is not True
        and not account.get("rootSecuredAt")
    )


def root_access(account: dict[str, Any]) -> str:
    if account.get("rootCredentialsManagement") is True:
        return "managed centrally"
    if account.get("rootSecuredAt"):
        return f"secured {utc(account.get('rootSecuredAt'))} by {account.get('rootSecuredBy') or 'unknown'}"
    return "not confirmed (password reset and MFA)"


def utc(value: Any) -> str | None:
    shown = show_time(value)
    return f"{shown} UTC" if shown else None


# -- onboardings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunListing:
    """A list of workflow runs (onboardings, offboardings): one row a run, the same columns but ``extra``."""

    noun: str  # "onboarding": its ID is the answer's onboardingId
    extra: tuple[str, ...] = ()  # the API's fields shown after the status (offboardings: mode)

    @property
    def columns(self) -> tuple[str, ...]:
        extra = (field.upper() for field in self.extra)
        return (
            f"{self.noun.upper()} ID",
            "STATUS",
            *extra,
            "CLIENT",
            "PROJECT",
            "ACCOUNT",
            "STARTED (UTC)",
            "TOOK",
        )

    @property
    def csv(self) -> tuple[str, ...]:
        return (
            f"{self.noun}Id",
            "status",
            *self.extra,
            "client",
            "project",
            "accountId",
            "startedAt",
            "stoppedAt",
        )

    def row(self, item: dict[str, Any]) -> list[Any]:
        return [
            *(item.get(field) for field in self.csv[:-2]),
            show_time(item.get("startedAt")),
            elapsed(item.get("startedAt"), item.get("stoppedAt")),
        ]


ONBOARDINGS = RunListing("onboarding")
OFFBOARDINGS = RunListing("offboarding", extra=("mode",))

TIMELINE_COLUMNS = ("STEP", "TYPE", "STATUS", "DURATION", "ATTEMPTS", "RETRIES", "ERROR")
TIMELINE_CSV = (
    "name",
    "type",
    "status",
    "startedAt",
    "endedAt",
    "durationSeconds",
    "visits",
    "attempts",
    "retries",
    "error",
    "cause",
)
ERROR_WIDTH = 60


def step_name(step: dict[str, Any]) -> str:
    visits = int(step.get("visits") or 1)
    return f"{step.get('name')} (x{visits})" if visits > 1 else str(step.get("name"))


def step_error(step: dict[str, Any]) -> str | None:
    error, cause = step.get("error"), step.get("cause")
    if error and cause:
        return f"{error}: {cause}"
    return error or cause


def timeline_row(step: dict[str, Any]) -> list[Any]:
    attempts = int(step.get("attempts") or 0)
    return [
        step_name(step),
        step.get("type"),
        step.get("status"),
        duration(step.get("durationSeconds")),
        attempts or None,
        step.get("retries") if attempts else None,
        truncate(step_error(step), ERROR_WIDTH),
    ]


def onboarding_view(view: dict[str, Any]) -> str:
    """The onboarding, its timeline as a table, and the full text of what failed."""
    return execution_view(view, [("Onboarding", view.get("onboardingId")), ("Status", view.get("status"))])


def offboarding_view(view: dict[str, Any]) -> str:
    """The offboarding, its timeline as a table, and the full text of what failed."""
    run = [
        ("Offboarding", view.get("offboardingId")),
        ("Status", view.get("status")),
        ("Mode", view.get("mode")),
        ("Outcome", view.get("outcome")),
    ]
    return execution_view(view, run, [("Requested by", view.get("requestedBy"))])


def account_label(view: dict[str, Any]) -> str | None:
    account = view.get("accountId")
    if account and view.get("accountName"):
        return f"{account} ({view['accountName']})"
    return account


def execution_view(
    view: dict[str, Any], run: list[tuple[str, Any]], more: Sequence[tuple[str, Any]] = ()
) -> str:
    """A workflow execution: the ``run``, whose account, ``more``, when, its timeline, and what failed in full."""
    client, project = view.get("client"), view.get("project")
    identity = [
        *run,
        ("Client/project", f"{client}/{project}" if client or project else None),
        ("Account", account_label(view)),
        *more,
    ]
    timeline = view.get("timeline") or []
    failed = [step for step in timeline if step.get("status") == "FAILED"]
    error = view.get("error")
    if error and view.get("cause") and not failed:  # else the failed step below says it in full
        error = f"{error}: {view['cause']}"
    head = pairs(
        [
            *identity,
            ("Started", utc(view.get("startedAt"))),
            ("Stopped", utc(view.get("stoppedAt"))),
            ("Took", elapsed(view.get("startedAt"), view.get("stoppedAt"))),
            ("Retried", view.get("redriveCount") or None),
            ("Error", error),
        ]
    )
    parts = [head, ""]
    parts.append(
        table(TIMELINE_COLUMNS, [timeline_row(step) for step in timeline]) if timeline else "no steps yet"
    )
    for step in timeline:
        if step.get("status") == "FAILED":
            parts.append(f"\n{step.get('name')} failed: {step_error(step) or 'FAILED'}")
        elif step.get("error"):  # an attempt failed, a retry (or a redrive) got past it
            parts.append(f"\n{step.get('name')} had an error before it went on: {step_error(step)}")
    return "\n".join(parts)


def onboarded(view: dict[str, Any]) -> str:
    """What a SUCCEEDED onboarding did."""
    return f"account {view.get('accountId')} is ready."


def offboarded(view: dict[str, Any]) -> str:
    """What a SUCCEEDED offboarding did."""
    account, outcome = view.get("accountId"), view.get("outcome")
    if outcome == "DETACHED":
        return (
            f"account {account} has left the organization; "
            "the operators have the hand-over checklist for its new owner."
        )
    if outcome == "CLOSED":
        return f"account {account} is closed (AWS deletes it after 90 days)."
    return f"account {account} is {outcome or 'offboarded'}."


def progress_line(step: dict[str, Any]) -> str:
    attempts = int(step.get("attempts") or 0)
    retries = int(step.get("retries") or 0)
    notes = [
        duration(step.get("durationSeconds")),
        f"{retries} {'retry' if retries == 1 else 'retries'}" if attempts and retries else None,
        truncate(step_error(step), ERROR_WIDTH),
    ]
    return f"  {step_name(step):<28} {step.get('status', ''):<9}  " + "  ".join(n for n in notes if n)


# -- offboardings --------------------------------------------------------------------------

OFFBOARDING_CONSEQUENCES = {
    "detach": (
        "stop its discount sharing (RI / Savings Plans)",
        "remove it from the organization: it pays its own bills from then on and orgvend no longer manages it",
        "send the operators the hand-over checklist for its new owner",
    ),
    "close": (
        "close it: AWS suspends it at once and deletes it after 90 days (until then only AWS Support "
        "can reopen it)",
        "its email address can never be used for another AWS account",
        "the registry keeps its record as CLOSED",
    ),
}


def offboarding_plan(account: dict[str, Any], mode: str) -> str:
    """What ``offboard`` would do to the account, for a person to confirm."""
    owner = f"client {account.get('client')}, project {account.get('project')}"
    lines = [f"This would {mode} account {account_label(account)} of {owner} (now {account.get('status')}):"]
    lines += [f"  - {consequence}" for consequence in OFFBOARDING_CONSEQUENCES[mode]]
    if account.get("offboardingId"):
        lines.append(f"It is being offboarded already, by {account['offboardingId']}.")
    return "\n".join(lines)


# -- settings profiles ---------------------------------------------------------------------

PROFILE_COLUMNS = ("name", "version", "alias", "repair", "settings")
# What a profile is besides its settings.
PROFILE_IDENTITY = ("name", "version", "repair")


def profile_row(profile: dict[str, Any]) -> list[Any]:
    """A profile in a list: its identity, its alias pattern and the settings it sets."""
    settings = [
        key for key, value in profile.items() if key not in PROFILE_IDENTITY and value not in (None, [])
    ]
    return [
        profile.get("name"),
        profile.get("version"),
        profile.get("alias"),
        profile.get("repair"),
        " ".join(settings),
    ]


def profile_text(profile: dict[str, Any]) -> str:
    """A profile as indented ``key: value`` lines (YAML-like); a setting left alone says so."""
    return "\n".join(_outline(profile, 0))


def _outline(value: dict[str, Any], depth: int) -> list[str]:
    lines = []
    for key, item in value.items():
        lead = "  " * depth + f"{key}:"
        if isinstance(item, dict):
            lines += [lead, *_outline(item, depth + 1)]
        else:
            lines.append(f"{lead} {_scalar(item)}")
    return lines


def _scalar(value: Any) -> str:
    if value is None:
        return "(left alone)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def profile_settings(profile: dict[str, Any], prefix: str = "") -> list[list[Any]]:
    """Each setting of a profile as (its dotted path, its value): the CSV form."""
    rows: list[list[Any]] = []
    for key, value in profile.items():
        if isinstance(value, dict):
            rows += profile_settings(value, f"{prefix}{key}.")
        else:
            rows.append(
                [
                    f"{prefix}{key}",
                    _scalar(value) if value is None or isinstance(value, list | bool) else value,
                ]
            )
    return rows


# -- settings runs ----------------------------------------------------------------------------

# What a run's summary lists account by account, and how it heads each list.
SETTINGS_RUN_LISTS = (
    (AccountOutcome.FAILED, "Failed (nothing after the failing setting was changed in these accounts):"),
    (
        AccountOutcome.DRIFTED,
        "Drifted from their profile (reported, not repaired: the profile says repair: false):",
    ),
    (AccountOutcome.REPAIRED, "Drifted, and repaired (the profile says repair: true):"),
    (AccountOutcome.SKIPPED, "Skipped (no longer active when their turn came):"),
)


def settings_run_counts(view: dict[str, Any]) -> dict[str, int]:
    """How many accounts had each outcome so far, in AccountOutcome's order."""
    run = view.get("run") if isinstance(view.get("run"), dict) else {}
    outcomes = (run or {}).get("outcomes") or {}
    return {str(outcome): len(outcomes.get(str(outcome)) or []) for outcome in AccountOutcome}


def settings_progress(view: dict[str, Any]) -> str:
    """One line of a run's progress: ``12/40 accounts done: 3 changed, 9 unchanged, 0 failed``."""
    progress = view.get("progress") or {}
    if progress.get("total") is None:
        return f"{view.get('status', 'RUNNING')}: choosing the accounts"
    counts = settings_run_counts(view)
    said = [
        f"{count} {outcome}" for outcome, count in counts.items() if count or outcome == AccountOutcome.FAILED
    ]
    return f"{progress.get('done', 0)}/{progress['total']} accounts done: {', '.join(said)}"


def settings_run_subject(view: dict[str, Any]) -> str:
    """What the run was asked: ``apply on client acme (profile strict)``."""
    run = view.get("run") if isinstance(view.get("run"), dict) else None
    asked = run or view.get("request") or {}
    selection = asked.get("selection") or {}
    if selection.get("accountId"):
        which = f"account {selection['accountId']}"
    elif selection.get("client"):
        which = f"client {selection['client']}"
    else:
        which = "all accounts"
    profile = asked.get("settingsProfile")
    return f"{asked.get('mode', 'apply')} on {which} ({f'profile {profile}' if profile else 'each account its own profile'})"


def settings_run_text(view: dict[str, Any]) -> str:
    """A settings run for people: what was asked, how far it is, each outcome's count, and the accounts
    that failed (with why), drifted, were repaired or skipped."""
    run = view.get("run") if isinstance(view.get("run"), dict) else None
    error = view.get("error")
    if error and view.get("cause"):
        error = f"{error}: {view['cause']}"
    head = pairs(
        [
            ("Settings run", view.get("runId")),
            ("Status", view.get("status")),
            ("Asked", settings_run_subject(view)),
            ("Requested by", (run or view.get("request") or {}).get("requestedBy")),
            ("Accounts", None if run is None else run.get("accounts")),
            ("Progress", settings_progress(view)),
            ("Started", utc(view.get("startedAt"))),
            ("Stopped", utc(view.get("stoppedAt"))),
            ("Took", elapsed(view.get("startedAt"), view.get("stoppedAt"))),
            ("Error", error),
        ]
    )
    parts = [head]
    counts = settings_run_counts(view)
    if run is not None and any(counts.values()):
        parts += [
            "",
            table(("OUTCOME", "ACCOUNTS"), [[outcome, count] for outcome, count in counts.items() if count]),
        ]
    outcomes = (run or {}).get("outcomes") or {}
    failures = (run or {}).get("failures") or {}
    for outcome, heading in SETTINGS_RUN_LISTS:
        accounts = outcomes.get(str(outcome)) or []
        if not accounts:
            continue
        parts += ["", heading]
        if outcome == AccountOutcome.FAILED:
            parts += [f"  {account}  {failures.get(account) or 'failed'}" for account in accounts]
        else:
            parts += [f"  {account}" for account in accounts]
        if outcome in (AccountOutcome.DRIFTED, AccountOutcome.REPAIRED):
            parts.append(
                "  What differs: orgvend account ACCOUNT_ID (Settings drift), or GET /accounts/{accountId}"
            )
    return "\n".join(parts)


# -- costs ----------------------------------------------------------------------------------

SECTION_NOTES = {
    "offboarded": "Offboarded (detached or closed before the month ended):",
    "unknown": "Not in the registry (the management account, accounts outside orgvend's scope):",
}


def aligned_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int]) -> str:
    """table(), with the ``numeric`` columns right-aligned (amounts line up on their decimal point)."""
    cells = [[text(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    return "\n".join(
        "  ".join(
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [list(headers), *cells]
    )


def costs_view(report: CostReport) -> str:
    """A cost report (orgvend.costs.models.CostReport) for people: its groups section by section, then the
    totals; with --by account, each account with its budget."""
    state = "estimated: Cost Explorer may still change it" if report.estimated else "final"
    lines = [
        f"Costs for {report.month} ({state}), {report.currency}, from Cost Explorer at "
        f"{report.retrieved_at:%Y-%m-%d %H:%M} UTC" + (f", client {report.client}" if report.client else "")
    ]
    by = report.group_by
    rows: list[list[Any]]
    for section in ("accounts", "offboarded", "unknown"):
        if by == GroupBy.ACCOUNT:
            members: list[CostRow] = getattr(report, section)
            headers = [
                "CLIENT",
                "PROJECT",
                "ACCOUNT",
                "ACCOUNT ID",
                "STATUS",
                "UNBLENDED",
                "AMORTIZED",
                "BUDGET",
                "USED",
            ]
            rows = [
                [
                    row.client,
                    row.project,
                    row.account_name,
                    row.account_id,
                    row.status,
                    money(row.unblended_cost),
                    money(row.amortized_cost),
                    money(row.budget_limit) if row.budget_limit is not None else EMPTY,
                    f"{row.budget_percent_used:f} %" if row.budget_percent_used is not None else EMPTY,
                ]
                for row in members
            ]
            numbers = [5, 6, 7, 8]
        else:
            groups = [group for group in report.groups if group.section == section]
            headers = [
                "CLIENT",
                *(["PROJECT"] if by == GroupBy.PROJECT else []),
                "ACCOUNTS",
                "UNBLENDED",
                "AMORTIZED",
            ]
            rows = [
                [
                    group.client,
                    *([group.project] if by == GroupBy.PROJECT else []),
                    group.accounts,
                    money(group.unblended_cost),
                    money(group.amortized_cost),
                ]
                for group in groups
            ]
            numbers = list(range(len(headers) - 3, len(headers)))
        if not rows:
            continue
        lines.append("")
        if section in SECTION_NOTES:
            lines.append(SECTION_NOTES[section])
        lines.append(aligned_table(headers, rows, numbers))
    if not report.rows():
        lines += ["", "Cost Explorer reported no costs for this month."]
    totals = report.totals
    lines += [
        "",
        pairs(
            (
                f"{label}:",
                f"{money(total.unblended_cost)} unblended, {money(total.amortized_cost)} amortized "
                f"({total.accounts} account{'s' if total.accounts != 1 else ''})",
            )
            for label, total in (
                ("Clients' accounts", totals.accounts),
                ("Offboarded", totals.offboarded),
                ("Not in the registry", totals.unknown),
                ("Total", totals.all),
            )
            if total.accounts or label == "Total"
        ),
    ]
    return "\n".join(lines)
