"""orgvend: onboard and offboard AWS accounts and follow them through orgvend's HTTP API.

Exit codes: 0 done (an onboarding or offboarding SUCCEEDED, or still running without --watch;
a settings run with no account failed); 1 refused or failed (an API 4xx error, an onboarding or
offboarding FAILED/TIMED_OUT/ABORTED, an offboarding not confirmed, a settings run that failed on an
account); 2 could not do it (API unreachable or 5xx, no AWS credentials, a bad command line).
"""

import argparse
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TextIO, get_args
from urllib.parse import quote, urlparse

from orgvend import rules
from orgvend.account_settings.runs import AccountOutcome, SettingsRunMode
from orgvend.costs.models import CostReport, GroupBy, previous_month
from orgvend.exports import ExportFormat
from orgvend.exports.costs import costs_csv, costs_html
from orgvend.models import (
    FAILED_EXECUTION_STATUSES,
    FINISHED_EXECUTION_STATUSES,
    AccountStatus,
    BillingAccess,
    BillingMode,
    ExecutionStatus,
    OffboardingMode,
    usd,
)
from orgvend_cli import render
from orgvend_cli.client import ApiClient, ApiError, CliError, Connection, version
from orgvend_cli.logs import logs_session, onboarding_logs

DEFAULT_API_URL = "http://127.0.0.1:3000"
LOCAL_AWS_ENDPOINT = "http://127.0.0.1:4566"
# Powertools' own fields, left out of the readable line.
LOG_NOISE = frozenset(
    {
        "timestamp",
        "level",
        "message",
        "location",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
    }
)
# How the CLI prints an answer: its own choice, not the API's (every other choice is the server's own enum).
OUTPUT_FORMATS = ("table", "json", "csv")
# switch-roles prints the API's export as it is: its --format is the export's, the server's own enum.
EXPORT_FORMATS = tuple(str(member.value) for member in ExportFormat)
# A settings run is shown for people or as the API's JSON (a CSV of one run says little).
RUN_FORMATS = ("table", "json")
# costs prints its report for people, scripts and spreadsheets, or as a page with its charts.
COST_FORMATS = (*OUTPUT_FORMATS, "html")
# Before the command, --format takes any command's format; main checks it against the command's own.
ANY_FORMAT = tuple(dict.fromkeys(OUTPUT_FORMATS + EXPORT_FORMATS))
NOT_CONFIRMED = 1
INTERRUPTED = 130


@dataclass(frozen=True)
class Workflow:
    """Onboardings and offboardings: workflow executions the CLI starts, follows, lists and retries alike."""

    noun: str  # "onboarding": in messages, and its API paths /onboardings/{id}
    show_command: str  # the command that shows one (and --watch follows it)
    retry_command: str
    view: Callable[[dict[str, Any]], str]  # one, with its timeline, for people
    success: Callable[[dict[str, Any]], str]  # what a SUCCEEDED one did
    listing: render.RunListing
    started_csv: tuple[str, ...]  # the fields of the start answer, as CSV

    @property
    def title(self) -> str:
        return self.noun.capitalize()

    @property
    def id_field(self) -> str:
        """The execution's ID in the API's answers."""
        return f"{self.noun}Id"

    def path(self, execution_id: str) -> str:
        return f"/{self.noun}s/{quote(execution_id, safe='')}"


ONBOARDING = Workflow(
    noun="onboarding",
    show_command="status",
    retry_command="retry",
    view=render.onboarding_view,
    success=render.onboarded,
    listing=render.ONBOARDINGS,
    started_csv=("onboardingId", "status"),
)
OFFBOARDING = Workflow(
    noun="offboarding",
    show_command="offboarding",
    retry_command="retry-offboarding",
    view=render.offboarding_view,
    success=render.offboarded,
    listing=render.OFFBOARDINGS,
    started_csv=("offboardingId", "accountId", "mode", "status"),
)


@dataclass
class Context:
    args: argparse.Namespace
    client: ApiClient
    out: TextIO
    err: TextIO
    stdin: TextIO

    @property
    def format(self) -> str:
        """--format, else the command's default (the first of its formats)."""
        return str(self.args.format or self.args.formats[0])

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def json(self, data: Any) -> None:
        self.print(json.dumps(data, indent=2))

    def command(self, *words: str) -> str:
        """How to run another command against the same API, for hints."""
        options = []
        if self.args.api_url:
            options += ["--api-url", self.args.api_url]
        if self.args.profile:
            options += ["--profile", self.args.profile]
        if self.args.region:
            options += ["--region", self.args.region]
        return " ".join(["orgvend", *options, *words])


# -- argument parsing --------------------------------------------------------------------
#
# What names the thing a command acts on (an account ID, an onboarding ID) and the filters are checked
# here, by orgvend.rules (the server's own rules), before any request; a request's body (onboard,
# adopt) is left to the server, which checks it whole and answers every problem at once.


def checked(problem_of: Callable[[str], str | None]) -> Callable[[str], str]:
    """An argparse ``type`` that refuses a value breaking one of orgvend's rules, saying why."""

    def check(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise argparse.ArgumentTypeError(f"{problem} (got {value!r})")
        return value

    return check


ACCOUNT_ID = checked(rules.account_id_problem)
EXECUTION_ID = checked(rules.execution_name_problem)
SLUG = checked(rules.slug_problem)
SOURCE_PROFILE = checked(rules.source_profile_problem)
MONTH = checked(rules.month_problem)


def budget_usd(value: str) -> Decimal:
    """A monthly budget in US dollars, checked with the server's own rule (more than 0, cents, a ceiling)."""
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number of US dollars: {value!r}") from None
    problem = rules.monthly_budget_problem(amount)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem} (got {value!r})")
    return amount


