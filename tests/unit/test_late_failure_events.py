"""Late failure reports: a report of an attempt that has been redriven since touches nothing.

Step Functions tells of a failed execution on EventBridge, which may deliver the event late, twice,
or once more after a failed invocation. Meanwhile an operator may have redriven the execution: the
same execution (same ARN and name) runs again as attempt N + 1 (``redriveCount``), and holds again
what a failure lets go of (the onboarding's creation slot, the offboarding's account). A report acts
only while DescribeExecution says the execution is still stopped at the attempt it reports.

These tests replay the sequence: attempt 0 fails, its report is processed, the execution is redriven,
and the report of attempt 0 arrives again.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from orgvend import aws
from orgvend.execution_status import STOPPED_STATUSES, ExecutionStatusChange
from orgvend.models import AccountRecord, AccountStatus, Offboarding
from orgvend.notifications import Announcer
from orgvend.reactions.report_offboarding_failure import report_offboarding_failure
from orgvend.reactions.report_onboarding_failure import report_onboarding_failure
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore
from orgvend.settings import Settings
from orgvend.steps.onboarding.check_account_creation import pending_record

from .support import Inbox

ACCOUNT_ID = "210987654321"
LIMIT = 5
LEASE = timedelta(hours=1)


# --------------------------------------------------------------------------- Step Functions


@cache
def _describe_execution_output() -> Any:
    """DescribeExecution's output shape in botocore's model (what a Stubber checks its answers against)."""
    model = botocore.session.get_session().get_service_model("stepfunctions")
    return model.operation_model("DescribeExecution").output_shape


@dataclass
class Execution:
    execution_arn: str
    state_machine_arn: str
    input: str
    status: str = "RUNNING"
    redrive_count: int = 0
    start_date: datetime = field(default_factory=lambda: datetime.now(UTC))
    stop_date: datetime | None = None
    redrive_date: datetime | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def name(self) -> str:
        return self.execution_arn.rsplit(":", 1)[1]


class StepFunctionsStandIn:
    """Step Functions as the failure reports see it: executions that stop and are redriven, as AWS runs
    them, and DescribeExecution of them (its answers checked against botocore's model).

    moto's in-process Step Functions cannot redrive (RedriveExecution is missing), so a test drives
    the executions here: ``start``, ``stop`` (which returns the event Step Functions sends), ``redrive``.
    """

    def __init__(self) -> None:
        self._executions: dict[str, Execution] = {}
        self.described: list[str] = []  # the executions asked about, in order

    def start(self, execution_arn: str, state_machine_arn: str, input_: str) -> None:
        assert execution_arn not in self._executions, "an execution name is used once"
        self._executions[execution_arn] = Execution(execution_arn, state_machine_arn, input_)

    def stop(
        self,
        execution_arn: str,
        status: str = "FAILED",
        *,
        error: str | None = None,
        cause: str | None = None,
    ) -> ExecutionStatusChange:
        """The running execution ends ``status``; the "Execution Status Change" event that tells of it."""
        execution = self._executions[execution_arn]
        change = ExecutionStatusChange(
            executionArn=execution_arn,
            stateMachineArn=execution.state_machine_arn,
            name=execution.name,
            status=status,
            input=execution.input,
            error=error,
            cause=cause,
            redriveCount=execution.redrive_count,
        )
        self.stopped(change)
        return change

    def stopped(self, change: ExecutionStatusChange) -> None:
        """Step Functions sent ``change``: its execution stopped as the event says (and again for a
        redelivery). An execution first seen here is at its first attempt."""
        execution = self._executions.setdefault(
            change.executionArn,
            Execution(change.executionArn, change.stateMachineArn, change.input or "{}"),
        )
        assert change.status in STOPPED_STATUSES, change.status
        assert change.redriveCount == execution.redrive_count, (
            f"attempt {change.redriveCount} of an execution at attempt {execution.redrive_count}"
        )
        if execution.status == "RUNNING":
            execution.status, execution.stop_date = change.status, datetime.now(UTC)
            execution.error, execution.cause = change.error, change.cause
        else:
            assert execution.status == change.status, "an attempt stops once"

    def redrive(self, execution_arn: str) -> None:
        """RedriveExecution: the stopped execution runs again from the state that failed, as the next attempt."""
        execution = self._executions[execution_arn]
        assert execution.status in STOPPED_STATUSES, f"a {execution.status} execution cannot be redriven"
        execution.status, execution.redrive_count = "RUNNING", execution.redrive_count + 1
        execution.redrive_date, execution.stop_date = datetime.now(UTC), None
        execution.error = execution.cause = None

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        self.described.append(executionArn)
        execution = self._executions.get(executionArn)
        if execution is None:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ExecutionDoesNotExist",
                        "Message": f"Execution Does Not Exist: '{executionArn}'",
                    }
                },
                "DescribeExecution",
            )
        answer: dict[str, Any] = {
            "executionArn": execution.execution_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": execution.status,
            "startDate": execution.start_date,
            "input": execution.input,
            "redriveCount": execution.redrive_count,
            # A redrive is possible once the execution stopped (and then for 14 days).
            "redriveStatus": "REDRIVABLE" if execution.status in STOPPED_STATUSES else "NOT_REDRIVABLE",
        }
        optional = {
            "stopDate": execution.stop_date,
            "redriveDate": execution.redrive_date,
            "error": execution.error,
            "cause": execution.cause,
        }
        answer.update({key: value for key, value in optional.items() if value is not None})
        validate_parameters(answer, _describe_execution_output())
        return answer


# --------------------------------------------------------------------------- the world of one test


@pytest.fixture
def stepfunctions() -> StepFunctionsStandIn:
    return StepFunctionsStandIn()


@pytest.fixture
def snapshot(table_items: Callable[[], list[dict[str, Any]]]) -> Callable[[], list[dict[str, Any]]]:
    """Every registry item (the creation slots' too), in key order."""

    def take() -> list[dict[str, Any]]:
        return sorted(table_items(), key=lambda item: (item["pk"]["S"], item["sk"]["S"]))

    return take


@dataclass
class Outbox:
    operators: Inbox
    events: Inbox

    def messages(self) -> list[dict[str, Any]]:
        """What the operators were told since the last look (and nothing went to the event bus but that)."""
        told, announced = self.operators.receive(), self.events.receive()
        assert len(told) == len(announced), (told, announced)
        return told


@pytest.fixture
def outbox(operator_inbox: Inbox, event_inbox: Inbox) -> Outbox:
    return Outbox(operator_inbox, event_inbox)


def assert_ignored(
    result: object, snapshot: Callable[[], list[dict[str, Any]]], before: list[dict[str, Any]], outbox: Outbox
) -> None:
    """A report that did nothing: no failure, no registry write (no lock, slot or status), no message."""
    assert result is None
    assert snapshot() == before
    assert outbox.messages() == []


# --------------------------------------------------------------------------- onboarding


@dataclass
class Onboard:
    """ReportOnboardingFailure, wired to the registry, the creation slots and Step Functions."""

    registry: Registry
    slots: Semaphore
    stepfunctions: StepFunctionsStandIn
    settings: Settings
    state_machine_arn: str

    def start(self, onboarding: Any) -> None:
        request = {"client": onboarding.client, "project": onboarding.project, "email": onboarding.email}
        self.stepfunctions.start(onboarding.execution_arn, self.state_machine_arn, json.dumps(request))

    def report(self, change: ExecutionStatusChange) -> Any:
        return report_onboarding_failure(
            change,
            registry=self.registry,
            slots=self.slots,
            stepfunctions=self.stepfunctions,
            announcer=Announcer(aws.client("sns"), aws.client("events"), self.settings),
        )


@pytest.fixture
def onboard(registry, slots, stepfunctions, settings_for, template) -> Onboard:
    settings = settings_for("ReportOnboardingFailureFunction")
    return Onboard(registry, slots, stepfunctions, settings, template.arn("OnboardAccountStateMachine"))


@pytest.fixture
def onboarding_failed_once(onboard, opened_onboarding, slots, outbox):
    """An onboarding whose attempt 0 held a creation slot and failed (throttled past its retries); its
    report was processed. ``create_requested``: it failed polling CheckAccountCreation (CreateAccount was
    requested), else in CreateAccount before AWS took the request."""

    def fail(*, create_requested: bool = False) -> tuple[Any, ExecutionStatusChange]:
        onboarding = opened_onboarding()
        onboard.start(onboarding)
        assert slots.acquire("onb-other", LIMIT, LEASE)
        assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)  # attempt 0's CreateAccount
        if create_requested:
            onboard.registry.remember_create_request(onboarding.onboarding_id, "car-0123456789ab")
        attempt_0 = onboard.stepfunctions.stop(
            onboarding.execution_arn, error="OrganizationsBusy", cause="too many requests (attempt 0)"
        )

        assert onboard.report(attempt_0) is not None
        assert list(slots.holders()) == ["onb-other"]
        stored = onboard.registry.get_onboarding(onboarding.onboarding_id)
        assert (stored["status"], stored["failedAttempt"]) == ("FAILED", 0)
        assert len(outbox.messages()) == 1
        return onboarding, attempt_0

    return fail


def test_a_late_onboarding_failure_of_attempt_0_leaves_the_redriven_attempt_alone(
    onboard, onboarding_failed_once, slots, snapshot, outbox
):
    onboarding, attempt_0 = onboarding_failed_once()
    onboard.stepfunctions.redrive(onboarding.execution_arn)  # the operator's retry: attempt 1, RUNNING
    assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)  # attempt 1's CreateAccount
    before = snapshot()

    late = onboard.report(attempt_0)  # EventBridge delivers attempt 0's failure once more

    assert_ignored(late, snapshot, before, outbox)
    assert set(slots.holders()) == {"onb-other", onboarding.onboarding_id}
    assert onboard.stepfunctions.described[-1] == onboarding.execution_arn


