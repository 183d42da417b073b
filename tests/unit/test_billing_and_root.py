"""Billing separation (SetBillingPreferences) and root-user hygiene, step by step.

The Billing and IAM calls are answered by botocore's Stubber, which also checks
every request against the service's botocore model.
"""

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from orgvend import aws
from orgvend.errors import BillingPreferencesFailed
from orgvend.models import (
    AccountStatus,
    Baseline,
    BillingSetup,
    ExecutionContext,
    OnboardingRequest,
    Placement,
)
from orgvend.notifications import Announcer, onboarded_message
from orgvend.root_access import root_credentials_management
from orgvend.steps.onboarding.check_account_creation import pending_record
from orgvend.steps.onboarding.notify_onboarded import NotifyOnboardedInput, notify_onboarded
from orgvend.steps.onboarding.record_request import resolve_request
from orgvend.steps.onboarding.register_account import RegisterAccountInput, register_account
from orgvend.steps.onboarding.set_billing_preferences import (
    SetBillingPreferencesInput,
    set_billing_preferences,
)
from orgvend_cli import render

ACCOUNT_ID = "210987654321"
OU_ID = "ou-ab12-cdefgh34"


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(
        service, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    return client, Stubber(client)


def preferences(value: str) -> dict[str, Any]:
    return {"billingPreferences": [{"feature": "RI_SHARING", "key": ACCOUNT_ID, "value": value}]}


GET_PARAMS = {
    "features": ["RI_SHARING"],
    "filters": [{"name": "PREFERENCE_KEY", "value": [ACCOUNT_ID]}],
}
UPDATE_PARAMS = {
    "feature": "RI_SHARING",
    "billingPreferencesPerKey": [{"key": ACCOUNT_ID, "value": "DISABLED"}],
}


def never_called() -> Any:
    raise AssertionError("consolidated billing must not call Billing")


# --------------------------------------------------------------------------- the request


def test_billing_defaults_to_consolidated_and_record_request_resolves_it():
    execution = ExecutionContext(
        id="arn:aws:states:us-east-1:1:execution:m:x", name="x", start_time=datetime.now(UTC)
    )
    plain = OnboardingRequest(client="acme", project="web", email="a@example.com")
    direct = OnboardingRequest.model_validate(
        {"client": "acme", "project": "web", "email": "a@example.com", "billing": "direct"}
    )
    assert resolve_request(plain, execution, "Role").billing == "consolidated"
    assert resolve_request(direct, execution, "Role").billing == "direct"
    assert resolve_request(plain, execution, "Role").iam_user_access_to_billing == "DENY"


def test_an_unknown_billing_mode_is_refused():
    with pytest.raises(ValueError, match="billing"):
        OnboardingRequest.model_validate(
            {"client": "acme", "project": "web", "email": "a@example.com", "billing": "agency"}
        )


# --------------------------------------------------------------------------- SetBillingPreferences


def test_consolidated_calls_nothing(make_onboarding):
    step_input = SetBillingPreferencesInput(onboarding=make_onboarding(), account_id=ACCOUNT_ID)
    assert set_billing_preferences(step_input, never_called) == BillingSetup(mode="consolidated")


def test_direct_turns_discount_sharing_off_and_reads_it_back(make_onboarding):
    billing, stubber = stubbed("billing")
    stubber.add_response("get_billing_preferences", preferences("ENABLED"), GET_PARAMS)
    stubber.add_response("update_billing_preferences", {}, UPDATE_PARAMS)
    stubber.add_response("get_billing_preferences", preferences("DISABLED"), GET_PARAMS)
    step_input = SetBillingPreferencesInput(
        onboarding=make_onboarding(billing="direct"), account_id=ACCOUNT_ID
    )
    with stubber:
        result = set_billing_preferences(step_input, lambda: billing)
        stubber.assert_no_pending_responses()
    assert result == BillingSetup(mode="direct", ri_sharing="DISABLED", changed=True)
    assert result.to_json() == {"mode": "direct", "riSharing": "DISABLED", "changed": True}


def test_direct_is_idempotent_when_sharing_is_already_off(make_onboarding):
    billing, stubber = stubbed("billing")
    stubber.add_response("get_billing_preferences", preferences("DISABLED"), GET_PARAMS)
    stubber.add_response("get_billing_preferences", preferences("DISABLED"), GET_PARAMS)
    step_input = SetBillingPreferencesInput(
        onboarding=make_onboarding(billing="direct"), account_id=ACCOUNT_ID
    )
    with stubber:
        result = set_billing_preferences(step_input, lambda: billing)
        stubber.assert_no_pending_responses()
    assert result == BillingSetup(mode="direct", ri_sharing="DISABLED", changed=False)


def test_direct_fails_when_sharing_stays_on(make_onboarding):
    billing, stubber = stubbed("billing")
    stubber.add_response("get_billing_preferences", {"billingPreferences": []}, GET_PARAMS)
    stubber.add_response("update_billing_preferences", {}, UPDATE_PARAMS)
    stubber.add_response("get_billing_preferences", preferences("ENABLED"), GET_PARAMS)
    step_input = SetBillingPreferencesInput(
        onboarding=make_onboarding(billing="direct"), account_id=ACCOUNT_ID
    )
    with stubber, pytest.raises(BillingPreferencesFailed, match="ENABLED"):
        set_billing_preferences(step_input, lambda: billing)


def test_direct_refused_by_billing_is_terminal(make_onboarding):
    billing, stubber = stubbed("billing")
    stubber.add_client_error("get_billing_preferences", "AccessDeniedException", "not the payer")
    step_input = SetBillingPreferencesInput(
        onboarding=make_onboarding(billing="direct"), account_id=ACCOUNT_ID
    )
    with stubber, pytest.raises(BillingPreferencesFailed, match="AccessDeniedException"):
        set_billing_preferences(step_input, lambda: billing)


# --------------------------------------------------------------------------- root access management


def iam_answering(features: list[str] | None) -> Any:
    iam, stubber = stubbed("iam")
    if features is None:
        stubber.add_client_error("list_organizations_features", "ServiceAccessNotEnabledException", "off")
    else:
        stubber.add_response(
            "list_organizations_features", {"OrganizationId": "o-abcdefghij", "EnabledFeatures": features}
        )
    stubber.activate()
    return iam


def test_root_credentials_management_is_read_from_iam():
    assert root_credentials_management(iam_answering(["RootCredentialsManagement", "RootSessions"])) is True
    assert root_credentials_management(iam_answering(["RootSessions"])) is False
    assert root_credentials_management(iam_answering(None)) is None
    assert root_credentials_management(None) is None


def register(registry, onboarding, iam=None, billing=None):
    return register_account(
        RegisterAccountInput(
            onboarding=onboarding,
            account_id=ACCOUNT_ID,
            placement=Placement(ou_id=OU_ID, ou_name="acme", moved=True),
            baseline=Baseline(
                role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{onboarding.role_name}",
                policy_arn=f"arn:aws:iam::{ACCOUNT_ID}:policy/OrgvendAdministratorMinusBilling",
                changed=True,
            ),
            billing=billing,
        ),
        registry,
        iam,
    )


def test_register_account_records_billing_mode_and_root_access_management(registry, opened_onboarding):
    onboarding = opened_onboarding(billing="direct")
    record = register(
        registry,
        onboarding,
        iam_answering(["RootCredentialsManagement"]),
        BillingSetup(mode="direct", ri_sharing="DISABLED", changed=True),
    )
    stored = registry.get_account(ACCOUNT_ID)
    assert stored == record
    assert (stored.billing_mode, stored.root_credentials_management) == ("direct", True)


def test_register_account_without_a_billing_result_uses_the_request(registry, opened_onboarding):
    record = register(registry, opened_onboarding(), iam_answering(None))
    assert record.billing_mode == "consolidated"
    assert record.root_credentials_management is None
    assert "rootCredentialsManagement" not in record.to_json()


def test_root_secured_is_recorded_and_survives_re_registration(registry, opened_onboarding):
    assert registry.confirm_root_secured(ACCOUNT_ID, "arn:aws:iam::1:user/x") is None  # unknown account
    onboarding = opened_onboarding()
    register(registry, onboarding)
    confirmed = registry.confirm_root_secured(ACCOUNT_ID, "arn:aws:iam::123456789012:user/alice")
    assert confirmed is not None
    assert confirmed.root_secured_by == "arn:aws:iam::123456789012:user/alice"
    assert confirmed.root_secured_at is not None
    assert confirmed.status == AccountStatus.ACTIVE
    again = register(registry, onboarding)  # a retried RegisterAccount keeps the confirmation
    assert (again.root_secured_at, again.root_secured_by) == (
        confirmed.root_secured_at,
        confirmed.root_secured_by,
    )


# --------------------------------------------------------------------------- the notification


def test_the_checklist_goes_only_to_organizations_without_central_root_access(make_onboarding):
    base = pending_record(make_onboarding(), ACCOUNT_ID, AccountStatus.ACTIVE)
    for known in (None, False):
        _, body = onboarded_message(base.model_copy(update={"root_credentials_management": known}))
        assert "Forgot password?" in body and "Enable MFA on the root user" in body
        assert f"POST /accounts/{ACCOUNT_ID}/root-secured" in body
    _, body = onboarded_message(base.model_copy(update={"root_credentials_management": True}))
    assert "Forgot password?" not in body
    assert "manages member accounts' root access centrally" in body


def test_the_notification_and_event_carry_the_billing_mode_and_root_access(
    make_onboarding, settings_for, operator_inbox, event_inbox, moto_aws
):
    account = pending_record(make_onboarding(billing="direct"), ACCOUNT_ID, AccountStatus.ACTIVE).model_copy(
        update={"billing_mode": "direct", "root_credentials_management": True}
    )
    notify_onboarded(
        NotifyOnboardedInput(account=account),
        Announcer(aws.client("sns"), aws.client("events"), settings_for("NotifyOnboardedFunction")),
    )
    (message,) = operator_inbox.receive()
    assert "Billing:      direct" in message["Message"]
    assert "Forgot password?" not in message["Message"]


# --------------------------------------------------------------------------- the CLI's filter


def test_needs_root_mfa_lists_active_accounts_without_confirmation_or_central_management():
    active = {"status": "ACTIVE"}
    assert render.needs_root_mfa(active)
    assert render.needs_root_mfa({**active, "rootCredentialsManagement": False})
    assert not render.needs_root_mfa({**active, "rootCredentialsManagement": True})
    assert not render.needs_root_mfa({**active, "rootSecuredAt": "2026-01-01T00:00:00Z"})
    assert not render.needs_root_mfa({"status": "CLOSED"})