BUDGET_ALERT_EMAIL = checked(rules.budget_alert_email_problem)


def json_number(amount: Decimal) -> int | float:
    """An amount as the API takes it: a JSON number (the float that prints as its two decimals)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def values(choices: Any) -> list[str]:
    """The values of a shared enum or Literal, as argparse choices."""
    return [str(choice) for choice in (get_args(choices) or [member.value for member in choices])]


def tag(value: str) -> tuple[str, str]:
    key, equals, item = value.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key.strip(), item


def page_size(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= number <= 100:
        raise argparse.ArgumentTypeError("must be between 1 and 100")
    return number


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def add_global_options(
    parser: argparse.ArgumentParser, *, top: bool, formats: tuple[str, ...] = OUTPUT_FORMATS
) -> None:
    """The global options, accepted before and after the command (the command's copies never reset them)."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--api-url",
        default=default(None),
        help=f"the orgvend API (default: $ORGVEND_API_URL, else {DEFAULT_API_URL}, the API of `make run`)",
    )
    if top:
        group.add_argument(
            "--format",
            choices=ANY_FORMAT,
            metavar="FORMAT",
            default=None,
            help="how to print the answer: table (default) for people, json (the API's JSON) or csv for "
            f"scripts; switch-roles: {', '.join(EXPORT_FORMATS)} (default {EXPORT_FORMATS[0]}); costs: html too",
        )
    else:
        group.add_argument(
            "--format",
            choices=formats,
            default=argparse.SUPPRESS,
            help="table (default) for people, json (the API's JSON) or csv for scripts"
            if formats == OUTPUT_FORMATS
            else f"{', '.join(formats)} (default {formats[0]})",
        )
    group.add_argument(
        "--region",
        default=default(None),
        help="region to sign for (default: from the URL, AWS config/env, else us-east-1)",
    )
    group.add_argument("--profile", default=default(None), help="AWS profile whose credentials sign requests")
    group.add_argument(
        "--debug", action="store_true", default=default(False), help="print each HTTP request to stderr"
    )


def add_onboarding_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role-name", help="role orgvend creates in the account (default: the org's)")
    parser.add_argument(
        "--monthly-budget-usd",
        type=budget_usd,
        metavar="USD",
        help="the account's monthly cost budget (default: the client's default, else the stack's)",
    )
    parser.add_argument(
        "--budget-alert-email",
        type=BUDGET_ALERT_EMAIL,
        metavar="EMAIL",
        help="who gets the budget's alerts beside the operators (default: the account's email)",
    )
    parser.add_argument(
        "--tag", action="append", type=tag, default=[], metavar="KEY=VALUE", help="a tag (repeatable)"
    )
    parser.add_argument(
        "--idempotency-key",
        help="makes retrying this command safe: the same key never starts a second onboarding "
        "(default: a new random key for this run)",
    )
    add_wait_options(parser, "--wait", "then follow the onboarding until it ends (like status --watch)")


def add_wait_options(parser: argparse.ArgumentParser, flag: str, text: str) -> None:
    parser.add_argument(flag, action="store_true", dest="wait", help=text)
    parser.add_argument(
        "--interval", type=seconds, default=2.0, metavar="S", help="seconds between polls (default 2)"
    )


def add_list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", type=page_size, metavar="N", help="items per page, 1-100 (default: the API's 50)"
    )
    parser.add_argument("--all", action="store_true", help="follow nextToken to the last page")
    parser.add_argument("--next-token", metavar="TOKEN", help="start at this page (from a previous answer)")


# argparse's type of add_subparsers()' answer (a lazy alias: the class is generic to type checkers only).
type Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]


class AddCommand(Protocol):
    """build_parser's command(name, handler, help): adds a subcommand that takes the global options too;
    its --format takes ``formats``, the first the default; ``under``: a group's subcommands (settings)."""

    def __call__(
        self,
        name: str,
        handler: Callable[[Context], int],
        text: str,
        *,
        formats: tuple[str, ...] = OUTPUT_FORMATS,
        under: Subcommands | None = None,
    ) -> argparse.ArgumentParser: ...


def add_onboarding_commands(command: AddCommand) -> None:
    onboard = command("onboard", cmd_onboard, "Onboard a new account (create, place, baseline, register)")
    onboard.add_argument("--client", required=True, help="client slug (a-z, 0-9, -)")
    onboard.add_argument("--project", required=True, help="project slug (a-z, 0-9, -)")
    onboard.add_argument("--email", required=True, help="the new account's root email (unique)")
    onboard.add_argument("--account-name", help="default: <client>-<project>")
    onboard.add_argument("--ou", help="place the account in this OU ID instead of the client's OU")
    onboard.add_argument(
        "--billing",
        choices=values(BillingMode),
        help="consolidated (default): the organization pays; direct: the client pays AWS itself",
    )
    onboard.add_argument(
        "--iam-user-access-to-billing",
        choices=values(BillingAccess),
        help="default: DENY; ALLOW only with --billing direct",
    )
    add_onboarding_options(onboard)

    adopt = command("adopt", cmd_adopt, "Register and baseline an existing member account")
    adopt.add_argument("account_id", metavar="ACCOUNT_ID", type=ACCOUNT_ID)
    adopt.add_argument("--client", required=True)
    adopt.add_argument("--project", required=True)
    add_onboarding_options(adopt)

    status = command("status", cmd_status, "An onboarding and its step-by-step timeline")
    status.add_argument("onboarding_id", metavar="ONBOARDING_ID", type=EXECUTION_ID)
    add_wait_options(status, "--watch", "follow it step by step until it is no longer running")

    onboardings = command("onboardings", cmd_onboardings, "Recent onboardings, newest first")
    onboardings.add_argument("--status", choices=values(ExecutionStatus))
    add_list_options(onboardings)

    retry = command("retry", cmd_retry, "Resume a failed onboarding at the step that failed")
    retry.add_argument("onboarding_id", metavar="ONBOARDING_ID", type=EXECUTION_ID)
    add_wait_options(retry, "--wait", "then follow it until it ends (like status --watch)")


