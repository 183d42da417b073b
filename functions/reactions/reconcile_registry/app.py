"""Scheduled (and on demand): compare the organization with the registry and repair the drift."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.access import access_setup, identity_center
from orgvend.account_access import access_upkeep
from orgvend.budgets import BudgetUpkeep, budget_target
from orgvend.observability import observed_handler
from orgvend.organizations import default_scope
from orgvend.reactions.reconcile_registry import reconcile_registry, report_drift
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.workflows.onboardings import default_onboardings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()
SETUP = access_setup(SETTINGS)
DEFAULT_MONTHLY_BUDGET_USD = SETTINGS.required(
    SETTINGS.default_monthly_budget_usd, "default_monthly_budget_usd"
)


@observed_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    drift = reconcile_registry(
        default_scope(SETTINGS),
        organizations=aws.client("organizations"),
        sts=aws.client("sts"),
        through=aws.management_role_sts(),
        registry=default_registry(SETTINGS),
        onboardings=default_onboardings(SETTINGS),
        access_role_name=SETTINGS.default_role_name,
        access=access_upkeep(identity_center(SETTINGS), SETUP),
        budgets=BudgetUpkeep(budget_target(SETTINGS), DEFAULT_MONTHLY_BUDGET_USD),
    )
    report_drift(drift, aws.client("sns"), SETTINGS.operator_topic_arn)
    return {**drift.to_json(), "summary": drift.summary}
