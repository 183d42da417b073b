"""Step NotifyOnboarded of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.models import Notification
from orgvend.notifications import default_announcer
from orgvend.observability import step_handler
from orgvend.settings import Settings
from orgvend.steps.onboarding.notify_onboarded import NotifyOnboardedInput, notify_onboarded

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(NotifyOnboardedInput)
def handler(event: NotifyOnboardedInput, context: LambdaContext) -> Notification:
    return notify_onboarded(event, default_announcer(SETTINGS))