def add_offboarding_commands(command: AddCommand) -> None:
    offboard = command(
        "offboard", cmd_offboard, "Hand an account over to its client (detach) or close it; asks first"
    )
    offboard.add_argument("account_id", metavar="ACCOUNT_ID", type=ACCOUNT_ID)
    offboard.add_argument(
        "--mode",
        required=True,
        choices=values(OffboardingMode),
        help="detach: it leaves the organization and becomes its client's; close: AWS closes it",
    )
    offboard.add_argument(
        "--confirm",
        metavar="ACCOUNT_NAME",
        help="the account's name, to do it without asking (the server checks it; without it: asks on a "
        "terminal for the name, else only says what it would do)",
    )
    offboard.add_argument(
        "--idempotency-key",
        help="makes retrying this command safe: the same key never starts a second offboarding "
        "(default: a new random key for this run)",
    )
    add_wait_options(
        offboard, "--wait", "then follow the offboarding until it ends (like offboarding --watch)"
    )

    offboarding = command("offboarding", cmd_offboarding, "An offboarding and its step-by-step timeline")
    offboarding.add_argument("offboarding_id", metavar="OFFBOARDING_ID", type=EXECUTION_ID)
    add_wait_options(offboarding, "--watch", "follow it step by step until it is no longer running")

    offboardings = command("offboardings", cmd_offboardings, "Recent offboardings, newest first")
    offboardings.add_argument("--status", choices=values(ExecutionStatus))
    add_list_options(offboardings)

    retry_offboarding = command(
        "retry-offboarding", cmd_retry_offboarding, "Resume a failed offboarding at the step that failed"
    )
    retry_offboarding.add_argument("offboarding_id", metavar="OFFBOARDING_ID", type=EXECUTION_ID)
    add_wait_options(retry_offboarding, "--wait", "then follow it until it ends (like offboarding --watch)")


def add_settings_commands(command: AddCommand) -> None:
    settings = command(
        "settings",
        cmd_settings_help,
        "Settings profiles (list, show, write them) and settings runs (apply one to accounts, follow a run)",
    )
    group = settings.add_subparsers(dest="settings_command", metavar="SETTINGS_COMMAND")
    command("profiles", cmd_settings_profiles, "Every settings profile, with its version", under=group)
    show = command("show", cmd_settings_show, "One settings profile (table: readable text)", under=group)
    show.add_argument("name", metavar="NAME", type=SLUG)
    put = command(
        "put",
        cmd_settings_put,
        "Write a settings profile from a JSON file: its next version (refused if it changed meanwhile)",
        under=group,
    )
    put.add_argument("name", metavar="NAME", type=SLUG)
    put.add_argument(
        "--file",
        required=True,
        metavar="FILE",
        help="the profile's JSON (- for standard input); a version in it (from `settings show --format json`) "
        "is the version the edit started from, else the current one is read first",
    )

    apply = command(
        "apply",
        cmd_settings_apply,
        "Re-apply a settings profile (or --check for drift) on an account, a client's accounts or all, "
        "and follow the run",
        formats=RUN_FORMATS,
        under=group,
    )
    which = apply.add_mutually_exclusive_group(required=True)
    which.add_argument("--client", type=SLUG, help="every active account of this client")
    which.add_argument("--account", metavar="ACCOUNT_ID", type=ACCOUNT_ID, help="this account only")
    which.add_argument("--all", action="store_true", help="every active account orgvend manages")
    # --profile is the AWS profile that signs the requests (a global option): the settings profile is this.
    apply.add_argument(
        "--settings-profile",
        metavar="NAME",
        type=SLUG,
        help="apply this settings profile (its current version) instead of each account's own",
    )
    apply.add_argument(
        "--check",
        action="store_true",
        help="change nothing: read each account back and report its drift (repaired only where the "
        "profile says repair: true)",
    )
    apply.add_argument(
        "--no-wait",
        action="store_false",
        dest="wait",
        help="start the run and print its ID, without following it (then: settings run RUN_ID --watch)",
    )
    apply.add_argument(
        "--interval", type=seconds, default=2.0, metavar="S", help="seconds between polls (default 2)"
    )

    run = command(
        "run",
        cmd_settings_run,
        "A settings run: its progress, each outcome's count, the accounts that failed or drifted",
        formats=RUN_FORMATS,
        under=group,
    )
    run.add_argument("run_id", metavar="RUN_ID", type=EXECUTION_ID)
    add_wait_options(run, "--watch", "follow it until it ends, a progress line at a time")


