"""Step NotifyOffboarded of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import Notification
from orgvend.notifications import default_announcer
from orgvend.observability import step_handler
from orgvend.settings import Settings
from orgvend.steps.offboarding.notify_offboarded import NotifyOffboardedInput, notify_offboarded

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(NotifyOffboardedInput)
def handler(event: NotifyOffboardedInput, context: LambdaContext) -> Notification:
    return notify_offboarded(
        event,
        aws.client("organizations"),
        default_announcer(SETTINGS),
    )
