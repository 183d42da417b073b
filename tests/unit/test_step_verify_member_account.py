"""Step VerifyMemberAccount: only an active member account with the request's email is adopted."""

import pytest
from botocore.stub import Stubber

from orgvend.errors import AccountNotAdoptable, OutOfScope
from orgvend.models import AccountStatus, CreationState
from orgvend.steps.onboarding.verify_member_account import VerifyMemberAccountInput, verify_member_account

from .support import record_calls


def adopt(opened_onboarding, account_id: str, email: str):
    return opened_onboarding(mode="adopt", account_id=account_id, email=email)


def test_an_active_member_with_the_requests_email_is_adopted(
    scope, organizations, registry, create_member, opened_onboarding
):
    account_id = create_member("legacy@example.com", "legacy")
    onboarding = adopt(opened_onboarding, account_id, "Legacy@Example.com")

    creation = verify_member_account(
        VerifyMemberAccountInput(onboarding=onboarding), organizations, registry, scope
    )

    assert creation.state is CreationState.SUCCEEDED
    assert creation.account_id == account_id
    record = registry.get_account(account_id)
    assert record.status is AccountStatus.CREATING
    assert record.onboarding_id == onboarding.onboarding_id
    assert registry.get_onboarding(onboarding.onboarding_id)["accountId"] == account_id


def test_the_management_account_is_never_adopted(
    scope, organizations, registry, organization, opened_onboarding, setup_client
):
    management = setup_client("organizations").describe_account(AccountId=organization.management_account_id)
    onboarding = adopt(opened_onboarding, organization.management_account_id, management["Account"]["Email"])
    calls = record_calls(organizations)

    with pytest.raises(AccountNotAdoptable) as raised:
        verify_member_account(VerifyMemberAccountInput(onboarding=onboarding), organizations, registry, scope)

    assert organization.management_account_id in str(raised.value)
    assert "management account" in str(raised.value)
    assert "DescribeAccount" not in calls.operations()
    assert registry.get_account(organization.management_account_id) is None


def test_an_account_outside_the_organization_is_refused(scope, organizations, registry, opened_onboarding):
    onboarding = adopt(opened_onboarding, "999999999999", "stranger@example.com")

    with pytest.raises(
        OutOfScope,
        match="999999999999 is outside orgvend's managed scope: it is not a member of this organization",
    ):
        verify_member_account(VerifyMemberAccountInput(onboarding=onboarding), organizations, registry, scope)

    assert registry.get_account("999999999999") is None


def test_an_account_with_another_email_is_refused(
    scope, organizations, registry, create_member, opened_onboarding
):
    account_id = create_member("legacy@example.com", "legacy")
    onboarding = adopt(opened_onboarding, account_id, "someone-else@example.com")

    with pytest.raises(AccountNotAdoptable) as raised:
        verify_member_account(VerifyMemberAccountInput(onboarding=onboarding), organizations, registry, scope)

    assert account_id in str(raised.value)
    assert "different email" in str(raised.value)
    assert registry.get_account(account_id) is None


@pytest.mark.parametrize("status", ["SUSPENDED", "PENDING_CLOSURE"])
def test_an_account_that_is_not_active_is_refused(
    scope, organization, organizations, registry, opened_onboarding, status
):
    onboarding = adopt(opened_onboarding, "210987654321", "legacy@example.com")
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_organization",
            {"Organization": {"Id": "o-abcdefghij", "MasterAccountId": "123456789012"}},
        )
        stubber.add_response(
            "list_parents",
            {"Parents": [{"Id": organization.clients_ou_id, "Type": "ORGANIZATIONAL_UNIT"}]},
            {"ChildId": "210987654321"},
        )
        stubber.add_response(
            "describe_account",
            {"Account": {"Id": "210987654321", "Email": "legacy@example.com", "Status": status}},
            {"AccountId": "210987654321"},
        )
        with pytest.raises(AccountNotAdoptable, match=f"210987654321 is {status}, not ACTIVE"):
            verify_member_account(
                VerifyMemberAccountInput(onboarding=onboarding), organizations, registry, scope
            )
    assert registry.get_account("210987654321") is None


def test_an_account_outside_the_scope_is_refused_and_nothing_written(
    scope, organizations, registry, create_member, organization, opened_onboarding, setup_client
):
    account_id = create_member("security@example.com", "log-archive", parent=organization.security_ou_id)
    onboarding = adopt(opened_onboarding, account_id, "security@example.com")
    calls = record_calls(organizations)

    with pytest.raises(OutOfScope) as raised:
        verify_member_account(VerifyMemberAccountInput(onboarding=onboarding), organizations, registry, scope)

    assert account_id in str(raised.value) and organization.security_ou_id in str(raised.value)
    assert "DescribeAccount" not in calls.operations()  # only what decides the scope
    assert registry.get_account(account_id) is None
    assert setup_client("organizations").list_tags_for_resource(ResourceId=account_id)["Tags"] == []


def test_an_account_back_in_the_scope_is_adopted_again(
    scope, organizations, registry, create_member, opened_onboarding, make_onboarding
):
    account_id = create_member("legacy@example.com", "legacy")
    first = adopt(opened_onboarding, account_id, "legacy@example.com")
    verify_member_account(VerifyMemberAccountInput(onboarding=first), organizations, registry, scope)
    registry.update_account(
        account_id, lambda record: record.model_copy(update={"status": AccountStatus.OUT_OF_SCOPE})
    )
    again = adopt(opened_onboarding, account_id, "legacy@example.com")

    creation = verify_member_account(
        VerifyMemberAccountInput(onboarding=again), organizations, registry, scope
    )

    assert creation.account_id == account_id
    record = registry.get_account(account_id)
    assert record.onboarding_id == again.onboarding_id
    assert record.status is AccountStatus.CREATING
