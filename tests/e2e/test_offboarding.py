"""Offboarding end to end: detach (hand the account to its client) and close, through the API,
the real offboarding workflow and handlers, on the embedded AWS."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend.models import AccountRecord, AccountStatus
from orgvend.registry import Registry

from .conftest import FakeBilling, FaultInjector, Harness, request_for
from .test_api import call, finished, onboard

pytestmark = pytest.mark.e2e

OLD_ENOUGH = timedelta(days=5)  # AWS lets a created account leave 4 days after its creation


def onboarded_account(embedded: Harness, unique: str, **overrides: Any) -> str:
    onboarding = finished(embedded, onboard(embedded, request_for(unique, **overrides)))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    return str(onboarding["accountId"])


def execution_name(idempotency_key: str) -> str:
    """The offboarding ID the API derives from an Idempotency-Key (orgvend.workflows.onboardings.execution_name;
    not imported: importing the API's modules here would set up Powertools before the embedded functions)."""
    return "k-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]


def account_name(embedded: Harness, account_id: str) -> str:
    """The account's name in the registry: what an offboarding must confirm (confirmAccountName)."""
    item = embedded.account_item(account_id)
    assert item is not None, account_id
    return str(item["accountName"])


def offboard(embedded: Harness, account_id: str, mode: str, key: str | None = None) -> str:
    headers = {"Idempotency-Key": key} if key else None
    request = {"mode": mode, "confirmAccountName": account_name(embedded, account_id)}
    status, body = call(embedded, "POST", f"/accounts/{account_id}/offboard", request, headers)
    assert status == 202, body
    assert body["accountId"] == account_id and body["mode"] == mode and body["status"] == "RUNNING"
    return str(body["offboardingId"])


def offboarding_finished(embedded: Harness, offboarding_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status, body = call(embedded, "GET", f"/offboardings/{offboarding_id}")
        assert status == 200, body
        return body if body["status"] != "RUNNING" else None

    return embedded.eventually(done, timeout=timeout, what=f"offboarding {offboarding_id} finished")


def let_go(embedded: Harness, account_id: str) -> dict[str, Any]:
    """The account's entry once the failure reporter has let go of it."""
    return embedded.eventually(
        lambda: (item := embedded.account_item(account_id)) and "offboardingId" not in item and item,
        what=f"account {account_id} let go",
    )


def is_member(embedded: Harness, account_id: str) -> bool:
    try:
        embedded.client("organizations").describe_account(AccountId=account_id)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccountNotFoundException"
        return False
    return True


# What taking and letting go of an account changes in its entry, however the offboarding ended: the
# entry's bookkeeping (when and how often it was written) and the hold (let_go waits until it is gone).
BOOKKEEPING = ("updatedAt", "version", "offboardingId")


def comparable(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in BOOKKEEPING}


def offboard_executions(embedded: Harness) -> int:
    arn = embedded.outputs["OffboardAccountStateMachineArn"]
    paginator = embedded.client("stepfunctions").get_paginator("list_executions")
    return sum(len(page["executions"]) for page in paginator.paginate(stateMachineArn=arn))


def start_offboard_execution(embedded: Harness, request: dict[str, Any]) -> str:
    """The offboarding workflow started directly (StartExecution), past the API and its checks."""
    return str(
        embedded.client("stepfunctions").start_execution(
            stateMachineArn=embedded.outputs["OffboardAccountStateMachineArn"], input=json.dumps(request)
        )["executionArn"]
    )


def reported(embedded: Harness, offboarding_id: str) -> dict[str, Any]:
    """A failed offboarding, once the failure reporter has recorded it (with its account and mode)."""
    return embedded.eventually(
        lambda: (
            (answer := call(embedded, "GET", f"/offboardings/{offboarding_id}")[1]).get("accountId")
            and answer["status"] == "FAILED"
            and answer
        ),
        what=f"the failed offboarding {offboarding_id} recorded",
    )


def test_detach_hands_the_account_over(embedded: Harness, unique: str, billing: FakeBilling) -> None:
    account_id = onboarded_account(embedded, unique)
    embedded.backdate_account(account_id, OLD_ENOUGH)

    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "detach"))

    assert offboarding["status"] == "SUCCEEDED", offboarding
    assert (offboarding["accountId"], offboarding["mode"], offboarding["outcome"]) == (
        account_id,
        "detach",
        "DETACHED",
    )
    assert [step["name"] for step in offboarding["timeline"]] == [
        "Configure",
        "BeginOffboarding",
        "ChooseMode",
        "CheckDetachPreconditions",
        "StillMember",
        "StopDiscountSharing",
        "RemoveAccess",
        "LeaveBy",
        "RemoveAccount",
        "DeleteBudget",
        "FinishOffboarding",
        "NotifyOffboarded",
    ]
    assert not is_member(embedded, account_id)
    assert billing.sharing[account_id] == "DISABLED"  # discount sharing stopped before it left
    # The registry keeps the record, DETACHED, and nobody holds it any more.
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "DETACHED" and item["offboardedAt"]
    assert "offboardingId" not in item and item["client"] == f"c{unique}"
    status, page = call(embedded, "GET", f"/accounts?status=DETACHED&client=c{unique}")
    assert status == 200 and [a["accountId"] for a in page["items"]] == [account_id]
    message = embedded.operator_message_about(
        f"Hand-over checklist for the new owner of account {account_id}"
    )
    for duty in (
        "Forgot password?",
        "MFA",
        "Payment method",
        "Support plan",
        "OrganizationAccountAccessRole",
    ):
        assert duty in message["Message"], duty
    status, listing = call(embedded, "GET", "/offboardings")
    assert status == 200
    assert any(item["offboardingId"] == offboarding["offboardingId"] for item in listing["items"])


