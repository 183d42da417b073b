"""orgvend.settings.Settings: each function's environment, read once and validated, naming the variable."""

import pytest
from pydantic import ValidationError

from orgvend.settings import MissingSetting, Settings


@pytest.fixture
def create_account_environment(set_function_environment) -> dict[str, str]:
    return set_function_environment("CreateAccountFunction")


def test_reads_the_variables_the_template_gives_a_function(create_account_environment):
    settings = Settings()
    assert settings.registry_table_name == create_account_environment["REGISTRY_TABLE_NAME"]
    assert settings.max_creations_in_progress == int(create_account_environment["MAX_CREATIONS_IN_PROGRESS"])
    assert settings.allowed_email_domains == tuple(
        create_account_environment["ALLOWED_EMAIL_DOMAINS"].split(",")
    )
    assert settings.onboard_state_machine_arn is None  # not given to this function


def test_every_function_of_the_template_gets_valid_settings(set_function_environment, template, monkeypatch):
    for logical_id in template.enabled_resources("AWS::Serverless::Function"):
        for name in (field.upper() for field in Settings.model_fields):
            monkeypatch.delenv(name, raising=False)  # only this function's variables
        set_function_environment(logical_id)
        assert Settings().registry_table_name, logical_id


def test_a_missing_variable_fails_naming_it(create_account_environment, monkeypatch):
    monkeypatch.delenv("REGISTRY_TABLE_NAME")
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "REGISTRY_TABLE_NAME\n  Field required" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("MAX_CREATIONS_IN_PROGRESS", "five", "valid integer"),
        ("MAX_CREATIONS_IN_PROGRESS", "0", "greater than or equal to 1"),
        ("CLIENTS_PARENT_OU_ID", "r-abcd", "should match pattern"),
        ("OPERATOR_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:queue", "should match pattern"),
        ("ALLOWED_EMAIL_DOMAINS", " , ", "at least 1 item"),
    ],
)
def test_a_malformed_variable_fails_naming_it(create_account_environment, monkeypatch, name, value, problem):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    error = raised.value.errors()
    assert [entry["loc"] for entry in error] == [(name,)]
    assert problem in str(raised.value)


def test_an_error_never_shows_the_rest_of_the_environment(create_account_environment, monkeypatch):
    """The function's credentials are in its environment; only orgvend's variables reach pydantic."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-in-a-log-line")
    monkeypatch.delenv("EVENT_BUS_NAME")
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "EVENT_BUS_NAME" in str(raised.value)
    assert "never-in-a-log-line" not in str(raised.value)
    assert "AWS_SECRET_ACCESS_KEY" not in str(raised.value)


def test_comma_separated_lists_keep_their_non_empty_items(create_account_environment, monkeypatch):
    monkeypatch.setenv("ALLOWED_EMAIL_DOMAINS", " example.com, ,*.example.org,")
    monkeypatch.setenv("ACCESS_ROLE_NAMES", "OrgvendAccess,OrganizationAccountAccessRole")
    settings = Settings()
    assert settings.allowed_email_domains == ("example.com", "*.example.org")
    assert settings.roles == ("OrgvendAccess", "OrganizationAccountAccessRole")
    assert settings.default_role_name == "OrgvendAccess"


def test_values_given_by_field_name_replace_the_environment(create_account_environment):
    settings = Settings(max_creations_in_progress=2)
    assert settings.max_creations_in_progress == 2
    assert settings.registry_table_name == create_account_environment["REGISTRY_TABLE_NAME"]


def test_settings_are_frozen(create_account_environment):
    settings, field = Settings(), "registry_table_name"
    with pytest.raises(ValidationError, match="frozen"):
        setattr(settings, field, "another")


def test_reading_a_variable_the_function_was_not_given_names_it(create_account_environment):
    settings = Settings()
    with pytest.raises(MissingSetting, match=r"^ONBOARD_STATE_MACHINE_ARN is not set for this function"):
        settings.required(settings.onboard_state_machine_arn, "onboard_state_machine_arn")
    with pytest.raises(MissingSetting, match=r"^ACCESS_ROLE_NAMES"):
        settings.roles  # noqa: B018 (the property raises)
