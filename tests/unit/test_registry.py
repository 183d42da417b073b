"""registry.Registry on a moto table made from template.yaml's RegistryTable."""

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend.errors import EmailAlreadyRegistered
from orgvend.models import AccountRecord, AccountStatus, Onboarding, OnboardingStatus
from orgvend.registry import BY_CLIENT_INDEX, Registry
from orgvend.steps.check_account_creation import pending_record

from .support import failing, record_calls


@pytest.fixture
def by_client_index(template) -> str:
    """RegistryTable's ByClient GSI, as template.yaml defines it: the registry queries it by name."""
    indexes = template.resources["RegistryTable"]["Properties"]["GlobalSecondaryIndexes"]
    (index,) = [index for index in indexes if index["IndexName"] == BY_CLIENT_INDEX]
    assert [key["AttributeName"] for key in index["KeySchema"]] == ["gsi1pk", "gsi1sk"]
    return index["IndexName"]


def account(
    onboarding: Onboarding, account_id: str, status: AccountStatus = AccountStatus.CREATING
) -> AccountRecord:
    return pending_record(onboarding, account_id, status)


# --------------------------------------------------------------------------- onboardings and email guard


def test_open_onboarding_records_the_onboarding_and_claims_its_email(registry, make_onboarding):
    onboarding = make_onboarding(email="Ops@Example.com")
    registry.open_onboarding(onboarding)

    stored = registry.get_onboarding(onboarding.onboarding_id)
    assert stored is not None
    assert stored["status"] == "RUNNING"
    assert stored["executionArn"] == onboarding.execution_arn
    assert (stored["client"], stored["project"], stored["mode"]) == ("acme", "web", "create")
    assert stored["email"] == "Ops@Example.com"
    assert stored["accountName"] == onboarding.account_name
    assert stored["roleName"] == onboarding.role_name
    owner = registry.email_owner("ops@example.com")
    assert owner is not None
    assert owner["onboardingId"] == onboarding.onboarding_id
    assert "accountId" not in owner


def test_an_adoption_claims_the_email_for_its_account(registry, make_onboarding):
    onboarding = make_onboarding(mode="adopt", account_id="210987654321")
    registry.open_onboarding(onboarding)
    assert registry.email_owner(onboarding.email)["accountId"] == "210987654321"


@pytest.mark.parametrize("second_email", ["ops@example.com", "OPS@EXAMPLE.COM", "Ops@example.Com"])
def test_a_second_onboarding_of_an_email_is_refused_naming_the_owner(registry, make_onboarding, second_email):
    first = make_onboarding(email="ops@example.com")
    registry.open_onboarding(first)
    second = make_onboarding(email=second_email)

    with pytest.raises(EmailAlreadyRegistered) as raised:
        registry.open_onboarding(second)

    assert second_email in str(raised.value)
    assert f"by onboarding {first.onboarding_id}" in str(raised.value)
    # The transaction wrote nothing for the refused onboarding, and the guard still names the first.
    assert registry.get_onboarding(second.onboarding_id) is None
    assert registry.email_owner(second_email)["onboardingId"] == first.onboarding_id


def test_the_refusal_names_the_account_once_the_owner_has_one(registry, make_onboarding):
    first = make_onboarding(email="ops@example.com")
    registry.open_onboarding(first)
    registry.save_account(account(first, "210987654321"))

    with pytest.raises(EmailAlreadyRegistered, match=r"to account 210987654321 by onboarding onb-"):
        registry.open_onboarding(make_onboarding(email="OPS@example.com"))


def test_reopening_the_same_onboarding_succeeds_and_keeps_what_later_steps_wrote(registry, make_onboarding):
    onboarding = make_onboarding()
    registry.open_onboarding(onboarding)
    created_at = registry.get_onboarding(onboarding.onboarding_id)["createdAt"]
    registry.remember_create_request(onboarding.onboarding_id, "car-first0001")

    registry.open_onboarding(onboarding)  # a retry of RecordRequest

    stored = registry.get_onboarding(onboarding.onboarding_id)
    assert stored["createRequestId"] == "car-first0001"
    assert stored["createdAt"] == created_at
    assert registry.email_owner(onboarding.email)["onboardingId"] == onboarding.onboarding_id


