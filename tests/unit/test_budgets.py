"""Budgets (orgvend.budgets): each account's monthly cost budget made, kept and deleted from the management
account, idempotently; the onboarding's CreateBudget and the offboarding's DeleteBudget; what the
reconciliation makes again and reports. On in-process moto with the embedded AWS's Budgets patches."""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from orgvend import aws, budgets
from orgvend.budgets import (
    BudgetTarget,
    BudgetUpkeep,
    budget_limits,
    budget_name,
    delete_budget,
    ensure_budget,
    read_budget,
)
from orgvend.errors import BudgetFailed, BudgetsBusy
from orgvend.models import AccountRecord, AccountStatus, Onboarding
from orgvend.organizations import Scope
from orgvend.reactions.reconcile_registry import reconcile_registry, report_drift
from orgvend.registry import Registry
from orgvend.steps.offboarding.delete_budget import DeleteBudgetInput, delete_account_budget
from orgvend.steps.onboarding.create_budget import CreateBudgetInput, create_budget
from orgvend.workflows.onboardings import Onboardings
from orgvend_local.parity import applied

from .parity_support import StandaloneEmulator
from .support import Calls, Inbox, failing, hooked_session
from .test_reconcile_registry import record, state_machine_arn, write_records

__all__ = ["state_machine_arn"]  # a fixture of the reconciliation's tests, used here too

OWNER = "123456789012"  # moto's default account: the management account
TOPIC = "arn:aws:sns:us-east-1:123456789012:orgvend-OperatorTopic"
ACCOUNT = "210987654321"
STACK_DEFAULT = Decimal(100)
BUDGET_PATCHES = (
    "budgets-update-budget",
    "budgets-subscribers",
    "budgets-notifications-once",
    "budgets-describe-budgets-pages",
)
ACTUAL_80 = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}
FORECASTED_100 = {**ACTUAL_80, "NotificationType": "FORECASTED", "Threshold": 100.0}


@pytest.fixture
def budgets_aws(moto_aws: None) -> Iterator[None]:
    """moto with the embedded AWS's Budgets as AWS documents it (UpdateBudget, subscribers, pages)."""
    with applied(StandaloneEmulator(), *BUDGET_PATCHES):
        yield


@pytest.fixture
def target(budgets_aws: None, session_calls: Calls) -> BudgetTarget:
    """orgvend's Budgets client, made once the calls are counted (a client keeps the hooks it was made with)."""
    return BudgetTarget(aws.client("budgets"), OWNER, TOPIC)


def alerts(account_id: str = ACCOUNT) -> dict[tuple[str, float], list[tuple[str, str]]]:
    """The budget's alerts and each one's subscribers, as Budgets lists them."""
    client = aws.client("budgets")
    found = {}
    for notification in client.describe_notifications_for_budget(
        AccountId=OWNER, BudgetName=budget_name(account_id)
    )["Notifications"]:
        subscribers = client.describe_subscribers_for_notification(
            AccountId=OWNER, BudgetName=budget_name(account_id), Notification=notification
        )["Subscribers"]
        key = (notification["NotificationType"], notification["Threshold"])
        found[key] = sorted((each["SubscriptionType"], each["Address"]) for each in subscribers)
    return found


def both_alerts(email: str) -> dict[tuple[str, float], list[tuple[str, str]]]:
    subscribers = sorted([("EMAIL", email), ("SNS", TOPIC)])
    return {("ACTUAL", 80.0): subscribers, ("FORECASTED", 100.0): subscribers}


# -- the budget --------------------------------------------------------------------------------------


def test_an_accounts_budget_is_a_monthly_cost_budget_of_the_linked_account_with_both_alerts(
    target: BudgetTarget,
) -> None:
    kept = ensure_budget(target, ACCOUNT, Decimal("250.5"), "finance@acme.example")

    assert (kept.created, kept.changed) == (True, False)
    budget = read_budget(target, ACCOUNT)
    assert budget is not None
    assert budget["BudgetName"] == f"orgvend-{ACCOUNT}"
    assert (budget["BudgetType"], budget["TimeUnit"]) == ("COST", "MONTHLY")
    assert budget["CostFilters"] == {"LinkedAccount": [ACCOUNT]}
    assert budget["BudgetLimit"] == {"Amount": "250.50", "Unit": "USD"}
    assert alerts() == both_alerts("finance@acme.example")


