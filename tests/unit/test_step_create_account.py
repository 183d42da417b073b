"""Step CreateAccount: Organizations CreateAccount, once per onboarding."""

import json

import pytest
from botocore.awsrequest import AWSResponse

from orgvend.errors import OrganizationsBusy, OrganizationsRejected
from orgvend.models import CreationState
from orgvend.steps.create_account import CreateAccountInput, create_account

from .support import failing, record_calls


@pytest.fixture
def onboarding(opened_onboarding):
    return opened_onboarding(
        email="acme-web@example.com",
        account_name="Acme Web",
        tags={"team": "blue", "client": "acme", "project": "web"},
    )


def test_create_account_asks_organizations_with_the_onboardings_values(
    organizations, registry, onboarding, setup_client
):
    calls = record_calls(organizations)

    creation = create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)

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


def test_billing_access_is_passed_as_requested(organizations, registry, opened_onboarding):
    calls = record_calls(organizations)
    onboarding = opened_onboarding(iam_user_access_to_billing="ALLOW")
    create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)
    assert calls.of("CreateAccount")[0].params["IamUserAccessToBilling"] == "ALLOW"


def test_a_second_run_for_the_same_onboarding_does_not_create_another_account(
    organizations, registry, onboarding, setup_client
):
    calls = record_calls(organizations)
    first = create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)

    again = create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)

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
def test_organizations_being_busy_is_retryable(organizations, registry, onboarding, code, reason):
    modeled = {"Reason": reason} if reason else {}
    organizations.meta.events.register(
        "before-call.organizations.CreateAccount", failing(code, "slow down", **modeled)
    )

    with pytest.raises(OrganizationsBusy) as raised:
        create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)

    assert code in str(raised.value)
    if reason:
        assert reason in str(raised.value)
    assert "createRequestId" not in registry.get_onboarding(onboarding.onboarding_id)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ConstraintViolationException", "ACCOUNT_NUMBER_LIMIT_EXCEEDED"),
        ("ConstraintViolationException", "EMAIL_VERIFICATION_CODE_EXPIRED"),
        ("AccessDeniedForDependencyException", "ACCESS_DENIED_DURING_CREATE_SERVICE_LINKED_ROLE"),
        ("AWSOrganizationsNotInUseException", None),
    ],
)
def test_organizations_refusing_for_good_is_terminal(organizations, registry, onboarding, code, reason):
    modeled = {"Reason": reason} if reason else {}
    organizations.meta.events.register(
        "before-call.organizations.CreateAccount", failing(code, "no", **modeled)
    )

    with pytest.raises(OrganizationsRejected) as raised:
        create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)

    assert str(raised.value).startswith("CreateAccount: ")
    assert code in str(raised.value)
    if reason:
        assert reason in str(raised.value)
    assert "createRequestId" not in registry.get_onboarding(onboarding.onboarding_id)


def test_the_reason_is_read_where_botocores_parser_puts_it(organizations, registry, onboarding):
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
        create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)


def test_the_first_stored_request_id_wins_over_a_later_one(organizations, registry, onboarding):
    # Another invocation of the step stored its request ID between our read and our write.
    original_get = registry.get_onboarding(onboarding.onboarding_id)
    assert "createRequestId" not in original_get

    def store_a_competitor(**_):
        registry.remember_create_request(onboarding.onboarding_id, "car-competitor1")

    organizations.meta.events.register("before-call.organizations.CreateAccount", store_a_competitor)

    creation = create_account(CreateAccountInput(onboarding=onboarding), organizations, registry)

    assert creation.request_id == "car-competitor1"
    assert registry.get_onboarding(onboarding.onboarding_id)["createRequestId"] == "car-competitor1"
