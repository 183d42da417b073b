"""Each managed account's monthly cost budget, kept from the management account (AWS Budgets).

One budget per account, named after it (``orgvend-<accountId>``: whoever knows the account finds its
budget again, and IAM holds orgvend's grants to that prefix): a COST budget, MONTHLY, for the linked
account only (``CostFilters: {"LinkedAccount": [accountId]}``), its limit in US dollars. Two alerts, each
mailed to the client's contact (EMAIL) and sent to the operators' topic (SNS): at 80 % of the actual
cost, and at 100 % of the forecast.

Every change is idempotent, so that a retried step, a redrive or a second reconciliation makes nothing
twice: a budget that exists is kept (its limit set only when it differs), an alert or a subscriber that
exists is not made again, and a budget already gone counts as deleted. orgvend never removes an alert or
a subscriber it finds beside its own (someone added it on purpose).

Budgets' throttling, past botocore's own retries, is ``BudgetsBusy`` (the workflow retries it); a refusal
(access denied, a quota, a bad parameter) is ``BudgetFailed``, which retrying cannot fix.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

from botocore.exceptions import ClientError

from orgvend import aws, rules
from orgvend.aws import error_code
from orgvend.errors import BudgetFailed, BudgetsBusy
from orgvend.models import BudgetSource
from orgvend.observability import logger
from orgvend.registry.budgets import ClientBudgets
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_budgets.type_defs import (
        BudgetOutputTypeDef,
        BudgetTypeDef,
        DescribeBudgetsRequestTypeDef,
        NotificationTypeDef,
        SubscriberTypeDef,
    )

PREFIX: Final = "orgvend-"
# Budgets' own limit of DescribeBudgets' page (MaxResults 1 to 1000); its default is 100.
PAGE_SIZE: Final = 1000
# Budgets answers these when it is busy, not when it refuses: the workflow retries them.
BUSY: Final = frozenset({"ThrottlingException", "InternalErrorException"})


def budget_name(account_id: str) -> str:
    """The account's budget: always found again from the account ID."""
    return f"{PREFIX}{account_id}"


def account_of(name: str) -> str | None:
    """The account an orgvend budget is for; None for a budget orgvend does not keep."""
    account_id = name.removeprefix(PREFIX)
    return account_id if name.startswith(PREFIX) and rules.ACCOUNT_ID_PATTERN.fullmatch(account_id) else None


@dataclass(frozen=True)
class Alert:
    """One of the budget's notifications: a percentage of the limit, of the actual cost or the forecast."""

    kind: Literal["ACTUAL", "FORECASTED"]
    percent: int

    def notification(self) -> "NotificationTypeDef":
        return {
            "NotificationType": self.kind,
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": float(self.percent),
            "ThresholdType": "PERCENTAGE",
        }

    def matches(self, notification: "NotificationTypeDef") -> bool:
        return (
            notification.get("NotificationType") == self.kind
            and notification.get("ComparisonOperator") == "GREATER_THAN"
            and float(notification.get("Threshold", -1)) == float(self.percent)
            and notification.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE"
        )


ALERTS: Final = (Alert("ACTUAL", 80), Alert("FORECASTED", 100))


@dataclass(frozen=True)
class BudgetTarget:
    """Where the budgets are kept (the management account, Budgets' ``AccountId``) and who hears of them."""

    budgets: "BudgetsClient"
    owner_account_id: str
    topic_arn: str


def budget_target(settings: Settings) -> BudgetTarget:
    """The Budgets client, and the management account that owns orgvend's budgets (where the function runs,
    or behind the management role in a hub deployment)."""
    owner = aws.management_account_id()
    return BudgetTarget(aws.client("budgets"), owner, settings.operator_topic_arn)


@dataclass(frozen=True)
class BudgetUpkeep:
    """What keeping the fleet's budgets takes (the reconciliation): where they are, and the stack's default
    for an account that records no limit (one onboarded before orgvend kept budgets)."""

    target: BudgetTarget
    stack_default: Decimal


@dataclass(frozen=True)
class Kept:
    """What keeping a budget did: made it, or changed its limit or alerts (neither: it was as wanted)."""

    created: bool
    changed: bool