def add_budget_commands(command: AddCommand) -> None:
    budget = command("budget", cmd_budget_help, "Monthly budgets: an account's limit, a client's default")
    group = budget.add_subparsers(dest="budget_command", metavar="BUDGET_COMMAND")
    set_limit = command(
        "set",
        cmd_budget_set,
        "Set an account's monthly budget (US dollars): its budget in AWS Budgets and its registry entry",
        under=group,
    )
    set_limit.add_argument("account_id", metavar="ACCOUNT_ID", type=ACCOUNT_ID)
    set_limit.add_argument("usd", metavar="USD", type=budget_usd, help="e.g. 250 or 99.95")
    default = command(
        "default",
        cmd_budget_default,
        "A client's default monthly budget (US dollars) for its accounts onboarded from now on; "
        "without USD, show it",
        under=group,
    )
    default.add_argument("client", metavar="CLIENT", type=SLUG)
    default.add_argument("usd", metavar="USD", type=budget_usd, nargs="?", help="e.g. 500")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orgvend",
        description="Onboard and offboard AWS accounts and follow them through orgvend's HTTP API.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"orgvend {version()}")
    add_global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str,
        handler: Callable[[Context], int],
        text: str,
        *,
        formats: tuple[str, ...] = OUTPUT_FORMATS,
        under: Subcommands | None = None,
    ) -> argparse.ArgumentParser:
        sub = (under or commands).add_parser(name, help=text, description=text)
        add_global_options(sub, top=False, formats=formats)
        sub.set_defaults(handler=handler, formats=formats)
        return sub

    add_onboarding_commands(command)

    accounts = command("accounts", cmd_accounts, "Accounts in the registry")
    accounts.add_argument("--client", type=SLUG)
    accounts.add_argument("--project", type=SLUG, help="needs --client")
    accounts.add_argument("--status", choices=values(AccountStatus))
    accounts.add_argument(
        "--needs-root-mfa",
        action="store_true",
        help="only active accounts whose owners have not confirmed the root password reset and MFA",
    )
    add_list_options(accounts)

    account = command("account", cmd_account, "One account")
    account.add_argument("account_id", metavar="ACCOUNT_ID", type=ACCOUNT_ID)

    add_offboarding_commands(command)

    logs = command(
        "logs", cmd_logs, "One onboarding's or offboarding's log lines, in order (CloudWatch Logs Insights)"
    )
    logs.add_argument(
        "onboarding_id", metavar="ID", type=EXECUTION_ID, help="an onboarding ID or an offboarding ID"
    )
    logs.add_argument("--stack", default="orgvend", help="the stack's name (default orgvend)")
    logs.add_argument(
        "--since", type=seconds, default=24.0, metavar="HOURS", help="how far back (default 24 h)"
    )
    logs.add_argument(
        "--aws-endpoint-url",
        help="CloudWatch Logs endpoint (default: the embedded AWS when the API is local, else AWS)",
    )

    switch_roles = command(
        "switch-roles",
        cmd_switch_roles,
        "Export switch-role access for every account you can see",
        formats=EXPORT_FORMATS,
    )
    # Deprecated for --format; kept (hidden) for one release so that scripts keep working meanwhile.
    switch_roles.add_argument("--as", dest="deprecated_as", choices=EXPORT_FORMATS, help=argparse.SUPPRESS)
    switch_roles.add_argument("--client", type=SLUG)
    switch_roles.add_argument("--project", type=SLUG, help="needs --client")
    switch_roles.add_argument(
        "--source-profile", type=SOURCE_PROFILE, help="the profile your own credentials are in (aws-config)"
    )
    switch_roles.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")

    add_settings_commands(command)
    add_budget_commands(command)

    costs = command(
        "costs",
        cmd_costs,
        "One month's AWS costs per client, project or account (Cost Explorer and the registry)",
        formats=COST_FORMATS,
    )
    costs.add_argument(
        "--month", type=MONTH, metavar="YYYY-MM", help="the month (default: last month; this month: so far)"
    )
    costs.add_argument("--client", type=SLUG, help="only this client's accounts")
    costs.add_argument(
        "--by",
        choices=values(GroupBy),
        default=GroupBy.CLIENT.value,
        help="what the totals are of: client (default), project or account (with each account's budget)",
    )
    costs.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")

    command("health", cmd_health, "Check that the API answers")
    return parser


# -- commands ------------------------------------------------------------------------------


