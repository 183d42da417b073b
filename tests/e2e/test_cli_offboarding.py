"""`orgvend offboard`, `offboarding`, `offboardings` and `retry-offboarding` against the embedded API:
the real offboarding workflow and handlers, driven the way an operator drives them."""

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from orgvend_cli.main import NOT_CONFIRMED, main

from .conftest import FakeBilling, Harness, hooked
from .test_cli import ONBOARDING_ID, Run, cli
from .test_offboarding import OLD_ENOUGH, offboard_executions, onboarded_account

pytestmark = pytest.mark.e2e

POLL = ("--interval", "0.2")


class TerminalInput(io.StringIO):
    """What a person types at the prompt."""

    def isatty(self) -> bool:
        return True


def cli_reading(stdin: io.StringIO, *args: str) -> Run:
    """``orgvend ARGS`` in this process, with ``stdin`` as its standard input."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, stdin=stdin)
    return Run(code, out.getvalue(), err.getvalue())


@dataclass
class Offboarded:
    """One `orgvend offboard ... --confirm NAME --wait` run and what it was about."""

    run: Run
    account_id: str
    client: str

    @property
    def offboarding_id(self) -> str:
        [offboarding_id] = set(ONBOARDING_ID.findall(self.run.out))
        return offboarding_id


def offboard_and_wait(api: str, account_id: str, mode: str, name: str) -> Run:
    return cli("--api-url", api, "offboard", account_id, "--mode", mode, "--confirm", name, "--wait", *POLL)


@pytest.fixture(scope="module")
def api(embedded: Harness) -> str:
    return embedded.outputs["ApiUrl"]


@pytest.fixture(scope="module")
def billing() -> Iterator[FakeBilling]:
    """Billing, which moto lacks, for every detach of this module (the conftest's, for the module)."""
    fake = FakeBilling()
    with hooked([("before-parameter-build.billing", fake.remember), ("before-call.billing", fake.answer)]):
        yield fake


@pytest.fixture(scope="module")
def closed(embedded: Harness, api: str) -> Offboarded:
    unique = uuid.uuid4().hex[:8]
    account_id = onboarded_account(embedded, unique)
    return Offboarded(offboard_and_wait(api, account_id, "close", f"c{unique}-web"), account_id, f"c{unique}")


@pytest.fixture(scope="module")
def failed_detach(embedded: Harness, api: str, billing: FakeBilling) -> Offboarded:
    """A detach of an account created just now: AWS lets it leave only after 4 days."""
    unique = uuid.uuid4().hex[:8]
    account_id = onboarded_account(embedded, unique)
    return Offboarded(
        offboard_and_wait(api, account_id, "detach", f"c{unique}-web"), account_id, f"c{unique}"
    )


# -- offboard --------------------------------------------------------------------------------


def test_offboard_close_confirm_wait_follows_it_and_closes_the_account(
    embedded: Harness, api: str, closed: Offboarded
) -> None:
    run, account_id = closed.run, closed.account_id
    assert run.code == 0, run
    offboarding_id = closed.offboarding_id
    assert run.out.startswith(f"Offboarding {offboarding_id} started.\nWatching offboarding {offboarding_id}")
    for step in ("BeginOffboarding", "CloseAccount", "CheckAccountClosure", "FinishOffboarding"):
        assert re.search(rf"^  {step}\s+SUCCEEDED", run.out, re.MULTILINE), step
    assert re.search(r"^Mode\s+close$", run.out, re.MULTILINE)
    assert re.search(r"^Outcome\s+CLOSED$", run.out, re.MULTILINE)
    assert run.out.rstrip().endswith(
        f"Offboarding {offboarding_id} SUCCEEDED: account {account_id} is closed (AWS deletes it after 90 days)."
    )
    # What the CLI said is what happened.
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "CLOSED" and "offboardingId" not in item
    assert embedded.offboarding_item(offboarding_id)["accountId"] == account_id
    organizations = embedded.client("organizations")
    assert organizations.describe_account(AccountId=account_id)["Account"]["Status"] == "SUSPENDED"

    account = cli("--api-url", api, "account", account_id)
    assert account.code == 0, account
    assert re.search(r"^Status\s+CLOSED$", account.out, re.MULTILINE)
    assert re.search(r"^Offboarded\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", account.out, re.MULTILINE)


def test_offboarding_shows_one_as_table_json_and_csv(api: str, closed: Offboarded) -> None:
    offboarding_id = closed.offboarding_id

    table = cli("--api-url", api, "offboarding", offboarding_id)
    assert table.code == 0, table
    assert re.search(rf"^Offboarding\s+{offboarding_id}$", table.out, re.MULTILINE)
    assert re.search(r"^Status\s+SUCCEEDED$", table.out, re.MULTILINE)
    assert re.search(rf"^Client/project\s+{closed.client}/web$", table.out, re.MULTILINE)
    assert re.search(rf"^Account\s+{closed.account_id} \({closed.client}-web\)$", table.out, re.MULTILINE)
    assert re.search(
        r"^STEP\s+TYPE\s+STATUS\s+DURATION\s+ATTEMPTS\s+RETRIES\s+ERROR$", table.out, re.MULTILINE
    )
    assert "retry-offboarding" not in table.out  # nothing to resume

    as_json = cli("--api-url", api, "--format", "json", "offboarding", offboarding_id)
    view = json.loads(as_json.out)
    assert as_json.code == 0
    assert (view["offboardingId"], view["accountId"], view["mode"], view["outcome"]) == (
        offboarding_id,
        closed.account_id,
        "close",
        "CLOSED",
    )
    assert [step["name"] for step in view["timeline"]][:6] == [
        "Configure",
        "BeginOffboarding",
        "ChooseMode",
        "CloseAccount",
        "RemoveAccess",
        "LeaveBy",
    ]

    as_csv = cli("--api-url", api, "offboarding", offboarding_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert as_csv.code == 0 and {row["name"]: row["status"] for row in rows}["CloseAccount"] == "SUCCEEDED"

    watched = cli("--api-url", api, "offboarding", offboarding_id, "--watch", *POLL)
    assert watched.code == 0, watched
    assert watched.out.rstrip().endswith(
        f"account {closed.account_id} is closed (AWS deletes it after 90 days)."
    )


def test_offboard_without_confirm_says_what_it_would_do_and_starts_nothing(
    embedded: Harness, api: str, unique: str
) -> None:
    account_id = onboarded_account(embedded, unique)
    name = f"c{unique}-web"
    before = offboard_executions(embedded)

    plans = {}
    for mode in ("detach", "close"):
        # Not a terminal: a "y" or even the name on standard input confirms nothing, only --confirm does.
        for piped in ("y\n", f"{name}\n"):
            run = cli_reading(io.StringIO(piped), "--api-url", api, "offboard", account_id, "--mode", mode)

            assert run.code == NOT_CONFIRMED == 1, run
            assert run.out == ""
            assert (
                f"This would {mode} account {account_id} ({name}) of client c{unique}, project web (now ACTIVE):"
                in run.err
            )
            assert f"error: not confirmed, nothing was started; to {mode} it, name the account:" in run.err
            assert f"orgvend --api-url {api} offboard {account_id} --mode {mode} --confirm {name}" in run.err
            plans[mode] = run.err
    assert "remove it from the organization" in plans["detach"] and "hand-over checklist" in plans["detach"]
    assert "deletes it after 90 days" in plans["close"] and "remove it from" not in plans["close"]
    # The command it prints keeps --wait, so that running it does what was asked.
    waited = cli_reading(
        io.StringIO(""), "--api-url", api, "offboard", account_id, "--mode", "close", "--wait"
    )
    assert waited.code == 1, waited
    assert f"offboard {account_id} --mode close --confirm {name} --wait" in waited.err

    # On a terminal, it asks for the account's name: anything else (a "y", a near miss) is a no.
    for typed in ("n\n", "y\n", "yes\n", f"C{unique}-WEB\n", f"{name}shop\n", "\n", ""):
        declined = cli_reading(
            TerminalInput(typed), "--api-url", api, "offboard", account_id, "--mode", "close"
        )
        assert declined.code == NOT_CONFIRMED, (typed, declined)
        assert declined.out == ""
        assert f"To close account {account_id}, type its name ({name}): " in declined.err
        assert "Not confirmed (the name does not match): nothing was started." in declined.err

    assert offboard_executions(embedded) == before
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "ACTIVE" and "offboardingId" not in item

    confirmed = cli_reading(
        TerminalInput(f"{name}\n"),
        "--api-url",
        api,
        "offboard",
        account_id,
        "--mode",
        "close",
        "--wait",
        *POLL,
    )
    assert confirmed.code == 0, confirmed
    assert f"To close account {account_id}, type its name ({name}): " in confirmed.err
    assert f"account {account_id} is closed" in confirmed.out
    assert offboard_executions(embedded) == before + 1
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "CLOSED" and "offboardingId" not in item


def test_offboard_confirm_with_a_wrong_name_prints_the_servers_refusal_and_starts_nothing(
    embedded: Harness, api: str, unique: str
) -> None:
    account_id = onboarded_account(embedded, unique)
    item_before = embedded.account_item(account_id)
    assert item_before is not None
    before = offboard_executions(embedded)

    for number, wrong in enumerate((f"C{unique}-WEB", f"c{unique}-webshop", "acme-web")):
        for mode in ("detach", "close"):
            run = cli(
                "--api-url",
                api,
                "offboard",
                account_id,
                "--mode",
                mode,
                "--confirm",
                wrong,
                "--idempotency-key",
                f"wrong-{unique}-{mode}-{number}",
                "--wait",
                *POLL,
            )

            assert run.code == 1 and run.out == "", run  # an API 4xx: refused
            assert "error: ConfirmationMismatch (HTTP 422): " in run.err
            assert "must be the account's name as orgvend registered it" in run.err
            assert "field: confirmAccountName" in run.err
            assert "This would" not in run.err  # --confirm: no plan, no prompt; the server decided

    # An empty name is refused by the server's validation, also naming the field.
    empty = cli("--api-url", api, "offboard", account_id, "--mode", "close", "--confirm", "")
    assert empty.code == 1 and empty.out == "", empty
    assert "error: ValidationError (HTTP 422): " in empty.err and "field: confirmAccountName" in empty.err

    assert offboard_executions(embedded) == before
    assert embedded.account_item(account_id) == item_before
    organizations = embedded.client("organizations")
    assert organizations.describe_account(AccountId=account_id)["Account"]["Status"] == "ACTIVE"


def test_offboard_of_an_account_outside_the_scope_is_refused(
    embedded: Harness, api: str, unique: str
) -> None:
    account_id = onboarded_account(embedded, unique)
    embedded.move_account(account_id, embedded.layout.security_ou_id)
    before = offboard_executions(embedded)

    run = cli("--api-url", api, "offboard", account_id, "--mode", "close", "--confirm", f"c{unique}-web")

    assert run.code == 1 and run.out == "", run
    assert "error: OutOfScope (HTTP 422): " in run.err
    assert f"account {account_id} is outside orgvend's managed scope" in run.err
    assert "field: accountId" in run.err
    assert offboard_executions(embedded) == before
    assert embedded.parent_of(account_id) == embedded.layout.security_ou_id


def test_offboard_of_an_unknown_account_is_not_found(api: str) -> None:
    for confirmation in ((), ("--confirm", "acme-web")):
        run = cli("--api-url", api, "offboard", "999999999999", "--mode", "close", *confirmation)
        assert run.code == 1 and run.out == "", run
        assert "error: NotFound (HTTP 404): account 999999999999 was not found" in run.err
        assert "field: accountId" in run.err


def test_offboard_of_a_closed_account_is_refused(api: str, closed: Offboarded) -> None:
    assert closed.run.code == 0, closed.run

    run = cli(
        "--api-url",
        api,
        "offboard",
        closed.account_id,
        "--mode",
        "close",
        "--confirm",
        f"{closed.client}-web",
    )

    assert run.code == 1 and run.out == "", run
    assert "error: AccountNotOffboardable (HTTP 409): " in run.err
    assert f"account {closed.account_id} is CLOSED" in run.err


def test_offboard_a_bad_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("offboard", "123456789012", "--mode", "delete", "--confirm", "acme-web").code == 2
    assert "invalid choice: 'delete'" in capsys.readouterr().err
    assert cli("offboard", "123456789012", "--confirm", "acme-web").code == 2  # --mode is required
    assert "the following arguments are required: --mode" in capsys.readouterr().err
    # --yes is gone: a confirmation names the account.
    assert cli("offboard", "123456789012", "--mode", "close", "--yes").code == 2
    assert "unrecognized arguments: --yes" in capsys.readouterr().err


# -- a failed detach -------------------------------------------------------------------------


def test_a_failed_detach_shows_the_error_and_its_cause_and_exits_1(
    embedded: Harness, api: str, failed_detach: Offboarded, billing: FakeBilling
) -> None:
    run, account_id = failed_detach.run, failed_detach.account_id
    offboarding_id = failed_detach.offboarding_id

    assert run.code == 1, run
    assert re.search(
        r"^  CheckDetachPreconditions\s+FAILED\s.*DetachPreconditionsUnmet", run.out, re.MULTILINE
    )
    assert "CheckDetachPreconditions failed: DetachPreconditionsUnmet: " in run.out
    assert "4 days after its creation" in run.out  # the cause, in full
    assert (
        f"Offboarding {offboarding_id} FAILED at CheckDetachPreconditions: DetachPreconditionsUnmet"
        in run.out
    )
    assert (
        f"Once the cause is fixed, resume it:  orgvend --api-url {api} retry-offboarding {offboarding_id} --wait"
        in run.out
    )
    # Nothing was touched: still a member, still ACTIVE, Billing never called.
    assert billing.calls_for(account_id) == []
    assert (
        embedded.client("organizations").describe_account(AccountId=account_id)["Account"]["Status"]
        == "ACTIVE"
    )

    status = cli("--api-url", api, "offboarding", offboarding_id)
    assert status.code == 1, status
    assert re.search(r"^Status\s+FAILED$", status.out, re.MULTILINE)
    assert re.search(r"^Error\s+DetachPreconditionsUnmet$", status.out, re.MULTILINE)
    assert re.search(r"^Mode\s+detach$", status.out, re.MULTILINE)
    assert "CheckDetachPreconditions failed: DetachPreconditionsUnmet: " in status.out
    assert "4 days after its creation" in status.out
    assert f"retry-offboarding {offboarding_id} --wait" in status.out

    as_json = cli("--api-url", api, "--format", "json", "offboarding", offboarding_id, "--watch")
    view = json.loads(as_json.out)
    assert as_json.code == 1
    assert view["error"] == "DetachPreconditionsUnmet" and "4 days after its creation" in view["cause"]
    assert view["links"]["retry"] == f"/offboardings/{offboarding_id}/retry"


def test_retry_offboarding_resumes_a_failed_detach_once_the_cause_is_fixed(
    embedded: Harness, api: str, unique: str, billing: FakeBilling
) -> None:
    account_id = onboarded_account(embedded, unique)
    started = cli(
        "--api-url",
        api,
        "--format",
        "json",
        "offboard",
        account_id,
        "--mode",
        "detach",
        "--confirm",
        f"c{unique}-web",
    )
    assert started.code == 0, started
    accepted = json.loads(started.out)
    assert (accepted["accountId"], accepted["mode"], accepted["status"]) == (account_id, "detach", "RUNNING")
    offboarding_id = accepted["offboardingId"]
    assert cli("--api-url", api, "offboarding", offboarding_id, "--watch", *POLL).code == 1

    embedded.backdate_account(account_id, OLD_ENOUGH)  # the cause fixed: old enough to leave
    run = cli("--api-url", api, "retry-offboarding", offboarding_id, "--wait", *POLL)

    assert run.code == 0, run
    assert run.out.startswith(f"Offboarding {offboarding_id} retried: redriven: ")
    assert re.search(r"^Retried\s+1$", run.out, re.MULTILINE)
    assert run.out.rstrip().endswith(
        f"Offboarding {offboarding_id} SUCCEEDED: account {account_id} has left the organization; "
        "the operators have the hand-over checklist for its new owner."
    )
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "DETACHED" and "offboardingId" not in item
    assert billing.sharing[account_id] == "DISABLED"


def test_retry_offboarding_of_a_succeeded_one_is_refused(api: str, closed: Offboarded) -> None:
    run = cli("--api-url", api, "retry-offboarding", closed.offboarding_id)

    assert run.code == 1 and run.out == "", run
    assert (
        f"error: NotRetryable (HTTP 409): offboarding {closed.offboarding_id} is SUCCEEDED; "
        "only a failed one can be retried"
    ) in run.err


def test_retry_offboarding_of_an_unknown_one_is_not_found(api: str) -> None:
    run = cli("--api-url", api, "retry-offboarding", f"k-{'0' * 48}")

    assert run.code == 1, run
    assert "error: NotFound (HTTP 404)" in run.err and "field: offboardingId" in run.err


# -- offboardings ----------------------------------------------------------------------------


def test_offboardings_lists_them_as_table_json_and_csv(
    api: str, closed: Offboarded, failed_detach: Offboarded
) -> None:
    table = cli("--api-url", api, "offboardings", "--all")
    assert table.code == 0, table
    assert table.out.splitlines()[0].split() == [
        "OFFBOARDING",
        "ID",
        "STATUS",
        "MODE",
        "CLIENT",
        "PROJECT",
        "ACCOUNT",
        "STARTED",
        "(UTC)",
        "TOOK",
    ]
    [line] = [line for line in table.out.splitlines() if closed.offboarding_id in line]
    assert line.split()[1:6] == ["SUCCEEDED", "close", closed.client, "web", closed.account_id]

    failed = cli("--api-url", api, "offboardings", "--status", "FAILED", "--all")
    assert failed.code == 0, failed
    [line] = [line for line in failed.out.splitlines() if failed_detach.offboarding_id in line]
    assert line.split()[1:6] == ["FAILED", "detach", failed_detach.client, "web", failed_detach.account_id]
    assert closed.offboarding_id not in failed.out and "SUCCEEDED" not in failed.out

    as_json = json.loads(cli("--api-url", api, "--format", "json", "offboardings", "--all").out)
    assert as_json["nextToken"] is None
    [item] = [item for item in as_json["items"] if item["offboardingId"] == closed.offboarding_id]
    assert (item["status"], item["mode"], item["accountId"]) == ("SUCCEEDED", "close", closed.account_id)

    as_csv = cli("--api-url", api, "offboardings", "--status", "SUCCEEDED", "--format", "csv", "--all")
    assert as_csv.code == 0, as_csv
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert list(rows[0]) == [
        "offboardingId",
        "status",
        "mode",
        "client",
        "project",
        "accountId",
        "startedAt",
        "stoppedAt",
    ]
    [row] = [row for row in rows if row["offboardingId"] == closed.offboarding_id]
    assert (row["status"], row["mode"], row["client"], row["accountId"]) == (
        "SUCCEEDED",
        "close",
        closed.client,
        closed.account_id,
    )
    assert {row["status"] for row in rows} == {"SUCCEEDED"}

    nothing = cli("--api-url", api, "offboardings", "--status", "TIMED_OUT")
    assert nothing.code == 0 and nothing.out.strip() == "no offboardings with status TIMED_OUT"


def test_offboardings_pages_follow_next_token(
    api: str, closed: Offboarded, failed_detach: Offboarded
) -> None:
    assert closed.run.code == 0 and failed_detach.run.code == 1
    one = cli("--api-url", api, "offboardings", "--limit", "1")
    assert one.code == 0 and len(one.out.splitlines()) == 2
    assert "--next-token" in one.err
