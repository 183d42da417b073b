"""EventBridge target: a settings run's execution failed, timed out or was aborted."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.execution_status import ExecutionStatusChangeEvent
from orgvend.notifications import default_announcer
from orgvend.observability import step_handler
from orgvend.reactions.report_settings_run_failure import report_settings_run_failure
from orgvend.registry import default_registry
from orgvend.settings import Settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(ExecutionStatusChangeEvent, correlation_id_path="detail.name")
def handler(event: ExecutionStatusChangeEvent, context: LambdaContext) -> dict[str, Any]:
    failure = report_settings_run_failure(
        event.detail,
        registry=default_registry(SETTINGS),
        stepfunctions=aws.client("stepfunctions"),
        announcer=default_announcer(SETTINGS),
        state_machine_arn=SETTINGS.required(
            SETTINGS.keep_settings_state_machine_arn, "keep_settings_state_machine_arn"
        ),
    )
    return failure.to_json() if failure else {"duplicate": True}
