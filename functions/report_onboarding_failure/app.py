"""EventBridge target: an onboarding execution failed, timed out or was aborted."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.observability import logger, metrics, tracer
from orgvend.reactions.report_onboarding_failure import ExecutionStatusChangeEvent, report_onboarding_failure
from orgvend.registry import default_registry
from orgvend.semaphore import default_creation_slots
from orgvend.settings import Settings


@logger.inject_lambda_context(correlation_id_path="detail.name", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=ExecutionStatusChangeEvent)
def handler(event: ExecutionStatusChangeEvent, context: LambdaContext) -> dict[str, Any]:
    failure = report_onboarding_failure(
        event.detail,
        registry=default_registry(),
        slots=default_creation_slots(),
        sns=aws.client("sns"),
        events=aws.client("events"),
        settings=Settings.from_environment(),
    )
    return failure.to_json() if failure else {"duplicate": True}
