"""Step CheckAccountCreation: one DescribeCreateAccountStatus poll (answers scripted with Stubber)."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import Stubber

from orgvend.errors import (
    AccountCreationFailed,
    AccountCreationTimedOut,
    InvalidOnboardingRequest,
    OrganizationsBusy,
)
from orgvend.models import AccountStatus, Creation, CreationState
from orgvend.steps.onboarding.check_account_creation import CheckAccountCreationInput, check_account_creation

LIMIT = 5
LEASE = timedelta(hours=1)
OTHER = "onb-other"
REQUEST_ID = "car-0123456789abcdef"
ACCOUNT_ID = "210987654321"


@pytest.fixture
def onboarding(opened_onboarding):
    return opened_onboarding(email="acme-web@example.com")


@pytest.fixture
def held(slots, onboarding):
    """The onboarding holds a creation slot (CreateAccount took it), and so does another one."""
    assert slots.acquire(OTHER, LIMIT, LEASE)
    assert slots.acquire(onboarding.onboarding_id, LIMIT, LEASE)
    return slots


@pytest.fixture
def stubbed(organizations):
    with Stubber(organizations) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def status(state: str, **fields) -> dict:
    return {"CreateAccountStatus": {"Id": REQUEST_ID, "AccountName": "acme-web", "State": state, **fields}}


def answer(stubbed: Stubber, state: str, **fields) -> None:
    stubbed.add_response(
        "describe_create_account_status", status(state, **fields), {"CreateAccountRequestId": REQUEST_ID}
    )


def step(onboarding, creation: Creation, timeout_seconds: int = 1800) -> CheckAccountCreationInput:
    return CheckAccountCreationInput(
        onboarding=onboarding, creation=creation, timeout_seconds=timeout_seconds
    )


def first_poll() -> Creation:
    return Creation(request_id=REQUEST_ID, state=CreationState.IN_PROGRESS)


def test_in_progress_counts_the_polls_and_writes_nothing(stubbed, registry, slots, onboarding):
    answer(stubbed, "IN_PROGRESS")
    answer(stubbed, "IN_PROGRESS")
    now = onboarding.started_at + timedelta(seconds=60)

    creation = check_account_creation(step(onboarding, first_poll()), stubbed.client, registry, slots, now)
    assert (creation.state, creation.polls, creation.request_id) == (CreationState.IN_PROGRESS, 1, REQUEST_ID)
    creation = check_account_creation(step(onboarding, creation), stubbed.client, registry, slots, now)
    assert (creation.state, creation.polls) == (CreationState.IN_PROGRESS, 2)
    assert creation.account_id is None
    assert "accountId" not in registry.get_onboarding(onboarding.onboarding_id)


def test_a_creation_without_its_request_id_is_refused_before_any_call(stubbed, registry, slots, onboarding):
    without_request = Creation(request_id=None, state=CreationState.IN_PROGRESS)
    with pytest.raises(InvalidOnboardingRequest, match=r"creation\.requestId is missing"):
        check_account_creation(
            step(onboarding, without_request), stubbed.client, registry, slots, onboarding.started_at
        )


def test_in_progress_at_the_timeout_is_still_waited_for(stubbed, registry, slots, onboarding):
    answer(stubbed, "IN_PROGRESS")
    now = onboarding.started_at + timedelta(seconds=1800)
    creation = check_account_creation(
        step(onboarding, first_poll(), 1800), stubbed.client, registry, slots, now
    )
    assert creation.state is CreationState.IN_PROGRESS


def test_in_progress_past_the_timeout_fails_the_onboarding(stubbed, registry, slots, onboarding):
    answer(stubbed, "IN_PROGRESS")
    now = onboarding.started_at + timedelta(seconds=1801)

    with pytest.raises(AccountCreationTimedOut) as raised:
        check_account_creation(step(onboarding, first_poll(), 1800), stubbed.client, registry, slots, now)

    assert REQUEST_ID in str(raised.value)
    assert "timeout 1800 s" in str(raised.value)
    assert "after 1801 s" in str(raised.value)


@pytest.mark.parametrize(
    ("reason", "explanation"),
    [
        ("ACCOUNT_LIMIT_EXCEEDED", "account quota"),
        ("INVALID_PAYMENT_INSTRUMENT", "payment method"),
        ("INTERNAL_FAILURE", "internal failure"),
        ("SOME_NEW_REASON", "unknown failure reason"),
    ],
)
def test_failed_spells_out_the_failure_reason(stubbed, registry, slots, onboarding, reason, explanation):
    answer(stubbed, "FAILED", FailureReason=reason)

    with pytest.raises(AccountCreationFailed) as raised:
        check_account_creation(
            step(onboarding, first_poll()), stubbed.client, registry, slots, onboarding.started_at
        )

    assert f"CreateAccount failed: {reason}: " in str(raised.value)
    assert explanation in str(raised.value)
    assert "accountId" not in registry.get_onboarding(onboarding.onboarding_id)


def test_succeeded_writes_a_creating_registry_entry(stubbed, registry, slots, onboarding):
    answer(stubbed, "IN_PROGRESS")
    answer(stubbed, "SUCCEEDED", AccountId=ACCOUNT_ID)
    now = onboarding.started_at + timedelta(seconds=30)

    creation = check_account_creation(step(onboarding, first_poll()), stubbed.client, registry, slots, now)
    creation = check_account_creation(step(onboarding, creation), stubbed.client, registry, slots, now)

    assert creation == Creation(
        request_id=REQUEST_ID, state=CreationState.SUCCEEDED, account_id=ACCOUNT_ID, polls=2, recovered=False
    )
    account = registry.get_account(ACCOUNT_ID)
    assert account is not None
    assert account.status is AccountStatus.CREATING
    assert account.onboarding_id == onboarding.onboarding_id
    assert account.email == "acme-web@example.com"
    assert account.role_name == onboarding.role_name
    assert f"account={ACCOUNT_ID}" in account.switch_role_url
    assert registry.get_onboarding(onboarding.onboarding_id)["accountId"] == ACCOUNT_ID
    assert registry.email_owner(onboarding.email)["accountId"] == ACCOUNT_ID


def test_succeeded_even_after_the_timeout_is_a_success(stubbed, registry, slots, onboarding):
    answer(stubbed, "SUCCEEDED", AccountId=ACCOUNT_ID)
    now = onboarding.started_at + timedelta(days=2)
    creation = check_account_creation(
        step(onboarding, first_poll(), 60), stubbed.client, registry, slots, now
    )
    assert creation.state is CreationState.SUCCEEDED


def member(email: str, joined, account_id: str = ACCOUNT_ID, method: str = "CREATED") -> dict:
    return {
        "Id": account_id,
        "Arn": f"arn:aws:organizations::123456789012:account/o-abcdefghij/{account_id}",
        "Email": email,
        "Name": "acme-web",
        "Status": "ACTIVE",
        "JoinedMethod": method,
        "JoinedTimestamp": joined,
    }


def test_email_already_exists_for_an_account_created_since_the_start_is_our_account(
    stubbed, registry, slots, onboarding
):
    """A retried CreateAccount whose first call succeeded unseen: the account is ours."""
    answer(stubbed, "FAILED", FailureReason="EMAIL_ALREADY_EXISTS")
    started = onboarding.started_at
    stubbed.add_response(
        "list_accounts",
        {
            "Accounts": [
                member("someone@example.com", started + timedelta(seconds=5), "210000000001"),
                member("ACME-WEB@example.com", started + timedelta(seconds=10)),
            ]
        },
        {},
    )

    creation = check_account_creation(
        step(onboarding, first_poll()), stubbed.client, registry, slots, started
    )

    assert creation.state is CreationState.SUCCEEDED
    assert creation.recovered is True
    assert creation.account_id == ACCOUNT_ID
    assert registry.get_account(ACCOUNT_ID).status is AccountStatus.CREATING


@pytest.mark.parametrize(
    "existing",
    [
        pytest.param({"joined": -timedelta(days=30)}, id="joined-before-the-onboarding-started"),
        pytest.param({"joined": timedelta(seconds=10), "method": "INVITED"}, id="invited-not-created"),
    ],
)
def test_email_already_exists_for_someone_elses_account_fails(stubbed, registry, slots, onboarding, existing):
    answer(stubbed, "FAILED", FailureReason="EMAIL_ALREADY_EXISTS")
    joined = onboarding.started_at + existing["joined"]
    stubbed.add_response(
        "list_accounts",
        {"Accounts": [member("acme-web@example.com", joined, method=existing.get("method", "CREATED"))]},
        {},
    )

    with pytest.raises(AccountCreationFailed, match="EMAIL_ALREADY_EXISTS: another AWS account"):
        check_account_creation(
            step(onboarding, first_poll()), stubbed.client, registry, slots, onboarding.started_at
        )

    assert registry.get_account(ACCOUNT_ID) is None


def test_the_recovery_looks_through_every_page_of_accounts(stubbed, registry, slots, onboarding):
    answer(stubbed, "FAILED", FailureReason="EMAIL_ALREADY_EXISTS")
    joined = onboarding.started_at + timedelta(seconds=10)
    stubbed.add_response(
        "list_accounts",
        {"Accounts": [member("x@example.com", joined, "210000000001")], "NextToken": "page-2"},
        {},
    )
    stubbed.add_response(
        "list_accounts", {"Accounts": [member("acme-web@example.com", joined)]}, {"NextToken": "page-2"}
    )

    creation = check_account_creation(
        step(onboarding, first_poll()), stubbed.client, registry, slots, onboarding.started_at
    )

    assert (creation.account_id, creation.recovered) == (ACCOUNT_ID, True)


def test_organizations_throttling_a_poll_is_retryable(stubbed, registry, slots, onboarding):
    stubbed.add_client_error(
        "describe_create_account_status", service_error_code="TooManyRequestsException", http_status_code=400
    )
    with pytest.raises(OrganizationsBusy, match="DescribeCreateAccountStatus: TooManyRequestsException"):
        check_account_creation(
            step(onboarding, first_poll()), stubbed.client, registry, slots, onboarding.started_at
        )


def test_against_moto_a_finished_creation_is_registered(
    organizations, registry, slots, onboarding, setup_client
):
    """The same step against moto's Organizations (which finishes CreateAccount at once)."""
    request_id = setup_client("organizations").create_account(
        Email=onboarding.email, AccountName=onboarding.account_name
    )["CreateAccountStatus"]["Id"]

    creation = check_account_creation(
        step(onboarding, Creation(request_id=request_id, state=CreationState.IN_PROGRESS)),
        organizations,
        registry,
        slots,
        onboarding.started_at,
    )

    assert creation.state is CreationState.SUCCEEDED
    assert registry.get_account(creation.account_id).onboarding_id == onboarding.onboarding_id