def test_keeping_it_again_changes_and_makes_nothing(target: BudgetTarget, session_calls: Calls) -> None:
    ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example")
    session_calls.made.clear()

    kept = ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example")

    assert (kept.created, kept.changed) == (False, False)
    assert session_calls.mutating("budgets") == []
    assert alerts() == both_alerts("finance@acme.example")


def test_what_an_earlier_attempt_left_half_made_is_completed_not_duplicated(target: BudgetTarget) -> None:
    """A budget made by a lost attempt, its limit since changed, one alert missing, one subscriber missing."""
    client = aws.client("budgets")
    client.create_budget(
        AccountId=OWNER,
        Budget={
            "BudgetName": budget_name(ACCOUNT),
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
            "BudgetLimit": {"Amount": "50.0", "Unit": "USD"},
            "CostFilters": {"LinkedAccount": [ACCOUNT]},
        },
        NotificationsWithSubscribers=[
            {
                "Notification": ACTUAL_80,
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "FINANCE@acme.example"}],
            }
        ],
    )

    kept = ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example")

    assert (kept.created, kept.changed) == (False, True)
    budget = read_budget(target, ACCOUNT)
    assert budget is not None and budget["BudgetLimit"]["Amount"] == "250.00"
    assert alerts() == {
        ("ACTUAL", 80.0): [("EMAIL", "FINANCE@acme.example"), ("SNS", TOPIC)],  # the same address, kept
        ("FORECASTED", 100.0): [("EMAIL", "finance@acme.example"), ("SNS", TOPIC)],
    }
    assert [budget["BudgetName"] for budget in client.describe_budgets(AccountId=OWNER)["Budgets"]] == [
        budget_name(ACCOUNT)
    ]


def test_a_budget_made_meanwhile_is_kept_as_found(target: BudgetTarget) -> None:
    """A create that finds the budget there (DuplicateRecordException) keeps it rather than failing."""
    ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example")
    kept = ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example", exists=False)
    assert (kept.created, kept.changed) == (False, False)
    assert alerts() == both_alerts("finance@acme.example")


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("AccessDeniedException", BudgetFailed),
        ("CreationLimitExceededException", BudgetFailed),
        ("InvalidParameterException", BudgetFailed),
        ("ThrottlingException", BudgetsBusy),
        ("InternalErrorException", BudgetsBusy),
    ],
)
def test_a_refusal_stops_and_a_busy_budgets_is_retried(
    target: BudgetTarget, code: str, raised: type[Exception]
) -> None:
    with (
        hooked_session("before-call.budgets.CreateBudget", failing(code, "no")),
        pytest.raises(raised) as error,
    ):
        ensure_budget(
            BudgetTarget(aws.client("budgets"), OWNER, TOPIC), ACCOUNT, Decimal(250), "f@acme.example"
        )
    assert budget_name(ACCOUNT) in str(error.value) and code in str(error.value)


def test_deleting_a_budget_twice_is_fine(target: BudgetTarget) -> None:
    ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example")
    assert delete_budget(target, ACCOUNT) is True
    assert read_budget(target, ACCOUNT) is None
    assert delete_budget(target, ACCOUNT) is False


def test_orgvends_budgets_are_listed_one_call_per_page(
    target: BudgetTarget, session_calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budgets, "PAGE_SIZE", 2)
    accounts = [f"{index:012d}" for index in range(1, 6)]
    for index, account_id in enumerate(accounts):
        ensure_budget(target, account_id, Decimal(100 + index), "f@acme.example", exists=False)
    aws.client("budgets").create_budget(  # someone else's budget: not orgvend's
        AccountId=OWNER,
        Budget={
            "BudgetName": "team-sandbox",
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
            "BudgetLimit": {"Amount": "5", "Unit": "USD"},
        },
    )
    session_calls.made.clear()

    limits = budget_limits(target)

    assert limits == {account_id: Decimal(100 + index) for index, account_id in enumerate(accounts)}
    assert session_calls.operations("budgets") == ["DescribeBudgets"] * 3  # 6 budgets, pages of 2


# -- CreateBudget, DeleteBudget ---------------------------------------------------------------------


