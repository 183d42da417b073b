"""Budgets as the API changes them: an account's limit (``PATCH /accounts/{accountId}``), a client's
default (``/clients/{client}/budget``). The budgets themselves are kept by ``orgvend.budgets``."""

from collections.abc import Callable
from decimal import Decimal

from orgvend.budgets import BudgetTarget, ensure_budget
from orgvend.models import AccountRecord, AccountStatus
from orgvend.observability import logger
from orgvend.refusals import Conflict, NotFound
from orgvend.registry import Registry
from orgvend.workflows.accounts import account_view
from orgvend.workflows.models import AccountView, ClientBudget


class Budgets:
    def __init__(
        self, registry: Registry, target: Callable[[], BudgetTarget], stack_default: Decimal
    ) -> None:
        self._registry = registry
        self._target = target  # made when first needed: only a change of an account's limit calls Budgets
        self._stack_default = stack_default

    def set_account_limit(self, account_id: str, limit: Decimal, who: str) -> AccountView:
        """The account's budget set to ``limit`` (made again when missing), then its entry records it.

        Only an ACTIVE account that no offboarding holds: an offboarding deletes the budget, and an account
        being onboarded gets its budget from its onboarding."""
        record = self._registry.get_account(account_id)
        if record is None:
            raise NotFound(f"account {account_id}", "accountId")
        if record.offboarding_id:
            raise Conflict(
                "OffboardingInProgress",
                f"account {account_id} is being offboarded by {record.offboarding_id}; its budget goes with it",
                "accountId",
            )
        if record.status is not AccountStatus.ACTIVE:
            raise Conflict(
                "AccountNotActive",
                f"account {account_id} is {record.status.value}; only an ACTIVE account's budget can be changed",
                "accountId",
            )
        ensure_budget(self._target(), account_id, limit, record.budget_alert_email or record.email)

        def change(current: AccountRecord) -> AccountRecord | None:
            return None if current.monthly_budget_usd == limit else current.changed(monthly_budget_usd=limit)

        written = self._registry.update_account(account_id, change) or record
        logger.info(
            "Budget limit changed",
            extra={"accountId": account_id, "limitUsd": str(limit), "by": who},
        )
        return account_view(written)

    def client_default(self, client: str) -> ClientBudget:
        own = self._registry.get_client_budget(client)
        if own is not None:
            return ClientBudget(client=client, monthly_budget_usd=own, source="client")
        return ClientBudget(client=client, monthly_budget_usd=self._stack_default, source="stack")

    def set_client_default(self, client: str, limit: Decimal, who: str) -> ClientBudget:
        self._registry.put_client_budget(client, limit, who)
        logger.info("Client budget default set", extra={"client": client, "limitUsd": str(limit), "by": who})
        return ClientBudget(client=client, monthly_budget_usd=limit, source="client")
