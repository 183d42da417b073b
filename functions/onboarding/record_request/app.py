"""Step RecordRequest of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.models import Onboarding
from orgvend.observability import step_handler
from orgvend.organizations import default_scope
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.record_request import RecordRequestInput, record_request

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(RecordRequestInput)
def handler(event: RecordRequestInput, context: LambdaContext) -> Onboarding:
    return record_request(
        event,
        default_registry(SETTINGS),
        default_scope(SETTINGS),
        SETTINGS.roles,
        SETTINGS.allowed_email_domains,
    )
