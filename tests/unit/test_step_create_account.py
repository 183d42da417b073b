"""Step CreateAccount: Organizations CreateAccount, once per onboarding."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from orgvend.errors import EmailAlreadyRegistered, OrganizationsBusy, OrganizationsRejected
from orgvend.models import Creation, CreationState, Onboarding
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore
from orgvend.settings import Settings
from orgvend.steps.onboarding.create_account import CreateAccountInput, create_account

from .support import failing, record_calls

OTHERS_LEASE = timedelta(hours=1)


@pytest.fixture
def settings(settings_for):
    """The settings template.yaml gives CreateAccountFunction (MAX_CREATIONS_IN_PROGRESS and all)."""
    return settings_for("CreateAccountFunction")


@dataclass
class CreateAccountStep:
    """The step, wired to Organizations, the registry and the creation slots."""

    organizations: Any
    registry: Registry
    slots: Semaphore
    settings: Settings

    def __call__(self, onboarding: Onboarding) -> Creation:
        return create_account(
            CreateAccountInput(onboarding=onboarding),
            self.organizations,
            self.registry,
            self.slots,
            self.settings,
        )


@pytest.fixture
def create(organizations, registry, slots, settings) -> CreateAccountStep:
    return CreateAccountStep(organizations, registry, slots, settings)


@pytest.fixture
def fill_slots(slots, settings):
    """Take every free creation slot for other onboardings; returns their holders."""

    def fill(prefix: str = "onb-other") -> list[str]:
        others = [f"{prefix}-{index}" for index in range(settings.max_creations_in_progress)]
        for other in others:
            assert slots.acquire(other, settings.max_creations_in_progress, OTHERS_LEASE)
        return others

    return fill


@pytest.fixture
def onboarding(opened_onboarding):
    return opened_onboarding(
        email="acme-web@example.com",
        account_name="Acme Web",
        tags={"team": "blue", "client": "acme", "project": "web"},
    )


def test_create_account_asks_organizations_with_the_onboardings_values(
    organizations, registry, create, onboarding, setup_client
):
    calls = record_calls(organizations)

    creation = create(onboarding)

    (call,) = calls.of("CreateAccount")
    assert call.params == {
        "Email": "acme-web@example.com",
        "AccountName": "Acme Web",
        "RoleName": onboarding.role_name,
        "IamUserAccessToBilling": "DENY",
        "Tags": [
            {"Key": "client", "Value": "acme"},
            {"Key": "project", "Value": "web"},
            {"Key": "team", "Value": "blue"},
            {"Key": "managed-by", "Value": "orgvend"},  # what orgvend's IAM grants are held to
        ],
    }
    assert creation.state is CreationState.IN_PROGRESS
    assert creation.request_id
    assert creation.account_id is None
    assert registry.get_onboarding(onboarding.onboarding_id)["createRequestId"] == creation.request_id
    status = setup_client("organizations").describe_create_account_status(
        CreateAccountRequestId=creation.request_id
    )["CreateAccountStatus"]
    assert status["AccountName"] == "Acme Web"


def test_billing_access_is_passed_as_requested(organizations, create, opened_onboarding):
    calls = record_calls(organizations)
    onboarding = opened_onboarding(iam_user_access_to_billing="ALLOW")
    create(onboarding)
    assert calls.of("CreateAccount")[0].params["IamUserAccessToBilling"] == "ALLOW"


def test_a_second_run_for_the_same_onboarding_does_not_create_another_account(
    organizations, registry, create, onboarding, setup_client
):
    calls = record_calls(organizations)
    first = create(onboarding)

    again = create(onboarding)

    assert calls.operations() == ["CreateAccount"]
    assert again.request_id == first.request_id
    assert again.state is CreationState.IN_PROGRESS
    emails = [account["Email"] for account in setup_client("organizations").list_accounts()["Accounts"]]
    assert emails.count("acme-web@example.com") == 1


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("TooManyRequestsException", None),
        ("ConcurrentModificationException", None),
        ("FinalizingOrganizationException", None),
        ("ConstraintViolationException", "ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"),
    ],
)
def test_organizations_being_busy_is_retryable(organizations, create, onboarding, code, reason):
    modeled = {"Reason": reason} if reason else {}
    organizations.meta.events.register(
        "before-call.organizations.CreateAccount", failing(code, "slow down", **modeled)
    )

    with pytest.raises(OrganizationsBusy) as raised:
        create(onboarding)

    assert code in str(raised.value)
    if reason:
        assert reason in str(raised.value)
    assert "createRequestId" not in create.registry.get_onboarding(onboarding.onboarding_id)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ConstraintViolationException", "ACCOUNT_NUMBER_LIMIT_EXCEEDED"),
        ("ConstraintViolationException", "EMAIL_VERIFICATION_CODE_EXPIRED"),
        ("AccessDeniedForDependencyException", "ACCESS_DENIED_DURING_CREATE_SERVICE_LINKED_ROLE"),
        ("AWSOrganizationsNotInUseException", None),
    ],
)
def test_organizations_refusing_for_good_is_terminal(organizations, create, onboarding, code, reason):
    modeled = {"Reason": reason} if reason else {}
    organizations.meta.events.register(
        "before-call.organizations.CreateAccount", failing(code, "no", **modeled)
    )

    with pytest.raises(OrganizationsRejected) as raised:
        create(onboarding)

    assert str(raised.value).startswith("CreateAccount: ")
    assert code in str(raised.value)
    if reason:
        assert reason in str(raised.value)
    assert "createRequestId" not in create.registry.get_onboarding(onboarding.onboarding_id)


def test_the_reason_is_read_where_botocores_parser_puts_it(organizations, create, onboarding):
    """A real Organizations error body, parsed by botocore (not a hand-made parsed dict)."""
    body = json.dumps(
        {
            "__type": "ConstraintViolationException",
            "Message": "You have reached the limit on the number of accounts.",
            "Reason": "ACCOUNT_NUMBER_LIMIT_EXCEEDED",
        }
    ).encode()

    class Raw:
        def stream(self, **_):
            yield body

    def answer(**_):
        return AWSResponse(
            "https://organizations.us-east-1.amazonaws.com/",
            400,
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r-1"},
            Raw(),
        )

    # First in line, ahead of moto's own before-send handler.
    organizations.meta.events.register_first("before-send.organizations.CreateAccount", answer)

    with pytest.raises(
        OrganizationsRejected, match="ConstraintViolationException ACCOUNT_NUMBER_LIMIT_EXCEEDED"
    ):
        create(onboarding)


def test_the_first_stored_request_id_wins_over_a_later_one(organizations, registry, create, onboarding):
    # Another invocation of the step stored its request ID between our read and our write.
    original_get = registry.get_onboarding(onboarding.onboarding_id)
    assert "createRequestId" not in original_get

    def store_a_competitor(**_):
        registry.remember_create_request(onboarding.onboarding_id, "car-competitor1")

    organizations.meta.events.register("before-call.organizations.CreateAccount", store_a_competitor)

    creation = create(onboarding)

    assert creation.request_id == "car-competitor1"
    assert registry.get_onboarding(onboarding.onboarding_id)["createRequestId"] == "car-competitor1"


# --------------------------------------------------------------------------- the creation slots


def test_the_template_gives_the_step_its_limit_and_lease(settings, template):
    assert settings.max_creations_in_progress == int(template.parameters["MaxCreationsInProgress"])
    assert settings.creation_timeout_seconds == int(template.parameters["CreationTimeoutSeconds"])
    # A slot outlives the creation timeout: CheckAccountCreation releases it before it expires.
    assert settings.creation_lease > timedelta(seconds=settings.creation_timeout_seconds)


def test_with_every_slot_taken_organizations_is_not_asked(create, organizations, onboarding, fill_slots):
    others = fill_slots()
    calls = record_calls(organizations)

    creation = create(onboarding)

    assert creation.state is CreationState.WAITING_FOR_SLOT
    assert creation.request_id is None
    assert calls.operations() == []
    assert "createRequestId" not in create.registry.get_onboarding(onboarding.onboarding_id)
    assert sorted(create.slots.holders()) == sorted(others)


def test_a_waiting_onboarding_creates_its_account_once_a_slot_is_free(
    create, organizations, onboarding, fill_slots
):
    others = fill_slots()
    assert create(onboarding).state is CreationState.WAITING_FOR_SLOT
    create.slots.release(others[0])
    calls = record_calls(organizations)

    creation = create(onboarding)

    assert creation.state is CreationState.IN_PROGRESS
    assert calls.operations() == ["CreateAccount"]
    assert sorted(create.slots.holders()) == sorted([*others[1:], onboarding.onboarding_id])


def test_a_slot_whose_lease_expired_is_free_again(create, slots, settings, onboarding):
    long_ago = datetime.now(UTC) - timedelta(days=1)
    for index in range(settings.max_creations_in_progress):
        assert slots.acquire(
            f"onb-vanished-{index}", settings.max_creations_in_progress, OTHERS_LEASE, long_ago
        )

    creation = create(onboarding)

    assert creation.state is CreationState.IN_PROGRESS
    assert list(slots.holders()) == [onboarding.onboarding_id]


def test_the_onboarding_holds_a_slot_for_the_creation_lease(create, slots, settings, onboarding):
    before = datetime.now(UTC)

    create(onboarding)

    holders = slots.holders()
    assert list(holders) == [onboarding.onboarding_id]
    until = holders[onboarding.onboarding_id]
    assert before + settings.creation_lease <= until <= datetime.now(UTC) + settings.creation_lease


def test_a_second_run_takes_no_second_slot(create, slots, onboarding):
    create(onboarding)
    create(onboarding)
    assert list(slots.holders()) == [onboarding.onboarding_id]


def test_a_terminal_refusal_releases_the_slot(create, organizations, slots, onboarding):
    assert slots.acquire("onb-other", 2, OTHERS_LEASE)
    organizations.meta.events.register(
        "before-call.organizations.CreateAccount",
        failing("ConstraintViolationException", "too many accounts", Reason="ACCOUNT_NUMBER_LIMIT_EXCEEDED"),
    )

    with pytest.raises(OrganizationsRejected, match="ACCOUNT_NUMBER_LIMIT_EXCEEDED"):
        create(onboarding)

    assert list(slots.holders()) == ["onb-other"]


def test_throttling_keeps_the_slot_for_the_retry(create, organizations, slots, onboarding):
    organizations.meta.events.register(
        "before-call.organizations.CreateAccount", failing("TooManyRequestsException", "slow down", times=1)
    )

    with pytest.raises(OrganizationsBusy):
        create(onboarding)
    assert list(slots.holders()) == [onboarding.onboarding_id]

    # The state machine's retry renews the same slot and creates the account.
    creation = create(onboarding)
    assert creation.state is CreationState.IN_PROGRESS
    assert list(slots.holders()) == [onboarding.onboarding_id]


def test_a_call_with_an_unknown_outcome_keeps_the_slot(create, organizations, slots, onboarding):
    """A timeout may hide an account being created: its slot stays taken."""

    def time_out(**_):
        raise ReadTimeoutError(endpoint_url="https://organizations.us-east-1.amazonaws.com/")

    organizations.meta.events.register("before-call.organizations.CreateAccount", time_out)

    with pytest.raises(ReadTimeoutError):
        create(onboarding)

    assert list(slots.holders()) == [onboarding.onboarding_id]


def test_a_redrive_after_the_email_was_freed_claims_it_back_first(
    create, registry, onboarding, organizations
):
    """A failure before any account existed frees the email; the redrive's CreateAccount claims it again."""
    assert registry.release_email(onboarding.email, onboarding.onboarding_id)
    assert registry.email_owner(onboarding.email) is None

    creation = create(onboarding)

    assert creation.state is CreationState.IN_PROGRESS
    assert registry.email_owner(onboarding.email)["onboardingId"] == onboarding.onboarding_id


def test_a_redrive_whose_email_was_taken_meanwhile_creates_nothing(
    create, registry, onboarding, opened_onboarding, organizations, slots
):
    assert registry.release_email(onboarding.email, onboarding.onboarding_id)
    opened_onboarding(email=onboarding.email, onboarding_id="onb-newer")  # claims it in between
    calls = record_calls(organizations)

    with pytest.raises(EmailAlreadyRegistered, match="onb-newer"):
        create(onboarding)

    assert "CreateAccount" not in calls.operations()
    assert onboarding.onboarding_id not in slots.holders()  # the slot it took is free again