def budget_limit(
    clients: ClientBudgets,
    client: str,
    *,
    requested: Decimal | None,
    recorded: Decimal | None,
    stack_default: Decimal,
) -> tuple[Decimal, BudgetSource]:
    """An account's limit and where it comes from: the request's, else the one its entry records (an
    account adopted again keeps its own), else its client's default (the registry), else the stack's."""
    if requested is not None:
        return requested, "request"
    if recorded is not None:
        return recorded, "account"
    client_default = clients.get_client_budget(client)
    if client_default is not None:
        return client_default, "client"
    return stack_default, "stack"


@contextmanager
def _answered(what: str, *, passing: frozenset[str] = frozenset()) -> Iterator[None]:
    """Budgets' errors as the workflow sees them: busy (retried) or refused (the run stops, named). The
    codes in ``passing`` are the caller's to handle (a budget not found, made already): raised as they are."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in passing:
            raise
        if code in BUSY:
            raise BudgetsBusy(f"{what}: Budgets is busy ({code})") from None
        message = str(error.response.get("Error", {}).get("Message", "")).strip()
        raise BudgetFailed(f"{what}: Budgets refused it ({code}: {message})") from None


NOT_FOUND: Final = frozenset({"NotFoundException"})
EXISTS: Final = frozenset({"DuplicateRecordException"})


def _budget(account_id: str, limit: Decimal) -> "BudgetTypeDef":
    return {
        "BudgetName": budget_name(account_id),
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": f"{limit:.2f}", "Unit": "USD"},
        "CostFilters": {"LinkedAccount": [account_id]},
    }


def _as_wanted(budget: "BudgetOutputTypeDef", wanted: "BudgetTypeDef") -> bool:
    """Whether a budget read back is the one orgvend keeps: its limit, type, period and account."""
    limit = budget.get("BudgetLimit", {})
    return (
        Decimal(limit.get("Amount", "0")) == Decimal(wanted["BudgetLimit"]["Amount"])
        and limit.get("Unit") == "USD"
        and budget["BudgetType"] == wanted["BudgetType"]
        and budget["TimeUnit"] == wanted["TimeUnit"]
        and budget.get("CostFilters") == {"LinkedAccount": [*wanted["CostFilters"]["LinkedAccount"]]}
    )


def _subscribers(target: BudgetTarget, alert_email: str) -> list["SubscriberTypeDef"]:
    return [
        {"SubscriptionType": "EMAIL", "Address": alert_email},
        {"SubscriptionType": "SNS", "Address": target.topic_arn},
    ]


def _same_subscriber(one: "SubscriberTypeDef", other: "SubscriberTypeDef") -> bool:
    if one["SubscriptionType"] != other["SubscriptionType"]:
        return False
    if one["SubscriptionType"] == "EMAIL":
        return one["Address"].lower() == other["Address"].lower()
    return one["Address"] == other["Address"]


def ensure_budget(
    target: BudgetTarget,
    account_id: str,
    limit: Decimal,
    alert_email: str,
    *,
    exists: bool | None = None,
) -> Kept:
    """The account's budget with this limit and both alerts to both subscribers: what is missing is made,
    a budget that differs is set as orgvend keeps it, nothing is made twice. ``exists``: False when the
    caller knows it is missing (from a listing), to create it at once; None reads it first."""
    name = budget_name(account_id)
    wanted = _budget(account_id, limit)
    subscribers = _subscribers(target, alert_email)
    current = None if exists is False else read_budget(target, account_id)
    if current is None:
        try:
            with _answered(f"creating budget {name}", passing=EXISTS):
                target.budgets.create_budget(
                    AccountId=target.owner_account_id,
                    Budget=wanted,
                    NotificationsWithSubscribers=[
                        {"Notification": alert.notification(), "Subscribers": subscribers} for alert in ALERTS
                    ],
                )
        except ClientError:  # made meanwhile, or by an attempt whose answer was lost: kept as below
            current = read_budget(target, account_id)
            if current is None:
                raise BudgetFailed(f"creating budget {name}: Budgets says it exists, and has none") from None
        else:
            logger.info("Budget created", extra={"budget": name, "limitUsd": str(limit)})
            return Kept(created=True, changed=False)
    changed = False
    if not _as_wanted(current, wanted):
        with _answered(f"setting budget {name}"):
            target.budgets.update_budget(AccountId=target.owner_account_id, NewBudget=wanted)
        changed = True
    changed = _ensure_alerts(target, name, subscribers) or changed
    logger.info("Budget kept", extra={"budget": name, "limitUsd": str(limit), "changed": changed})
    return Kept(created=False, changed=changed)


def read_budget(target: BudgetTarget, account_id: str) -> "BudgetOutputTypeDef | None":
    """The account's budget as Budgets has it; None when there is none."""
    name = budget_name(account_id)
    try:
        with _answered(f"reading budget {name}", passing=NOT_FOUND):
            return target.budgets.describe_budget(AccountId=target.owner_account_id, BudgetName=name)[
                "Budget"
            ]
    except ClientError:
        return None