def test_a_late_onboarding_failure_leaves_the_account_the_redriven_attempt_is_creating(
    onboard, onboarding_failed_once, registry, slots, snapshot, outbox
):
    """Attempt 1 got its account (CheckAccountCreation: CREATING, slot released): a late report of attempt
    0 would have found an entry of this onboarding still CREATING, and failed it."""
    onboarding, attempt_0 = onboarding_failed_once(create_requested=True)
    onboard.stepfunctions.redrive(onboarding.execution_arn)  # resumes at CheckAccountCreation: SUCCEEDED
    registry.save_account(pending_record(onboarding, ACCOUNT_ID, AccountStatus.CREATING))
    before = snapshot()

    late = onboard.report(attempt_0)

    assert_ignored(late, snapshot, before, outbox)
    account = registry.get_account(ACCOUNT_ID)
    assert (account.status, account.failure) == (AccountStatus.CREATING, None)


def test_when_the_redriven_onboarding_fails_its_own_report_acts(
    onboard, onboarding_failed_once, registry, slots, snapshot, outbox
):
    onboarding, attempt_0 = onboarding_failed_once()
    onboard.stepfunctions.redrive(onboarding.execution_arn)
    assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)
    attempt_1 = onboard.stepfunctions.stop(
        onboarding.execution_arn, error="OrganizationsBusy", cause="too many requests (attempt 1)"
    )
    assert attempt_1.redriveCount == 1
    before = snapshot()

    # Stopped again, but at attempt 1: attempt 0's report still speaks for nothing.
    assert_ignored(onboard.report(attempt_0), snapshot, before, outbox)

    failure = onboard.report(attempt_1)

    assert failure is not None
    assert failure.message == "too many requests (attempt 1)"
    assert list(slots.holders()) == ["onb-other"]
    stored = registry.get_onboarding(onboarding.onboarding_id)
    assert (stored["status"], stored["failedAttempt"], stored["failure"]) == (
        "FAILED",
        1,
        "too many requests (attempt 1)",
    )
    (message,) = outbox.messages()
    assert "too many requests (attempt 1)" in message["Message"]


