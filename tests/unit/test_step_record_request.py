"""Step RecordRequest: validate, resolve defaults, claim the email."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orgvend.errors import EmailAlreadyRegistered, InvalidOnboardingRequest, OutOfScope
from orgvend.models import ExecutionContext
from orgvend.steps.onboarding.record_request import RecordRequestInput, record_request

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
def allowed_email_domains(settings_for) -> tuple[str, ...]:
    """The stack's AllowedEmailDomains as RecordRequestFunction receives them (make run's: example.com)."""
    return settings_for("RecordRequestFunction").allowed_email_domains


@pytest.fixture
def record(registry, scope, step_input, allowed_role_names, allowed_email_domains):
    """RecordRequest of a request, in the execution onb-0001 (or ``name``)."""

    def record_(request: dict, name: str = "onb-0001"):
        return record_request(
            step_input(request, name), registry, scope, allowed_role_names, allowed_email_domains
        )

    return record_


def test_defaults_are_resolved_and_the_onboarding_recorded(
    registry, record, execution_arn, allowed_role_names
):
    onboarding = record({**REQUEST, "tags": {"team": "blue"}})

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


def test_explicit_values_win_over_defaults(registry, record):
    onboarding = record(
        {
            **REQUEST,
            "accountName": "Acme Web Production",
            "roleName": "OrgvendAccess",
            "iamUserAccessToBilling": "ALLOW",
            "billing": "direct",
        }
    )
    assert onboarding.account_name == "Acme Web Production"
    assert onboarding.role_name == "OrgvendAccess"
    assert onboarding.iam_user_access_to_billing == "ALLOW"


def test_a_request_naming_an_account_adopts_it_in_its_ou(registry, record, create_member):
    account_id = create_member("ops@example.com")
    onboarding = record({**REQUEST, "accountId": account_id})
    assert onboarding.mode == "adopt"
    assert onboarding.account_id == account_id
    assert onboarding.keep_ou is True  # adoption keeps the account's OU unless asked otherwise
    assert registry.email_owner("ops@example.com")["accountId"] == account_id


def test_an_adoption_may_ask_to_move_the_account(record, create_member, organization, setup_client):
    account_id = create_member("ops@example.com")
    sub = setup_client("organizations").create_organizational_unit(
        ParentId=organization.clients_ou_id, Name="legacy"
    )["OrganizationalUnit"]["Id"]
    assert record({**REQUEST, "accountId": account_id, "keepOu": False}).keep_ou is False
    assert (
        record({**REQUEST, "accountId": account_id, "ou": sub}).keep_ou is False
    )  # the same onboarding again


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("security", "not under orgvend's OU"),
        ("root", "not under orgvend's OU"),
        ("management", "the management account"),
        ("stranger", "not a member of this organization"),
    ],
)
def test_an_account_outside_the_scope_is_refused_and_nothing_written(
    record, create_member, organization, dynamodb, table_items, where, why
):
    account_id = {
        "security": lambda: create_member("ops@example.com", parent=organization.security_ou_id),
        "root": lambda: create_member("ops@example.com", parent=organization.root_id),
        "management": lambda: organization.management_account_id,
        "stranger": lambda: "999999999999",
    }[where]()
    calls = record_calls(dynamodb)
    with pytest.raises(OutOfScope) as raised:
        record({**REQUEST, "accountId": account_id})
    assert raised.value.field == "accountId"
    assert account_id in str(raised.value) and why in str(raised.value)
    assert calls.made == []
    assert table_items() == []


def test_an_ou_outside_the_scope_is_refused_and_an_ou_inside_accepted(
    record, organization, setup_client, table_items
):
    with pytest.raises(OutOfScope) as raised:
        record({**REQUEST, "ou": organization.security_ou_id})
    assert raised.value.field == "ou"
    assert organization.security_ou_id in str(raised.value)
    assert table_items() == []
    nested = setup_client("organizations").create_organizational_unit(
        ParentId=organization.clients_ou_id, Name="nested"
    )["OrganizationalUnit"]["Id"]
    assert record({**REQUEST, "ou": nested}).ou == nested
    again = record(
        {**REQUEST, "email": "ops2@example.com", "ou": organization.clients_ou_id}, name="onb-0002"
    )
    assert again.ou == organization.clients_ou_id


def test_an_email_outside_the_allowed_domains_is_refused_naming_email(record, dynamodb, table_items):
    calls = record_calls(dynamodb)
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record({**REQUEST, "email": "ops@evil.example.net"})
    message = str(raised.value)
    assert message.startswith("email:")
    assert "evil.example.net" in message and "AllowedEmailDomains" in message
    assert calls.made == []
    assert table_items() == []


def test_who_asked_is_kept(record, registry):
    onboarding = record({**REQUEST, "requestedBy": "arn:aws:iam::123456789012:role/ops-alice"})
    assert onboarding.requested_by == "arn:aws:iam::123456789012:role/ops-alice"


def test_a_role_name_the_stack_does_not_allow_is_refused_naming_role_name(record, dynamodb, table_items):
    calls = record_calls(dynamodb)
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record({**REQUEST, "roleName": "SomeOtherRole"})

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
        ({"tags": {"managed-by": "me"}}, ("tags.managed-by", "orgvend's own")),
        ({"iamUserAccessToBilling": "ALLOW"}, ("iamUserAccessToBilling", "only for billing direct")),
        ({"keepOu": True}, ("keepOu", "always placed")),
        ({"monthlyBudgetUsd": 0}, ("monthlyBudgetUsd", "more than 0")),
        ({"monthlyBudgetUsd": -5}, ("monthlyBudgetUsd", "more than 0")),
        ({"monthlyBudgetUsd": 10.001}, ("monthlyBudgetUsd", "two decimals")),
        ({"monthlyBudgetUsd": 1_000_000.01}, ("monthlyBudgetUsd", "at most 1,000,000")),
        ({"monthlyBudgetUsd": "250"}, ("monthlyBudgetUsd", "a number")),
        ({"monthlyBudgetUsd": True}, ("monthlyBudgetUsd", "a number")),
        ({"budgetAlertEmail": "finance at acme"}, ("budgetAlertEmail", "email address")),
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


def test_every_problem_is_in_the_message(registry, record):
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record({"client": "acme", "email": "nope"})
    message = str(raised.value)
    assert "project: Field required" in message
    assert "email: " in message


def test_a_second_onboarding_of_the_same_email_is_refused(registry, record):
    record(REQUEST, name="onb-first")
    with pytest.raises(EmailAlreadyRegistered, match="onb-first"):
        record({**REQUEST, "email": "OPS@example.com", "project": "api"}, name="onb-second")
    assert registry.get_onboarding("onb-second") is None


def test_a_retry_of_the_same_execution_is_accepted(registry, record):
    first = record(REQUEST)
    again = record(REQUEST)
    assert again == first


# -- the settings profile ----------------------------------------------------------------------------


def test_the_settings_profile_and_overrides_are_carried_to_the_onboarding(record):
    overrides = {"passwordPolicy": {"minimumPasswordLength": 20}}
    onboarding = record({**REQUEST, "settingsProfile": "default", "settings": overrides})

    assert (onboarding.settings_profile, onboarding.settings) == ("default", overrides)
    assert record({**REQUEST, "email": "two@example.com"}, "onb-0002").settings_profile == "default"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"settingsProfile": "nosuch"}, "settingsProfile"),
        (
            {"settings": {"passwordPolicy": {"minimumPasswordLength": 3}}},
            "settings.passwordPolicy.minimumPasswordLength",
        ),
        ({"settings": {"ebsEncryption": {"regions": []}}}, "settings.ebsEncryption.regions"),
        ({"settings": {"alias": "{client}-{project}-" + "x" * 60}}, "settings.alias"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_before_anything_is_written(
    registry, record, change, field
):
    with pytest.raises(InvalidOnboardingRequest, match=rf"^{field}: "):
        record({**REQUEST, **change})

    assert registry.get_onboarding("onb-0001") is None
    assert registry.email_owner("ops@example.com") is None


# -- the budget ------------------------------------------------------------------------------------


def test_the_requests_budget_is_carried_to_the_onboarding(record):
    onboarding = record({**REQUEST, "monthlyBudgetUsd": 99.95, "budgetAlertEmail": "finance@acme.example"})
    assert (onboarding.monthly_budget_usd, onboarding.budget_alert_email) == (
        Decimal("99.95"),
        "finance@acme.example",
    )
    assert onboarding.to_json()["monthlyBudgetUsd"] == 99.95  # a JSON number in the workflow's state
    plain = record({**REQUEST, "email": "two@example.com"}, "onb-0002")
    assert (plain.monthly_budget_usd, plain.budget_alert_email) == (None, None)  # CreateBudget resolves it
