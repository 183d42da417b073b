"""The costs report: a month's Cost Explorer answer joined with the registry and the budgets.

Every account Cost Explorer reports is a row of one section, never dropped: ``accounts`` (registered and
managed for the month), ``offboarded`` (detached or closed before the month ended) or ``unknown`` (the
registry does not know it: the management account, accounts outside orgvend's scope). ``groups`` total
the rows by client, project or account within each section; ``totals`` each section and all three.
Amounts are ``Decimal`` from Cost Explorer's strings on: each row rounded to the cent, each total the
exact sum of its rows.

``CostReports`` makes a report from the cached answer when there is one (``orgvend.registry.costs``):
until a month is final its answer is kept an hour, a final month's for good; so a burst of reports, or
a report for every client, is one Cost Explorer query.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from orgvend import rules
from orgvend.clock import now
from orgvend.costs.budgets import budget_limits
from orgvend.costs.models import (
    TENTH,
    AccountOwner,
    CostAnswer,
    CostGroup,
    CostReport,
    CostRow,
    CostTotal,
    CostTotals,
    GroupBy,
    Section,
    cents,
    month_start,
    next_month,
)
from orgvend.costs.query import cost_and_usage

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_ce import CostExplorerClient

    from orgvend.registry.costs import CostAnswers

# How long an answer that may still change (estimated) is used before Cost Explorer is asked again.
ESTIMATED_ANSWER_KEPT = timedelta(hours=1)
# How long a report asking Cost Explorer holds the month's query, and how long another one waits for it.
QUERY_LEASE = timedelta(seconds=60)
QUERY_WAIT_SECONDS = 15.0
QUERY_POLL_SECONDS = 0.25
SECTION_ORDER = {Section.ACCOUNTS: 0, Section.OFFBOARDED: 1, Section.UNKNOWN: 2}


class InvalidMonth(ValueError):
    """The month is not YYYY-MM, or is in the future (the API answers 422 naming ``month``)."""


def month_end(month: str) -> datetime:
    """The first moment after the month (UTC)."""
    start = month_start(next_month(month))
    return datetime(start.year, start.month, 1, tzinfo=UTC)


def percent_used(cost: Decimal, limit: Decimal | None) -> Decimal | None:
    if limit is None or limit <= 0:
        return None
    return (cost * 100 / limit).quantize(TENTH, rounding=ROUND_HALF_UP)


def _rows(
    answer: CostAnswer, owners: dict[str, AccountOwner], limits: dict[str, Decimal], client: str | None
) -> list[CostRow]:
    end = month_end(answer.month)
    rows = []
    for line in answer.lines:
        owner = owners.get(line.account_id)
        unblended, amortized = cents(line.unblended), cents(line.amortized)
        if owner is None:
            if client:
                continue  # not the client's (nor anybody's the registry knows)
            rows.append(
                CostRow(
                    section=Section.UNKNOWN,
                    account_id=line.account_id,
                    account_name=line.name,
                    unblended_cost=unblended,
                    amortized_cost=amortized,
                )
            )
            continue
        if client and owner.client != client:
            continue
        limit = limits.get(line.account_id)
        rows.append(
            CostRow(
                section=owner.section(end),
                account_id=line.account_id,
                account_name=owner.account_name,
                client=owner.client,
                project=owner.project,
                status=owner.status,
                offboarded_at=owner.offboarded_at,
                unblended_cost=unblended,
                amortized_cost=amortized,
                budget_limit=cents(limit) if limit is not None else None,
                budget_percent_used=percent_used(unblended, limit),
            )
        )
    return sorted(
        rows,
        key=lambda row: (SECTION_ORDER[row.section], row.client or "", row.project or "", row.account_id),
    )


def _group_key(row: CostRow, group_by: GroupBy) -> tuple[str | None, ...]:
    if group_by == GroupBy.CLIENT:
        return (row.section, row.client)
    if group_by == GroupBy.PROJECT:
        return (row.section, row.client, row.project)
    return (row.section, row.account_id)


def group_rows(rows: Iterable[CostRow], group_by: GroupBy) -> list[CostGroup]:
    """The rows' totals per ``group_by`` within each section (each total the exact sum of its rows)."""
    grouped: dict[tuple[str | None, ...], list[CostRow]] = {}
    for row in rows:
        grouped.setdefault(_group_key(row, group_by), []).append(row)
    groups = []
    for members in grouped.values():
        first = members[0]
        groups.append(
            CostGroup(
                section=first.section,
                client=first.client,
                project=first.project if group_by != GroupBy.CLIENT else None,
                account_id=first.account_id if group_by == GroupBy.ACCOUNT else None,
                account_name=first.account_name if group_by == GroupBy.ACCOUNT else None,
                accounts=len(members),
                unblended_cost=sum((row.unblended_cost for row in members), Decimal("0.00")),
                amortized_cost=sum((row.amortized_cost for row in members), Decimal("0.00")),
            )
        )
    return sorted(
        groups,
        key=lambda group: (
            SECTION_ORDER[group.section],
            group.client or "",
            group.project or "",
            group.account_id or "",
        ),
    )