@pytest.fixture
def onboarded(
    registry: Registry, make_onboarding: Callable[..., Onboarding]
) -> Callable[..., CreateBudgetInput]:
    def make(**changes: Any) -> CreateBudgetInput:
        return CreateBudgetInput(onboarding=make_onboarding(**changes), account_id=ACCOUNT)

    return make


def test_create_budget_takes_the_requested_limit_and_the_alert_email(
    target: BudgetTarget, registry: Registry, onboarded: Callable[..., CreateBudgetInput]
) -> None:
    step_input = onboarded(monthly_budget_usd=Decimal(250), budget_alert_email="finance@acme.example")

    setup = create_budget(step_input, target, registry, STACK_DEFAULT)

    assert setup.to_json() == {
        "name": f"orgvend-{ACCOUNT}",
        "monthlyBudgetUsd": 250,
        "source": "request",
        "alertEmail": "finance@acme.example",
        "created": True,
        "changed": False,
    }
    assert alerts() == both_alerts("finance@acme.example")


def test_create_budget_on_a_retry_keeps_the_budget_and_makes_no_alert_twice(
    target: BudgetTarget,
    registry: Registry,
    onboarded: Callable[..., CreateBudgetInput],
    session_calls: Calls,
) -> None:
    step_input = onboarded(monthly_budget_usd=Decimal(250))
    create_budget(step_input, target, registry, STACK_DEFAULT)
    session_calls.made.clear()

    again = create_budget(step_input, target, registry, STACK_DEFAULT)

    assert (again.created, again.changed, again.monthly_budget_usd) == (False, False, Decimal(250))
    assert session_calls.mutating("budgets") == []
    assert alerts() == both_alerts(step_input.onboarding.email)
    assert len(aws.client("budgets").describe_budgets(AccountId=OWNER)["Budgets"]) == 1


def test_the_limit_is_the_requests_else_the_clients_default_else_the_stacks(
    target: BudgetTarget, registry: Registry, onboarded: Callable[..., CreateBudgetInput]
) -> None:
    assert create_budget(onboarded(client="acme"), target, registry, STACK_DEFAULT).source == "stack"
    registry.put_client_budget("acme", Decimal("99.95"), "ops")
    setup = create_budget(onboarded(client="acme"), target, registry, STACK_DEFAULT)
    assert (setup.monthly_budget_usd, setup.source, setup.changed) == (Decimal("99.95"), "client", True)
    assert read_budget(target, ACCOUNT)["BudgetLimit"]["Amount"] == "99.95"  # type: ignore[index]
    requested = create_budget(
        onboarded(client="acme", monthly_budget_usd=Decimal(7)), target, registry, STACK_DEFAULT
    )
    assert (requested.monthly_budget_usd, requested.source) == (Decimal(7), "request")


def test_an_account_adopted_again_keeps_the_limit_its_entry_records(
    target: BudgetTarget, registry: Registry, onboarded: Callable[..., CreateBudgetInput]
) -> None:
    step_input = onboarded(client="acme", mode="adopt", account_id=ACCOUNT)
    entry = record(ACCOUNT, step_input.onboarding.email, AccountStatus.OUT_OF_SCOPE).changed(
        monthly_budget_usd=Decimal(640)
    )
    registry.write_account(ACCOUNT, lambda _: entry)
    registry.put_client_budget("acme", Decimal(90), "ops")

    setup = create_budget(step_input, target, registry, STACK_DEFAULT)

    assert (setup.monthly_budget_usd, setup.source) == (Decimal(640), "account")


def test_delete_budget_deletes_it_and_a_budget_already_gone_is_fine(
    target: BudgetTarget, make_offboarding: Callable[..., Any]
) -> None:
    ensure_budget(target, ACCOUNT, Decimal(250), "finance@acme.example")
    step_input = DeleteBudgetInput(offboarding=make_offboarding(ACCOUNT))

    assert delete_account_budget(step_input, target).to_json() == {
        "name": f"orgvend-{ACCOUNT}",
        "deleted": True,
    }
    assert delete_account_budget(step_input, target).to_json() == {
        "name": f"orgvend-{ACCOUNT}",
        "deleted": False,
    }