def test_an_onboarding_failure_first_delivered_after_the_redrive_is_ignored(
    onboard, opened_onboarding, registry, slots, snapshot, outbox
):
    """The execution was redriven (RUNNING at attempt 1) before attempt 0's report ever ran."""
    onboarding = opened_onboarding()
    onboard.start(onboarding)
    assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)
    attempt_0 = onboard.stepfunctions.stop(onboarding.execution_arn, error="OrganizationsBusy", cause="busy")
    onboard.stepfunctions.redrive(onboarding.execution_arn)
    before = snapshot()

    delayed = onboard.report(attempt_0)

    assert_ignored(delayed, snapshot, before, outbox)
    assert list(slots.holders()) == [onboarding.onboarding_id]
    assert registry.get_onboarding(onboarding.onboarding_id)["status"] == "RUNNING"


@pytest.mark.parametrize("status", sorted(STOPPED_STATUSES))
def test_an_onboarding_still_stopped_at_its_attempt_is_reported_once_however_often_delivered(
    onboard, opened_onboarding, registry, slots, outbox, status
):
    onboarding = opened_onboarding()
    onboard.start(onboarding)
    assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)
    change = onboard.stepfunctions.stop(onboarding.execution_arn, status)

    first = onboard.report(change)
    assert slots.acquire("onb-next", LIMIT, LEASE)  # the freed slot is taken by the next onboarding
    second = onboard.report(change)

    assert first is not None
    assert second is None
    assert list(slots.holders()) == ["onb-next"]
    stored = registry.get_onboarding(onboarding.onboarding_id)
    assert (stored["status"], stored["failedAttempt"], stored["notifiedAttempt"]) == ("FAILED", 0, 0)
    assert len(outbox.messages()) == 1


