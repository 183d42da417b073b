"""Step BeginOffboarding of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.models import Offboarding
from orgvend.observability import step_handler
from orgvend.organizations import default_scope
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.offboarding.begin_offboarding import BeginOffboardingInput, begin_offboarding

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(BeginOffboardingInput)
def handler(event: BeginOffboardingInput, context: LambdaContext) -> Offboarding:
    return begin_offboarding(event, default_registry(SETTINGS), default_scope(SETTINGS))
