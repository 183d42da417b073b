"""Step SummarizeSettingsRun of statemachines/keep_settings.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.notifications import default_announcer
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.settings.summarize_settings_run import (
    SettingsRunSummary,
    SummarizeSettingsRunInput,
    summarize_settings_run,
)

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(SummarizeSettingsRunInput, correlation_id_path="runId")
def handler(event: SummarizeSettingsRunInput, context: LambdaContext) -> SettingsRunSummary:
    return summarize_settings_run(event, default_registry(SETTINGS), default_announcer(SETTINGS))
