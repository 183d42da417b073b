"""ReportOffboardingFailure: an offboarding execution failed, timed out or was aborted.

Like onboarding, the workflow has no Catch (a redrive resumes at the failed
step). This reaction lets go of the account, so a corrected or different
offboarding can start, records the failure, and tells the operators, once per
attempt. The account's registry entry is otherwise left as it was: a detach
that AWS refused changed nothing, and a closure AWS accepted stays CLOSING
until Organizations says it is closed. People's access that RemoveAccess took away from an account
that stays (a refused removal or closure) is made again (orgvend.account_access), so a refused
offboarding does not cut it.
"""

from typing import TYPE_CHECKING

from orgvend.account_access import AccessUpkeep, restore_offboarded_access
from orgvend.execution_status import ExecutionStatusChange, reports_current_attempt
from orgvend.models import OffboardingFailure
from orgvend.notifications import (
    OFFBOARDING_FAILED_DETAIL_TYPE,
    Announcer,
    offboarding_failed_message,
)
from orgvend.observability import logger, metrics
from orgvend.registry import Registry

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def report_offboarding_failure(
    change: ExecutionStatusChange,
    *,
    registry: Registry,
    stepfunctions: "SFNClient",
    announcer: Announcer,
    state_machine_arn: str | None = None,
    access: AccessUpkeep | None = None,
) -> OffboardingFailure | None:
    if not reports_current_attempt(stepfunctions, change, state_machine_arn):
        # Redriven since (or a late duplicate): the retried offboarding holds the account again.
        logger.info("Failure report of an earlier attempt ignored", extra={"attempt": change.redriveCount})
        return None
    error = change.failure()
    request = change.request()
    if access is not None and isinstance(subject := request.get("accountId"), str):
        # Before the account is let go, so whoever sees it free sees its access back. Idempotent: a
        # duplicate report finds nothing taken away any more.
        restore_offboarded_access(access, registry, subject)
    requested = {key: value for key in ("accountId", "mode") if isinstance(value := request.get(key), str)}
    if not registry.fail_offboarding(
        change.name,
        change.executionArn,
        error.error,
        error.message,
        attempt=change.redriveCount,
        requested=requested,
    ):
        logger.info("Failure already reported", extra={"attempt": change.redriveCount})
        return None
    offboarding = registry.get_offboarding(change.name) or {}
    account_id = offboarding.get("accountId") or request.get("accountId")
    failure = OffboardingFailure(
        offboarding_id=change.name,
        execution_arn=change.executionArn,
        error=error.error,
        message=error.message,
        mode=str(offboarding.get("mode") or request.get("mode") or "") or None,
        account_id=str(account_id) if isinstance(account_id, str) else None,
        account_name=offboarding.get("accountName"),
        client=offboarding.get("client"),
        project=offboarding.get("project"),
    )
    announcer.announce(
        "offboarding-failed",
        offboarding_failed_message(failure),
        OFFBOARDING_FAILED_DETAIL_TYPE,
        failure.to_json(),
    )
    registry.offboarding_failure_notified(change.name, change.redriveCount)  # only now: see onboarding's
    metrics.add_metric(name="OffboardingsFailed", unit="Count", value=1)
    logger.warning("Offboarding failed", extra={"error": error.error, "accountId": failure.account_id})
    return failure
