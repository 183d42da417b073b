"""Step CloseAccount of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.clock import now
from orgvend.models import Closure
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.offboarding.close_account import CloseAccountInput, close_account

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(CloseAccountInput)
def handler(event: CloseAccountInput, context: LambdaContext) -> Closure:
    return close_account(event, aws.client("organizations"), default_registry(SETTINGS), now())