def test_detach_names_every_unmet_precondition_and_changes_nothing(
    embedded: Harness, unique: str, billing: FakeBilling
) -> None:
    account_id = onboarded_account(embedded, unique)  # created just now: less than 4 days old
    embedded.client("organizations").register_delegated_administrator(
        AccountId=account_id, ServicePrincipal="guardduty.amazonaws.com"
    )
    before = embedded.account_item(account_id)
    assert before is not None

    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "detach"))

    assert offboarding["status"] == "FAILED"
    assert offboarding["error"] == "DetachPreconditionsUnmet"
    assert "4 days after its creation" in offboarding["cause"]
    assert "delegated administrator for guardduty.amazonaws.com" in offboarding["cause"]
    assert "deregister-delegated-administrator" in offboarding["cause"]
    assert is_member(embedded, account_id)
    assert billing.calls_for(account_id) == []  # nothing was touched
    assert comparable(let_go(embedded, account_id)) == comparable(before)
    embedded.operator_message_about(f"The offboarding {offboarding['offboardingId']} (detach)")


def test_a_removal_aws_refuses_is_actionable_and_a_retry_completes_it(
    embedded: Harness, unique: str, billing: FakeBilling, faults: FaultInjector
) -> None:
    account_id = onboarded_account(embedded, unique)
    embedded.backdate_account(account_id, OLD_ENOUGH)
    before = embedded.account_item(account_id)
    assert before is not None
    refused = faults.fail(
        "before-call.organizations.RemoveAccountFromOrganization",
        "ConstraintViolationException",
        times=1,
        extra={"Reason": "MEMBER_ACCOUNT_PAYMENT_INSTRUMENT_REQUIRED"},
    )

    offboarding_id = offboard(embedded, account_id, "detach")
    failed = offboarding_finished(embedded, offboarding_id)

    assert len(refused) == 1
    assert (failed["status"], failed["error"]) == ("FAILED", "AccountRemovalRefused")
    assert "MEMBER_ACCOUNT_PAYMENT_INSTRUMENT_REQUIRED" in failed["cause"]
    assert "payment method" in failed["cause"] and "retry the offboarding" in failed["cause"]
    assert failed["links"]["retry"] == f"/offboardings/{offboarding_id}/retry"
    assert is_member(embedded, account_id)
    assert comparable(let_go(embedded, account_id)) == comparable(before)  # registered as it was

    status, body = call(embedded, "POST", f"/offboardings/{offboarding_id}/retry")
    assert status == 202, body
    retried = offboarding_finished(embedded, offboarding_id)

    assert retried["status"] == "SUCCEEDED" and retried["redriveCount"] == 1
    assert not is_member(embedded, account_id)
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "DETACHED" and "offboardingId" not in item


