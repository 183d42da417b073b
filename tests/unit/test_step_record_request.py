"""Step RecordRequest: validate, resolve defaults, claim the email."""

from datetime import UTC, datetime

import pytest

from orgvend.errors import EmailAlreadyRegistered, InvalidOnboardingRequest
from orgvend.models import ExecutionContext
from orgvend.steps.record_request import RecordRequestInput, record_request

from .support import record_calls


@pytest.fixture
def allowed_role_names(settings_for) -> tuple[str, ...]:
    """The stack's AccessRoleNames as RecordRequestFunction receives them, plus a second name."""
    return (*settings_for("RecordRequestFunction").access_role_names, "OrgvendAccess")


@pytest.fixture
def step_input(execution_arn):
    def make(request: dict, name: str = "onb-0001") -> RecordRequestInput:
        return RecordRequestInput(
            request=request,
            execution=ExecutionContext(
                id=execution_arn(name), name=name, start_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
            ),
        )

    return make


REQUEST = {"client": "acme", "project": "web", "email": "ops@example.com"}


@pytest.fixture
def record(registry, step_input, allowed_role_names):
    """RecordRequest of a request, in the execution onb-0001."""

    def record_(request: dict):
        return record_request(step_input(request), registry, allowed_role_names)

    return record_


def test_defaults_are_resolved_and_the_onboarding_recorded(
    registry, step_input, allowed_role_names, execution_arn
):
    onboarding = record_request(
        step_input({**REQUEST, "tags": {"team": "blue"}}), registry, allowed_role_names
    )

    assert onboarding.onboarding_id == "onb-0001"
    assert onboarding.execution_arn == execution_arn("onb-0001")
    assert onboarding.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert onboarding.mode == "create"
    assert onboarding.account_name == "acme-web"
    assert onboarding.role_name == allowed_role_names[0] == "OrganizationAccountAccessRole"
    assert onboarding.tags == {"team": "blue", "client": "acme", "project": "web"}
    assert onboarding.iam_user_access_to_billing == "DENY"
    assert onboarding.account_id is None

    stored = registry.get_onboarding("onb-0001")
    assert stored["status"] == "RUNNING"
    assert stored["accountName"] == "acme-web"
    assert stored["roleName"] == "OrganizationAccountAccessRole"
    assert registry.email_owner("ops@example.com")["onboardingId"] == "onb-0001"


def test_explicit_values_win_over_defaults(registry, step_input, allowed_role_names):
    onboarding = record_request(
        step_input(
            {
                **REQUEST,
                "accountName": "Acme Web Production",
                "roleName": "OrgvendAccess",
                "iamUserAccessToBilling": "ALLOW",
            }
        ),
        registry,
        allowed_role_names,
    )
    assert onboarding.account_name == "Acme Web Production"
    assert onboarding.role_name == "OrgvendAccess"
    assert onboarding.iam_user_access_to_billing == "ALLOW"


def test_a_request_naming_an_account_adopts_it(registry, step_input, allowed_role_names):
    onboarding = record_request(
        step_input({**REQUEST, "accountId": "210987654321"}), registry, allowed_role_names
    )
    assert onboarding.mode == "adopt"
    assert onboarding.account_id == "210987654321"
    assert registry.email_owner("ops@example.com")["accountId"] == "210987654321"


def test_a_role_name_the_stack_does_not_allow_is_refused_naming_role_name(
    registry, dynamodb, step_input, allowed_role_names, table_items
):
    calls = record_calls(dynamodb)
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record_request(step_input({**REQUEST, "roleName": "SomeOtherRole"}), registry, allowed_role_names)

    message = str(raised.value)
    assert message.startswith("roleName:")
    assert "OrganizationAccountAccessRole" in message
    assert "OrgvendAccess" in message
    assert calls.made == []
    assert table_items() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"email": "ops@@example.com"}, ("email", "exactly one @")),
        ({"client": "Acme Corp"}, ("client", "lowercase slug")),
        ({"accountName": "x" * 51}, ("accountName", "1 to 50")),
        ({"tags": {"aws:owner": "x"}}, ("tags.aws:owner", "reserved by AWS")),
        ({"tags": {"client": "other"}}, ("tags.client", "set by orgvend")),
        ({"roleName": "AWSServiceRoleForX"}, ("roleName", "AWSServiceRoleFor")),
        ({"colour": "blue"}, ("colour", "Extra inputs")),
    ],
)
def test_an_invalid_request_is_refused_naming_the_field_and_writes_nothing(
    record, dynamodb, table_items, change, expected
):
    field, words = expected
    calls = record_calls(dynamodb)
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record({**REQUEST, **change})

    message = str(raised.value)
    assert message.startswith(field)
    assert words in message
    assert calls.made == []
    assert table_items() == []


def test_every_problem_is_in_the_message(registry, step_input, allowed_role_names):
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record_request(step_input({"client": "acme", "email": "nope"}), registry, allowed_role_names)
    message = str(raised.value)
    assert "project: Field required" in message
    assert "email: " in message


def test_a_second_onboarding_of_the_same_email_is_refused(registry, step_input, allowed_role_names):
    record_request(step_input(REQUEST, name="onb-first"), registry, allowed_role_names)
    with pytest.raises(EmailAlreadyRegistered, match="onb-first"):
        record_request(
            step_input({**REQUEST, "email": "OPS@example.com", "project": "api"}, name="onb-second"),
            registry,
            allowed_role_names,
        )
    assert registry.get_onboarding("onb-second") is None


def test_a_retry_of_the_same_execution_is_accepted(registry, step_input, allowed_role_names):
    first = record_request(step_input(REQUEST), registry, allowed_role_names)
    again = record_request(step_input(REQUEST), registry, allowed_role_names)
    assert again == first
