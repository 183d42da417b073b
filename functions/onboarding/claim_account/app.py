"""Step ClaimAccount of statemachines/onboard_account.asl.json (adoption)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.observability import step_handler
from orgvend.organizations import default_scope
from orgvend.settings import Settings
from orgvend.steps.onboarding.claim_account import Claim, ClaimAccountInput, claim_account

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(ClaimAccountInput)
def handler(event: ClaimAccountInput, context: LambdaContext) -> Claim:
    return claim_account(event, aws.client("organizations"), default_scope(SETTINGS))