def test_close_goes_closing_then_closed(embedded: Harness, unique: str) -> None:
    account_id = onboarded_account(embedded, unique)

    offboarding_id = offboard(embedded, account_id, "close")
    embedded.eventually(
        lambda: (embedded.account_item(account_id) or {}).get("status") == "CLOSING",
        what="the registry says CLOSING while AWS closes the account",
    )
    offboarding = offboarding_finished(embedded, offboarding_id)

    assert offboarding["status"] == "SUCCEEDED", offboarding
    assert offboarding["outcome"] == "CLOSED"
    names = [step["name"] for step in offboarding["timeline"]]
    assert names[:6] == [
        "Configure",
        "BeginOffboarding",
        "ChooseMode",
        "CloseAccount",
        "RemoveAccess",
        "LeaveBy",
    ]
    assert "WaitForClosure" in names and "CheckAccountClosure" in names
    assert names[-3:] == ["DeleteBudget", "FinishOffboarding", "NotifyOffboarded"]
    account = embedded.client("organizations").describe_account(AccountId=account_id)["Account"]
    assert account["Status"] == "SUSPENDED"
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "CLOSED" and "offboardingId" not in item
    embedded.operator_message_about(f"Account {account_id} is closed (SUSPENDED)")


def test_close_reports_the_closure_quota_plainly(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    account_id = onboarded_account(embedded, unique)
    before = embedded.account_item(account_id)
    assert before is not None
    faults.fail(
        "before-call.organizations.CloseAccount",
        "ConstraintViolationException",
        times=1,
        extra={"Reason": "CLOSE_ACCOUNT_QUOTA_EXCEEDED"},
    )

    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "close"))

    assert (offboarding["status"], offboarding["error"]) == ("FAILED", "AccountClosureRefused")
    assert "250 or 20%" in offboarding["cause"] and "rolling 30 days" in offboarding["cause"]
    assert comparable(let_go(embedded, account_id)) == comparable(before)


def test_closures_aws_is_busy_with_are_retried(embedded: Harness, unique: str, faults: FaultInjector) -> None:
    account_id = onboarded_account(embedded, unique)
    busy = faults.fail(
        "before-call.organizations.CloseAccount",
        "ConstraintViolationException",
        times=2,
        extra={"Reason": "CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED"},
    )

    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "close"))

    assert offboarding["status"] == "SUCCEEDED" and len(busy) == 2
    [step] = [step for step in offboarding["timeline"] if step["name"] == "CloseAccount"]
    assert step["retries"] == 2


def test_one_offboarding_at_a_time_per_account(embedded: Harness, unique: str) -> None:
    account_id = onboarded_account(embedded, unique)
    first = offboard(embedded, account_id, "close")
    embedded.eventually(
        lambda: (embedded.account_item(account_id) or {}).get("offboardingId") == first,
        what="the first offboarding holds the account",
    )

    name = f"c{unique}-web"
    request = {"mode": "detach", "confirmAccountName": name}
    status, body = call(embedded, "POST", f"/accounts/{account_id}/offboard", request)

    assert status == 409, body
    assert body["error"]["code"] == "OffboardingInProgress" and first in body["error"]["message"]
    # The API's order: who holds the account is answered before the confirmation is checked.
    status, body = call(
        embedded, "POST", f"/accounts/{account_id}/offboard", {**request, "confirmAccountName": "wrong"}
    )
    assert status == 409 and body["error"]["code"] == "OffboardingInProgress", body
    assert offboarding_finished(embedded, first)["status"] == "SUCCEEDED"
    # Afterwards the account is CLOSED: nothing more to offboard, whatever the name.
    for confirmation in (name, "wrong"):
        request = {"mode": "close", "confirmAccountName": confirmation}
        status, body = call(embedded, "POST", f"/accounts/{account_id}/offboard", request)
        assert status == 409 and body["error"]["code"] == "AccountNotOffboardable", body


