"""Step PlaceAccount of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import Placement
from orgvend.observability import step_handler
from orgvend.organizations import default_scope
from orgvend.settings import Settings
from orgvend.steps.onboarding.place_account import PlaceAccountInput, place_account

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(PlaceAccountInput)
def handler(event: PlaceAccountInput, context: LambdaContext) -> Placement:
    return place_account(event, aws.client("organizations"), default_scope(SETTINGS))
