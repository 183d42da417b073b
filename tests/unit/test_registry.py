"""registry.Registry on a moto table made from template.yaml's RegistryTable."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.errors import AccountNotAdoptable, EmailAlreadyRegistered, WriteContention
from orgvend.models import (
    AccountRecord,
    AccountStatus,
    Offboarding,
    Onboarding,
    OnboardingStatus,
    WorkflowError,
)
from orgvend.reactions.report_onboarding_failure import failed_entry
from orgvend.registry import BY_CLIENT_INDEX, MAX_WRITE_ATTEMPTS, Registry, now
from orgvend.steps.onboarding.check_account_creation import pending_record

from .support import failing, hooked_session, record_calls


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


def test_an_onboarding_cannot_overwrite_an_account_another_onboarding_owns(
    registry, dynamodb, opened_onboarding
):
    owner = opened_onboarding()
    registry.save_account(account(owner, "210987654321", AccountStatus.ACTIVE))
    intruder = opened_onboarding()
    calls = record_calls(dynamodb)

    with pytest.raises(AccountNotAdoptable, match=r"account 210987654321 is registered as ACTIVE by another"):
        registry.save_account(account(intruder, "210987654321"))

    assert calls.mutating("dynamodb") == []  # refused on the entry as read: no write was even tried
    stored = registry.get_account("210987654321")
    assert stored.onboarding_id == owner.onboarding_id
    assert stored.status is AccountStatus.ACTIVE
    assert "accountId" not in registry.get_onboarding(intruder.onboarding_id)
    assert "accountId" not in registry.email_owner(intruder.email)


@pytest.mark.parametrize("status", [AccountStatus.NEEDS_ROLE, AccountStatus.OUT_OF_SCOPE])
def test_an_onboarding_may_take_over_an_entry_waiting_to_be_adopted_again(
    registry, opened_onboarding, status
):
    earlier = opened_onboarding()
    registry.save_account(account(earlier, "210987654321", status))
    registry.confirm_root_secured("210987654321", "arn:aws:iam::210987654321:root")
    first = registry.get_account("210987654321")
    adoption = opened_onboarding(mode="adopt", account_id="210987654321")

    registry.save_account(account(adoption, "210987654321", AccountStatus.ACTIVE))

    stored = registry.get_account("210987654321")
    assert (stored.onboarding_id, stored.status) == (adoption.onboarding_id, AccountStatus.ACTIVE)
    # What the onboarding does not decide is kept: the owner's root confirmation, the first creation.
    assert (stored.root_secured_at, stored.root_secured_by) == (first.root_secured_at, first.root_secured_by)
    assert stored.created_at == first.created_at
    assert registry.email_owner(adoption.email)["accountId"] == "210987654321"


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

    records, next_key = registry.list_accounts(client="acme")

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

    records, _ = registry.list_accounts(client="acme", project="web")

    assert sorted(record.account_id for record in records) == ["210000000001", "210000000003"]
    assert {(record.client, record.project) for record in records} == {("acme", "web")}
    assert calls.operations() == ["Query"]


def test_a_client_without_accounts_has_an_empty_page(registry, client_accounts):
    assert registry.list_accounts(client="initech") == ([], None)


def test_accounts_of_a_client_page_with_limit_and_start_key(registry, dynamodb, client_accounts):
    calls = record_calls(dynamodb)

    first, next_key = registry.list_accounts(client="acme", limit=2)
    assert len(first) == 2
    assert next_key is not None
    second, last_key = registry.list_accounts(client="acme", limit=2, start_key=next_key)

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


# --------------------------------------------------------------------------- concurrent writes of an account's entry
#
# Each race runs the write under test through a registry on orgvend's session, with a hook that lets a
# competing writer (a registry on the test's own client, which no hook reaches) write the entry after the
# write under test read it and before its TransactWriteItems reaches DynamoDB.

ACCOUNT_ID = "210987654321"
OWNER_ARN = "arn:aws:iam::210987654321:user/owner"


@pytest.fixture
def competitor(setup_client: Callable[..., Any], table_name: str) -> Registry:
    """The registry through a client outside orgvend's session: the other Lambda that writes meanwhile."""
    return Registry(setup_client("dynamodb"), table_name)


@pytest.fixture
def stored_item(setup_client: Callable[..., Any], table_name: str) -> Callable[[], dict[str, Any]]:
    """The entry as DynamoDB holds it (its version included)."""

    def read() -> dict[str, Any]:
        key = {"pk": {"S": f"ACCOUNT#{ACCOUNT_ID}"}, "sk": {"S": "ACCOUNT"}}
        return setup_client("dynamodb").get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]

    return read


@dataclass
class Race:
    """The registry under test, and how many TransactWriteItems it attempted."""

    registry: Registry
    writes: int = 0