def test_two_offboardings_started_together_cannot_both_run(embedded: Harness, unique: str) -> None:
    """Past the API (two executions started directly): the workflow's own guard decides."""
    account_id = onboarded_account(embedded, unique)
    sfn = embedded.client("stepfunctions")
    arns = [
        sfn.start_execution(
            stateMachineArn=embedded.outputs["OffboardAccountStateMachineArn"],
            input=json.dumps(
                {"accountId": account_id, "mode": "close", "confirmAccountName": f"c{unique}-web"}
            ),
        )["executionArn"]
        for _ in range(2)
    ]
    refused, done = sorted(map(embedded.wait, arns), key=lambda execution: execution["status"])

    assert done["status"] == "SUCCEEDED"
    assert refused["status"] == "FAILED"
    assert refused["error"] in (
        "OffboardingInProgress",
        "InvalidOffboardingRequest",
    )  # running, or CLOSED since
    # The refused one still lists with its account and mode (from its input) once reported.
    body = embedded.eventually(
        lambda: (
            (answer := call(embedded, "GET", f"/offboardings/{refused['name']}")[1]).get("accountId")
            and answer
        ),
        what="the refused offboarding recorded",
    )
    assert (body["accountId"], body["mode"], body["status"]) == (account_id, "close", "FAILED")
    assert (
        embedded.client("organizations").describe_account(AccountId=account_id)["Account"]["Status"]
        == "SUSPENDED"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "explode", "confirmAccountName": "acme-web"}, "mode"),
        ({"confirmAccountName": "acme-web"}, "mode"),
        ({}, "mode"),
        ({"mode": "detach"}, "confirmAccountName"),
        ({"mode": "detach", "confirmAccountName": ""}, "confirmAccountName"),
        ({"mode": "detach", "confirmAccountName": "x" * 51}, "confirmAccountName"),
        ({"mode": "detach", "confirmAccountName": 42}, "confirmAccountName"),
        ({"mode": "detach", "confirmAccountName": "acme-web", "force": True}, "force"),
        ("not json", "body"),
    ],
)
def test_bad_offboarding_requests_name_the_field_and_start_nothing(
    embedded: Harness, unique: str, body: Any, field: str
) -> None:
    arn = embedded.outputs["OffboardAccountStateMachineArn"]
    before = len(embedded.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])

    status, answer = call(embedded, "POST", "/accounts/123456789012/offboard", body)

    assert 400 <= status < 500, answer
    assert answer["error"]["field"] == field, answer
    assert len(embedded.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]) == before


def test_offboarding_an_unknown_account_is_not_found(embedded: Harness) -> None:
    request = {"mode": "close", "confirmAccountName": "acme-web"}
    status, body = call(embedded, "POST", "/accounts/999999999999/offboard", request)
    assert status == 404 and body["error"]["field"] == "accountId", body
    status, body = call(embedded, "POST", "/accounts/12345/offboard", request)
    assert status == 422 and body["error"]["field"] == "accountId", body


def test_same_idempotency_key_is_the_same_offboarding(embedded: Harness, unique: str) -> None:
    account_id = onboarded_account(embedded, unique)
    first = offboard(embedded, account_id, "close", key=f"off-{unique}")
    status, body = call(
        embedded,
        "POST",
        f"/accounts/{account_id}/offboard",
        {"mode": "close", "confirmAccountName": f"c{unique}-web"},
        {"Idempotency-Key": f"off-{unique}"},
    )
    assert status == 202 and body["offboardingId"] == first, body
    assert offboarding_finished(embedded, first)["status"] == "SUCCEEDED"


def test_a_removal_step_that_crashes_after_aws_answered_is_retried_harmlessly(
    embedded: Harness, unique: str, billing: FakeBilling, faults: FaultInjector
) -> None:
    account_id = onboarded_account(embedded, unique)
    embedded.backdate_account(account_id, OLD_ENOUGH)
    # The account has left when the function crashes; its retry meets AccountNotFoundException.
    crashed = faults.crash_once("after-call.organizations.RemoveAccountFromOrganization")

    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "detach"))

    assert crashed and offboarding["status"] == "SUCCEEDED", offboarding
    [step] = [step for step in offboarding["timeline"] if step["name"] == "RemoveAccount"]
    assert step["retries"] == 1
    assert not is_member(embedded, account_id)
    assert (embedded.account_item(account_id) or {}).get("status") == "DETACHED"


# -- the confirmation and the managed scope --------------------------------------------------


