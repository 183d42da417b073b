"""Step KeepAccountSettings of statemachines/keep_settings.asl.json (one item of its map)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.account_settings.runs import AccountSettingsItem, AccountSettingsKept
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.settings.keep_account_settings import keep_account_settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(AccountSettingsItem, correlation_id_path="runId")
def handler(event: AccountSettingsItem, context: LambdaContext) -> AccountSettingsKept:
    return keep_account_settings(event, aws.client("sts"), aws.client("account"), default_registry(SETTINGS))