# --------------------------------------------------------------------------- offboarding


@dataclass
class Offboard:
    """ReportOffboardingFailure, wired to the registry and Step Functions."""

    registry: Registry
    stepfunctions: StepFunctionsStandIn
    settings: Settings
    state_machine_arn: str

    def begin(self, name: str, account: AccountRecord) -> Offboarding:
        """StartExecution and BeginOffboarding: the offboarding holds the account."""
        offboarding = Offboarding(
            offboarding_id=name,
            execution_arn=self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}",
            started_at=datetime.now(UTC),
            mode="detach",
            account_id=account.account_id,
            account_name=account.account_name,
            email=account.email,
            client=account.client,
            project=account.project,
            role_name=account.role_name,
            status_before=account.status,
            requested_by="arn:aws:iam::123456789012:user/ops",
        )
        request = {"accountId": account.account_id, "mode": "detach", "requestedBy": offboarding.requested_by}
        self.stepfunctions.start(offboarding.execution_arn, self.state_machine_arn, json.dumps(request))
        assert self.registry.begin_offboarding(offboarding)
        return offboarding

    def holder(self, account_id: str = ACCOUNT_ID) -> str | None:
        account = self.registry.get_account(account_id)
        assert account is not None
        return account.offboarding_id

    def report(self, change: ExecutionStatusChange) -> Any:
        return report_offboarding_failure(
            change,
            registry=self.registry,
            stepfunctions=self.stepfunctions,
            announcer=Announcer(aws.client("sns"), aws.client("events"), self.settings),
        )


@pytest.fixture
def offboard(registry, stepfunctions, settings_for, template) -> Offboard:
    settings = settings_for("ReportOffboardingFailureFunction")
    return Offboard(registry, stepfunctions, settings, template.arn("OffboardAccountStateMachine"))


@pytest.fixture
def account(registry) -> AccountRecord:
    """An ACTIVE account in the registry."""
    stamp = datetime.now(UTC) - timedelta(days=30)
    record = AccountRecord(
        account_id=ACCOUNT_ID,
        account_name="acme-web",
        email="acme-web@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=AccountStatus.ACTIVE,
        created_at=stamp,
        updated_at=stamp,
    )
    return registry.save_account(record)


REFUSED = "RemoveAccount refused: the account has no payment method (attempt 0)"


