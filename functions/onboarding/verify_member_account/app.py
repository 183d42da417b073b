"""Step VerifyMemberAccount of statemachines/onboard_account.asl.json (adoption)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import Creation
from orgvend.observability import step_handler
from orgvend.organizations import default_scope
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.verify_member_account import VerifyMemberAccountInput, verify_member_account

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(VerifyMemberAccountInput)
def handler(event: VerifyMemberAccountInput, context: LambdaContext) -> Creation:
    return verify_member_account(
        event, aws.client("organizations"), default_registry(SETTINGS), default_scope(SETTINGS)
    )