def test_a_transaction_cancelled_for_throttling_is_not_an_email_conflict(registry, dynamodb, make_onboarding):
    dynamodb.meta.events.register(
        "before-call.dynamodb.TransactWriteItems",
        failing(
            "TransactionCanceledException",
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[ThrottlingError, None]",
            CancellationReasons=[
                {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"},
                {"Code": "None"},
            ],
        ),
    )
    with pytest.raises(ClientError) as raised:
        registry.open_onboarding(make_onboarding())
    assert not isinstance(raised.value, EmailAlreadyRegistered)


def test_other_dynamodb_errors_are_not_disguised(registry, dynamodb, make_onboarding):
    dynamodb.meta.events.register(
        "before-call.dynamodb.TransactWriteItems",
        failing("ResourceNotFoundException", "Requested resource not found"),
    )
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        registry.open_onboarding(make_onboarding())


# --------------------------------------------------------------------------- CreateAccount request ID


def test_remember_create_request_keeps_the_first_request_id(registry, opened_onboarding):
    onboarding = opened_onboarding()
    assert registry.remember_create_request(onboarding.onboarding_id, "car-first0001") == "car-first0001"
    assert registry.remember_create_request(onboarding.onboarding_id, "car-second002") == "car-first0001"
    assert registry.remember_create_request(onboarding.onboarding_id, "car-first0001") == "car-first0001"
    assert registry.get_onboarding(onboarding.onboarding_id)["createRequestId"] == "car-first0001"


# --------------------------------------------------------------------------- accounts


def test_save_account_writes_the_account_its_onboarding_and_its_email_guard(registry, opened_onboarding):
    onboarding = opened_onboarding(tags={"client": "acme", "project": "web", "team": "blue"})
    record = account(onboarding, "210987654321")

    registry.save_account(record, onboarding_status=OnboardingStatus.SUCCEEDED)

    stored = registry.get_account("210987654321")
    assert stored is not None
    assert stored.status is AccountStatus.CREATING
    assert stored.onboarding_id == onboarding.onboarding_id
    assert stored.tags == {"client": "acme", "project": "web", "team": "blue"}
    assert stored.switch_role_url == record.switch_role_url
    assert registry.get_onboarding(onboarding.onboarding_id)["accountId"] == "210987654321"
    assert registry.get_onboarding(onboarding.onboarding_id)["status"] == "SUCCEEDED"
    assert registry.email_owner(onboarding.email)["accountId"] == "210987654321"


def test_an_unknown_account_is_none(registry):
    assert registry.get_account("999999999999") is None


def test_an_onboarding_cannot_overwrite_an_account_another_onboarding_owns(registry, opened_onboarding):
    owner = opened_onboarding()
    registry.save_account(account(owner, "210987654321", AccountStatus.ACTIVE))
    intruder = opened_onboarding()

    with pytest.raises(ClientError, match="TransactionCanceledException"):
        registry.save_account(account(intruder, "210987654321"))

    stored = registry.get_account("210987654321")
    assert stored.onboarding_id == owner.onboarding_id
    assert stored.status is AccountStatus.ACTIVE
    assert "accountId" not in registry.get_onboarding(intruder.onboarding_id)


@pytest.fixture
def client_accounts(registry: Registry, opened_onboarding: Callable[..., Onboarding]) -> dict[str, Any]:
    """acme has two web accounts and one webshop account; globex has one web account."""
    layout = [
        ("acme", "web", "210000000001"),
        ("acme", "webshop", "210000000002"),
        ("acme", "web", "210000000003"),
        ("globex", "web", "210000000004"),
    ]
    for client, project, account_id in layout:
        registry.save_account(account(opened_onboarding(client=client, project=project), account_id))
    return {"layout": layout}


def test_accounts_of_a_client_come_from_a_query_on_the_by_client_index(
    registry, dynamodb, client_accounts, by_client_index
):
    calls = record_calls(dynamodb)

    records, next_key = registry.accounts_of_client("acme")

    assert sorted(record.account_id for record in records) == ["210000000001", "210000000002", "210000000003"]
    assert {record.client for record in records} == {"acme"}
    assert next_key is None
    assert "Scan" not in calls.operations()
    (query,) = calls.of("Query")
    assert query.params["IndexName"] == by_client_index == BY_CLIENT_INDEX
    assert "FilterExpression" not in query.params


def test_accounts_of_a_project_are_only_that_projects_not_a_project_with_the_same_prefix(
    registry, dynamodb, client_accounts
):
    calls = record_calls(dynamodb)

    records, _ = registry.accounts_of_client("acme", "web")

    assert sorted(record.account_id for record in records) == ["210000000001", "210000000003"]
    assert {(record.client, record.project) for record in records} == {("acme", "web")}
    assert calls.operations() == ["Query"]


def test_a_client_without_accounts_has_an_empty_page(registry, client_accounts):
    assert registry.accounts_of_client("initech") == ([], None)


def test_accounts_of_a_client_page_with_limit_and_start_key(registry, dynamodb, client_accounts):
    calls = record_calls(dynamodb)

    first, next_key = registry.accounts_of_client("acme", limit=2)
    assert len(first) == 2
    assert next_key is not None
    second, last_key = registry.accounts_of_client("acme", limit=2, start_key=next_key)

    seen = [record.account_id for record in first + second]
    assert sorted(seen) == ["210000000001", "210000000002", "210000000003"]
    assert last_key is None
    queries = calls.of("Query")
    assert [query.params["Limit"] for query in queries] == [2, 2]
    assert "ExclusiveStartKey" not in queries[0].params
    assert queries[1].params["ExclusiveStartKey"] == next_key


# --------------------------------------------------------------------------- failures


def test_fail_onboarding_records_each_attempt_once(registry, opened_onboarding):
    onboarding = opened_onboarding()
    arguments = (onboarding.onboarding_id, onboarding.execution_arn, "AccountCreationFailed")

    assert registry.fail_onboarding(*arguments, "CreateAccount failed: INTERNAL_FAILURE", attempt=0) is True
    # Until the operators were told, a duplicate must notify again (publishing may have failed).
    assert registry.fail_onboarding(*arguments, "CreateAccount failed: INTERNAL_FAILURE", attempt=0) is True
    registry.failure_notified(onboarding.onboarding_id, 0)
    assert registry.fail_onboarding(*arguments, "CreateAccount failed: INTERNAL_FAILURE", attempt=0) is False

    stored = registry.get_onboarding(onboarding.onboarding_id)
    assert stored["status"] == "FAILED"
    assert stored["error"] == "AccountCreationFailed"
    assert stored["failure"] == "CreateAccount failed: INTERNAL_FAILURE"
    assert stored["failedAttempt"] == 0

    assert registry.fail_onboarding(*arguments, "failed again after a redrive", attempt=1) is True
    registry.failure_notified(onboarding.onboarding_id, 1)
    assert registry.get_onboarding(onboarding.onboarding_id)["failure"] == "failed again after a redrive"
    assert registry.fail_onboarding(*arguments, "a late duplicate of attempt 0", attempt=0) is False
    assert registry.get_onboarding(onboarding.onboarding_id)["failedAttempt"] == 1


def test_fail_onboarding_records_an_onboarding_the_registry_never_saw(registry, execution_arn):
    assert registry.fail_onboarding(
        "never-recorded", execution_arn("never-recorded"), "InvalidOnboardingRequest", "email: ...", attempt=0
    )
    stored = registry.get_onboarding("never-recorded")
    assert stored["status"] == "FAILED"
    assert stored["executionArn"] == execution_arn("never-recorded")
    assert "createdAt" in stored


def test_remember_create_request_cancelled_for_throttling_raises_a_retryable_error(
    registry, dynamodb, opened_onboarding
):
    onboarding = opened_onboarding()
    dynamodb.meta.events.register(
        "before-call.dynamodb.TransactWriteItems",
        failing(
            "TransactionCanceledException",
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[ThrottlingError, None]",
            CancellationReasons=[{"Code": "ThrottlingError"}, {"Code": "None"}],
        ),
    )
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        registry.remember_create_request(onboarding.onboarding_id, "car-first0001")