def test_a_wrong_or_missing_confirmation_is_refused_and_starts_nothing(
    embedded: Harness, unique: str
) -> None:
    account_id = onboarded_account(embedded, unique)
    name = f"c{unique}-web"
    before = embedded.account_item(account_id)
    assert before is not None and before["accountName"] == name and before["status"] == "ACTIVE"
    executions = offboard_executions(embedded)
    path = f"/accounts/{account_id}/offboard"

    # Near misses too: the server compares the name exactly.
    for number, wrong in enumerate((f"C{unique}-WEB", f"{name} ", f"{name}shop", "acme-web")):
        for mode in ("detach", "close"):
            key = f"wrong-{unique}-{mode}-{number}"
            request = {"mode": mode, "confirmAccountName": wrong}
            status, body = call(embedded, "POST", path, request, {"Idempotency-Key": key})

            assert status == 422, body
            assert body["error"]["code"] == "ConfirmationMismatch", body
            assert body["error"]["field"] == "confirmAccountName", body
            assert "must be the account's name as orgvend registered it" in body["error"]["message"]
            assert embedded.offboarding_item(execution_name(key)) is None

    for request in ({"mode": "close"}, {"mode": "close", "confirmAccountName": ""}):
        status, body = call(embedded, "POST", path, request)
        assert status == 422, body
        assert (body["error"]["code"], body["error"]["field"]) == ("ValidationError", "confirmAccountName")

    # Nothing started, nothing changed: no execution, the registry entry as it was, still a member.
    assert offboard_executions(embedded) == executions
    assert embedded.account_item(account_id) == before
    account = embedded.client("organizations").describe_account(AccountId=account_id)["Account"]
    assert account["Status"] == "ACTIVE"
    # The refusals left it offboardable: with its name, the same request goes through.
    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "close"))
    assert offboarding["status"] == "SUCCEEDED", offboarding


def assert_out_of_scope(body: dict[str, Any], account_id: str, parent: str, clients_ou_id: str) -> None:
    assert body["error"]["code"] == "OutOfScope", body
    assert body["error"]["field"] == "accountId", body
    message = body["error"]["message"]
    assert f"account {account_id} is outside orgvend's managed scope" in message, message
    assert f"it is in {parent}, which is not under orgvend's OU {clients_ou_id}" in message, message


@pytest.mark.parametrize("destination", ["security_ou_id", "root_id"])
def test_an_account_moved_out_of_the_clients_ou_is_out_of_scope_and_nothing_starts(
    embedded: Harness, unique: str, destination: str
) -> None:
    layout = embedded.layout
    account_id = onboarded_account(embedded, unique)
    assert embedded.parent_of(account_id) != layout.clients_ou_id  # its client's OU, under the Clients OU
    outside = getattr(layout, destination)
    embedded.move_account(account_id, outside)
    # No MoveAccount event reaches orgvend here: the registry still says ACTIVE, so only asking
    # Organizations where the account is keeps it from being offboarded.
    before = embedded.account_item(account_id)
    assert before is not None and before["status"] == "ACTIVE" and "offboardingId" not in before
    executions = offboard_executions(embedded)

    for mode in ("detach", "close"):
        key = f"outside-{unique}-{mode}"
        request = {"mode": mode, "confirmAccountName": f"c{unique}-web"}
        status, body = call(
            embedded, "POST", f"/accounts/{account_id}/offboard", request, {"Idempotency-Key": key}
        )

        assert status == 422, body
        assert_out_of_scope(body, account_id, outside, layout.clients_ou_id)
        assert embedded.offboarding_item(execution_name(key)) is None

    assert offboard_executions(embedded) == executions
    assert embedded.account_item(account_id) == before
    assert embedded.parent_of(account_id) == outside
    account = embedded.client("organizations").describe_account(AccountId=account_id)["Account"]
    assert account["Status"] == "ACTIVE"

    # Past the API, the workflow's own first step refuses it the same way.
    arn = start_offboard_execution(
        embedded, {"accountId": account_id, "mode": "close", "confirmAccountName": f"c{unique}-web"}
    )
    execution = embedded.wait(arn)
    assert (execution["status"], execution["error"]) == ("FAILED", "OutOfScope"), execution
    assert f"account {account_id} is outside orgvend's managed scope" in execution["cause"]
    failed = reported(embedded, execution["name"])
    assert [step["name"] for step in failed["timeline"]] == ["Configure", "BeginOffboarding"]
    assert embedded.account_item(account_id) == before
    assert embedded.parent_of(account_id) == outside
    assert (
        embedded.client("organizations").describe_account(AccountId=account_id)["Account"]["Status"]
        == "ACTIVE"
    )