# --------------------------------------------------------------------------- the creation slot


def test_in_progress_keeps_the_slot(stubbed, registry, held, onboarding):
    answer(stubbed, "IN_PROGRESS")
    now = onboarding.started_at + timedelta(seconds=60)
    check_account_creation(step(onboarding, first_poll()), stubbed.client, registry, held, now)
    assert sorted(held.holders()) == sorted([OTHER, onboarding.onboarding_id])


def test_succeeded_releases_the_slot(stubbed, registry, held, onboarding):
    answer(stubbed, "SUCCEEDED", AccountId=ACCOUNT_ID)
    creation = check_account_creation(
        step(onboarding, first_poll()), stubbed.client, registry, held, onboarding.started_at
    )
    assert creation.state is CreationState.SUCCEEDED
    assert list(held.holders()) == [OTHER]


def test_a_recovered_creation_releases_the_slot(stubbed, registry, held, onboarding):
    answer(stubbed, "FAILED", FailureReason="EMAIL_ALREADY_EXISTS")
    joined = onboarding.started_at + timedelta(seconds=10)
    stubbed.add_response("list_accounts", {"Accounts": [member("acme-web@example.com", joined)]}, {})

    creation = check_account_creation(
        step(onboarding, first_poll()), stubbed.client, registry, held, onboarding.started_at
    )

    assert creation.recovered is True
    assert list(held.holders()) == [OTHER]


