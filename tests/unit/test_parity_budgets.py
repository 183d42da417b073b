"""The embedded AWS's Budgets (parity patches ``budgets-*``), through boto3 on in-process moto: each as the
AWS Budgets API reference says (UpdateBudget, CreateSubscriber, DescribeSubscribersForNotification,
CreateNotification, DescribeBudgets)."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from orgvend_local.parity import applied

from .parity_support import StandaloneEmulator

ACCOUNT = "123456789012"
PATCHES = (
    "budgets-update-budget",
    "budgets-subscribers",
    "budgets-notifications-once",
    "budgets-describe-budgets-pages",
)
ALERT = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}
EMAIL = {"SubscriptionType": "EMAIL", "Address": "ops@example.com"}


@pytest.fixture
def budgets() -> Iterator[Any]:
    with mock_aws(), applied(StandaloneEmulator(), *PATCHES):
        yield boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        ).client("budgets")


def budget(name: str = "b", amount: str = "100.00") -> dict[str, Any]:
    return {
        "BudgetName": name,
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "CostFilters": {"LinkedAccount": ["111111111111"]},
    }


def code_of(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_update_budget_replaces_the_limit_and_keeps_the_alerts(budgets: Any) -> None:
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=budget(),
        NotificationsWithSubscribers=[{"Notification": ALERT, "Subscribers": [EMAIL]}],
    )
    budgets.update_budget(AccountId=ACCOUNT, NewBudget=budget(amount="250.00"))

    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="b")["Budget"]
    assert described["BudgetLimit"] == {"Amount": "250.00", "Unit": "USD"}
    assert described["CostFilters"] == {"LinkedAccount": ["111111111111"]}
    assert "TimePeriod" in described
    assert (
        len(budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="b")["Notifications"])
        == 1
    )


def test_update_budget_of_a_budget_that_does_not_exist_is_not_found(budgets: Any) -> None:
    assert (
        code_of(lambda: budgets.update_budget(AccountId=ACCOUNT, NewBudget=budget())) == "NotFoundException"
    )


def test_an_alerts_subscribers_are_listed_and_added_once(budgets: Any) -> None:
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=budget(),
        NotificationsWithSubscribers=[{"Notification": ALERT, "Subscribers": [EMAIL]}],
    )
    topic = {"SubscriptionType": "SNS", "Address": "arn:aws:sns:us-east-1:123456789012:ops"}

    def subscribers() -> list[dict[str, str]]:
        return list(
            budgets.describe_subscribers_for_notification(
                AccountId=ACCOUNT, BudgetName="b", Notification=ALERT
            )["Subscribers"]
        )

    assert subscribers() == [EMAIL]
    budgets.create_subscriber(AccountId=ACCOUNT, BudgetName="b", Notification=ALERT, Subscriber=topic)
    assert subscribers() == [EMAIL, topic]
    again = {**EMAIL, "Address": "OPS@example.com"}  # an email address is one whatever its case
    assert (
        code_of(
            lambda: budgets.create_subscriber(
                AccountId=ACCOUNT, BudgetName="b", Notification=ALERT, Subscriber=again
            )
        )
        == "DuplicateRecordException"
    )
    other_alert = {**ALERT, "Threshold": 100.0}
    assert (
        code_of(
            lambda: budgets.describe_subscribers_for_notification(
                AccountId=ACCOUNT, BudgetName="b", Notification=other_alert
            )
        )
        == "NotFoundException"
    )
    assert (
        code_of(
            lambda: budgets.create_subscriber(
                AccountId=ACCOUNT, BudgetName="none", Notification=ALERT, Subscriber=topic
            )
        )
        == "NotFoundException"
    )


def test_the_same_alert_is_made_once_and_a_missing_budget_has_none(budgets: Any) -> None:
    budgets.create_budget(AccountId=ACCOUNT, Budget=budget())
    budgets.create_notification(AccountId=ACCOUNT, BudgetName="b", Notification=ALERT, Subscribers=[EMAIL])
    assert (
        code_of(
            lambda: budgets.create_notification(
                AccountId=ACCOUNT,
                BudgetName="b",
                Notification={**ALERT, "Threshold": 80},
                Subscribers=[EMAIL],
            )
        )
        == "DuplicateRecordException"
    )
    budgets.create_notification(
        AccountId=ACCOUNT,
        BudgetName="b",
        Notification={**ALERT, "NotificationType": "FORECASTED", "Threshold": 100.0},
        Subscribers=[EMAIL],
    )
    assert (
        len(budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="b")["Notifications"])
        == 2
    )
    assert (
        code_of(lambda: budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="none"))
        == "NotFoundException"
    )


def test_describe_budgets_answers_pages_of_max_results(budgets: Any) -> None:
    for index in range(5):
        budgets.create_budget(AccountId=ACCOUNT, Budget=budget(f"b{index}"))

    names, token, pages = [], None, 0
    while True:
        page = budgets.describe_budgets(
            AccountId=ACCOUNT, MaxResults=2, **({"NextToken": token} if token else {})
        )
        pages += 1
        names += [each["BudgetName"] for each in page["Budgets"]]
        token = page.get("NextToken")
        if not token:
            break
    assert (names, pages) == ([f"b{index}" for index in range(5)], 3)
    assert len(budgets.describe_budgets(AccountId=ACCOUNT)["Budgets"]) == 5  # 100 by default
    assert (
        code_of(lambda: budgets.describe_budgets(AccountId=ACCOUNT, NextToken="not-one-it-gave"))
        == "InvalidNextTokenException"
    )
