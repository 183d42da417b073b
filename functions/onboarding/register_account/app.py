"""Step RegisterAccount of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import AccountRecord
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.register_account import RegisterAccountInput, register_account

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(RegisterAccountInput)
def handler(event: RegisterAccountInput, context: LambdaContext) -> AccountRecord:
    return register_account(event, default_registry(SETTINGS), aws.client("iam"))
