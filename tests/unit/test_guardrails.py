"""The guardrail SCP: kept on the scope's OU, and together with the baseline policy, nothing left in an
account can be turned into more than it is (evaluated with orgvend_local.policy_evaluation)."""

import json

import pytest

from orgvend.baseline_policy import administrator_minus_billing, compact
from orgvend.guardrails import (
    MAX_SCP_CHARACTERS,
    SERVICE_CONTROL_POLICY,
    guardrail_policy,
    keep_guardrail,
    remove_guardrail,
)
from orgvend_local.policy_evaluation import Decision, Request, evaluate

from .support import record_calls

ACCOUNT = "111122223333"
ROLE = "OrganizationAccountAccessRole"
POLICY = "OrgvendAdministratorMinusBilling"
NAME = "orgvend-guardrail"
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
ADMINISTRATOR_ACCESS = FULL_AWS_ACCESS


def guardrail() -> dict:
    return guardrail_policy(access_role_names=(ROLE,), baseline_policy_name=POLICY)


def baseline() -> dict:
    return administrator_minus_billing(policy_name=POLICY, access_role_names=(ROLE,))


# -- kept on the scope's OU ----------------------------------------------------------------------


def targets(setup_client, policy_id: str) -> set[str]:
    listed = setup_client("organizations").list_targets_for_policy(PolicyId=policy_id)["Targets"]
    return {target["TargetId"] for target in listed}


def test_the_first_run_enables_scps_creates_the_guardrail_and_attaches_it_to_the_scope(
    organizations, organization, setup_client
):
    kept = keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())

    assert kept.created and kept.attached and kept.policy_type_enabled
    root = setup_client("organizations").list_roots()["Roots"][0]
    assert {"Type": SERVICE_CONTROL_POLICY, "Status": "ENABLED"} in root["PolicyTypes"]
    described = setup_client("organizations").describe_policy(PolicyId=kept.policy_id)["Policy"]
    assert json.loads(described["Content"]) == guardrail()
    assert targets(setup_client, kept.policy_id) == {organization.clients_ou_id}
    tags = setup_client("organizations").list_tags_for_resource(ResourceId=kept.policy_id)["Tags"]
    assert {"Key": "managed-by", "Value": "orgvend"} in tags


def test_a_second_run_changes_nothing(organizations, organization):
    keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())
    calls = record_calls(organizations)

    again = keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())

    assert not again.changed
    assert calls.mutating("organizations") == []


def test_an_edited_or_detached_guardrail_comes_back(organizations, organization, setup_client):
    first = keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())
    admin = setup_client("organizations")
    admin.update_policy(PolicyId=first.policy_id, Content=json.dumps(FULL_AWS_ACCESS))
    admin.detach_policy(PolicyId=first.policy_id, TargetId=organization.clients_ou_id)

    repaired = keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())

    assert repaired.updated and repaired.attached and not repaired.created
    assert json.loads(admin.describe_policy(PolicyId=first.policy_id)["Policy"]["Content"]) == guardrail()
    assert targets(setup_client, first.policy_id) == {organization.clients_ou_id}


def test_a_new_scope_takes_the_guardrail_from_the_old_one(organizations, organization, setup_client):
    first = keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())
    new_scope = setup_client("organizations").create_organizational_unit(
        ParentId=organization.root_id, Name="Customers"
    )["OrganizationalUnit"]["Id"]

    moved = keep_guardrail(organizations, new_scope, NAME, guardrail())

    assert moved.detached_from == [organization.clients_ou_id]
    assert targets(setup_client, first.policy_id) == {new_scope}


def test_removing_it_detaches_and_deletes_it(organizations, organization, setup_client):
    kept = keep_guardrail(organizations, organization.clients_ou_id, NAME, guardrail())
    assert remove_guardrail(organizations, NAME)
    policies = setup_client("organizations").list_policies(Filter=SERVICE_CONTROL_POLICY)["Policies"]
    assert kept.policy_id not in {policy["Id"] for policy in policies}
    assert not remove_guardrail(organizations, NAME)  # already gone: nothing to do


def test_it_fits_the_scp_size_limit_with_several_role_names():
    document = guardrail_policy(
        access_role_names=("OrganizationAccountAccessRole", "AWSControlTowerExecution", "OrgvendAccess"),
        baseline_policy_name=POLICY,
    )
    assert len(compact(document)) < MAX_SCP_CHARACTERS