def test_the_log_archive_account_is_never_offboarded(embedded: Harness, unique: str) -> None:
    layout = embedded.layout
    log_archive = layout.log_archive_account_id
    executions = offboard_executions(embedded)
    path = f"/accounts/{log_archive}/offboard"
    request = {"mode": "close", "confirmAccountName": "log-archive"}

    # orgvend never registered it (it cannot adopt it): outside the scope, the API's first answer.
    status, body = call(embedded, "POST", path, request)
    assert status == 422 and body["error"]["code"] == "OutOfScope", body
    assert body["error"]["field"] == "accountId" and log_archive in body["error"]["message"]

    # A registry entry that claims it (stale, or written by hand) does not open it to offboarding.
    registry = Registry(embedded.client("dynamodb"), embedded.outputs["RegistryTableName"])
    stamp = datetime.now(UTC)
    registry.save_account(
        AccountRecord(
            account_id=log_archive,
            account_name="log-archive",
            email=f"aws+log-archive-{unique}@example.com",
            client=f"c{unique}",
            project="logs",
            role_name="OrganizationAccountAccessRole",
            status=AccountStatus.ACTIVE,
            created_at=stamp,
            updated_at=stamp,
        )
    )
    try:
        before = embedded.account_item(log_archive)
        assert before is not None
        for mode in ("detach", "close"):
            status, body = call(embedded, "POST", path, {**request, "mode": mode})
            assert status == 422, body
            assert_out_of_scope(body, log_archive, layout.security_ou_id, layout.clients_ou_id)
        assert offboard_executions(embedded) == executions

        execution = embedded.wait(start_offboard_execution(embedded, {"accountId": log_archive, **request}))
        assert (execution["status"], execution["error"]) == ("FAILED", "OutOfScope"), execution
        reported(embedded, execution["name"])
        assert embedded.account_item(log_archive) == before
    finally:
        embedded.client("dynamodb").delete_item(
            TableName=embedded.outputs["RegistryTableName"],
            Key={"pk": {"S": f"ACCOUNT#{log_archive}"}, "sk": {"S": "ACCOUNT"}},
        )
    assert embedded.parent_of(log_archive) == layout.security_ou_id
    organizations = embedded.client("organizations")
    assert organizations.describe_account(AccountId=log_archive)["Account"]["Status"] == "ACTIVE"


def test_the_workflow_started_directly_refuses_a_wrong_confirmation(embedded: Harness, unique: str) -> None:
    """Past the API (StartExecution): BeginOffboarding checks the confirmation itself."""
    account_id = onboarded_account(embedded, unique)
    before = embedded.account_item(account_id)
    assert before is not None

    arn = start_offboard_execution(
        embedded, {"accountId": account_id, "mode": "close", "confirmAccountName": f"C{unique}-WEB"}
    )
    execution = embedded.wait(arn)

    assert (execution["status"], execution["error"]) == ("FAILED", "InvalidOffboardingRequest"), execution
    assert execution["cause"].count("confirmAccountName: must be the account's name") == 1, execution
    failed = reported(embedded, execution["name"])
    assert (failed["accountId"], failed["mode"], failed["error"]) == (
        account_id,
        "close",
        "InvalidOffboardingRequest",
    )
    [begin] = [step for step in failed["timeline"] if step["name"] == "BeginOffboarding"]
    assert begin["status"] == "FAILED" and begin["retries"] == 0  # terminal: never retried
    assert [step["name"] for step in failed["timeline"]] == ["Configure", "BeginOffboarding"]
    # The account was never taken: its entry is as it was, it is still an active member.
    assert embedded.account_item(account_id) == before
    organizations = embedded.client("organizations")
    assert organizations.describe_account(AccountId=account_id)["Account"]["Status"] == "ACTIVE"

    # Without a confirmation at all, the workflow fails at the same step and changes nothing either.
    execution = embedded.wait(start_offboard_execution(embedded, {"accountId": account_id, "mode": "close"}))
    assert execution["status"] == "FAILED", execution
    assert "confirmAccountName" in execution["cause"], execution
    failed = reported(embedded, execution["name"])
    assert [step["name"] for step in failed["timeline"]] == ["Configure", "BeginOffboarding"]
    assert embedded.account_item(account_id) == before