@contextmanager
def racing(table_name: str, interfere: Callable[[], Any], times: int | None = 1) -> Iterator[Race]:
    """A registry whose entry writes let ``interfere`` write first, ``times`` times (None: every time)."""

    def before_write(**_: Any) -> None:
        race.writes += 1
        if times is None or race.writes <= times:
            interfere()

    with hooked_session("before-call.dynamodb.TransactWriteItems", before_write):
        race = Race(Registry(aws.client("dynamodb"), table_name))  # a client built with the hook on
        yield race


def offboarding_of(record: AccountRecord, offboarding_id: str) -> Offboarding:
    return Offboarding(
        offboarding_id=offboarding_id,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:orgvend-Offboard:{offboarding_id}",
        started_at=now(),
        mode="close",
        account_id=record.account_id,
        account_name=record.account_name,
        email=record.email,
        client=record.client,
        project=record.project,
        role_name=record.role_name,
        status_before=record.status,
    )


@pytest.fixture
def active(registry: Registry, opened_onboarding: Callable[..., Onboarding]) -> AccountRecord:
    """An ACTIVE account, registered by its onboarding."""
    return registry.save_account(account(opened_onboarding(), ACCOUNT_ID, AccountStatus.ACTIVE))


def test_a_lock_taken_between_a_reconciliation_read_and_its_write_survives(
    registry, competitor, table_name, active
):
    seen: list[str | None] = []

    def moved(current: AccountRecord) -> AccountRecord | None:
        """A reconciliation's repair: the account was moved to another OU of the scope."""
        seen.append(current.offboarding_id)
        if current.ou_id == "ou-abcd-22222222":
            return None
        return current.model_copy(update={"ou_id": "ou-abcd-22222222", "updated_at": now()})

    def offboarding_begins() -> None:
        assert competitor.begin_offboarding(offboarding_of(active, "off-meanwhile"))

    with racing(table_name, offboarding_begins) as race:
        written = race.registry.update_account(ACCOUNT_ID, moved)

    assert race.writes == 2  # the first write lost to the lock, the second was made on a fresh read
    assert seen == [None, "off-meanwhile"]
    stored = registry.get_account(ACCOUNT_ID)
    assert (stored.offboarding_id, stored.ou_id) == ("off-meanwhile", "ou-abcd-22222222")
    assert written == stored
    # The lock still works: a second offboarding is refused, the holder's own retry is not.
    assert not registry.begin_offboarding(offboarding_of(active, "off-second"))
    assert registry.begin_offboarding(offboarding_of(active, "off-meanwhile"))


def test_a_root_confirmation_between_a_sync_read_and_its_write_survives(
    registry, competitor, table_name, active
):
    tags = {**active.tags, "team": "red"}

    def synced(current: AccountRecord) -> AccountRecord | None:
        """A sync from Organizations: the account's tags changed."""
        if current.tags == tags:
            return None
        return current.model_copy(update={"tags": tags, "updated_at": now()})

    with racing(table_name, lambda: competitor.confirm_root_secured(ACCOUNT_ID, OWNER_ARN)) as race:
        race.registry.update_account(ACCOUNT_ID, synced)

    assert race.writes == 2
    stored = registry.get_account(ACCOUNT_ID)
    assert stored.tags == tags
    assert stored.root_secured_by == OWNER_ARN
    assert stored.root_secured_at is not None


def test_a_status_written_between_a_failure_report_read_and_its_write_is_not_undone(
    registry, competitor, table_name, opened_onboarding
):
    onboarding = opened_onboarding()
    registry.save_account(account(onboarding, ACCOUNT_ID, AccountStatus.CREATING))
    error = WorkflowError(Error="AccountCreationTimedOut", Cause="still IN_PROGRESS after 1800 seconds")
    seen: list[AccountStatus] = []

    def failed(current: AccountRecord) -> AccountRecord | None:
        seen.append(current.status)
        return failed_entry(current, onboarding.onboarding_id, error)  # only CREATING becomes FAILED

    def closed(current: AccountRecord) -> AccountRecord:
        return current.model_copy(update={"status": AccountStatus.CLOSED, "updated_at": now()})

    with racing(table_name, lambda: competitor.update_account(ACCOUNT_ID, closed)) as race:
        written = race.registry.update_account(ACCOUNT_ID, failed)

    assert seen == [AccountStatus.CREATING, AccountStatus.CLOSED]
    assert race.writes == 1  # read again, nothing left to change: no second write
    stored = registry.get_account(ACCOUNT_ID)
    assert (stored.status, stored.failure) == (AccountStatus.CLOSED, None)
    assert written == stored
    assert registry.list_accounts(status="FAILED") == ([], None)


