"""Step SelectSettingsAccounts of statemachines/keep_settings.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.account_settings.runs import SelectedAccounts
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.settings.select_settings_accounts import (
    SelectSettingsAccountsInput,
    select_settings_accounts,
)

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(SelectSettingsAccountsInput, correlation_id_path="runId")
def handler(event: SelectSettingsAccountsInput, context: LambdaContext) -> SelectedAccounts:
    return select_settings_accounts(event, default_registry(SETTINGS))
