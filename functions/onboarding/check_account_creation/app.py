"""Step CheckAccountCreation of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.clock import now
from orgvend.models import Creation
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.semaphore import default_creation_slots
from orgvend.settings import Settings
from orgvend.steps.onboarding.check_account_creation import CheckAccountCreationInput, check_account_creation

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(CheckAccountCreationInput)
def handler(event: CheckAccountCreationInput, context: LambdaContext) -> Creation:
    return check_account_creation(
        event,
        aws.client("organizations"),
        default_registry(SETTINGS),
        default_creation_slots(SETTINGS),
        now(),
    )
