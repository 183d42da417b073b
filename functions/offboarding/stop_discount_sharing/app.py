"""Step StopDiscountSharing of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import BillingSetup
from orgvend.observability import step_handler
from orgvend.steps.offboarding.stop_discount_sharing import StopDiscountSharingInput, stop_discount_sharing


@step_handler(StopDiscountSharingInput)
def handler(event: StopDiscountSharingInput, context: LambdaContext) -> BillingSetup:
    return stop_discount_sharing(event, aws.client("billing"))
