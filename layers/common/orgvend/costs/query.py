"""One month's costs per account from Cost Explorer: one paginated GetCostAndUsage for every account.

Cost Explorer bills every request ($0.01, pages included), so a report is one query of the whole month
grouped by ``LINKED_ACCOUNT`` (the management account sees every member), never a call per account:
``TimePeriod`` the month (its first day to the next month's first day, exclusive), ``Granularity``
``MONTHLY``, ``Metrics`` ``UnblendedCost`` and ``AmortizedCost``, following ``NextPageToken``.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.costs.models import CostAnswer, CostLine, month_start, next_month

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_ce.type_defs import GetCostAndUsageRequestTypeDef

METRICS = ("UnblendedCost", "AmortizedCost")
# What Cost Explorer answers for a month it has no data for (older than it keeps, or not yet there). The
# query is fixed but for its month, so its ValidationException is about the month too ("… beyond the past
# 14 months …").
UNAVAILABLE = frozenset({"DataUnavailableException", "BillExpirationException", "ValidationException"})


class CostsUnavailable(Exception):
    """Cost Explorer has no costs for the month (too old, not enabled, not yet available)."""


class UnexpectedCosts(Exception):
    """Cost Explorer answered something a report cannot add up (an amount that is not a number, or two
    currencies): a fault to look at, never a report with a wrong total."""


def month_period(month: str) -> dict[str, str]:
    """The month as Cost Explorer's TimePeriod: its first day, and the next month's (exclusive)."""
    return {"Start": month_start(month).isoformat(), "End": month_start(next_month(month)).isoformat()}


def request_for(month: str) -> "GetCostAndUsageRequestTypeDef":
    """The month's query, the same for every report of it (one query's pages, one cache entry)."""
    return {
        "TimePeriod": month_period(month),  # type: ignore[typeddict-item]  # DateIntervalTypeDef: Start, End
        "Granularity": "MONTHLY",
        "Metrics": list(METRICS),
        "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    }


def _amount(metrics: dict[str, Any], name: str, units: set[str]) -> Decimal:
    metric = metrics.get(name) or {}
    if "Unit" in metric:
        units.add(str(metric["Unit"]))
    try:
        return Decimal(str(metric.get("Amount", "0")))
    except InvalidOperation:
        raise UnexpectedCosts(f"Cost Explorer's {name} {metric.get('Amount')!r} is not a number") from None


def cost_and_usage(ce: "CostExplorerClient", month: str, retrieved_at: datetime) -> CostAnswer:
    """Every account's unblended and amortized cost of ``month``, one call per page.

    Raises CostsUnavailable when Cost Explorer has no data for the month.
    """
    request = request_for(month)
    unblended: dict[str, Decimal] = {}
    amortized: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    estimated: list[bool] = []
    units: set[str] = set()
    pages = 0
    while True:
        try:
            page = ce.get_cost_and_usage(**request)
        except ClientError as error:
            if error_code(error) in UNAVAILABLE:
                raise CostsUnavailable(f"Cost Explorer has no costs for {month}: {error}") from error
            raise
        pages += 1
        for attribute in page.get("DimensionValueAttributes", []):
            description = attribute.get("Attributes", {}).get("description")
            if attribute.get("Value") and description:
                names[attribute["Value"]] = description
        for result in page.get("ResultsByTime", []):
            estimated.append(bool(result.get("Estimated", False)))
            for group in result.get("Groups", []):
                account_id = group["Keys"][0]
                metrics: dict[str, Any] = dict(group.get("Metrics", {}))
                # An account on two pages (or two periods) adds up.
                unblended[account_id] = unblended.get(account_id, Decimal(0)) + _amount(
                    metrics, "UnblendedCost", units
                )
                amortized[account_id] = amortized.get(account_id, Decimal(0)) + _amount(
                    metrics, "AmortizedCost", units
                )
        token = page.get("NextPageToken")
        if not token:
            break
        request = {**request, "NextPageToken": token}
    if len(units) > 1:
        raise UnexpectedCosts(f"Cost Explorer answered {month} in several currencies: {sorted(units)}")
    return CostAnswer(
        month=month,
        estimated=any(estimated),
        unit=next(iter(units), "USD"),
        lines=_lines(unblended, amortized, names),
        retrieved_at=retrieved_at,
        pages=pages,
    )


def _lines(
    unblended: dict[str, Decimal], amortized: dict[str, Decimal], names: dict[str, str]
) -> list[CostLine]:
    accounts: Iterable[str] = sorted(unblended)
    return [
        CostLine(
            account_id=account_id,
            unblended=unblended[account_id],
            amortized=amortized[account_id],
            name=names.get(account_id),
        )
        for account_id in accounts
    ]
