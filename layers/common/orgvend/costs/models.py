"""The costs report's shapes: Cost Explorer's answer as orgvend keeps it, and the report made of it.

Money is ``Decimal`` from Cost Explorer's ``Amount`` strings to the JSON, which carries it as a string
("123.45"), never as a float. Each account's amounts are Cost Explorer's rounded to the cent (half up),
and every total is the exact sum of those rounded rows: what a report lists adds up on paper.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, PlainSerializer

from orgvend.models import AccountStatus, Model

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to the cent, half up (never ``-0.00``)."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def plain(amount: Decimal) -> str:
    """A Decimal as the digits it holds, never in exponent form ("100.00", "-3.50", "0.00")."""
    return format(amount, "f")


def money(amount: Decimal) -> str:
    """An amount for people: thousands separated, two decimals ("1,234.50", "-3.00")."""
    return f"{amount:,.2f}"


# An amount of money in the report's currency (USD), as a string in JSON.
Money = Annotated[
    Decimal,
    PlainSerializer(plain, return_type=str, when_used="json"),
    Field(json_schema_extra={"format": "decimal"}),
]

# A percentage (one decimal), as a string in JSON.
Percent = Annotated[Decimal, PlainSerializer(plain, return_type=str, when_used="json")]


class GroupBy(StrEnum):
    """What the report's ``groups`` total: each client, each project of a client, or each account."""

    CLIENT = "client"
    PROJECT = "project"
    ACCOUNT = "account"


class Section(StrEnum):
    """Where an account Cost Explorer reported goes: never dropped."""

    ACCOUNTS = "accounts"  # registered, and managed by orgvend for the month (or part of it)
    OFFBOARDED = "offboarded"  # detached or closed (closing) by the end of the month
    UNKNOWN = "unknown"  # Cost Explorer knows it, the registry does not (the management account, others)


OFFBOARDED_STATUSES = frozenset({AccountStatus.DETACHED, AccountStatus.CLOSED, AccountStatus.CLOSING})


# --------------------------------------------------------------------------- Cost Explorer's answer


class CostLine(Model):
    """One account's month as Cost Explorer answered it (its Amount strings, exact)."""

    account_id: str
    unblended: Decimal
    amortized: Decimal
    name: str | None = Field(default=None, description="The account's name, as Cost Explorer knows it.")


class CostAnswer(Model):
    """A month's Cost Explorer answer, before the join: what the registry keeps (``COSTS#<month>``)."""

    month: str
    estimated: bool = Field(description="Cost Explorer's Estimated: the month's figures may still change.")
    unit: str = "USD"
    lines: list[CostLine] = Field(default_factory=list)
    retrieved_at: datetime
    pages: int = Field(ge=0, description="GetCostAndUsage pages (requests) that made the answer.")

    @property
    def final(self) -> bool:
        """Cost Explorer said the month is no longer estimated (an empty answer says nothing: not final)."""
        return bool(self.lines) and not self.estimated


class AccountOwner(Model):
    """What the report needs of a registry entry."""

    account_id: str
    account_name: str
    client: str
    project: str
    status: AccountStatus
    offboarded_at: datetime | None = None

    def section(self, month_end: datetime) -> Section:
        """Offboarded when it left (or began to close) before the month ended; otherwise one of the
        client's accounts for that month, whatever it became since."""
        if self.status in OFFBOARDED_STATUSES and (
            self.offboarded_at is None or self.offboarded_at < month_end
        ):
            return Section.OFFBOARDED
        return Section.ACCOUNTS


# --------------------------------------------------------------------------- the report


class CostRow(Model):
    """One account of the month."""

    section: Section
    account_id: str
    account_name: str | None = None
    client: str | None = None
    project: str | None = None
    status: AccountStatus | None = Field(default=None, description="Its registry status now.")
    offboarded_at: datetime | None = None
    unblended_cost: Money
    amortized_cost: Money
    budget_limit: Money | None = Field(
        default=None, description="Its monthly budget (Budgets, orgvend-<accountId>); null: none."
    )
    budget_percent_used: Percent | None = Field(
        default=None, description="Unblended cost over the budget limit, in percent (one decimal)."
    )


class CostGroup(Model):
    """The total of some rows of one section: a client's, a project's or an account's."""

    section: Section
    client: str | None = None
    project: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    accounts: int = Field(ge=0, description="How many accounts (rows) the group adds up.")
    unblended_cost: Money
    amortized_cost: Money


class CostTotal(Model):
    accounts: int = Field(ge=0)
    unblended_cost: Money
    amortized_cost: Money


class CostTotals(Model):
    """Each section's total, and ``all``: the three together (what the report lists)."""

    accounts: CostTotal
    offboarded: CostTotal
    unknown: CostTotal
    all: CostTotal


class CostReport(Model):
    """GET /costs: one month's costs per account, joined with the registry, with totals per group."""

    month: str
    estimated: bool = Field(
        description="As Cost Explorer says: true while the month's figures may still change."
    )
    currency: str = "USD"
    group_by: GroupBy
    client: str | None = Field(default=None, description="The client filter (no unknown accounts then).")
    retrieved_at: datetime = Field(
        description="When Cost Explorer gave these figures (the answer is cached)."
    )
    accounts: list[CostRow] = Field(default_factory=list)
    offboarded: list[CostRow] = Field(default_factory=list)
    unknown: list[CostRow] = Field(default_factory=list)
    groups: list[CostGroup] = Field(default_factory=list)
    totals: CostTotals

    def rows(self) -> list[CostRow]:
        """Every row, section by section."""
        return [*self.accounts, *self.offboarded, *self.unknown]


# --------------------------------------------------------------------------- months


def month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def next_month(month: str) -> str:
    start = month_start(month)
    return f"{start.year + start.month // 12:04d}-{start.month % 12 + 1:02d}"


def previous_month(today: date) -> str:
    """The month before ``today``'s (what the scheduled report is about)."""
    return f"{today.year - (today.month == 1):04d}-{(today.month - 2) % 12 + 1:02d}"