@pytest.fixture
def offboarding_failed_once(offboard, account, outbox):
    """Attempt 0 held the account and failed; its report was processed (the account was let go)."""
    offboarding = offboard.begin("off-1", account)
    attempt_0 = offboard.stepfunctions.stop(
        offboarding.execution_arn, error="AccountRemovalRefused", cause=REFUSED
    )

    assert offboard.report(attempt_0) is not None
    assert offboard.holder() is None
    stored = offboard.registry.get_offboarding("off-1")
    assert (stored["status"], stored["failedAttempt"]) == ("FAILED", 0)
    assert len(outbox.messages()) == 1
    return offboarding, attempt_0


def retry(offboard: Offboard, offboarding: Offboarding) -> None:
    """POST /offboardings/{id}/retry: take the account again, then redrive (attempt 1, RUNNING)."""
    assert offboard.registry.retake_offboarding(offboarding.account_id, offboarding.offboarding_id, 1)
    offboard.stepfunctions.redrive(offboarding.execution_arn)


def test_a_late_offboarding_failure_of_attempt_0_keeps_the_account_held_by_the_retry(
    offboard, offboarding_failed_once, registry, snapshot, outbox
):
    offboarding, attempt_0 = offboarding_failed_once
    retry(offboard, offboarding)
    before = snapshot()

    late = offboard.report(attempt_0)

    assert_ignored(late, snapshot, before, outbox)
    assert offboard.holder() == "off-1"
    assert registry.get_account(ACCOUNT_ID).status is AccountStatus.ACTIVE
    assert offboard.stepfunctions.described[-1] == offboarding.execution_arn


def test_when_the_retried_offboarding_fails_its_own_report_acts(
    offboard, offboarding_failed_once, registry, snapshot, outbox
):
    offboarding, attempt_0 = offboarding_failed_once
    retry(offboard, offboarding)
    attempt_1 = offboard.stepfunctions.stop(
        offboarding.execution_arn, error="AccountRemovalRefused", cause="still no payment method (attempt 1)"
    )
    before = snapshot()

    assert_ignored(offboard.report(attempt_0), snapshot, before, outbox)
    assert offboard.holder() == "off-1"

    failure = offboard.report(attempt_1)

    assert failure is not None
    assert (failure.account_id, failure.message) == (ACCOUNT_ID, "still no payment method (attempt 1)")
    assert offboard.holder() is None
    stored = registry.get_offboarding("off-1")
    assert (stored["status"], stored["failedAttempt"]) == ("FAILED", 1)
    (message,) = outbox.messages()
    assert message["MessageAttributes"]["kind"]["Value"] == "offboarding-failed"
    assert "still no payment method (attempt 1)" in message["Message"]


def test_an_offboarding_failure_first_delivered_after_the_retry_is_ignored(
    offboard, account, registry, snapshot, outbox
):
    """The offboarding was retried (RUNNING at attempt 1, holding the account) before attempt 0's report ran."""
    offboarding = offboard.begin("off-1", account)
    attempt_0 = offboard.stepfunctions.stop(
        offboarding.execution_arn, error="AccountRemovalRefused", cause=REFUSED
    )
    retry(offboard, offboarding)
    before = snapshot()

    delayed = offboard.report(attempt_0)

    assert_ignored(delayed, snapshot, before, outbox)
    assert offboard.holder() == "off-1"
    assert registry.get_offboarding("off-1")["status"] == "RUNNING"


@pytest.mark.parametrize("status", sorted(STOPPED_STATUSES))
def test_an_offboarding_still_stopped_at_its_attempt_is_reported_once_however_often_delivered(
    offboard, account, registry, outbox, status
):
    offboarding = offboard.begin("off-1", account)
    change = offboard.stepfunctions.stop(offboarding.execution_arn, status)

    first = offboard.report(change)
    offboard.begin("off-2", account)  # the account, let go, is taken by another offboarding
    second = offboard.report(change)

    assert first is not None
    assert second is None
    assert offboard.holder() == "off-2"
    stored = registry.get_offboarding("off-1")
    assert (stored["status"], stored["failedAttempt"], stored["notifiedAttempt"]) == ("FAILED", 0, 0)
    assert len(outbox.messages()) == 1