def cmd_onboard(ctx: Context) -> int:
    args = ctx.args
    body: dict[str, Any] = {"client": args.client, "project": args.project, "email": args.email}
    optional = {
        "accountName": args.account_name,
        "roleName": args.role_name,
        "ou": args.ou,
        "billing": args.billing,
        "iamUserAccessToBilling": args.iam_user_access_to_billing,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    if args.tag:
        body["tags"] = dict(args.tag)
    return start(ctx, ONBOARDING, "/accounts", {**body, **budget_options(args)})


def cmd_adopt(ctx: Context) -> int:
    args = ctx.args
    body: dict[str, Any] = {"accountId": args.account_id, "client": args.client, "project": args.project}
    if args.role_name:
        body["roleName"] = args.role_name
    if args.tag:
        body["tags"] = dict(args.tag)
    return start(ctx, ONBOARDING, "/accounts/adopt", {**body, **budget_options(args)})


def budget_options(args: argparse.Namespace) -> dict[str, Any]:
    """--monthly-budget-usd and --budget-alert-email, as a request's fields."""
    body: dict[str, Any] = {}
    if args.monthly_budget_usd is not None:
        body["monthlyBudgetUsd"] = json_number(args.monthly_budget_usd)
    if args.budget_alert_email:
        body["budgetAlertEmail"] = args.budget_alert_email
    return body


def start(ctx: Context, workflow: Workflow, path: str, body: dict[str, Any]) -> int:
    # Always a key: the client's own retries (and a rerun with --idempotency-key) never start twice.
    key = ctx.args.idempotency_key or str(uuid.uuid4())
    accepted = ctx.client.post(path, body, idempotency_key=key)
    execution_id = str(accepted[workflow.id_field])
    if ctx.args.wait:
        if ctx.format == "table":
            ctx.print(f"{workflow.title} {execution_id} started.")
        return follow(ctx, workflow, execution_id)
    if ctx.format == "json":
        ctx.json(accepted)
    elif ctx.format == "csv":
        ctx.print(
            render.csv_text(
                workflow.started_csv, [[accepted.get(name) for name in workflow.started_csv]]
            ).rstrip()
        )
    else:
        ctx.print(f"{workflow.title} {execution_id} started ({accepted.get('status', 'RUNNING')}).")
        ctx.print(f"Follow it:  {ctx.command(workflow.show_command, execution_id, '--watch')}")
    return 0


def cmd_status(ctx: Context) -> int:
    return show(ctx, ONBOARDING, ctx.args.onboarding_id)


def cmd_offboarding(ctx: Context) -> int:
    return show(ctx, OFFBOARDING, ctx.args.offboarding_id)


def show(ctx: Context, workflow: Workflow, execution_id: str) -> int:
    if ctx.args.wait:
        return follow(ctx, workflow, execution_id)
    view = get_execution(ctx, workflow, execution_id)
    show_execution(ctx, workflow, view)
    hint = resume_hint(ctx, workflow, view)
    if hint and ctx.format == "table":
        ctx.print(f"\n{hint}")
    return outcome(view)


def cmd_retry(ctx: Context) -> int:
    return retry(ctx, ONBOARDING, ctx.args.onboarding_id)


def cmd_retry_offboarding(ctx: Context) -> int:
    return retry(ctx, OFFBOARDING, ctx.args.offboarding_id)


def retry(ctx: Context, workflow: Workflow, execution_id: str) -> int:
    accepted = ctx.client.post(f"{workflow.path(execution_id)}/retry")
    retried = f"{workflow.title} {execution_id} retried: {accepted.get('message', '')}"
    if ctx.args.wait:
        if ctx.format == "table":
            ctx.print(retried)
        return follow(ctx, workflow, execution_id)
    if ctx.format == "json":
        ctx.json(accepted)
    elif ctx.format == "csv":
        ctx.print(
            render.csv_text(
                (workflow.id_field, "status", "redriveDate"),
                [[execution_id, accepted.get("status"), accepted.get("redriveDate")]],
            ).rstrip()
        )
    else:
        ctx.print(retried)
        ctx.print(f"Follow it:  {ctx.command(workflow.show_command, execution_id, '--watch')}")
    return 0


def cmd_onboardings(ctx: Context) -> int:
    return list_executions(ctx, ONBOARDING)


def cmd_offboardings(ctx: Context) -> int:
    return list_executions(ctx, OFFBOARDING)


def list_executions(ctx: Context, workflow: Workflow) -> int:
    page = fetch_pages(ctx, f"/{workflow.noun}s", {"status": ctx.args.status})
    items = page["items"]
    if ctx.format == "json":
        ctx.json(page)
    elif ctx.format == "csv":
        ctx.out.write(
            render.csv_text(workflow.listing.csv, [[i.get(k) for k in workflow.listing.csv] for i in items])
        )
    elif items:
        ctx.print(render.table(workflow.listing.columns, [workflow.listing.row(item) for item in items]))
    else:
        ctx.print(f"no {workflow.noun}s" + (f" with status {ctx.args.status}" if ctx.args.status else ""))
    more_pages(ctx, page)
    return 0


def cmd_offboard(ctx: Context) -> int:
    args = ctx.args
    name = args.confirm if args.confirm is not None else confirmed_name(ctx)
    if name is None:
        return NOT_CONFIRMED
    return start(
        ctx,
        OFFBOARDING,
        f"/accounts/{quote(args.account_id, safe='')}/offboard",
        {"mode": args.mode, "confirmAccountName": name},
    )


def confirmed_name(ctx: Context) -> str | None:
    """Say what the offboarding would do; on a terminal ask for the account's name (the server checks it
    again), else refuse (scripts pass --confirm NAME)."""
    args = ctx.args
    account = ctx.client.get(f"/accounts/{quote(args.account_id, safe='')}")
    name = str(account.get("accountName", ""))
    ctx.note(render.offboarding_plan(account, args.mode))
    if ctx.stdin.isatty():
        print(
            f"To {args.mode} account {args.account_id}, type its name ({name}): ",
            end="",
            file=ctx.err,
            flush=True,
        )
        typed = ctx.stdin.readline().strip()
        if typed == name:
            return typed
        ctx.note("Not confirmed (the name does not match): nothing was started.")
        return None
    words = ["offboard", args.account_id, "--mode", args.mode, "--confirm", name] + (
        ["--wait"] if args.wait else []
    )
    ctx.note(
        f"error: not confirmed, nothing was started; to {args.mode} it, name the account:  {ctx.command(*words)}"
    )
    return None


def cmd_accounts(ctx: Context) -> int:
    args = ctx.args
    page = fetch_pages(
        ctx, "/accounts", {"client": args.client, "project": args.project, "status": args.status}
    )
    if args.needs_root_mfa:
        page["items"] = [item for item in page["items"] if render.needs_root_mfa(item)]
    items = page["items"]
    if ctx.format == "json":
        ctx.json(page)
    elif ctx.format == "csv":
        ctx.out.write(render.csv_text(render.ACCOUNT_CSV, [render.account_csv_row(item) for item in items]))
    elif items:
        ctx.print(render.table(render.ACCOUNT_COLUMNS, [render.account_row(item) for item in items]))
    else:
        ctx.print("no accounts match")
    more_pages(ctx, page)
    return 0


def cmd_account(ctx: Context) -> int:
    account = ctx.client.get(f"/accounts/{quote(ctx.args.account_id, safe='')}")
    if ctx.format == "json":
        ctx.json(account)
    elif ctx.format == "csv":
        ctx.out.write(render.csv_text(render.ACCOUNT_CSV, [render.account_csv_row(account)]))
    else:
        ctx.print(render.account_detail(account))
    return 0


def cmd_health(ctx: Context) -> int:
    health = ctx.client.get("/health")
    if ctx.format == "json":
        ctx.json(health)
    elif ctx.format == "csv":
        ctx.out.write(render.csv_text(("status", "version"), [[health.get("status"), health.get("version")]]))
    else:
        ctx.print(f"{health.get('status')}: orgvend {health.get('version')} at {ctx.client.api_url}")
    return 0


def cmd_logs(ctx: Context) -> int:
    args = ctx.args
    endpoint = args.aws_endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint is None and urlparse(ctx.client.api_url).hostname in ("127.0.0.1", "localhost"):
        endpoint = LOCAL_AWS_ENDPOINT
    session = logs_session(profile=args.profile, region=args.region, endpoint_url=endpoint)
    lines = onboarding_logs(
        args.onboarding_id,
        stack_name=args.stack,
        since_hours=args.since,
        session=session,
        endpoint_url=endpoint,
    )
    if ctx.format == "json":
        ctx.json([line.fields for line in lines])
    elif ctx.format == "csv":
        ctx.out.write(
            render.csv_text(
                ("timestamp", "function", "level", "message"),
                [[line.timestamp.isoformat(), line.function, line.level, line.message] for line in lines],
            )
        )
    else:
        for line in lines:
            extras = {k: v for k, v in line.fields.items() if k not in LOG_NOISE}
            ctx.print(
                f"{line.timestamp:%H:%M:%S.%f}"[:-3]
                + f"  {line.function.removeprefix(args.stack + '-'):32} {line.level:7} {line.message}"
                + (f"  {json.dumps(extras, default=str)}" if extras else "")
            )
    if not lines:
        ctx.note(f"no log lines for {args.onboarding_id} in the last {args.since:g} h")
        return 1
    return 0


def cmd_switch_roles(ctx: Context) -> int:
    args = ctx.args
    export_format = ctx.format
    if args.deprecated_as:
        ctx.note("warning: --as is deprecated and goes in the next release: use --format instead")
        export_format = args.format or args.deprecated_as
    query = {"format": export_format, "client": args.client, "project": args.project}
    if args.source_profile:
        query["sourceProfile"] = args.source_profile
    content = ctx.client.get_text("/switch-roles", query)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:  # noqa: PTH123 (a path given by the user)
            file.write(content)
        ctx.note(f"wrote {args.output}")
    else:
        ctx.out.write(content)
    return 0


def cmd_costs(ctx: Context) -> int:
    args = ctx.args
    month = args.month or previous_month(datetime.now(UTC).date())
    answer = ctx.client.get("/costs", {"month": month, "client": args.client, "groupBy": args.by})
    if ctx.format == "json":
        content = json.dumps(answer, indent=2) + "\n"
    else:
        report = CostReport.model_validate(answer)
        if ctx.format == "csv":
            content = costs_csv(report)
        elif ctx.format == "html":
            content = costs_html(report)
        else:
            content = render.costs_view(report) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as file:  # noqa: PTH123 (a path given by the user)
            file.write(content)
        ctx.note(f"wrote {args.output}")
    else:
        ctx.out.write(content)
    return 0


def cmd_settings_help(ctx: Context) -> int:
    """`orgvend settings` alone: which commands it has."""
    ctx.note(
        f"usage: {ctx.command('settings', '{profiles,show,put,apply,run}')}  (see: orgvend settings --help)"
    )
    return 2


def profile_path(name: str) -> str:
    return f"/settings-profiles/{quote(name, safe='')}"


def cmd_settings_profiles(ctx: Context) -> int:
    profiles = ctx.client.get("/settings-profiles")
    items = profiles.get("items") or []
    if ctx.format == "json":
        ctx.json(profiles)
    elif ctx.format == "csv":
        ctx.out.write(render.csv_text(render.PROFILE_COLUMNS, [render.profile_row(item) for item in items]))
    else:
        ctx.print(render.table(render.PROFILE_COLUMNS, [render.profile_row(item) for item in items]))
    return 0


def cmd_settings_show(ctx: Context) -> int:
    show_profile(ctx, ctx.client.get(profile_path(ctx.args.name)))
    return 0


def show_profile(ctx: Context, profile: dict[str, Any]) -> None:
    if ctx.format == "json":
        ctx.json(profile)
    elif ctx.format == "csv":
        ctx.out.write(render.csv_text(("setting", "value"), render.profile_settings(profile)))
    else:
        ctx.print(render.profile_text(profile))


def cmd_settings_put(ctx: Context) -> int:
    name = ctx.args.name
    body = profile_file(ctx)
    if body.pop("name", name) != name:
        raise CliError(
            f"{ctx.args.file} is the profile of another name than {name!r}: fix its name or drop it"
        )
    version = body.pop("version", None) or current_version(ctx, name)
    headers = {"If-Match": str(version)} if version else {}
    try:
        written = ctx.client.request("PUT", profile_path(name), body=body, headers=headers)
    except ApiError as error:
        if error.status == 409:
            error.hint = (
                f"someone wrote {name!r} after version {version or '(none)'} that you edited: read it again "
                f"({ctx.command('settings', 'show', name, '--format', 'json')}), redo your change and put it"
            )
        raise
    ctx.note(f"settings profile {name}: version {written.get('version')}")
    show_profile(ctx, written)
    return 0


def profile_file(ctx: Context) -> dict[str, Any]:
    """The JSON object of --file (- : standard input)."""
    path = ctx.args.file
    try:
        if path == "-":
            data = json.load(ctx.stdin)
        else:
            with open(path, encoding="utf-8") as file:  # noqa: PTH123 (a path given by the user)
                data = json.load(file)
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise CliError(f"{path} is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise CliError(f"{path} is not a JSON object (a settings profile)")
    return data


def current_version(ctx: Context, name: str) -> int | None:
    """The stored version of ``name`` (the built-in default's too); None when there is none yet."""
    try:
        current = ctx.client.get(profile_path(name))
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    version = current.get("version") if isinstance(current, dict) else None
    return version if isinstance(version, int) else None


def settings_run_path(run_id: str) -> str:
    return f"/settings/runs/{quote(run_id, safe='')}"


def cmd_settings_apply(ctx: Context) -> int:
    """Start a settings run (POST), then follow it to its summary unless --no-wait."""
    args = ctx.args
    body: dict[str, Any] = {"mode": str(SettingsRunMode.CHECK if args.check else SettingsRunMode.APPLY)}
    if args.settings_profile:
        body["settingsProfile"] = args.settings_profile
    if args.account:
        path = f"/accounts/{quote(args.account, safe='')}/settings/apply"
    else:
        path = "/settings/apply"
        body.update({"client": args.client} if args.client else {"all": True})
    accepted = ctx.client.post(path, body)
    run_id = str(accepted["runId"])
    follow_up = ctx.command("settings", "run", run_id, "--watch")
    if not args.wait:
        if ctx.format == "json":
            ctx.json(accepted)
        else:
            ctx.print(f"Settings run {run_id} started.")
            ctx.print(f"Follow it:  {follow_up}")
        return 0
    ctx.note(f"Settings run {run_id} started (Ctrl-C stops watching, not the run).")
    return follow_settings_run(ctx, run_id)


def cmd_settings_run(ctx: Context) -> int:
    run_id = ctx.args.run_id
    if ctx.args.wait:
        return follow_settings_run(ctx, run_id)
    view = dict(ctx.client.get(settings_run_path(run_id)))
    show_settings_run(ctx, view)
    return settings_run_outcome(view)


def follow_settings_run(ctx: Context, run_id: str) -> int:
    """Poll the run until it ends, a progress line on stderr each time it moves; then its summary."""
    shown = None
    try:
        while True:
            view = dict(ctx.client.get(settings_run_path(run_id)))
            line = render.settings_progress(view)
            if line != shown:
                ctx.note(line)
                shown = line
            if view.get("status") in FINISHED_EXECUTION_STATUSES:
                break
            time.sleep(ctx.args.interval)
    except KeyboardInterrupt:
        ctx.note(
            f"\nstopped watching; the settings run goes on: {ctx.command('settings', 'run', run_id, '--watch')}"
        )
        return INTERRUPTED
    except CliError as error:
        report(error, ctx.err)
        ctx.note(f"stopped watching; see where it stands with: {ctx.command('settings', 'run', run_id)}")
        return error.exit_code
    show_settings_run(ctx, view)
    return settings_run_outcome(view)


def show_settings_run(ctx: Context, view: dict[str, Any]) -> None:
    if ctx.format == "json":
        ctx.json(view)
    else:
        ctx.print(render.settings_run_text(view))


def settings_run_outcome(view: dict[str, Any]) -> int:
    """1 when the run failed, or failed on an account; else 0 (a run still going too)."""
    if view.get("status") in FAILED_EXECUTION_STATUSES:
        return 1
    return 1 if render.settings_run_counts(view)[str(AccountOutcome.FAILED)] else 0


def cmd_budget_help(ctx: Context) -> int:
    """`orgvend budget` alone: which commands it has."""
    ctx.note(f"usage: {ctx.command('budget', '{set,default}')}  (see: orgvend budget --help)")
    return 2


def amount_text(value: Any) -> str:
    """An amount of the API's answer (a JSON number) as people read it: 250, 99.95, 320.40."""
    return usd(Decimal(str(value))) if isinstance(value, int | float) else "(none)"


def cmd_budget_set(ctx: Context) -> int:
    account_id = ctx.args.account_id
    account = ctx.client.request(
        "PATCH",
        f"/accounts/{quote(account_id, safe='')}",
        body={"monthlyBudgetUsd": json_number(ctx.args.usd)},
    )
    if ctx.format == "json":
        ctx.json(account)
    elif ctx.format == "csv":
        ctx.out.write(
            render.csv_text(
                ("accountId", "monthlyBudgetUsd"),
                [[account.get("accountId"), account.get("monthlyBudgetUsd")]],
            )
        )
    else:
        ctx.print(
            f"Account {account.get('accountId')} ({account.get('accountName')}): monthly budget "
            f"{amount_text(account.get('monthlyBudgetUsd'))} USD (budget orgvend-{account.get('accountId')}, "
            "alerts at 80 % actual and 100 % forecasted)"
        )
    return 0


def cmd_budget_default(ctx: Context) -> int:
    path = f"/clients/{quote(ctx.args.client, safe='')}/budget"
    if ctx.args.usd is None:
        default = ctx.client.get(path)
    else:
        default = ctx.client.request("PUT", path, body={"monthlyBudgetUsd": json_number(ctx.args.usd)})
    if ctx.format == "json":
        ctx.json(default)
    elif ctx.format == "csv":
        ctx.out.write(
            render.csv_text(
                ("client", "monthlyBudgetUsd", "source"),
                [[default.get("client"), default.get("monthlyBudgetUsd"), default.get("source")]],
            )
        )
    else:
        whose = "its own" if default.get("source") == "client" else "the stack's DefaultMonthlyBudgetUsd"
        ctx.print(
            f"Client {default.get('client')}: default monthly budget "
            f"{amount_text(default.get('monthlyBudgetUsd'))} USD ({whose}); accounts onboarded from now on "
            "without --monthly-budget-usd get it"
        )
    return 0


# -- helpers -------------------------------------------------------------------------------


def fetch_pages(ctx: Context, path: str, filters: dict[str, Any]) -> dict[str, Any]:
    """One page, or with --all every page (then nextToken is null)."""
    args = ctx.args
    limit = args.limit or (100 if args.all else None)
    token = args.next_token
    items: list[Any] = []
    while True:
        page = ctx.client.get(path, {**filters, "limit": limit, "nextToken": token})
        items.extend(page.get("items") or [])
        token = page.get("nextToken")
        if not args.all or not token:
            return {"items": items, "nextToken": token}


def more_pages(ctx: Context, page: dict[str, Any]) -> None:
    if page.get("nextToken") and ctx.format == "table":
        ctx.note(f"(more on the next page: add --all, or --next-token {page['nextToken']})")


def get_execution(ctx: Context, workflow: Workflow, execution_id: str) -> dict[str, Any]:
    return dict(ctx.client.get(workflow.path(execution_id)))


def outcome(view: dict[str, Any]) -> int:
    return 1 if view.get("status") in FAILED_EXECUTION_STATUSES else 0


def show_execution(ctx: Context, workflow: Workflow, view: dict[str, Any]) -> None:
    if ctx.format == "json":
        ctx.json(view)
    elif ctx.format == "csv":
        timeline = view.get("timeline") or []
        ctx.out.write(
            render.csv_text(render.TIMELINE_CSV, [[s.get(k) for k in render.TIMELINE_CSV] for s in timeline])
        )
    else:
        ctx.print(workflow.view(view))


def follow(ctx: Context, workflow: Workflow, execution_id: str) -> int:
    """Poll until the execution ends; print each step as it changes (or redraw on a terminal)."""
    try:
        view = watch(ctx, workflow, execution_id)
    except KeyboardInterrupt:
        ctx.note(
            f"\nstopped watching; the {workflow.noun} goes on: {ctx.command(workflow.show_command, execution_id)}"
        )
        return INTERRUPTED
    except CliError as error:
        report(error, ctx.err)
        ctx.note(
            f"stopped watching; see where it stands with: {ctx.command(workflow.show_command, execution_id)}"
        )
        return error.exit_code
    if ctx.format != "table" or not redraws(ctx):
        if ctx.format == "table":
            ctx.print()
        show_execution(ctx, workflow, view)
    if ctx.format == "table":
        ctx.print()
        ctx.print(summary(ctx, workflow, view))
    return outcome(view)


def redraws(ctx: Context) -> bool:
    return ctx.format == "table" and ctx.out.isatty()


def watch(ctx: Context, workflow: Workflow, execution_id: str) -> dict[str, Any]:
    shown: dict[str, tuple[Any, ...]] = {}
    if ctx.format == "table" and not redraws(ctx):
        ctx.print(
            f"Watching {workflow.noun} {execution_id} (Ctrl-C stops watching, not the {workflow.noun}):"
        )
    while True:
        view = get_execution(ctx, workflow, execution_id)
        if redraws(ctx):
            ctx.out.write("\x1b[H\x1b[2J")  # home, clear screen
            ctx.print(workflow.view(view))
            if view.get("status") not in FINISHED_EXECUTION_STATUSES:
                ctx.print(
                    f"\nwatching every {ctx.args.interval:g} s (Ctrl-C stops watching, not the {workflow.noun})"
                )
        elif ctx.format == "table":
            for step in view.get("timeline") or []:
                state = (step.get("status"), step.get("error"))
                if shown.get(step.get("name", "")) != state:
                    shown[step.get("name", "")] = state
                    ctx.print(render.progress_line(step).rstrip())
        if view.get("status") in FINISHED_EXECUTION_STATUSES:
            return view
        time.sleep(ctx.args.interval)


def summary(ctx: Context, workflow: Workflow, view: dict[str, Any]) -> str:
    status, execution_id = view.get("status"), view.get(workflow.id_field)
    if status == "SUCCEEDED":
        return f"{workflow.title} {execution_id} SUCCEEDED: {workflow.success(view)}"
    failed_steps = [step["name"] for step in view.get("timeline") or [] if step.get("status") == "FAILED"]
    text = f"{workflow.title} {execution_id} {status}"
    if failed_steps:
        text += f" at {', '.join(failed_steps)}"
    if view.get("error"):
        text += f": {view['error']}"
    hint = resume_hint(ctx, workflow, view)
    return f"{text}\n{hint}" if hint else text


def resume_hint(ctx: Context, workflow: Workflow, view: dict[str, Any]) -> str | None:
    """The API links a retry only to an execution that failed (and so may be redriven)."""
    if not (view.get("links") or {}).get("retry"):
        return None
    command = ctx.command(workflow.retry_command, str(view.get(workflow.id_field)), "--wait")
    return f"Once the cause is fixed, resume it:  {command}"


def report(error: CliError, err: TextIO) -> None:
    if isinstance(error, ApiError):
        print(f"error: {error.code} (HTTP {error.status}): {error.message}", file=err)
        if error.field:
            print(f"  field: {error.field}", file=err)
        for detail in error.details if len(error.details) > 1 else []:
            print(f"  - {detail.get('field')}: {detail.get('message')}", file=err)
        if error.hint:
            print(f"  hint: {error.hint}", file=err)
    else:
        print(f"error: {error.message}", file=err)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error (argparse printed it)
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None) * 2
    if args.format is not None and args.format not in args.formats:
        print(
            f"orgvend {args.command}: error: argument --format: invalid choice: {args.format!r} "
            f"(choose from {', '.join(args.formats)})",
            file=err,
        )
        return 2
    api_url = args.api_url or os.environ.get("ORGVEND_API_URL") or DEFAULT_API_URL
    try:
        client = ApiClient(
            Connection(
                api_url=api_url, profile=args.profile, region=args.region, debug=args.debug, stderr=err
            )
        )
        return int(args.handler(Context(args, client, out, err, stdin or sys.stdin)))
    except CliError as error:
        report(error, err)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return INTERRUPTED
    except BrokenPipeError:  # `orgvend accounts | head`: stop quietly, also when Python flushes at exit
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 0
