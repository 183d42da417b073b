"""Budgets end to end: every account orgvend onboards gets its monthly cost budget (orgvend-<accountId>)
with two alerts to the client's contact and the operators' topic; its limit changes through the API and
the CLI, offboarding deletes it, the reconciliation makes it again and reports a limit changed by hand.
The real workflows, handlers and API, on the embedded AWS's Budgets (moto, with the budgets-* patches)."""

import io
import json
from decimal import Decimal
from typing import Any

import pytest

from orgvend_cli.main import main

from .conftest import FaultInjector, Harness, request_for
from .test_api import call, finished, onboard
from .test_events import account_requested, handled
from .test_offboarding import offboard, offboarding_finished

pytestmark = pytest.mark.e2e

MANAGEMENT_ACCOUNT_ID = "123456789012"  # the embedded organization's management account: the budgets' owner
STACK_DEFAULT = Decimal(100)  # template.yaml's DefaultMonthlyBudgetUsd (samconfig's local keeps it)


def budget_of(embedded: Harness, account_id: str) -> dict[str, Any] | None:
    budgets = embedded.client("budgets")
    try:
        return dict(
            budgets.describe_budget(AccountId=MANAGEMENT_ACCOUNT_ID, BudgetName=f"orgvend-{account_id}")[
                "Budget"
            ]
        )
    except budgets.exceptions.NotFoundException:
        return None


def limit_of(embedded: Harness, account_id: str) -> Decimal:
    budget = budget_of(embedded, account_id)
    assert budget is not None, f"account {account_id} has no budget"
    assert budget["BudgetLimit"]["Unit"] == "USD"
    return Decimal(budget["BudgetLimit"]["Amount"])


def alerts_of(embedded: Harness, account_id: str) -> dict[tuple[str, str, float], list[tuple[str, str]]]:
    """Each alert (type, operator, threshold %) and its subscribers, as Budgets lists them."""
    budgets = embedded.client("budgets")
    name = f"orgvend-{account_id}"
    found = {}
    for notification in budgets.describe_notifications_for_budget(
        AccountId=MANAGEMENT_ACCOUNT_ID, BudgetName=name
    )["Notifications"]:
        assert notification["ThresholdType"] == "PERCENTAGE"
        subscribers = budgets.describe_subscribers_for_notification(
            AccountId=MANAGEMENT_ACCOUNT_ID, BudgetName=name, Notification=notification
        )["Subscribers"]
        key = (
            notification["NotificationType"],
            notification["ComparisonOperator"],
            notification["Threshold"],
        )
        assert key not in found, f"alert {key} twice"
        found[key] = sorted((each["SubscriptionType"], each["Address"]) for each in subscribers)
    return found


def both_alerts(embedded: Harness, email: str) -> dict[tuple[str, str, float], list[tuple[str, str]]]:
    subscribers = sorted([("EMAIL", email), ("SNS", embedded.outputs["OperatorTopicArn"])])
    return {
        ("ACTUAL", "GREATER_THAN", 80.0): subscribers,
        ("FORECASTED", "GREATER_THAN", 100.0): subscribers,
    }