@pytest.mark.parametrize("reason", ["INTERNAL_FAILURE", "EMAIL_ALREADY_EXISTS"])
def test_failed_releases_the_slot(stubbed, registry, held, onboarding, reason):
    answer(stubbed, "FAILED", FailureReason=reason)
    if reason == "EMAIL_ALREADY_EXISTS":  # and no account of ours is found
        stubbed.add_response("list_accounts", {"Accounts": []}, {})

    with pytest.raises(AccountCreationFailed, match=reason):
        check_account_creation(
            step(onboarding, first_poll()), stubbed.client, registry, held, onboarding.started_at
        )

    assert list(held.holders()) == [OTHER]


def test_a_timeout_releases_the_slot(stubbed, registry, held, onboarding):
    answer(stubbed, "IN_PROGRESS")
    now = onboarding.started_at + timedelta(seconds=1801)

    with pytest.raises(AccountCreationTimedOut):
        check_account_creation(step(onboarding, first_poll(), 1800), stubbed.client, registry, held, now)

    assert list(held.holders()) == [OTHER]


def test_throttling_a_poll_keeps_the_slot(stubbed, registry, held, onboarding):
    stubbed.add_client_error(
        "describe_create_account_status", service_error_code="TooManyRequestsException", http_status_code=400
    )
    with pytest.raises(OrganizationsBusy):
        check_account_creation(
            step(onboarding, first_poll()), stubbed.client, registry, held, onboarding.started_at
        )
    assert sorted(held.holders()) == sorted([OTHER, onboarding.onboarding_id])


