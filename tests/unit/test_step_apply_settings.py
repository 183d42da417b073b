"""Step ApplySettings: the request's profile resolved, applied through the access role, recorded."""

from typing import Any

import pytest

from orgvend import aws
from orgvend.errors import AccountNotReady, InvalidSettingsProfile, SettingsNotApplied
from orgvend.models import AccountStatus
from orgvend.registry import Registry
from orgvend.registry.accounts import pending_record
from orgvend.steps.onboarding.apply_settings import ApplySettingsInput, apply_account_settings

from .support import Calls, failing, hooked_session


@pytest.fixture
def member(create_member: Any, default_role_name: str) -> str:
    return str(create_member("member@example.com", "member", default_role_name))


@pytest.fixture
def step_input(opened_onboarding: Any, registry: Registry, member: str) -> Any:
    def make(**changes: Any) -> ApplySettingsInput:
        onboarding = opened_onboarding(**changes)
        registry.save_account(pending_record(onboarding, member, AccountStatus.CREATING))
        return ApplySettingsInput(onboarding=onboarding, account_id=member)

    return make


def apply(step_input: ApplySettingsInput, registry: Registry) -> Any:
    return apply_account_settings(step_input, aws.client("sts"), aws.client("account"), registry)


def test_the_profile_is_applied_through_the_access_role_and_recorded(
    step_input: Any, registry: Registry, member: str, session_calls: Calls, setup_client: Any
) -> None:
    arguments = step_input(settings={"passwordPolicy": {"minimumPasswordLength": 20}})
    result = apply(arguments, registry)

    assert (result.profile, result.version) == ("default", 1) and result.changed
    [assumed] = session_calls.of("AssumeRole")
    assert assumed.params["RoleSessionName"] == "orgvend-settings"
    assert assumed.params["RoleArn"].startswith(f"arn:aws:iam::{member}:role/")
    recorded = registry.get_account(member)
    assert recorded is not None and recorded.settings is not None
    assert (recorded.settings.profile, recorded.settings.version) == ("default", 1)
    assert "alias" in recorded.settings.changed and "passwordPolicy" in recorded.settings.changed

    again = apply(arguments, registry)
    assert not again.changed
    assert registry.get_account(member).settings.changed == []  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "raised", "words"),
    [
        ("AccessDenied", AccountNotReady, "yet"),
        ("ValidationError", SettingsNotApplied, "accessRole: cannot assume"),
    ],
)
def test_an_access_role_not_assumable_yet_is_retried_and_another_refusal_names_the_role(
    step_input: Any, registry: Registry, code: str, raised: type[Exception], words: str
) -> None:
    with hooked_session("before-call.sts.AssumeRole", failing(code)), pytest.raises(raised, match=words):
        apply(step_input(), registry)


def test_an_unknown_profile_is_refused_before_anything_is_assumed(
    step_input: Any, registry: Registry, session_calls: Calls
) -> None:
    with pytest.raises(InvalidSettingsProfile, match="settingsProfile"):
        apply(step_input(settings_profile="nosuch"), registry)
    assert session_calls.of("AssumeRole") == []
