"""Step DeleteBudget of statemachines/offboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.budgets import budget_target
from orgvend.models import BudgetRemoval
from orgvend.observability import step_handler
from orgvend.settings import Settings
from orgvend.steps.offboarding.delete_budget import DeleteBudgetInput, delete_account_budget

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(DeleteBudgetInput)
def handler(event: DeleteBudgetInput, context: LambdaContext) -> BudgetRemoval:
    return delete_account_budget(event, budget_target(SETTINGS))
