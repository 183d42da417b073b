"""Step FinishOffboarding of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.clock import now
from orgvend.models import AccountRecord
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.offboarding.finish_offboarding import FinishOffboardingInput, finish_offboarding

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(FinishOffboardingInput)
def handler(event: FinishOffboardingInput, context: LambdaContext) -> AccountRecord:
    return finish_offboarding(event, default_registry(SETTINGS), now())