@pytest.fixture
def make_offboarding() -> Callable[..., Any]:
    from datetime import UTC, datetime  # noqa: PLC0415

    from orgvend.models import Offboarding  # noqa: PLC0415

    def make(account_id: str) -> Offboarding:
        return Offboarding(
            offboarding_id="off-1",
            execution_arn="arn:aws:states:us-east-1:123456789012:execution:orgvend-OffboardAccountStateMachine:off-1",
            started_at=datetime.now(UTC),
            mode="close",
            account_id=account_id,
            account_name="acme-web",
            email="aws+acme-web@example.com",
            client="acme",
            project="web",
            role_name="OrganizationAccountAccessRole",
            status_before=AccountStatus.ACTIVE,
        )

    return make


# -- the registry keeps the limit ----------------------------------------------------------------------


def test_the_entry_keeps_a_limit_in_cents_exactly(registry: Registry) -> None:
    entry = record(ACCOUNT, "aws+x@example.com").changed(monthly_budget_usd=Decimal("99.95"))
    registry.write_account(ACCOUNT, lambda _: entry)
    stored = registry.get_account(ACCOUNT)
    assert stored is not None and stored.monthly_budget_usd == Decimal("99.95")
    assert stored.to_json()["monthlyBudgetUsd"] == 99.95
    registry.put_client_budget("acme", Decimal("12.30"), "ops")
    assert registry.get_client_budget("acme") == Decimal("12.3")
    assert registry.get_client_budget("globex") is None


# -- the reconciliation ----------------------------------------------------------------------------------


def test_the_reconciliation_makes_a_missing_budget_again_and_reports_a_changed_limit(
    setup_client: Callable[..., Any],
    organization: Any,
    registry: Registry,
    table_name: str,
    state_machine_arn: str,
    settings_for: Callable[[str], Any],
    target: BudgetTarget,
    operator_inbox: Inbox,
    session_calls: Calls,
) -> None:
    organizations = setup_client("organizations")
    members = {}
    for name in ("kept", "deleted", "raised", "older", "leaving"):
        account_id = organizations.create_account(Email=f"{name}@example.com", AccountName=name)[
            "CreateAccountStatus"
        ]["AccountId"]
        organizations.move_account(
            AccountId=account_id,
            SourceParentId=organization.root_id,
            DestinationParentId=organization.clients_ou_id,
        )
        members[name] = account_id

    def entry(name: str, limit: int | None, **changes: Any) -> AccountRecord:
        found = record(members[name], f"{name}@example.com", ou_id=organization.clients_ou_id)
        return found.model_copy(update={"monthly_budget_usd": Decimal(limit) if limit else None, **changes})

    write_records(
        setup_client,
        registry,
        table_name,
        [
            entry("kept", 250),
            entry("deleted", 250),  # its budget deleted by hand: made again with the entry's limit
            entry("raised", 250),  # its budget raised to 400 in the console: reported, not changed
            entry("older", None, client="acme"),  # onboarded before budgets: the client's default
            entry("leaving", 250, offboarding_id="off-1"),  # an offboarding holds it: left alone
        ],
    )
    registry.put_client_budget("acme", Decimal(75), "ops")
    ensure_budget(target, members["kept"], Decimal(250), "kept@example.com")
    ensure_budget(target, members["raised"], Decimal(400), "raised@example.com")
    session_calls.made.clear()

    scope = Scope(aws.client("organizations"), organization.clients_ou_id)
    settings = settings_for("ReconcileRegistryFunction")
    drift = reconcile_registry(
        scope,
        organizations=aws.client("organizations"),
        sts=aws.client("sts"),
        registry=registry,
        onboardings=Onboardings(aws.client("stepfunctions"), registry, state_machine_arn, scope, settings),
        access_role_name="OrganizationAccountAccessRole",
        budgets=BudgetUpkeep(target, STACK_DEFAULT),
    )

    assert {repair.account_id: repair.action for repair in drift.repairs} == {
        members["deleted"]: "budget made again (250 USD)",
        members["older"]: "budget created (75 USD, the client's default)",
    }
    assert [(each.account_id, each.registry_usd, each.budget_usd) for each in drift.budget_drift] == [
        (members["raised"], Decimal(250), Decimal(400))
    ]
    budget_calls = session_calls.operations("budgets")
    assert budget_calls.count("DescribeBudgets") == 1  # one page, never one call per account
    assert budget_calls.count("CreateBudget") == 2 and "UpdateBudget" not in budget_calls
    assert budget_limits(target) == {
        members["kept"]: Decimal(250),
        members["deleted"]: Decimal(250),
        members["raised"]: Decimal(400),  # left as it is
        members["older"]: Decimal(75),
    }
    assert alerts(members["deleted"]) == both_alerts("deleted@example.com")
    assert registry.get_account(members["older"]).monthly_budget_usd == Decimal(75)  # type: ignore[union-attr]

    report_drift(drift, aws.client("sns"), TOPIC)
    [message] = operator_inbox.receive()
    assert "budget limits differ in 1 account(s)" in message["Subject"]
    assert f"{members['raised']}: registry 250 USD, budget 400 USD" in message["Message"]
    assert f"{members['deleted']}: budget made again (250 USD)" in message["Message"]
    assert "orgvend budget set ACCOUNT USD" in message["Message"]


