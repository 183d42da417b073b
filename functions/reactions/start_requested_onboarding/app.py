"""EventBridge target: an "Account Requested" event starts an onboarding (same checks as POST /accounts)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.observability import step_handler
from orgvend.reactions.start_requested_onboarding import AccountRequestedEvent, start_requested_onboarding
from orgvend.settings import Settings
from orgvend.workflows.onboardings import default_onboardings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(AccountRequestedEvent, correlation_id_path="id")
def handler(event: AccountRequestedEvent, context: LambdaContext) -> dict[str, Any]:
    own_account_id = context.invoked_function_arn.split(":")[4]
    return start_requested_onboarding(
        event, default_onboardings(SETTINGS), aws.client("sns"), SETTINGS, own_account_id
    ).to_json()
