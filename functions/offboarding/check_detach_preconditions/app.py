"""Step CheckDetachPreconditions of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.clock import now
from orgvend.observability import step_handler
from orgvend.steps.offboarding.check_detach_preconditions import (
    CheckDetachPreconditionsInput,
    DetachPreconditions,
    check_detach_preconditions,
)


@step_handler(CheckDetachPreconditionsInput)
def handler(event: CheckDetachPreconditionsInput, context: LambdaContext) -> DetachPreconditions:
    return check_detach_preconditions(event, aws.client("organizations"), now())
