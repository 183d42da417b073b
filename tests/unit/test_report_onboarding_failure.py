"""ReportOnboardingFailure: a failed, timed-out or aborted onboarding is recorded and announced once.

Each event here is the one Step Functions sends as the execution stops, so the Step Functions
stand-in describes the execution as stopped at that attempt (a report acts only then; the reports
of attempts redriven since are in test_late_failure_events.py).
"""

import json
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from orgvend import aws
from orgvend.execution_status import ExecutionStatusChange
from orgvend.models import AccountStatus, OnboardingFailure
from orgvend.notifications import FAILED_DETAIL_TYPE, Announcer, failed_message
from orgvend.reactions.report_onboarding_failure import report_onboarding_failure
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore
from orgvend.settings import Settings
from orgvend.steps.onboarding.check_account_creation import pending_record

from .support import Inbox, failing
from .test_late_failure_events import StepFunctionsStandIn

ACCOUNT_ID = "210987654321"
LIMIT = 5
LEASE = timedelta(hours=1)


@pytest.fixture
def settings(settings_for):
    return settings_for("ReportOnboardingFailureFunction")


@dataclass
class Reporter:
    """The reaction, wired to the registry, Step Functions, the operators' topic and the event bus."""

    registry: Registry
    slots: Semaphore
    stepfunctions: StepFunctionsStandIn
    settings: Settings
    operators: Inbox
    events: Inbox

    def __call__(self, change: ExecutionStatusChange, sns: Any = None) -> OnboardingFailure | None:
        return report_onboarding_failure(
            change,
            registry=self.registry,
            slots=self.slots,
            stepfunctions=self.stepfunctions,
            announcer=Announcer(sns or aws.client("sns"), aws.client("events"), self.settings),
        )


@pytest.fixture
def stepfunctions() -> StepFunctionsStandIn:
    return StepFunctionsStandIn()


@pytest.fixture
def report(registry, slots, stepfunctions, settings, operator_inbox, event_inbox) -> Reporter:
    return Reporter(registry, slots, stepfunctions, settings, operator_inbox, event_inbox)


@pytest.fixture
def change(template, stepfunctions):
    """The event Step Functions sends as the onboarding's execution stops (or a redelivery of it); the
    stand-in then describes the execution with the event's status, at the event's attempt."""
    state_machine_arn = template.arn("OnboardAccountStateMachine")

    def make(onboarding, **fields) -> ExecutionStatusChange:
        request = {"client": onboarding.client, "project": onboarding.project, "email": onboarding.email}
        values = {
            "executionArn": onboarding.execution_arn,
            "stateMachineArn": state_machine_arn,
            "name": onboarding.onboarding_id,
            "status": "FAILED",
            "input": json.dumps(request),
            "error": "BaselineFailed",
            "cause": json.dumps(
                {
                    "errorMessage": "baseline of 210987654321 failed: LimitExceeded",
                    "errorType": "BaselineFailed",
                    "requestId": "5f0e",
                    "stackTrace": ["  File app.py, line 1"],
                }
            ),
            "redriveCount": 0,
            **fields,
        }
        event = ExecutionStatusChange(**values)
        stepfunctions.stopped(event)
        return event

    return make


def test_the_failure_is_recorded_with_a_readable_message(report, change, registry, opened_onboarding):
    onboarding = opened_onboarding()

    failure = report(change(onboarding))

    assert failure is not None
    assert failure.error == "BaselineFailed"
    assert failure.message == "baseline of 210987654321 failed: LimitExceeded"
    stored = registry.get_onboarding(onboarding.onboarding_id)
    assert stored["status"] == "FAILED"
    assert stored["error"] == "BaselineFailed"
    assert stored["failure"] == "baseline of 210987654321 failed: LimitExceeded"
    assert stored["failedAttempt"] == 0


