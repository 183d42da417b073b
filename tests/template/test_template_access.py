"""People's access through IAM Identity Center: least privilege, proven on the SAM-transformed template.

Every ``sso:`` and ``identitystore:`` grant names the stack's instance, its Identity Store, or the
permission sets under that instance; those that change an assignment or a permission set hold it to
orgvend's own (tagged managed-by=orgvend); none exists when the stack names no instance.
"""

from typing import Any

import pytest
from template_support import (
    IDENTITY_CENTER_ON,
    Intrinsics,
    as_list,
    inline_statements,
    resources_of_type,
    role_of_function,
    statement_actions,
)

INSTANCE_ARN = IDENTITY_CENTER_ON["IdentityCenterInstanceArn"]
INSTANCE_ID = INSTANCE_ARN.rsplit("/", 1)[1]
STORE_ID = IDENTITY_CENTER_ON["IdentityStoreId"]
ORGVEND_PERMISSION_SETS = f"arn:aws:sso:::permissionSet/{INSTANCE_ID}/*"
ACCOUNTS = "arn:aws:sso:::account/*"
STORE = f"arn:aws:identitystore::123456789012:identitystore/{STORE_ID}"
GROUPS = "arn:aws:identitystore:::group/*"
# Actions that change an assignment or a permission set: on a permission set, only orgvend's own.
CHANGES = {
    "sso:CreateAccountAssignment",
    "sso:DeleteAccountAssignment",
    "sso:UpdatePermissionSet",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:ProvisionPermissionSet",
}
IDENTITY_CENTER_PREFIXES = ("sso:", "identitystore:")


def identity_center_statements(
    cfn: dict[str, Any], intrinsics: Intrinsics
) -> dict[str, list[dict[str, Any]]]:
    """Each function's statements that grant Identity Center actions, as the stack with these parameters has them."""
    found: dict[str, list[dict[str, Any]]] = {}
    for function_id in resources_of_type(cfn, "AWS::Lambda::Function"):
        if not intrinsics.enabled(function_id):
            continue
        role = cfn["Resources"][role_of_function(cfn, function_id)]
        for statement in inline_statements(role, intrinsics):
            if any(action.startswith(IDENTITY_CENTER_PREFIXES) for action in statement_actions(statement)):
                found.setdefault(function_id, []).append(statement)
    return found


def test_without_an_instance_no_function_may_call_identity_center(cfn: dict[str, Any]) -> None:
    intrinsics = Intrinsics(cfn)
    assert intrinsics.parameters["IdentityCenterInstanceArn"] == ""
    assert identity_center_statements(cfn, intrinsics) == {}
    assert not intrinsics.enabled("KeepPermissionSetsFunction")
    assert not intrinsics.enabled("AccessPermissionSets")


def test_every_grant_names_the_instance_its_store_or_its_permission_sets(
    cfn: dict[str, Any], intrinsics: Intrinsics
) -> None:
    granted = identity_center_statements(cfn, intrinsics)
    assert {"AssignAccessFunction", "KeepPermissionSetsFunction"} <= set(granted)
    for function_id, statements in granted.items():
        for statement in statements:
            resources = set(as_list(statement["Resource"]))
            assert "*" not in resources, f"{function_id}: {statement}"
            assert resources <= {INSTANCE_ARN, ORGVEND_PERMISSION_SETS, ACCOUNTS, STORE, GROUPS}, (
                f"{function_id} reaches beyond the stack's instance and store: {statement}"
            )


def test_changes_on_a_permission_set_need_orgvends_tag(cfn: dict[str, Any], intrinsics: Intrinsics) -> None:
    for function_id, statements in identity_center_statements(cfn, intrinsics).items():
        for statement in statements:
            on_permission_sets = ORGVEND_PERMISSION_SETS in as_list(statement["Resource"])
            changes = set(statement_actions(statement)) & CHANGES
            if on_permission_sets and changes:
                condition = statement.get("Condition", {}).get("StringEquals", {})
                assert condition.get("aws:ResourceTag/managed-by") == "orgvend", (
                    f"{function_id} may change permission sets orgvend does not keep: {statement}"
                )


def test_permission_sets_are_created_tagged_as_orgvends(cfn: dict[str, Any], intrinsics: Intrinsics) -> None:
    [statement] = [
        statement
        for statement in identity_center_statements(cfn, intrinsics)["KeepPermissionSetsFunction"]
        if "sso:CreatePermissionSet" in statement_actions(statement)
    ]
    assert statement["Condition"]["StringEquals"]["aws:RequestTag/managed-by"] == "orgvend"


@pytest.mark.parametrize("create_missing_groups", ["false", "true"])
def test_groups_are_created_only_when_the_stack_says_so(
    cfn: dict[str, Any], create_missing_groups: str
) -> None:
    intrinsics = Intrinsics(cfn, {**IDENTITY_CENTER_ON, "CreateMissingGroups": create_missing_groups})
    creators = {
        function_id
        for function_id, statements in identity_center_statements(cfn, intrinsics).items()
        for statement in statements
        if "identitystore:CreateGroup" in statement_actions(statement)
    }
    # The reactions keep access as AssignAccess makes it (orgvend.account_access), under the same switch.
    keepers = {
        "AssignAccessFunction",
        "FollowOrganizationFunction",
        "ReconcileRegistryFunction",
        "ReportOffboardingFailureFunction",
    }
    assert creators == (keepers if create_missing_groups == "true" else set())


def test_only_the_keeper_touches_permission_sets_themselves(
    cfn: dict[str, Any], intrinsics: Intrinsics
) -> None:
    keepers = {
        function_id
        for function_id, statements in identity_center_statements(cfn, intrinsics).items()
        for statement in statements
        for action in statement_actions(statement)
        if action
        in {"sso:CreatePermissionSet", "sso:UpdatePermissionSet", "sso:PutInlinePolicyToPermissionSet"}
    }
    assert keepers == {"KeepPermissionSetsFunction"}


def test_the_permission_sets_are_kept_again_with_each_version_of_the_shared_code(cfn: dict[str, Any]) -> None:
    # The baseline policy is written in the shared code: a new layer version must update the custom
    # resource, so that the AdministratorMinusBilling permission set follows a changed baseline.
    version = cfn["Resources"]["AccessPermissionSets"]["Properties"]["PolicyVersion"]
    assert set(version) == {"Ref"}
    assert cfn["Resources"][version["Ref"]]["Type"] == "AWS::Lambda::LayerVersion"
    assert cfn["Resources"]["AccessPermissionSets"]["Condition"] == "HasIdentityCenter"