def limit_of(budget: "BudgetOutputTypeDef") -> Decimal:
    """A budget's limit in US dollars."""
    return Decimal(budget.get("BudgetLimit", {}).get("Amount", "0"))


def _ensure_alerts(target: BudgetTarget, name: str, subscribers: list["SubscriberTypeDef"]) -> bool:
    """Both alerts on the budget, each with both subscribers; True when something was added."""
    try:
        with _answered(f"reading the alerts of budget {name}", passing=NOT_FOUND):
            notifications = [
                notification
                for page in target.budgets.get_paginator("describe_notifications_for_budget").paginate(
                    AccountId=target.owner_account_id, BudgetName=name
                )
                for notification in page.get("Notifications", [])
            ]
    except ClientError:  # the budget was just read: Budgets' way of saying it has no alert
        notifications = []
    added = False
    for alert in ALERTS:
        found = next((each for each in notifications if alert.matches(each)), None)
        if found is not None:
            added = _ensure_subscribers(target, name, found, subscribers) or added
            continue
        try:
            with _answered(
                f"adding the {alert.percent} % {alert.kind.lower()} alert to budget {name}", passing=EXISTS
            ):
                target.budgets.create_notification(
                    AccountId=target.owner_account_id,
                    BudgetName=name,
                    Notification=alert.notification(),
                    Subscribers=subscribers,
                )
        except ClientError:
            continue  # made meanwhile
        added = True
    return added


def _ensure_subscribers(
    target: BudgetTarget,
    name: str,
    notification: "NotificationTypeDef",
    subscribers: list["SubscriberTypeDef"],
) -> bool:
    try:
        with _answered(f"reading the subscribers of an alert of budget {name}", passing=NOT_FOUND):
            present = [
                subscriber
                for page in target.budgets.get_paginator("describe_subscribers_for_notification").paginate(
                    AccountId=target.owner_account_id, BudgetName=name, Notification=notification
                )
                for subscriber in page.get("Subscribers", [])
            ]
    except ClientError:  # the alert was just listed: Budgets' way of saying it has no subscriber
        present = []
    added = False
    for subscriber in subscribers:
        if any(_same_subscriber(subscriber, each) for each in present):
            continue
        try:
            with _answered(f"adding a subscriber to an alert of budget {name}", passing=EXISTS):
                target.budgets.create_subscriber(
                    AccountId=target.owner_account_id,
                    BudgetName=name,
                    Notification=notification,
                    Subscriber=subscriber,
                )
        except ClientError:
            continue  # made meanwhile
        added = True
    return added


def delete_budget(target: BudgetTarget, account_id: str) -> bool:
    """The account's budget deleted (its alerts with it); False when it was gone already."""
    name = budget_name(account_id)
    try:
        with _answered(f"deleting budget {name}", passing=NOT_FOUND):
            target.budgets.delete_budget(AccountId=target.owner_account_id, BudgetName=name)
    except ClientError:
        logger.info("Budget already gone", extra={"budget": name})
        return False
    logger.info("Budget deleted", extra={"budget": name})
    return True


def budget_limits(target: BudgetTarget) -> dict[str, Decimal]:
    """The limit of every budget orgvend keeps, by account ID: one DescribeBudgets call per page of up to
    1,000 budgets, never one call per account."""
    found: dict[str, Decimal] = {}
    arguments: DescribeBudgetsRequestTypeDef = {
        "AccountId": target.owner_account_id,
        "MaxResults": PAGE_SIZE,
    }
    while True:
        with _answered("listing the budgets"):
            page = target.budgets.describe_budgets(**arguments)
        for budget in page.get("Budgets", []):
            account_id = account_of(budget["BudgetName"])
            if account_id is not None:
                found[account_id] = limit_of(budget)
        if not page.get("NextToken"):
            return found
        arguments["NextToken"] = page["NextToken"]
