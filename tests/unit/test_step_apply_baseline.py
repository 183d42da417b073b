"""Step ApplyBaseline: the access role becomes administrator-minus-billing, idempotently.

moto's CreateAccount makes the access role with no policy; in AWS it carries the
AWS managed AdministratorAccess. Tests marked ``aws_managed_policies`` load moto's
AWS managed policies (about a second per account) and attach AdministratorAccess
with the member account's own credentials first; the others leave the role bare.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from orgvend import aws
from orgvend.baseline_policy import access_role_trust, same_document
from orgvend.baseline_policy import administrator_minus_billing as baseline_document
from orgvend.errors import AccountNotReady, BaselineFailed, UnsafeAccessRoleTrust
from orgvend.settings import Settings
from orgvend.steps.onboarding.apply_baseline import ApplyBaselineInput, apply_baseline

from .support import Calls, failing

ADMINISTRATOR_ACCESS_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
OLD_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AdministratorAccess", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "DenyBilling", "Effect": "Deny", "Action": "aws-portal:*", "Resource": "*"},
    ],
}


@pytest.fixture
def moto_aws(request: pytest.FixtureRequest) -> Iterator[None]:
    load = request.node.get_closest_marker("aws_managed_policies") is not None
    with mock_aws(config={"iam": {"load_aws_managed_policies": load}}):
        yield


@pytest.fixture
def settings(settings_for) -> Settings:
    """ApplyBaselineFunction's settings from template.yaml (and samconfig's local operators)."""
    return settings_for("ApplyBaselineFunction")


@pytest.fixture
def policy_name(settings) -> str:
    return settings.baseline_policy_name


def administrator_minus_billing(settings: Settings) -> dict:
    return baseline_document(
        policy_name=settings.baseline_policy_name, access_role_names=settings.access_role_names
    )


def narrowed_trust(settings: Settings, management_account_id: str) -> dict:
    return access_role_trust(
        partition="aws",
        management_account_id=management_account_id,
        orgvend_principal_arns=settings.orgvend_principal_arns,
        operator_principal_arns=settings.operator_principal_arns,
    )


def trust_of(member) -> dict:
    return member["iam"].get_role(RoleName=member["role_name"])["Role"]["AssumeRolePolicyDocument"]


@pytest.fixture
def sts(moto_aws, session_calls) -> Any:
    return aws.client("sts")


@pytest.fixture
def member(request, create_member, setup_client, default_role_name) -> dict[str, Any]:
    """A new member account; its access role has AdministratorAccess (as AWS makes it) when policies load."""
    account_id = create_member("member@example.com", "member", default_role_name)
    credentials = setup_client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{default_role_name}", RoleSessionName="test-arrange"
    )["Credentials"]
    iam = setup_client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    if request.node.get_closest_marker("aws_managed_policies"):
        iam.attach_role_policy(RoleName=default_role_name, PolicyArn=ADMINISTRATOR_ACCESS_ARN)
    return {"account_id": account_id, "iam": iam, "role_name": default_role_name}


def attached(member) -> dict[str, str]:
    policies = member["iam"].list_attached_role_policies(RoleName=member["role_name"])["AttachedPolicies"]
    return {policy["PolicyName"]: policy["PolicyArn"] for policy in policies}


def default_document(member, policy_arn: str) -> Any:
    iam = member["iam"]
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]


def run(make_onboarding, member, sts, settings):
    step_input = ApplyBaselineInput(onboarding=make_onboarding(), account_id=member["account_id"])
    return apply_baseline(step_input, sts, aws.client("organizations"), settings)


@pytest.mark.aws_managed_policies
def test_the_first_run_swaps_administrator_access_for_the_baseline_and_a_second_run_changes_nothing(
    make_onboarding, member, sts, settings, policy_name, session_calls
):
    assert attached(member) == {"AdministratorAccess": ADMINISTRATOR_ACCESS_ARN}

    baseline = run(make_onboarding, member, sts, settings)

    policy_arn = f"arn:aws:iam::{member['account_id']}:policy/{policy_name}"
    assert baseline.changed is True
    assert baseline.policy_arn == policy_arn
    assert baseline.role_arn == f"arn:aws:iam::{member['account_id']}:role/{member['role_name']}"
    assert attached(member) == {policy_name: policy_arn}
    assert same_document(default_document(member, policy_arn), administrator_minus_billing(settings))
    # Attached before AdministratorAccess goes, so the session never loses the IAM rights it uses.
    # The trust is narrowed last: a failure before it leaves the role assumable by orgvend for the retry.
    assert session_calls.mutating("iam") == [
        "CreatePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "UpdateAssumeRolePolicy",
    ]
    assert same_document(trust_of(member), narrowed_trust(settings, "123456789012"))
    assert baseline.trust_replaced is True
    assert baseline.trust_findings == []
    assert session_calls.of("DetachRolePolicy")[0].params["PolicyArn"] == ADMINISTRATOR_ACCESS_ARN
    (assume,) = session_calls.of("AssumeRole")
    assert assume.params["RoleArn"] == baseline.role_arn

    # The second run (a retry or a redrive) looks, and changes nothing.
    first_run = len(session_calls.made)
    again = run(make_onboarding, member, sts, settings)

    assert again.changed is False
    assert again.policy_arn == policy_arn
    second_run = Calls(session_calls.made[first_run:])
    assert second_run.operations("iam")
    assert second_run.mutating("iam") == []
    assert attached(member) == {policy_name: policy_arn}
    versions = member["iam"].list_policy_versions(PolicyArn=policy_arn)["Versions"]
    assert [version["VersionId"] for version in versions] == ["v1"]


def test_a_bare_role_gets_the_baseline_attached(
    make_onboarding, member, sts, settings, policy_name, session_calls
):
    baseline = run(make_onboarding, member, sts, settings)
    assert baseline.changed is True
    assert attached(member) == {policy_name: baseline.policy_arn}
    assert "DetachRolePolicy" not in session_calls.operations("iam")


def test_a_changed_document_becomes_a_new_default_version(
    make_onboarding, member, sts, settings, policy_name, session_calls
):
    policy_arn = member["iam"].create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(OLD_DOCUMENT))[
        "Policy"
    ]["Arn"]

    baseline = run(make_onboarding, member, sts, settings)

    assert baseline.changed is True
    versions = member["iam"].list_policy_versions(PolicyArn=policy_arn)["Versions"]
    assert len(versions) == 2
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v2"]
    assert same_document(default_document(member, policy_arn), administrator_minus_billing(settings))
    assert "CreatePolicyVersion" in session_calls.mutating("iam")
    assert "CreatePolicy" not in session_calls.mutating("iam")


def test_a_policy_with_five_versions_loses_its_oldest_non_default_one(
    make_onboarding, member, sts, settings, policy_name
):
    iam = member["iam"]
    policy_arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(OLD_DOCUMENT))["Policy"][
        "Arn"
    ]
    for index in range(4):
        document = {**OLD_DOCUMENT, "Statement": [*OLD_DOCUMENT["Statement"][:1]]}
        document["Statement"] = [{**document["Statement"][0], "Sid": f"Old{index}"}]
        iam.create_policy_version(
            PolicyArn=policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=False
        )
    assert len(iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]) == 5

    baseline = run(make_onboarding, member, sts, settings)

    assert baseline.changed is True
    versions = {v["VersionId"]: v for v in iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]}
    assert len(versions) == 5
    assert "v1" in versions  # the old default version is kept (IAM cannot delete it)
    assert "v2" not in versions  # the oldest non-default version made room
    assert [vid for vid, v in versions.items() if v["IsDefaultVersion"]] == ["v6"]
    assert same_document(default_document(member, policy_arn), administrator_minus_billing(settings))


def test_an_access_role_that_cannot_be_assumed_yet_is_not_ready(
    make_onboarding, member, sts, settings, policy_name, session_calls
):
    sts.meta.events.register(
        "before-call.sts.AssumeRole",
        failing("AccessDenied", "User is not authorized to perform: sts:AssumeRole", status=403),
    )

    with pytest.raises(AccountNotReady) as raised:
        run(make_onboarding, member, sts, settings)

    assert member["account_id"] in str(raised.value)
    assert "AccessDenied" in str(raised.value)
    assert session_calls.operations("iam") == []
    assert attached(member) == {}


def test_iam_of_a_new_account_not_ready_is_not_ready(make_onboarding, member, sts, settings):
    events = aws.session().events
    events.register(
        "before-call.iam.GetPolicy",
        failing("SubscriptionRequiredException", "not subscribed yet"),
        unique_id="unit-iam-not-ready",
    )
    try:
        with pytest.raises(AccountNotReady, match="SubscriptionRequiredException"):
            run(make_onboarding, member, sts, settings)
    finally:
        events.unregister("before-call.iam.GetPolicy", unique_id="unit-iam-not-ready")
    assert attached(member) == {}


def test_an_unexpected_iam_error_fails_the_baseline(
    make_onboarding, member, sts, settings, policy_name, session_calls
):
    events = aws.session().events
    events.register(
        "before-call.iam.AttachRolePolicy",
        failing("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10", status=409),
        unique_id="unit-iam-limit",
    )
    try:
        with pytest.raises(BaselineFailed, match="LimitExceeded"):
            run(make_onboarding, member, sts, settings)
    finally:
        events.unregister("before-call.iam.AttachRolePolicy", unique_id="unit-iam-limit")
    # Nothing is detached when the baseline could not be attached.
    assert "DetachRolePolicy" not in session_calls.operations("iam")


def test_the_management_account_is_refused(make_onboarding, organization, sts, settings, session_calls):
    step_input = ApplyBaselineInput(
        onboarding=make_onboarding(), account_id=organization.management_account_id
    )

    with pytest.raises(BaselineFailed, match="management account"):
        apply_baseline(step_input, sts, aws.client("organizations"), settings)

    assert "AssumeRole" not in session_calls.operations()
    assert session_calls.operations("iam") == []


def test_the_trust_is_narrowed_to_orgvend_and_the_operators(
    make_onboarding, member, sts, settings, organization
):
    assert trust_of(member)["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{organization.management_account_id}:root"
    }  # as Organizations makes it: the whole management account

    baseline = run(make_onboarding, member, sts, settings)

    assert baseline.trust_replaced is True
    assert same_document(trust_of(member), narrowed_trust(settings, organization.management_account_id))
    patterns = [
        p for s in trust_of(member)["Statement"] for p in s["Condition"]["ArnLike"]["aws:PrincipalArn"]
    ]
    assert "arn:aws:iam::123456789012:role/orgvend/member-access/*" in patterns  # orgvend's functions
    assert "arn:aws:iam::123456789012:role/ops-*" in patterns  # samconfig's local operators


def test_an_adopted_roles_trust_of_outsiders_is_reported_and_replaced(
    make_onboarding, member, sts, settings, organization, create_member
):
    sibling = create_member("sibling@example.com", "sibling")
    outsider_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{organization.management_account_id}:root"},
                "Action": "sts:AssumeRole",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::999988887777:root", sibling]},
                "Action": "sts:AssumeRole",
            },
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::999988887777:saml-provider/corp"},
                "Action": "sts:AssumeRoleWithSAML",
            },
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg"}},
            },
        ],
    }
    member["iam"].update_assume_role_policy(
        RoleName=member["role_name"], PolicyDocument=json.dumps(outsider_trust)
    )

    baseline = run(make_onboarding, member, sts, settings)

    assert baseline.trust_replaced is True
    findings = "; ".join(baseline.trust_findings)
    assert "999988887777 is not in the organization" in findings
    assert "identity provider arn:aws:iam::999988887777:saml-provider/corp" in findings
    assert findings.count("anyone") == 1  # the org-conditioned "*" is not an outsider
    assert sibling not in findings  # a member of the organization is not an outsider
    assert same_document(trust_of(member), narrowed_trust(settings, organization.management_account_id))


def test_a_trust_of_outsiders_that_cannot_be_replaced_stops_the_onboarding(
    make_onboarding, member, sts, settings
):
    member["iam"].update_assume_role_policy(
        RoleName=member["role_name"],
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    events = aws.session().events
    events.register(
        "before-call.iam.UpdateAssumeRolePolicy",
        failing("AccessDenied", "explicit deny in a service control policy", status=403),
        unique_id="unit-trust-denied",
    )
    try:
        with pytest.raises(UnsafeAccessRoleTrust) as raised:
            run(make_onboarding, member, sts, settings)
    finally:
        events.unregister("before-call.iam.UpdateAssumeRolePolicy", unique_id="unit-trust-denied")
    assert "999988887777" in str(raised.value)
    assert "retry the onboarding" in str(raised.value)


def test_a_trust_without_outsiders_that_cannot_be_replaced_yet_is_not_ready(
    make_onboarding, member, sts, settings
):
    events = aws.session().events
    events.register(
        "before-call.iam.UpdateAssumeRolePolicy",
        failing("AccessDenied", "not yet", status=403),
        unique_id="unit-trust-not-yet",
    )
    try:
        with pytest.raises(AccountNotReady, match="narrow the trust"):
            run(make_onboarding, member, sts, settings)
    finally:
        events.unregister("before-call.iam.UpdateAssumeRolePolicy", unique_id="unit-trust-not-yet")