def test_a_finished_creation_without_a_slot_releases_nothing_else(stubbed, registry, slots, onboarding):
    """An onboarding that never held a slot (a creation started before the semaphore existed)."""
    assert slots.acquire(OTHER, LIMIT, LEASE)
    answer(stubbed, "SUCCEEDED", AccountId=ACCOUNT_ID)

    check_account_creation(step(onboarding, first_poll()), stubbed.client, registry, slots, datetime.now(UTC))

    assert list(slots.holders()) == [OTHER]


def test_time_spent_waiting_for_a_slot_does_not_count_against_the_timeout(
    stubbed, registry, held, onboarding
):
    # The onboarding waited 50 minutes for a creation slot; AWS got the request 10 minutes ago.
    now = onboarding.started_at + timedelta(minutes=60)
    answer(stubbed, "IN_PROGRESS", RequestedTimestamp=now - timedelta(minutes=10))
    creation = check_account_creation(
        step(onboarding, first_poll(), 1800), stubbed.client, registry, held, now
    )
    assert creation.state is CreationState.IN_PROGRESS
    assert onboarding.onboarding_id in held.holders()


def test_the_timeout_runs_from_the_request(stubbed, registry, held, onboarding):
    now = onboarding.started_at + timedelta(minutes=60)
    answer(stubbed, "IN_PROGRESS", RequestedTimestamp=now - timedelta(minutes=31))
    with pytest.raises(AccountCreationTimedOut, match="after 1860 s"):
        check_account_creation(step(onboarding, first_poll(), 1800), stubbed.client, registry, held, now)
    assert onboarding.onboarding_id not in held.holders()
