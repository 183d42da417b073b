"""CreateBudget: the account's monthly cost budget, kept from the management account (orgvend.budgets).

After SetBillingPreferences, before RegisterAccount: the account is set up, and its limit is recorded on
its entry by the same write that makes it ACTIVE, so an ACTIVE account always has its budget and its
limit on record (the reconciliation, which recreates a missing budget, looks at ACTIVE accounts only,
and never races an onboarding's). A refusal fails the run here (``BudgetFailed``), before the account is
announced; a redrive resumes here.

The limit is the request's (``monthlyBudgetUsd``), else the one the account's entry records (an account
adopted again keeps its own), else its client's default (``PUT /clients/{client}/budget``), else the
stack's ``DefaultMonthlyBudgetUsd``. The alerts go to the request's ``budgetAlertEmail`` (else the
account's email) and to the operators' topic. A retry or a redrive keeps the budget it finds (its limit
set when it differs) and makes no alert or subscriber twice.
"""

from decimal import Decimal

from orgvend.budgets import BudgetTarget, budget_limit, budget_name, ensure_budget
from orgvend.models import BudgetSetup, Model, Onboarding
from orgvend.observability import metrics
from orgvend.registry import Registry


class CreateBudgetInput(Model):
    onboarding: Onboarding
    account_id: str


def create_budget(
    step_input: CreateBudgetInput, target: BudgetTarget, registry: Registry, stack_default: Decimal
) -> BudgetSetup:
    onboarding, account_id = step_input.onboarding, step_input.account_id
    entry = registry.get_account(account_id)
    limit, source = budget_limit(
        registry,
        onboarding.client,
        requested=onboarding.monthly_budget_usd,
        recorded=entry.monthly_budget_usd if entry else None,
        stack_default=stack_default,
    )
    alert_email = onboarding.budget_alert_email or onboarding.email
    kept = ensure_budget(target, account_id, limit, alert_email)
    if kept.created:
        metrics.add_metric(name="BudgetsCreated", unit="Count", value=1)
    return BudgetSetup(
        name=budget_name(account_id),
        monthly_budget_usd=limit,
        source=source,
        alert_email=alert_email,
        created=kept.created,
        changed=kept.changed,
    )