def onboarded(embedded: Harness, unique: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    onboarding = finished(embedded, onboard(embedded, request_for(unique, **overrides)))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    return str(onboarding["accountId"]), onboarding


def test_onboarding_creates_the_budget_with_the_requested_limit_and_both_alerts(
    embedded: Harness, unique: str
) -> None:
    account_id, onboarding = onboarded(
        embedded, unique, monthlyBudgetUsd=249.5, budgetAlertEmail=f"finance+{unique}@acme.example"
    )

    budget = budget_of(embedded, account_id)
    assert budget is not None
    assert (budget["BudgetType"], budget["TimeUnit"]) == ("COST", "MONTHLY")
    assert budget["CostFilters"] == {"LinkedAccount": [account_id]}
    assert limit_of(embedded, account_id) == Decimal("249.5")
    assert alerts_of(embedded, account_id) == both_alerts(embedded, f"finance+{unique}@acme.example")
    steps = [step["name"] for step in onboarding["timeline"]]
    assert steps[steps.index("SetBillingPreferences") + 1 : steps.index("RegisterAccount")] == [
        "CreateBudget"
    ]
    # The entry records the limit (and whom the alerts go to), and the API shows it.
    item = embedded.account_item(account_id)
    assert item is not None and item["monthlyBudgetUsd"] == Decimal("249.5")
    assert item["budgetAlertEmail"] == f"finance+{unique}@acme.example"
    status, account = call(embedded, "GET", f"/accounts/{account_id}")
    assert status == 200 and account["monthlyBudgetUsd"] == 249.5


def test_the_clients_default_applies_when_none_is_requested(embedded: Harness, unique: str) -> None:
    client = f"c{unique}"
    status, before = call(embedded, "GET", f"/clients/{client}/budget")
    assert status == 200 and before == {"client": client, "monthlyBudgetUsd": 100, "source": "stack"}
    status, body = call(embedded, "PUT", f"/clients/{client}/budget", {"monthlyBudgetUsd": 75.25})
    assert status == 200 and body == {"client": client, "monthlyBudgetUsd": 75.25, "source": "client"}
    assert call(embedded, "GET", f"/clients/{client}/budget")[1]["source"] == "client"

    account_id, _ = onboarded(embedded, unique)

    assert limit_of(embedded, account_id) == Decimal("75.25")
    request = request_for(unique)
    assert alerts_of(embedded, account_id) == both_alerts(
        embedded, request["email"]
    )  # no alert email: the account's
    other, _ = onboarded(embedded, f"{unique}o")  # a client with no default of its own: the stack's
    assert limit_of(embedded, other) == STACK_DEFAULT


def test_the_client_default_is_refused_naming_the_field(embedded: Harness, unique: str) -> None:
    for body in ({"monthlyBudgetUsd": 0}, {"monthlyBudgetUsd": 1.234}, {"monthlyBudgetUsd": "75"}, {}):
        status, answer = call(embedded, "PUT", f"/clients/c{unique}/budget", body)
        assert status == 422, (body, answer)
        assert answer["error"]["field"] == "monthlyBudgetUsd", (body, answer)
    assert call(embedded, "PUT", "/clients/Not A Slug/budget", {"monthlyBudgetUsd": 5})[0] in (403, 422)


def test_patch_changes_the_limit(embedded: Harness, unique: str) -> None:
    account_id, _ = onboarded(embedded, unique, monthlyBudgetUsd=100)

    status, account = call(embedded, "PATCH", f"/accounts/{account_id}", {"monthlyBudgetUsd": 250})

    assert status == 200, account
    assert account["accountId"] == account_id and account["monthlyBudgetUsd"] == 250
    assert limit_of(embedded, account_id) == Decimal(250)
    assert (embedded.account_item(account_id) or {})["monthlyBudgetUsd"] == Decimal(250)
    assert alerts_of(embedded, account_id) == both_alerts(
        embedded, request_for(unique)["email"]
    )  # kept, once each
    # The same change again changes nothing.
    assert call(embedded, "PATCH", f"/accounts/{account_id}", {"monthlyBudgetUsd": 250})[0] == 200
    assert limit_of(embedded, account_id) == Decimal(250)


@pytest.mark.parametrize(
    "body",
    [
        {"monthlyBudgetUsd": 0},
        {"monthlyBudgetUsd": -3},
        {"monthlyBudgetUsd": 10.001},
        {"monthlyBudgetUsd": 2e6},
        {},
    ],
    ids=["zero", "negative", "mills", "too-much", "missing"],
)
def test_patch_names_the_field_of_a_limit_orgvend_does_not_set(
    embedded: Harness, body: dict[str, Any]
) -> None:
    status, answer = call(embedded, "PATCH", "/accounts/123456789012", body)
    assert status == 422, answer
    assert answer["error"]["field"] == "monthlyBudgetUsd", answer


def test_patch_of_an_unknown_account_is_not_found(embedded: Harness) -> None:
    status, answer = call(embedded, "PATCH", "/accounts/999999999999", {"monthlyBudgetUsd": 10})
    assert status == 404 and answer["error"]["field"] == "accountId", answer


def test_orgvend_budget_set_and_default(
    embedded: Harness, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = embedded.outputs["ApiUrl"]
    account_id, _ = onboarded(embedded, unique)
    out, err = io.StringIO(), io.StringIO()

    code = main(["--api-url", api, "budget", "set", account_id, "320.40"], stdout=out, stderr=err)

    assert code == 0, err.getvalue()
    assert f"{account_id}" in out.getvalue() and "320.40 USD" in out.getvalue()
    assert limit_of(embedded, account_id) == Decimal("320.4")
    out = io.StringIO()
    assert (
        main(["--api-url", api, "--format", "json", "budget", "default", f"c{unique}", "60"], stdout=out) == 0
    )
    assert json.loads(out.getvalue()) == {"client": f"c{unique}", "monthlyBudgetUsd": 60, "source": "client"}
    # Checked before anything is sent, with the server's own rule (argparse says why on standard error).
    capsys.readouterr()
    assert main(["--api-url", api, "budget", "set", account_id, "0"], stdout=io.StringIO()) == 2
    assert "USD: must be more than 0" in capsys.readouterr().err
    assert limit_of(embedded, account_id) == Decimal("320.4")
    err = io.StringIO()
    assert (
        main(["--api-url", api, "budget", "set", "999999999999", "5"], stdout=io.StringIO(), stderr=err) == 1
    )
    assert "NotFound" in err.getvalue()


def test_offboarding_deletes_the_budget(embedded: Harness, unique: str) -> None:
    account_id, _ = onboarded(embedded, unique)
    assert budget_of(embedded, account_id) is not None

    offboarding = offboarding_finished(embedded, offboard(embedded, account_id, "close"))

    assert offboarding["status"] == "SUCCEEDED", offboarding
    steps = [step["name"] for step in offboarding["timeline"]]
    assert steps[-3:] == ["DeleteBudget", "FinishOffboarding", "NotifyOffboarded"]
    assert budget_of(embedded, account_id) is None
    # A CLOSED account's budget is not changed (nor made again): its entry keeps the limit it had.
    status, answer = call(embedded, "PATCH", f"/accounts/{account_id}", {"monthlyBudgetUsd": 20})
    assert status == 409 and answer["error"]["code"] == "AccountNotActive", answer
    assert budget_of(embedded, account_id) is None
    assert (embedded.account_item(account_id) or {})["monthlyBudgetUsd"] == STACK_DEFAULT


def test_reconciliation_recreates_a_deleted_budget_and_reports_a_changed_limit(
    embedded: Harness, unique: str
) -> None:
    deleted, _ = onboarded(embedded, unique, monthlyBudgetUsd=300)
    raised, _ = onboarded(embedded, f"{unique}r", monthlyBudgetUsd=300)
    budgets = embedded.client("budgets")
    budgets.delete_budget(AccountId=MANAGEMENT_ACCOUNT_ID, BudgetName=f"orgvend-{deleted}")  # by hand
    by_hand = {**budget_of(embedded, raised), "BudgetLimit": {"Amount": "450.00", "Unit": "USD"}}  # type: ignore[dict-item]
    budgets.update_budget(
        AccountId=MANAGEMENT_ACCOUNT_ID,
        NewBudget={
            key: by_hand[key]
            for key in ("BudgetName", "BudgetType", "TimeUnit", "BudgetLimit", "CostFilters")
        },
    )

    result = embedded.invoke("ReconcileRegistryFunction", {})

    actions = {repair["accountId"]: repair["action"] for repair in result["repairs"]}
    assert actions[deleted] == "budget made again (300 USD)"
    assert raised not in actions
    assert limit_of(embedded, deleted) == Decimal(300)
    assert alerts_of(embedded, deleted) == both_alerts(embedded, request_for(unique)["email"])
    drift = {each["accountId"]: each for each in result["budgetDrift"]}
    assert drift[raised] == {"accountId": raised, "registryUsd": 300, "budgetUsd": 450}
    assert limit_of(embedded, raised) == Decimal(450)  # reported, left as it is
    message = embedded.operator_message_about(f"{raised}: registry 300 USD, budget 450 USD")
    assert "budget limits differ" in message["Subject"]
    assert f"{deleted}: budget made again (300 USD)" in message["Message"]
    # Settled with the CLI's command the message names: the next reconciliation reports nothing for it.
    assert call(embedded, "PATCH", f"/accounts/{raised}", {"monthlyBudgetUsd": 450})[0] == 200
    again = embedded.invoke("ReconcileRegistryFunction", {})
    assert raised not in {each["accountId"] for each in again["budgetDrift"]}
    assert deleted not in {repair["accountId"] for repair in again["repairs"]}


def test_a_crash_after_the_budget_was_made_is_retried_without_a_second(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    crashed = faults.crash_once("after-call.budgets.CreateBudget")

    account_id, onboarding = onboarded(embedded, unique, monthlyBudgetUsd=42)

    assert crashed == [1]
    [step] = [step for step in onboarding["timeline"] if step["name"] == "CreateBudget"]
    assert step["attempts"] == 2 and step["status"] == "SUCCEEDED", step
    names = [
        budget["BudgetName"]
        for budget in embedded.client("budgets").describe_budgets(
            AccountId=MANAGEMENT_ACCOUNT_ID, MaxResults=1000
        )["Budgets"]
    ]
    assert names.count(f"orgvend-{account_id}") == 1
    assert alerts_of(embedded, account_id) == both_alerts(embedded, request_for(unique)["email"])


def test_a_refused_budget_fails_the_onboarding_there_and_a_redrive_makes_it_once(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    faults.fail("before-call.budgets.CreateBudget", "AccessDeniedException", times=1)
    onboarding_id = onboard(embedded, request_for(unique, monthlyBudgetUsd=55))
    failed = finished(embedded, onboarding_id)
    assert failed["status"] == "FAILED" and failed["error"] == "BudgetFailed", failed
    assert [step["name"] for step in failed["timeline"] if step["status"] == "FAILED"] == ["CreateBudget"]
    account_id = str(failed["accountId"])
    assert budget_of(embedded, account_id) is None
    embedded.eventually(
        lambda: (embedded.account_item(account_id) or {}).get("status") == "FAILED",
        what="account marked FAILED",
    )

    status, body = call(embedded, "POST", f"/onboardings/{onboarding_id}/retry")
    assert status == 202, body
    redriven = finished(embedded, onboarding_id)

    assert redriven["status"] == "SUCCEEDED", redriven
    assert limit_of(embedded, account_id) == Decimal(55)
    assert alerts_of(embedded, account_id) == both_alerts(embedded, request_for(unique)["email"])
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "ACTIVE" and item["monthlyBudgetUsd"] == Decimal(55)


def test_a_bad_budget_is_refused_at_every_door_naming_the_field(embedded: Harness, unique: str) -> None:
    status, answer = call(embedded, "POST", "/accounts", request_for(unique, monthlyBudgetUsd=0.001))
    assert status == 422 and answer["error"]["field"] == "monthlyBudgetUsd", answer
    status, answer = call(
        embedded, "POST", "/accounts", request_for(unique, budgetAlertEmail="not an address")
    )
    assert status == 422 and answer["error"]["field"] == "budgetAlertEmail", answer

    before = embedded.invocations("StartRequestedOnboardingFunction")
    embedded.put_event(account_requested(request_for(unique, monthlyBudgetUsd=-1)))
    handled(embedded, "StartRequestedOnboardingFunction", before)
    rejected = embedded.operator_message_about("monthlyBudgetUsd")
    assert "was not started" in rejected["Message"]

    execution = embedded.wait(embedded.start(request_for(unique, monthlyBudgetUsd=2_000_000)))
    assert execution["status"] == "FAILED" and execution["error"] == "InvalidOnboardingRequest"
    assert "monthlyBudgetUsd" in execution["cause"]
