"""Step AssignAccess of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.access import access_setup, identity_center
from orgvend.models import AccountAccess
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.assign_access import AssignAccessInput, assign_access

# Read once, at cold start: a missing or malformed variable (an access rule too) fails here, naming it.
SETTINGS = Settings()
SETUP = access_setup(SETTINGS)


@step_handler(AssignAccessInput)
def handler(event: AssignAccessInput, context: LambdaContext) -> AccountAccess:
    return assign_access(event, identity_center(SETTINGS), SETUP, default_registry(SETTINGS))
