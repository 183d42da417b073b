"""Each client's default monthly budget: ``CLIENT#<client>`` / ``BUDGET``, one item per client.

An account's budget limit is, in this order, the request's (``monthlyBudgetUsd``), the client's default
kept here (``PUT /clients/{client}/budget``, ``orgvend budget default``), or the stack's
``DefaultMonthlyBudgetUsd``. The item is in no index: listings of accounts never see it.
"""

from decimal import Decimal
from typing import Any

from orgvend.clock import now
from orgvend.registry.items import attribute_values, plain
from orgvend.registry.writes import Table


def client_budget_key(client: str) -> dict[str, Any]:
    return {"pk": {"S": f"CLIENT#{client}"}, "sk": {"S": "BUDGET"}}


class ClientBudgets(Table):
    """The clients' default monthly budgets."""

    def get_client_budget(self, client: str) -> Decimal | None:
        """The client's default limit in USD; None when the client has none (the stack's applies)."""
        response = self._dynamodb.get_item(
            TableName=self._table, Key=client_budget_key(client), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return Decimal(plain(response["Item"])["monthlyBudgetUsd"])

    def put_client_budget(self, client: str, monthly_budget_usd: Decimal, who: str) -> None:
        """The client's default from now on (accounts onboarded later; existing budgets keep their limit)."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **client_budget_key(client),
                **attribute_values(
                    {
                        "client": client,
                        "monthlyBudgetUsd": monthly_budget_usd,
                        "updatedAt": now().isoformat(),
                        "updatedBy": who,
                    }
                ),
            },
        )
