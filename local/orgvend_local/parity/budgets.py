"""AWS Budgets behaviour moto lacks that orgvend's budgets (orgvend.budgets) depend on.

moto keeps budgets and their notifications (with their subscribers), and answers CreateBudget,
DescribeBudget, DeleteBudget and CreateNotification as AWS does for what orgvend uses. It lacks
UpdateBudget (a limit changed, a budget kept), DescribeSubscribersForNotification and CreateSubscriber
(an alert's subscribers read and completed), makes the same notification twice, fails (500) when asked
for the notifications of a budget that does not exist, and answers DescribeBudgets in one page whatever
``MaxResults`` says. Each is taught AWS's behaviour here, on moto's own budgets backend.
"""

import base64
import binascii
import json
from collections.abc import Callable
from copy import deepcopy
from typing import TYPE_CHECKING, Any, cast

from moto.budgets.exceptions import DuplicateRecordException, NotFoundException
from moto.budgets.models import Budget, BudgetsBackend, Notification
from moto.budgets.responses import BudgetsResponse
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time

from orgvend_local.parity.patch import (
    Emulator,
    Patcher,
    declared,
    refusal,
    still,
    still_unimplemented,
    stock_moto,
)

if TYPE_CHECKING:
    from mypy_boto3_budgets.type_defs import BudgetTypeDef, NotificationTypeDef

CANARY_ACCOUNT = "123456789012"
# DescribeBudgets' MaxResults: 1 to 1,000 (the service model's MaxResultsDescribeBudgets), 100 by default.
DEFAULT_PAGE = 100
MAX_PAGE = 1000
# What tells one notification of a budget from another (AWS's API reference, Notification).
NOTIFICATION_KEY = ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")


def _key(details: dict[str, Any]) -> tuple[Any, ...]:
    return (
        details.get("NotificationType"),
        details.get("ComparisonOperator"),
        float(details.get("Threshold", 0)),
        details.get("ThresholdType", "PERCENTAGE"),
    )


def _budget(backend: BudgetsBackend, account_id: str, name: str, doing: str) -> Budget:
    budget = backend.budgets[account_id].get(name)
    if budget is None:
        raise NotFoundException(f"Unable to {doing} - the budget {name} doesn't exist.")
    return budget


def _notification(budget: Budget, details: dict[str, Any], doing: str) -> Notification:
    for notification in budget.notifications:
        if _key(notification.details) == _key(details):
            return notification
    raise NotFoundException(f"Unable to {doing} - the notification doesn't exist.")


def _subscriber_key(subscriber: dict[str, Any]) -> tuple[str, str]:
    address = str(subscriber.get("Address", ""))
    kind = str(subscriber.get("SubscriptionType", ""))
    return kind, address.lower() if kind == "EMAIL" else address


# -- UpdateBudget ----------------------------------------------------------------------------------


def update_budget(response: BudgetsResponse) -> str:
    """The budget replaced by ``NewBudget`` (its name, its notifications and its period kept); a budget
    that does not exist is NotFoundException."""
    account_id = response._get_param("AccountId")
    new = deepcopy(response._get_param("NewBudget"))
    budget = _budget(response.backend, account_id, new["BudgetName"], "update budget")
    new.setdefault("TimePeriod", budget.budget.get("TimePeriod"))
    new.pop("CalculatedSpend", None)  # Budgets computes it: it drops to zero until new usage data
    new["LastUpdatedTime"] = unix_time()
    budget.budget = new
    return json.dumps({})


def apply_update_budget(patcher: Patcher, _emulator: Emulator) -> None:
    patcher.replace(BudgetsResponse, "update_budget", update_budget)


def _canary_budget(budgets: Any, name: str = "canary") -> "BudgetTypeDef":
    budget: BudgetTypeDef = {
        "BudgetName": name,
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": "100.00", "Unit": "USD"},
    }
    budgets.create_budget(AccountId=CANARY_ACCOUNT, Budget=budget)
    return budget


CANARY_NOTIFICATION: "NotificationTypeDef" = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}


def canary_update_budget() -> None:
    with stock_moto() as session:
        budgets = session.client("budgets")
        budget = _canary_budget(budgets)
        still_unimplemented(
            lambda: budgets.update_budget(AccountId=CANARY_ACCOUNT, NewBudget=budget),
            "has not been implemented",
        )


UPDATE_BUDGET = declared("budgets-update-budget", apply=apply_update_budget, canary=canary_update_budget)


# -- an alert's subscribers ------------------------------------------------------------------------


def describe_subscribers_for_notification(response: BudgetsResponse) -> str:
    budget = _budget(
        response.backend,
        response._get_param("AccountId"),
        response._get_param("BudgetName"),
        "describe subscribers",
    )
    notification = _notification(budget, response._get_param("Notification"), "describe subscribers")
    return json.dumps({"Subscribers": list(notification.subscribers)})


def create_subscriber(response: BudgetsResponse) -> str:
    budget = _budget(
        response.backend,
        response._get_param("AccountId"),
        response._get_param("BudgetName"),
        "create subscriber",
    )
    notification = _notification(budget, response._get_param("Notification"), "create subscriber")
    subscriber = response._get_param("Subscriber")
    # moto declares a dict and keeps the list it was given.
    present: list[dict[str, Any]] = list(cast(list[dict[str, Any]], notification.subscribers))
    if any(_subscriber_key(each) == _subscriber_key(subscriber) for each in present):
        raise DuplicateRecordException(record_type="subscriber", record_name=str(subscriber.get("Address")))
    notification.subscribers = [*present, subscriber]
    return json.dumps({})


