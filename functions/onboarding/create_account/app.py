"""Step CreateAccount of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import Creation
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.semaphore import default_creation_slots
from orgvend.settings import Settings
from orgvend.steps.onboarding.create_account import CreateAccountInput, create_account

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(CreateAccountInput)
def handler(event: CreateAccountInput, context: LambdaContext) -> Creation:
    return create_account(
        event,
        aws.client("organizations"),
        default_registry(SETTINGS),
        default_creation_slots(SETTINGS),
        SETTINGS,
    )