def total_of(rows: Iterable[CostRow]) -> CostTotal:
    members = list(rows)
    return CostTotal(
        accounts=len(members),
        unblended_cost=sum((row.unblended_cost for row in members), Decimal("0.00")),
        amortized_cost=sum((row.amortized_cost for row in members), Decimal("0.00")),
    )


def build_report(
    answer: CostAnswer,
    owners: Iterable[AccountOwner],
    limits: dict[str, Decimal],
    group_by: GroupBy = GroupBy.CLIENT,
    client: str | None = None,
) -> CostReport:
    """Join ``answer`` with the registry's ``owners`` and the budgets' ``limits``; with ``client``, only
    that client's accounts (its offboarded ones too; no unknown accounts)."""
    rows = _rows(answer, {owner.account_id: owner for owner in owners}, limits, client)
    by_section = {section: [row for row in rows if row.section == section] for section in Section}
    return CostReport(
        month=answer.month,
        estimated=answer.estimated,
        currency=answer.unit,
        group_by=group_by,
        client=client,
        retrieved_at=answer.retrieved_at,
        accounts=by_section[Section.ACCOUNTS],
        offboarded=by_section[Section.OFFBOARDED],
        unknown=by_section[Section.UNKNOWN],
        groups=group_rows(rows, group_by),
        totals=CostTotals(
            accounts=total_of(by_section[Section.ACCOUNTS]),
            offboarded=total_of(by_section[Section.OFFBOARDED]),
            unknown=total_of(by_section[Section.UNKNOWN]),
            all=total_of(rows),
        ),
    )


@dataclass
class CostReports:
    """Reports from Cost Explorer (through the registry's cache), the registry and Budgets."""

    ce: "CostExplorerClient"
    budgets: "BudgetsClient"
    registry: "CostAnswers"
    management_account_id: str
    sleep: Callable[[float], None] = field(default=time.sleep)

    def report(self, month: str, group_by: GroupBy = GroupBy.CLIENT, client: str | None = None) -> CostReport:
        """``month``'s report. Raises InvalidMonth, or query.CostsUnavailable when Cost Explorer has no
        costs for it."""
        problem = rules.month_problem(month)
        if problem:
            raise InvalidMonth(problem)
        answer = self.answer(month)
        if not answer.lines:
            return build_report(answer, [], {}, group_by, client)
        owners = list(self.registry.account_owners(client))
        limits = budget_limits(self.budgets, self.management_account_id)
        return build_report(answer, owners, limits, group_by, client)

    def answer(self, month: str) -> CostAnswer:
        """The month's Cost Explorer answer: the kept one while it is good, else one query (kept then).

        Reports that find no answer at once let one of them ask: the others wait for its answer (at most
        QUERY_WAIT_SECONDS, then ask themselves), so a burst is one query."""
        deadline = time.monotonic() + QUERY_WAIT_SECONDS
        while True:
            at = now()
            kept = self.registry.cost_answer(month, at)
            if kept is not None:
                return kept
            if self.registry.claim_cost_query(month, at + QUERY_LEASE, at) or time.monotonic() >= deadline:
                break
            self.sleep(QUERY_POLL_SECONDS)
        try:
            answer = cost_and_usage(self.ce, month, retrieved_at=now())
            self.registry.save_cost_answer(
                answer, None if answer.final else answer.retrieved_at + ESTIMATED_ANSWER_KEPT
            )
        finally:
            self.registry.release_cost_query(month, now())
        return answer