def apply_subscribers(patcher: Patcher, _emulator: Emulator) -> None:
    patcher.replace(
        BudgetsResponse, "describe_subscribers_for_notification", describe_subscribers_for_notification
    )
    patcher.replace(BudgetsResponse, "create_subscriber", create_subscriber)


def canary_subscribers() -> None:
    with stock_moto() as session:
        budgets = session.client("budgets")
        _canary_budget(budgets)
        budgets.create_notification(
            AccountId=CANARY_ACCOUNT,
            BudgetName="canary",
            Notification=CANARY_NOTIFICATION,
            Subscribers=[{"SubscriptionType": "EMAIL", "Address": "canary@example.com"}],
        )
        still_unimplemented(
            lambda: budgets.describe_subscribers_for_notification(
                AccountId=CANARY_ACCOUNT, BudgetName="canary", Notification=CANARY_NOTIFICATION
            ),
            "has not been implemented",
        )


SUBSCRIBERS = declared("budgets-subscribers", apply=apply_subscribers, canary=canary_subscribers)


# -- notifications: once each, and none of a budget that does not exist ---------------------------


def create_notification(original: Callable[..., None], backend: BudgetsBackend, **call: Any) -> None:
    """A notification the budget has already (the same type, operator, threshold) is
    DuplicateRecordException, as in AWS; the others are made by moto (which its responses call with
    keywords: account_id, budget_name, notification, subscribers)."""
    budget = _budget(backend, call["account_id"], call["budget_name"], "create notification")
    if any(_key(each.details) == _key(call["notification"]) for each in budget.notifications):
        raise DuplicateRecordException(record_type="notification", record_name=call["budget_name"])
    original(backend, **call)


def describe_notifications_for_budget(
    original: Callable[..., Any], backend: BudgetsBackend, **call: Any
) -> Any:
    _budget(backend, call["account_id"], call["budget_name"], "describe notifications")
    return original(backend, **call)


def apply_notifications_once(patcher: Patcher, _emulator: Emulator) -> None:
    patcher.around(BudgetsBackend, "create_notification")(create_notification)
    patcher.around(BudgetsBackend, "describe_notifications_for_budget")(describe_notifications_for_budget)


def canary_notifications_once() -> None:
    with stock_moto() as session:
        budgets = session.client("budgets")
        _canary_budget(budgets)

        def create() -> None:
            budgets.create_notification(
                AccountId=CANARY_ACCOUNT,
                BudgetName="canary",
                Notification=CANARY_NOTIFICATION,
                Subscribers=[{"SubscriptionType": "EMAIL", "Address": "canary@example.com"}],
            )

        create()
        again = refusal(create)  # AWS: DuplicateRecordException
        try:
            missing = refusal(
                lambda: budgets.describe_notifications_for_budget(AccountId=CANARY_ACCOUNT, BudgetName="none")
            )
        except KeyError:  # in-process moto's own failure (its server answers 500)
            missing = "KeyError"
        still(
            again is None or missing != "NotFoundException",
            f"the same notification made twice answered {again}, a missing budget's notifications {missing}",
        )


NOTIFICATIONS_ONCE = declared(
    "budgets-notifications-once", apply=apply_notifications_once, canary=canary_notifications_once
)


# -- DescribeBudgets' pages ------------------------------------------------------------------------


class InvalidNextTokenException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidNextTokenException", "The pagination token is invalid.")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidNextTokenException() from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidNextTokenException()
    return offset


def describe_budgets(response: BudgetsResponse) -> str:
    """Up to ``MaxResults`` budgets (100 by default), in the order they were made, and a ``NextToken``
    while more follow."""
    size = int(response._get_param("MaxResults") or DEFAULT_PAGE)
    if not 1 <= size <= MAX_PAGE:
        raise JsonRESTError("InvalidParameterException", f"MaxResults must be 1 to {MAX_PAGE}")
    offset = _offset(response._get_param("NextToken"))
    every = list(response.backend.describe_budgets(account_id=response._get_param("AccountId")))
    page: dict[str, Any] = {"Budgets": every[offset : offset + size]}
    if offset + size < len(every):
        page["NextToken"] = _token(offset + size)
    return json.dumps(page)


def apply_describe_budgets_pages(patcher: Patcher, _emulator: Emulator) -> None:
    patcher.replace(BudgetsResponse, "describe_budgets", describe_budgets)


def canary_describe_budgets_pages() -> None:
    with stock_moto() as session:
        budgets = session.client("budgets")
        _canary_budget(budgets, "canary-1")
        _canary_budget(budgets, "canary-2")
        page = budgets.describe_budgets(AccountId=CANARY_ACCOUNT, MaxResults=1)
        still(
            len(page["Budgets"]) == 2 and "NextToken" not in page,
            f"DescribeBudgets answered {len(page['Budgets'])} budget(s) for MaxResults 1",
        )


DESCRIBE_BUDGETS_PAGES = declared(
    "budgets-describe-budgets-pages",
    apply=apply_describe_budgets_pages,
    canary=canary_describe_budgets_pages,
)
