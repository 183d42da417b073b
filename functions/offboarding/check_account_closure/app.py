"""Step CheckAccountClosure of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.clock import now
from orgvend.models import Closure
from orgvend.observability import step_handler
from orgvend.steps.offboarding.check_account_closure import CheckAccountClosureInput, check_account_closure


@step_handler(CheckAccountClosureInput)
def handler(event: CheckAccountClosureInput, context: LambdaContext) -> Closure:
    return check_account_closure(event, aws.client("organizations"), now())
