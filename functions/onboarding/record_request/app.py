"""Step RecordRequest of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.models import Onboarding
from orgvend.observability import step_handler
from orgvend.organizations import default_scope
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.record_request import RecordRequestInput, record_request


@step_handler(RecordRequestInput)
def handler(event: RecordRequestInput, context: LambdaContext) -> Onboarding:
    settings = Settings.from_environment()
    return record_request(
        event,
        default_registry(),
        default_scope(),
        settings.access_role_names,
        settings.allowed_email_domains,
    )
