"""Each account's monthly budget limit, as AWS Budgets has it: read for the costs report.

orgvend names an account's budget ``orgvend-<accountId>``, created from the management account (a monthly
COST budget filtered on the linked account), so that it can always be found again. The report reads
every budget of the management account with ``DescribeBudgets``, one call per page of up to 1,000, never
one call per account, and keeps the limits of orgvend's. An account without one has no limit (null).
"""

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.budgets import PAGE_SIZE, PREFIX, account_of

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_budgets.type_defs import DescribeBudgetsRequestTypeDef

# The budget's name is orgvend.budgets' (which makes them); the report only reads them.
BUDGET_NAME_PREFIX = PREFIX


def budget_limits(budgets: "BudgetsClient", management_account_id: str) -> dict[str, Decimal]:
    """Account ID → its budget's monthly limit (USD), for every ``orgvend-<accountId>`` budget."""
    limits: dict[str, Decimal] = {}
    request: DescribeBudgetsRequestTypeDef = {"AccountId": management_account_id, "MaxResults": PAGE_SIZE}
    while True:
        try:
            page = budgets.describe_budgets(**request)
        except ClientError as error:
            if error_code(error) == "NotFoundException":  # no budget at all, as older Budgets answered
                return limits
            raise
        for budget in page.get("Budgets", []):
            account_id = account_of(budget["BudgetName"])
            amount = budget.get("BudgetLimit", {}).get("Amount")
            if account_id is None or budget.get("TimeUnit") != "MONTHLY" or amount is None:
                continue
            try:
                limits[account_id] = Decimal(amount)
            except InvalidOperation:
                continue  # not a limit a percentage can be made of: reported as none
        token = page.get("NextToken")
        if not token:
            return limits
        request = {**request, "NextToken": token}
