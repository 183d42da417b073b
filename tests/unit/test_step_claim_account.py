"""Step ClaimAccount: an adopted account in the scope gets orgvend's managed-by tag (and client, project)."""

import pytest

from orgvend.errors import OrganizationsBusy, OutOfScope
from orgvend.steps.onboarding.claim_account import ClaimAccountInput, claim_account

from .support import failing, record_calls


def tags_of(setup_client, account_id: str) -> dict[str, str]:
    listed = setup_client("organizations").list_tags_for_resource(ResourceId=account_id)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in listed}


@pytest.fixture
def claim(organizations, scope, make_onboarding):
    def claim_(account_id: str):
        onboarding = make_onboarding(mode="adopt", account_id=account_id, client="acme", project="legacy")
        return claim_account(
            ClaimAccountInput(onboarding=onboarding, account_id=account_id), organizations, scope
        )

    return claim_


def test_an_account_in_the_scope_is_tagged_and_its_other_tags_kept(claim, create_member, setup_client):
    account_id = create_member("legacy@example.com", tags={"cost-center": "42", "client": "old"})

    claimed = claim(account_id)

    assert claimed.changed is True
    assert tags_of(setup_client, account_id) == {
        "cost-center": "42",
        "managed-by": "orgvend",
        "client": "acme",  # the registry's client from now on, so that the tag and the entry agree
        "project": "legacy",
    }


def test_claiming_again_writes_nothing(claim, create_member, organizations):
    account_id = create_member("legacy@example.com")
    claim(account_id)
    calls = record_calls(organizations)

    again = claim(account_id)

    assert again.changed is False
    assert "TagResource" not in calls.operations()


def test_every_tagging_call_carries_managed_by_as_its_iam_grant_requires(claim, create_member, organizations):
    account_id = create_member("legacy@example.com", tags={"managed-by": "orgvend", "client": "acme"})
    calls = record_calls(organizations)

    claim(account_id)  # only project is missing

    [tagging] = calls.of("TagResource")
    keys = {tag["Key"] for tag in tagging.params["Tags"]}
    assert keys == {"managed-by", "project"}
    assert keys <= {"managed-by", "client", "project"}


@pytest.mark.parametrize("where", ["security", "root"])
def test_an_account_outside_the_scope_is_never_tagged(
    claim, create_member, organization, setup_client, where
):
    parent = organization.security_ou_id if where == "security" else organization.root_id
    account_id = create_member("outside@example.com", parent=parent)

    with pytest.raises(OutOfScope, match=account_id):
        claim(account_id)

    assert tags_of(setup_client, account_id) == {}


def test_organizations_being_busy_is_retryable(claim, create_member, organizations):
    account_id = create_member("legacy@example.com")
    organizations.meta.events.register(
        "before-call.organizations.TagResource", failing("TooManyRequestsException", "slow down")
    )
    with pytest.raises(OrganizationsBusy, match="ClaimAccount"):
        claim(account_id)
