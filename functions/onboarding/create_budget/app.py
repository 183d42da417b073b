"""Step CreateBudget of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.budgets import budget_target
from orgvend.models import BudgetSetup
from orgvend.observability import step_handler
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.create_budget import CreateBudgetInput, create_budget

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()
DEFAULT_MONTHLY_BUDGET_USD = SETTINGS.required(
    SETTINGS.default_monthly_budget_usd, "default_monthly_budget_usd"
)


@step_handler(CreateBudgetInput)
def handler(event: CreateBudgetInput, context: LambdaContext) -> BudgetSetup:
    return create_budget(
        event, budget_target(SETTINGS), default_registry(SETTINGS), DEFAULT_MONTHLY_BUDGET_USD
    )
