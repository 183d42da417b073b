"""Step ApplySettings of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.account_settings.models import SettingsResult
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.apply_settings import ApplySettingsInput, apply_account_settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(ApplySettingsInput)
def handler(event: ApplySettingsInput, context: LambdaContext) -> SettingsResult:
    return apply_account_settings(event, aws.client("sts"), aws.client("account"), default_registry(SETTINGS))
