"""Step RemoveAccess of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.access import identity_center
from orgvend.models import AccessRemoval
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.offboarding.remove_access import RemoveAccessInput, remove_account_access

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(RemoveAccessInput)
def handler(event: RemoveAccessInput, context: LambdaContext) -> AccessRemoval:
    return remove_account_access(event, identity_center(SETTINGS), default_registry(SETTINGS))
