"""Step RemoveAccount of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import Removal
from orgvend.observability import step_handler
from orgvend.steps.offboarding.remove_account import RemoveAccountInput, remove_account


@step_handler(RemoveAccountInput)
def handler(event: RemoveAccountInput, context: LambdaContext) -> Removal:
    return remove_account(event, aws.client("organizations"))
