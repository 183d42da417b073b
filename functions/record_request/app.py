"""Step RecordRequest of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.models import Onboarding
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.record_request import RecordRequestInput, record_request


@step_handler(RecordRequestInput)
def handler(event: RecordRequestInput, context: LambdaContext) -> Onboarding:
    return record_request(event, default_registry(), Settings.from_environment().access_role_names)
