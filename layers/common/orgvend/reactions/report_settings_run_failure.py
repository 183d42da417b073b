"""ReportSettingsRunFailure: a settings run's execution failed, timed out or was aborted.

One account's failure never fails a run (the map records it and goes on), so this is the run itself:
its accounts could not be chosen, the map could not start its children, or the summary could not be
made. The run's item records it and the operators are told, once per attempt; what the accounts that
finished did stays recorded, and a redrive (or a new run, which changes nothing already done) goes on.
"""

from typing import TYPE_CHECKING

from orgvend.execution_status import ExecutionStatusChange, reports_current_attempt
from orgvend.models import Model
from orgvend.notifications import SETTINGS_RUN_FAILED_DETAIL_TYPE, Announcer
from orgvend.observability import logger, metrics
from orgvend.registry import Registry

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class SettingsRunFailure(Model):
    run_id: str
    execution_arn: str
    error: str
    message: str


def report_settings_run_failure(
    change: ExecutionStatusChange,
    *,
    registry: Registry,
    stepfunctions: "SFNClient",
    announcer: Announcer,
    state_machine_arn: str | None = None,
) -> SettingsRunFailure | None:
    if not reports_current_attempt(stepfunctions, change, state_machine_arn):
        logger.info("Failure report of an earlier attempt ignored", extra={"attempt": change.redriveCount})
        return None
    error = change.failure()
    failure = SettingsRunFailure(
        run_id=change.name, execution_arn=change.executionArn, error=error.error, message=error.message
    )
    if registry.fail_settings_run(change.name, f"{error.error}: {error.message}") is False:
        logger.info("Failure already reported", extra={"runId": change.name})
        return None
    announcer.announce(
        "settings-run-failed",
        (
            f"orgvend: settings run {change.name} failed ({error.error})",
            "\n".join(
                [
                    f"The settings run {change.name} stopped: {error.error}: {error.message}",
                    "Accounts that finished before it stopped keep what was applied; nothing else changed.",
                    f"Execution: {change.executionArn}",
                    "Redrive it (aws stepfunctions redrive-execution) or start a new run: what is done "
                    "already changes nothing.",
                ]
            ),
        ),
        SETTINGS_RUN_FAILED_DETAIL_TYPE,
        failure.to_json(),
    )
    metrics.add_metric(name="SettingsRunsFailed", unit="Count", value=1)
    return failure
