"""ReportOnboardingFailure: an onboarding execution failed, timed out or was aborted.

The workflow has no Catch: it fails at the failing step, so a redrive resumes
there. Step Functions announces the failure on EventBridge ("Step Functions
Execution Status Change"); this records it in the registry and tells the
operators, once per execution attempt however often the event arrives.
"""

from typing import TYPE_CHECKING, Any

from orgvend.execution_status import ExecutionStatusChange, reports_current_attempt
from orgvend.models import AccountRecord, AccountStatus, OnboardingFailure, WorkflowError, readable_failure
from orgvend.notifications import FAILED_DETAIL_TYPE, Announcer, failed_message
from orgvend.observability import logger, metrics
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def _request_fields(change: ExecutionStatusChange, onboarding: dict[str, Any]) -> dict[str, str | None]:
    """Who the onboarding was for: from the registry, else from the execution's input."""
    source = onboarding or change.request()
    return {
        field: value if isinstance(value := source.get(key), str) else None
        for field, key in (
            ("client", "client"),
            ("project", "project"),
            ("account_name", "accountName"),
            ("email", "email"),
        )
    }


def no_account_can_exist(onboarding: dict[str, Any], error: WorkflowError) -> bool:
    """True when AWS cannot have created an account: never asked, or it answered FAILED."""
    return "createRequestId" not in onboarding or error.error == "AccountCreationFailed"


# What a failed onboarding may turn FAILED: an entry it was still making. An ACTIVE account stays ACTIVE
# (a failure after registration, in the notification, does not undo it), and an entry that moved on
# meanwhile (closed, detached, out of scope, taken by another onboarding) is never brought back.
# (A FAILED entry of the same onboarding takes the newer attempt's reason.)
FAILABLE_STATUSES = frozenset({AccountStatus.CREATING, AccountStatus.FAILED})


def failed_entry(account: AccountRecord, onboarding_id: str, error: WorkflowError) -> AccountRecord | None:
    """The entry as this failure leaves it, read fresh (None: unchanged)."""
    if account.onboarding_id != onboarding_id or account.status not in FAILABLE_STATUSES:
        return None
    return account.changed(
        status=AccountStatus.FAILED, failure=readable_failure(f"{error.error}: {error.message}")
    )


def report_onboarding_failure(
    change: ExecutionStatusChange,
    *,
    registry: Registry,
    slots: Semaphore,
    stepfunctions: "SFNClient",
    announcer: Announcer,
    state_machine_arn: str | None = None,
) -> OnboardingFailure | None:
    if not reports_current_attempt(stepfunctions, change, state_machine_arn):
        # Redriven since (or a late duplicate): the newer attempt owns its slot and its entry.
        logger.info("Failure report of an earlier attempt ignored", extra={"attempt": change.redriveCount})
        return None
    error = change.failure()
    slots.release(change.name)  # failed, timed out or aborted: whatever it held is free
    onboarding = registry.get_onboarding(change.name) or {}
    account_id = onboarding.get("accountId")
    not_yet_notified = registry.fail_onboarding(
        change.name, change.executionArn, error.error, error.message, attempt=change.redriveCount
    )
    if not not_yet_notified:
        logger.info("Failure already reported", extra={"attempt": change.redriveCount})
        return None
    if not account_id and onboarding.get("email") and no_account_can_exist(onboarding, error):
        # Nothing was created: let a corrected request use the address again.
        registry.release_email(str(onboarding["email"]), change.name)
    if account_id:
        registry.update_account(account_id, lambda account: failed_entry(account, change.name, error))
    failure = OnboardingFailure(
        onboarding_id=change.name,
        execution_arn=change.executionArn,
        error=error.error,
        message=error.message,
        account_id=account_id,
        **_request_fields(change, onboarding),
    )
    announcer.announce("failed", failed_message(failure), FAILED_DETAIL_TYPE, failure.to_json())
    # Only now: if publishing failed, the retried event must notify again.
    registry.failure_notified(change.name, change.redriveCount)
    metrics.add_metric(name="OnboardingsFailed", unit="Count", value=1)
    logger.warning("Onboarding failed", extra={"error": error.error, "accountId": account_id})
    return failure
