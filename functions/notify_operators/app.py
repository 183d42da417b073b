"""Step NotifyOnboarded of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.observability import step_handler
from orgvend.settings import Settings
from orgvend.steps.notify_operators import Notification, NotifyOperatorsInput, notify_operators


@step_handler(NotifyOperatorsInput)
def handler(event: NotifyOperatorsInput, context: LambdaContext) -> Notification:
    return notify_operators(event, aws.client("sns"), aws.client("events"), Settings.from_environment())