def test_a_budget_budgets_refuses_to_make_again_is_reported_and_the_rest_goes_on(
    target: BudgetTarget, registry: Registry
) -> None:
    from orgvend.reactions.reconcile_registry import _budgets_drift  # noqa: PLC0415

    entries = {
        account_id: record(account_id, f"{account_id}@example.com").changed(monthly_budget_usd=Decimal(10))
        for account_id in ("111111111111", "222222222222")
    }
    members: dict[str, Any] = {
        account_id: ({"Id": account_id, "Status": "ACTIVE"}, "ou") for account_id in entries
    }
    refuse_first = failing("AccessDeniedException", "no", times=1)
    with hooked_session("before-call.budgets.CreateBudget", refuse_first):
        upkeep = BudgetUpkeep(BudgetTarget(aws.client("budgets"), OWNER, TOPIC), STACK_DEFAULT)
        repairs, drift, failures = _budgets_drift(upkeep, registry, members, entries)

    assert [repair.account_id for repair in repairs] == ["222222222222"]
    assert [failure.account_id for failure in failures] == ["111111111111"]
    assert "AccessDeniedException" in failures[0].action
    assert drift == []


# -- the API's service ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"status": AccountStatus.CLOSED}, 409, "AccountNotActive"),
        ({"status": AccountStatus.CREATING}, 409, "AccountNotActive"),
        ({"offboarding_id": "off-1"}, 409, "OffboardingInProgress"),
    ],
)
def test_only_an_active_account_that_no_offboarding_holds_gets_a_new_limit(
    target: BudgetTarget, registry: Registry, changes: dict[str, Any], status: int, code: str
) -> None:
    from orgvend.refusals import ApiError  # noqa: PLC0415
    from orgvend.workflows.budgets import Budgets  # noqa: PLC0415

    entry = record(ACCOUNT, "aws+x@example.com").model_copy(update=changes)
    registry.write_account(ACCOUNT, lambda _: entry)
    service = Budgets(registry, lambda: target, STACK_DEFAULT)

    with pytest.raises(ApiError) as refused:
        service.set_account_limit(ACCOUNT, Decimal(10), "ops")

    assert (refused.value.status, refused.value.code, refused.value.field) == (status, code, "accountId")
    assert read_budget(target, ACCOUNT) is None  # nothing made
    with pytest.raises(ApiError) as unknown:
        service.set_account_limit("999999999999", Decimal(10), "ops")
    assert (unknown.value.status, unknown.value.field) == (404, "accountId")


def test_a_new_limit_sets_the_budget_then_the_entry(target: BudgetTarget, registry: Registry) -> None:
    from orgvend.workflows.budgets import Budgets  # noqa: PLC0415

    entry = record(ACCOUNT, "aws+x@example.com").changed(
        monthly_budget_usd=Decimal(100), budget_alert_email="finance@acme.example"
    )
    registry.write_account(ACCOUNT, lambda _: entry)

    view = Budgets(registry, lambda: target, STACK_DEFAULT).set_account_limit(
        ACCOUNT, Decimal("250.75"), "ops"
    )

    assert view.monthly_budget_usd == Decimal("250.75")
    assert registry.get_account(ACCOUNT).monthly_budget_usd == Decimal("250.75")  # type: ignore[union-attr]
    assert read_budget(target, ACCOUNT)["BudgetLimit"]["Amount"] == "250.75"  # type: ignore[index]
    assert alerts() == both_alerts("finance@acme.example")  # a missing budget is made again, to its contact