# -- the SCP and the baseline together: who may do what ---------------------------------------------

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"
# Principals in a client account, as the request context names them.
OPERATOR = (f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/alice", "AROAACCESSROLE:alice")
ORGVEND = (f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/orgvend-baseline", "AROAACCESSROLE:orgvend-baseline")
# A role the client made (with the baseline as its boundary, as the baseline requires), whose session is
# named like orgvend's: the name alone exempts nothing.
IMPOSTOR = (f"arn:aws:sts::{ACCOUNT}:assumed-role/app/orgvend-baseline", "AROAAPPROLE:orgvend-baseline")
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"

TABLE = [
    # (who, action, resource, extra context, expected)
    (OPERATOR, "s3:PutObject", "arn:aws:s3:::client-bucket/key", {}, Decision.ALLOWED),
    (OPERATOR, "account:EnableRegion", "*", {}, Decision.ALLOWED),
    (OPERATOR, "aws-portal:ViewBilling", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "ce:GetCostAndUsage", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "ec2:PurchaseReservedInstancesOffering", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "supportplans:StartSupportPlanUpdate", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "aws-marketplace:Subscribe", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "customer-verification:CreateCustomerVerificationDetails", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "account:CloseAccount", "*", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "organizations:LeaveOrganization", "*", {}, Decision.EXPLICIT_DENY),
    (ORGVEND, "organizations:LeaveOrganization", "*", {}, Decision.EXPLICIT_DENY),  # nobody leaves
    # The access role cannot grant itself more, nor be given more, but by orgvend.
    (OPERATOR, "iam:UpdateAssumeRolePolicy", ROLE_ARN, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:AttachRolePolicy", ROLE_ARN, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:PutRolePolicy", ROLE_ARN, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:DeleteRole", ROLE_ARN, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:CreatePolicyVersion", POLICY_ARN, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:SetDefaultPolicyVersion", POLICY_ARN, {}, Decision.EXPLICIT_DENY),
    (ORGVEND, "iam:UpdateAssumeRolePolicy", ROLE_ARN, {}, Decision.ALLOWED),
    (ORGVEND, "iam:AttachRolePolicy", ROLE_ARN, {}, Decision.ALLOWED),
    (ORGVEND, "iam:CreatePolicyVersion", POLICY_ARN, {}, Decision.ALLOWED),
    (IMPOSTOR, "iam:UpdateAssumeRolePolicy", ROLE_ARN, {}, Decision.EXPLICIT_DENY),
    (IMPOSTOR, "iam:CreatePolicyVersion", POLICY_ARN, {}, Decision.EXPLICIT_DENY),
    # No minting of anything that is not capped by the baseline.
    (OPERATOR, "iam:CreateRole", OTHER_ROLE, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:CreateRole", OTHER_ROLE, {"iam:PermissionsBoundary": POLICY_ARN}, Decision.ALLOWED),
    (
        OPERATOR,
        "iam:CreateRole",
        OTHER_ROLE,
        {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/Looser"},
        Decision.EXPLICIT_DENY,
    ),
    (OPERATOR, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/bob", {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:DeleteRolePermissionsBoundary", OTHER_ROLE, {}, Decision.EXPLICIT_DENY),
    (IMPOSTOR, "iam:CreateRole", OTHER_ROLE, {}, Decision.EXPLICIT_DENY),
    (OPERATOR, "iam:AttachRolePolicy", OTHER_ROLE, {}, Decision.ALLOWED),  # its own roles: capped anyway
    # orgvend's tag: written and removed by orgvend only.
    (OPERATOR, "iam:TagRole", OTHER_ROLE, {"aws:TagKeys": ["managed-by"]}, Decision.EXPLICIT_DENY),
    (OPERATOR, "ec2:CreateTags", "*", {"aws:TagKeys": ["team", "managed-by"]}, Decision.EXPLICIT_DENY),
    (OPERATOR, "ec2:CreateTags", "*", {"aws:TagKeys": ["team"]}, Decision.ALLOWED),
    (ORGVEND, "iam:TagRole", OTHER_ROLE, {"aws:TagKeys": ["managed-by"]}, Decision.ALLOWED),
    (IMPOSTOR, "iam:TagRole", OTHER_ROLE, {"aws:TagKeys": ["managed-by"]}, Decision.EXPLICIT_DENY),
]


@pytest.mark.parametrize(
    ("who", "action", "resource", "context", "expected"),
    TABLE,
    ids=[
        f"{who[1].split(':')[1]}-{action}-{resource.rsplit('/', 1)[-1]}-{expected}"
        for who, action, resource, _, expected in TABLE
    ],
)
def test_the_guardrail_and_the_baseline_together(who, action, resource, context, expected):
    principal, userid = who
    is_access_role = f"/{ROLE}/" in principal
    request = Request(principal, action, resource, {"aws:userid": userid, **context})
    decision = evaluate(
        request,
        # The access role carries the baseline; the client's own role carries AdministratorAccess, capped by
        # the baseline as its permissions boundary (which the baseline made it carry).
        identity_policies=[baseline()] if is_access_role else [ADMINISTRATOR_ACCESS],
        permissions_boundaries=() if is_access_role else [baseline()],
        # Root, the scope's OU (with the guardrail), the account: FullAWSAccess at every level, as AWS has it.
        service_control_policies=[[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, guardrail()], [FULL_AWS_ACCESS]],
    )
    assert decision is expected


def test_without_the_guardrail_the_baseline_alone_still_holds_the_role():
    """The baseline is the first line: even where no SCP applies, the operators cannot change the role."""
    principal, userid = OPERATOR
    request = Request(principal, "iam:UpdateAssumeRolePolicy", ROLE_ARN, {"aws:userid": userid})
    assert evaluate(request, identity_policies=[baseline()]) is Decision.EXPLICIT_DENY
