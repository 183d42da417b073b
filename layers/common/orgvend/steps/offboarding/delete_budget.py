"""DeleteBudget: the account's monthly cost budget goes with it (orgvend.budgets).

Once the account has left the organization or its closure is done (and when it had left already), just
before FinishOffboarding: a detach AWS refused, or a closure it refused, keeps the account in the
consolidated bill, and so keeps its budget and alerts. A budget already gone (deleted by hand, or by an
earlier attempt whose answer was lost) is fine: a retry or a redrive deletes nothing twice. The entry
keeps the limit it had, as history (``monthlyBudgetUsd`` of a DETACHED or CLOSED account).
"""

from orgvend.budgets import BudgetTarget, budget_name, delete_budget
from orgvend.models import BudgetRemoval, Model, Offboarding


class DeleteBudgetInput(Model):
    offboarding: Offboarding


def delete_account_budget(step_input: DeleteBudgetInput, target: BudgetTarget) -> BudgetRemoval:
    account_id = step_input.offboarding.account_id
    deleted = delete_budget(target, account_id)
    return BudgetRemoval(name=budget_name(account_id), deleted=deleted)