def test_operators_and_automation_are_told(report, change, opened_onboarding):
    onboarding = opened_onboarding(client="acme", project="web")

    failure = report(change(onboarding))

    (message,) = report.operators.receive()
    assert message["Subject"] == "orgvend: onboarding of acme/web failed (BaselineFailed)"
    assert message["MessageAttributes"]["kind"]["Value"] == "failed"
    assert "Reason: baseline of 210987654321 failed: LimitExceeded" in message["Message"]
    assert onboarding.execution_arn in message["Message"]
    (event,) = report.events.receive()
    assert event["source"] == report.settings.event_source
    assert event["detail-type"] == FAILED_DETAIL_TYPE
    assert event["detail"] == failure.to_json()


def test_a_creating_account_is_marked_failed_and_kept(report, change, registry, opened_onboarding):
    onboarding = opened_onboarding()
    registry.save_account(pending_record(onboarding, ACCOUNT_ID, AccountStatus.CREATING))

    failure = report(change(onboarding))

    account = registry.get_account(ACCOUNT_ID)
    assert account.status is AccountStatus.FAILED
    assert account.failure == "BaselineFailed: baseline of 210987654321 failed: LimitExceeded"
    assert failure.account_id == ACCOUNT_ID
    (message,) = report.operators.receive()
    assert f"Account {ACCOUNT_ID} exists and is kept in the registry." in message["Message"]
    assert "redrive" in message["Message"]


def test_an_active_account_stays_active(report, change, registry, opened_onboarding):
    """A failure after RegisterAccount (NotifyOnboarded) does not undo the registration."""
    onboarding = opened_onboarding()
    registry.save_account(pending_record(onboarding, ACCOUNT_ID, AccountStatus.ACTIVE))

    report(change(onboarding, error="States.TaskFailed", cause="SNS was unavailable"))

    account = registry.get_account(ACCOUNT_ID)
    assert account.status is AccountStatus.ACTIVE
    assert account.failure is None


@pytest.mark.parametrize(
    "status",
    [
        AccountStatus.NEEDS_ROLE,
        AccountStatus.CLOSING,
        AccountStatus.CLOSED,
        AccountStatus.DETACHED,
        AccountStatus.OUT_OF_SCOPE,
    ],
)
def test_an_entry_that_moved_on_is_never_changed(report, change, registry, opened_onboarding, status):
    """Only an entry this onboarding is still creating fails with it."""
    onboarding = opened_onboarding()
    registry.save_account(pending_record(onboarding, ACCOUNT_ID, status))

    failure = report(change(onboarding))

    assert failure.account_id == ACCOUNT_ID
    account = registry.get_account(ACCOUNT_ID)
    assert (account.status, account.failure) == (status, None)


def test_an_entry_another_onboarding_took_over_is_never_changed(report, change, registry, opened_onboarding):
    """The account waited to be adopted again (NEEDS_ROLE) and a later onboarding took it: its entry is
    that onboarding's, CREATING or not."""
    first, later = opened_onboarding(), opened_onboarding()
    registry.save_account(pending_record(first, ACCOUNT_ID, AccountStatus.NEEDS_ROLE))
    registry.save_account(pending_record(later, ACCOUNT_ID, AccountStatus.CREATING))

    failure = report(change(first))

    assert failure.account_id == ACCOUNT_ID
    account = registry.get_account(ACCOUNT_ID)
    assert (account.status, account.onboarding_id, account.failure) == (
        AccountStatus.CREATING,
        later.onboarding_id,
        None,
    )


def test_a_duplicate_event_is_reported_once(report, change, registry, opened_onboarding):
    onboarding = opened_onboarding()
    event = change(onboarding)

    assert report(event) is not None
    assert report(event) is None

    assert len(report.operators.receive()) == 1
    assert len(report.events.receive()) == 1


def test_a_redriven_execution_that_fails_again_is_reported_again(
    report, change, opened_onboarding, registry, stepfunctions
):
    onboarding = opened_onboarding()
    report(change(onboarding))
    stepfunctions.redrive(onboarding.execution_arn)  # the operator's retry: attempt 1

    again = report(change(onboarding, redriveCount=1, error="AccountNotReady", cause="still not ready"))

    assert again is not None
    assert again.message == "still not ready"
    assert len(report.operators.receive()) == 2
    assert registry.get_onboarding(onboarding.onboarding_id)["failedAttempt"] == 1


