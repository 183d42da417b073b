"""Account settings end to end: an onboarding sets the account up as its settings profile says."""

import json
from typing import Any

import pytest

from .conftest import FaultInjector, Harness, request_for
from .test_api import call, executions_count, finished, onboard

pytestmark = pytest.mark.e2e

ENCRYPTED_REGIONS = ["us-east-1", "us-west-2"]
OPT_IN_REGION = "af-south-1"
CONTACT_TYPES = ("billing", "operations", "security")


def contact(kind: str, unique: str) -> dict[str, str]:
    return {
        "name": f"{kind.title()} Desk",
        "title": f"{kind.title()} lead",
        "email": f"{kind}+{unique}@example.com",
        "phone": "+1 555 0100",
    }


def overrides(unique: str) -> dict[str, Any]:
    return {
        "alternateContacts": {kind: contact(kind, unique) for kind in CONTACT_TYPES},
        "optInRegions": [OPT_IN_REGION],
        "ebsEncryption": {"enabled": True, "regions": ENCRYPTED_REGIONS},
        "defaultVpcs": {"delete": True, "regions": ["us-east-1"]},
    }


def default_vpcs(embedded: Harness, account_id: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    ec2 = embedded.member_client(account_id, "ec2", region)
    return list(ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"])


def apply_again(embedded: Harness, onboarding_id: str, account_id: str) -> dict[str, Any]:
    """ApplySettings invoked once more with the onboarding it ran for, as an operator would."""
    [execution] = embedded.executions_named(onboarding_id)
    output = json.loads(
        embedded.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])["output"]
    )
    return embedded.invoke(
        "ApplySettingsFunction", {"onboarding": output["onboarding"], "accountId": account_id}
    )


def test_an_onboarding_sets_the_account_up_and_a_second_application_changes_nothing(
    embedded: Harness, unique: str
) -> None:
    request = request_for(unique, settings=overrides(unique))
    onboarding = finished(embedded, onboard(embedded, request), timeout=90)
    assert onboarding["status"] == "SUCCEEDED", onboarding
    account_id = onboarding["accountId"]

    iam = embedded.member_iam(account_id)
    assert iam.list_account_aliases()["AccountAliases"] == [f"c{unique}-web"]
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14 and policy["RequireSymbols"]
    assert policy["MaxPasswordAge"] == 90 and policy["PasswordReusePrevention"] == 24
    account = embedded.client("account")
    for kind in CONTACT_TYPES:
        found = account.get_alternate_contact(AccountId=account_id, AlternateContactType=kind.upper())[
            "AlternateContact"
        ]
        assert (found["Name"], found["EmailAddress"]) == (
            f"{kind.title()} Desk",
            f"{kind}+{unique}@example.com",
        )
    block = embedded.member_client(account_id, "s3control").get_public_access_block(AccountId=account_id)
    assert all(block["PublicAccessBlockConfiguration"].values())
    for region in ENCRYPTED_REGIONS:
        ec2 = embedded.member_client(account_id, "ec2", region)
        assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    assert default_vpcs(embedded, account_id) == []
    status = account.get_region_opt_status(AccountId=account_id, RegionName=OPT_IN_REGION)
    assert status["RegionOptStatus"] == "ENABLED"

    recorded = embedded.account_item(account_id)
    assert recorded is not None and recorded["status"] == "ACTIVE"
    settings = recorded["settings"]
    assert (settings["profile"], settings["version"]) == ("default", 1) and settings["appliedAt"]
    assert set(settings["changed"]) >= {"alias", "alternateContacts", "optInRegions", "defaultVpcs"}

    again = apply_again(embedded, onboarding["onboardingId"], account_id)
    assert again["profile"] == "default" and again["results"]
    assert [result["setting"] for result in again["results"] if result["changed"]] == []
    assert embedded.account_item(account_id)["settings"]["changed"] == []  # type: ignore[index]


def test_a_default_vpc_with_something_in_it_is_reported_and_kept(embedded: Harness, unique: str) -> None:
    _, account_id = embedded.create_member(f"aws+{unique}@example.com", f"legacy-{unique}")
    ec2 = embedded.member_client(account_id, "ec2", "us-east-1")
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"][0]
    ec2.create_network_interface(SubnetId=subnet["SubnetId"], Description="the client's own")

    status, body = call(
        embedded,
        "POST",
        "/accounts/adopt",
        {"accountId": account_id, "client": f"c{unique}", "project": "legacy"},
    )
    assert status == 202, body
    onboarding = finished(embedded, body["onboardingId"], timeout=90)
    assert onboarding["status"] == "SUCCEEDED", onboarding

    recorded = embedded.account_item(account_id)
    assert recorded is not None
    assert any(vpc["VpcId"] in kept for kept in recorded["settings"]["kept"]), recorded["settings"]
    assert [found["VpcId"] for found in default_vpcs(embedded, account_id)] == [vpc["VpcId"]]
    again = apply_again(embedded, onboarding["onboardingId"], account_id)
    [vpcs] = [result for result in again["results"] if result["setting"] == "defaultVpcs"]
    assert not vpcs["changed"] and any(vpc["VpcId"] in kept for kept in vpcs["kept"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"settings": {"passwordPolicy": {"minimumPasswordLength": 3}}},
            "settings.passwordPolicy.minimumPasswordLength",
        ),
        ({"settings": {"optInRegions": ["not a region"]}}, "settings.optInRegions.0"),
        ({"settingsProfile": "nosuchprofile"}, "settingsProfile"),
    ],
)
def test_a_bad_settings_request_is_refused_naming_the_field_and_starts_nothing(
    embedded: Harness, unique: str, change: dict[str, Any], field: str
) -> None:
    before = executions_count(embedded)
    status, body = call(embedded, "POST", "/accounts", {**request_for(unique), **change})
    assert status == 422, body
    assert body["error"]["field"] == field and field in body["error"]["message"]
    assert executions_count(embedded) == before


def test_the_workflow_refuses_a_bad_override_before_creating_anything(embedded: Harness, unique: str) -> None:
    execution = embedded.wait(
        embedded.start(request_for(unique, settings={"passwordPolicy": {"minimumPasswordLength": 200}}))
    )
    assert execution["status"] == "FAILED"
    assert execution["error"] == "InvalidOnboardingRequest"
    assert "settings.passwordPolicy.minimumPasswordLength" in execution["cause"]


def test_a_setting_refused_fails_the_run_at_apply_settings_naming_it_and_a_redrive_resumes_there(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    contacts = {"alternateContacts": {"security": contact("security", unique)}}
    faults.fail("before-call.account.PutAlternateContact", "AccessDeniedException", times=10, status=403)
    onboarding_id = onboard(embedded, request_for(unique, settings=contacts))
    failed = finished(embedded, onboarding_id, timeout=90)

    assert failed["status"] == "FAILED" and failed["error"] == "SettingsNotApplied"
    assert "alternateContacts: AWS refused it (AccessDeniedException)" in failed["cause"]
    [step] = [step for step in failed["timeline"] if step["name"] == "ApplySettings"]
    assert step["status"] == "FAILED" and step["attempts"] == 1  # Terminal: not retried

    faults.clear()
    status, body = call(embedded, "POST", f"/onboardings/{onboarding_id}/retry")
    assert status == 202, body
    done = finished(embedded, onboarding_id, timeout=90)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 1
    assert [step["name"] for step in done["timeline"]].count("ApplyBaseline") == 1
    found = embedded.client("account").get_alternate_contact(
        AccountId=done["accountId"], AlternateContactType="SECURITY"
    )["AlternateContact"]
    assert found["EmailAddress"] == f"security+{unique}@example.com"