def test_an_onboardings_write_keeps_a_root_confirmation_and_a_lock_written_meanwhile(
    registry, competitor, table_name, opened_onboarding
):
    onboarding = opened_onboarding()
    first = registry.save_account(account(onboarding, ACCOUNT_ID, AccountStatus.ACTIVE))
    registered = first.model_copy(
        update={"baseline_policy_arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/Baseline", "updated_at": now()}
    )

    def owner_and_offboarding() -> None:
        competitor.confirm_root_secured(ACCOUNT_ID, OWNER_ARN)
        assert competitor.begin_offboarding(offboarding_of(first, "off-meanwhile"))

    with racing(table_name, owner_and_offboarding) as race:
        race.registry.save_account(registered, onboarding_status=OnboardingStatus.SUCCEEDED)

    assert race.writes == 2
    stored = registry.get_account(ACCOUNT_ID)
    assert stored.baseline_policy_arn == registered.baseline_policy_arn
    assert (stored.root_secured_by, stored.offboarding_id) == (OWNER_ARN, "off-meanwhile")
    assert stored.root_secured_at is not None
    assert stored.created_at == first.created_at
    assert registry.get_onboarding(onboarding.onboarding_id)["status"] == "SUCCEEDED"


def test_an_entry_written_before_versions_is_written_once_and_versioned(
    registry, setup_client, table_name, stored_item, active
):
    key = {"pk": {"S": f"ACCOUNT#{ACCOUNT_ID}"}, "sk": {"S": "ACCOUNT"}}
    setup_client("dynamodb").update_item(TableName=table_name, Key=key, UpdateExpression="REMOVE version")
    assert "version" not in stored_item()

    registry.update_account(
        ACCOUNT_ID, lambda current: current.model_copy(update={"ou_id": "ou-abcd-33333333"})
    )

    assert registry.get_account(ACCOUNT_ID).ou_id == "ou-abcd-33333333"
    assert stored_item()["version"] == {"N": "1"}


def test_an_entry_written_before_versions_does_not_lose_a_write_made_meanwhile(
    registry, competitor, setup_client, table_name, stored_item, active
):
    key = {"pk": {"S": f"ACCOUNT#{ACCOUNT_ID}"}, "sk": {"S": "ACCOUNT"}}
    setup_client("dynamodb").update_item(TableName=table_name, Key=key, UpdateExpression="REMOVE version")

    with racing(table_name, lambda: competitor.confirm_root_secured(ACCOUNT_ID, OWNER_ARN)) as race:
        race.registry.update_account(
            ACCOUNT_ID, lambda current: current.model_copy(update={"ou_id": "ou-abcd-33333333"})
        )

    assert race.writes == 2
    stored = registry.get_account(ACCOUNT_ID)
    assert (stored.ou_id, stored.root_secured_by) == ("ou-abcd-33333333", OWNER_ARN)
    assert stored_item()["version"] == {"N": "2"}  # 1 from the confirmation, 2 from the write


def test_a_write_that_always_loses_gives_up_with_write_contention(
    registry, competitor, table_name, stored_item, active
):
    before = stored_item()
    confirmations: list[int] = []

    def confirm_again() -> None:
        confirmations.append(1)
        competitor.confirm_root_secured(ACCOUNT_ID, f"{OWNER_ARN}-{len(confirmations)}")

    with (
        racing(table_name, confirm_again, times=None) as race,
        pytest.raises(WriteContention, match=ACCOUNT_ID),
    ):
        race.registry.update_account(
            ACCOUNT_ID, lambda current: current.model_copy(update={"ou_id": "ou-abcd-44444444"})
        )

    assert race.writes == len(confirmations) == MAX_WRITE_ATTEMPTS
    stored = registry.get_account(ACCOUNT_ID)
    assert stored.ou_id == active.ou_id  # the losing change never landed
    assert stored.root_secured_by == f"{OWNER_ARN}-{MAX_WRITE_ATTEMPTS}"  # every competing write did
    assert int(stored_item()["version"]["N"]) == int(before["version"]["N"]) + MAX_WRITE_ATTEMPTS


def test_a_late_release_of_an_earlier_attempt_never_lets_go_of_the_hold_a_retry_took(
    registry: Registry, active: AccountRecord
) -> None:
    """The gap a DescribeExecution check cannot close: a report of attempt 0 that saw the execution still
    failed, releasing after the retry took the account again for attempt 1."""
    offboarding = offboarding_of(active, "off-retried")
    assert registry.begin_offboarding(offboarding)
    assert registry.release_offboarding(active.account_id, "off-retried", 0)  # attempt 0's own report
    assert registry.retake_offboarding(active.account_id, "off-retried", 1)  # the retry, for attempt 1

    assert not registry.release_offboarding(active.account_id, "off-retried", 0)  # attempt 0, late

    held = registry.get_account(active.account_id)
    assert (held.offboarding_id, held.offboarding_attempt) == ("off-retried", 1)
    assert registry.release_offboarding(active.account_id, "off-retried", 1)  # attempt 1's own report
    assert registry.get_account(active.account_id).offboarding_id is None
