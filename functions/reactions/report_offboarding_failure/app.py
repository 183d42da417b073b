"""EventBridge target: an offboarding execution failed, timed out or was aborted."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.access import access_setup, identity_center
from orgvend.account_access import access_upkeep
from orgvend.execution_status import ExecutionStatusChangeEvent
from orgvend.notifications import default_announcer
from orgvend.observability import step_handler
from orgvend.reactions.report_offboarding_failure import report_offboarding_failure
from orgvend.registry import default_registry
from orgvend.settings import Settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()
SETUP = access_setup(SETTINGS)


@step_handler(ExecutionStatusChangeEvent, correlation_id_path="detail.name")
def handler(event: ExecutionStatusChangeEvent, context: LambdaContext) -> dict[str, Any]:
    failure = report_offboarding_failure(
        event.detail,
        registry=default_registry(SETTINGS),
        stepfunctions=aws.client("stepfunctions"),
        announcer=default_announcer(SETTINGS),
        state_machine_arn=SETTINGS.required(
            SETTINGS.offboard_state_machine_arn, "offboard_state_machine_arn"
        ),
        access=access_upkeep(identity_center(SETTINGS), SETUP),
    )
    return failure.to_json() if failure else {"duplicate": True}