@pytest.mark.parametrize(
    ("status", "error"), [("TIMED_OUT", "ExecutionTimedOut"), ("ABORTED", "ExecutionAborted")]
)
def test_an_execution_ended_without_an_error_is_named_by_its_status(
    report, change, opened_onboarding, status, error
):
    failure = report(change(opened_onboarding(), status=status, error=None, cause=None))
    assert failure.error == error
    assert failure.message == f"the execution ended {status}"


def test_an_onboarding_refused_before_it_was_recorded_is_described_from_the_execution_input(
    report, change, registry, make_onboarding
):
    never_recorded = make_onboarding(client="globex", project="shop")
    event = change(
        never_recorded,
        error="InvalidOnboardingRequest",
        cause=json.dumps(
            {"errorMessage": "email: must contain exactly one @", "errorType": "InvalidOnboardingRequest"}
        ),
    )

    failure = report(event)

    assert (failure.client, failure.project, failure.email) == ("globex", "shop", never_recorded.email)
    assert failure.account_id is None
    assert registry.get_onboarding(never_recorded.onboarding_id)["status"] == "FAILED"
    (message,) = report.operators.receive()
    assert "globex/shop" in message["Subject"]
    assert "email: must contain exactly one @" in message["Message"]


def test_a_report_whose_notification_failed_is_sent_when_the_event_is_retried(
    report, change, opened_onboarding
):
    onboarding = opened_onboarding()
    sns = aws.client("sns")
    sns.meta.events.register(
        "before-call.sns.Publish", failing("KMSThrottling", "KMS throttled the topic's key", times=1)
    )
    with pytest.raises(Exception, match="KMSThrottling"):
        report(change(onboarding), sns=sns)

    retried = report(change(onboarding), sns=sns)  # EventBridge / Lambda retry the same event

    assert retried is not None
    assert len(report.operators.receive()) == 1


def test_the_failure_subject_is_a_valid_sns_subject_whatever_the_request_held():
    failure = OnboardingFailure(
        onboarding_id="onb-1",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:sm:onb-1",
        error="InvalidOnboardingRequest",
        message="client: must be a lowercase slug",
        client="Acme\r\nCorp",
        project="web\tshop",
    )
    subject, _ = failed_message(failure)
    assert subject
    assert len(subject) < 100
    assert not [c for c in subject if unicodedata.category(c).startswith("C")], repr(subject)


# --------------------------------------------------------------------------- the creation slot


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("FAILED", "AccountCreationTimedOut"),
        ("FAILED", "States.TaskFailed"),
        ("TIMED_OUT", None),
        ("ABORTED", None),
    ],
)
def test_the_failed_onboardings_slot_is_released_and_no_other(
    report, change, opened_onboarding, status, error
):
    onboarding, slots = opened_onboarding(), report.slots
    for holder in ("onb-other-1", onboarding.onboarding_id, "onb-other-2"):
        assert slots.acquire(holder, LIMIT, LEASE)
    others = slots.holders()
    del others[onboarding.onboarding_id]

    report(change(onboarding, status=status, error=error))

    assert slots.holders() == others


def test_a_failure_without_a_slot_releases_nothing(report, change, slots, opened_onboarding):
    """An onboarding that failed before CreateAccount (or adopted an account) held no slot."""
    assert slots.acquire("onb-other", LIMIT, LEASE)
    report(change(opened_onboarding(), error="InvalidOnboardingRequest", cause="bad"))
    assert list(slots.holders()) == ["onb-other"]


def test_the_slot_is_released_even_when_the_notification_fails(report, change, slots, opened_onboarding):
    """Releasing comes first: a slot is free while EventBridge retries the event."""
    onboarding = opened_onboarding()
    assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)
    sns = aws.client("sns")
    sns.meta.events.register("before-call.sns.Publish", failing("KMSThrottling", "throttled", times=1))

    with pytest.raises(Exception, match="KMSThrottling"):
        report(change(onboarding), sns=sns)
    assert slots.holders() == {}

    assert report(change(onboarding), sns=sns) is not None
    assert report(change(onboarding), sns=sns) is None  # a duplicate: releasing again is harmless
    assert slots.holders() == {}
