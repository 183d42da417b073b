"""The administrator-minus-billing policy document, and the access role's trust."""

import json
import re

import pytest

from orgvend.baseline_policy import (
    ACCOUNT_SETTINGS_ACTIONS,
    BILLING_SERVICE_PREFIXES,
    BOUNDARY_REMOVAL_ACTIONS,
    BOUNDED_IDENTITY_ACTIONS,
    MAX_POLICY_CHARACTERS,
    PAYER_PURCHASE_ACTIONS,
    POLICY_CHANGE_ACTIONS,
    ROLE_CHANGE_ACTIONS,
    access_role_trust,
    compact,
    same_document,
)
from orgvend.baseline_policy import administrator_minus_billing as baseline

POLICY_NAME = "OrgvendAdministratorMinusBilling"
ROLE_NAMES = ("OrganizationAccountAccessRole", "OrgvendAccess")


def administrator_minus_billing() -> dict:
    return baseline(policy_name=POLICY_NAME, access_role_names=ROLE_NAMES)


def statements(effect: str) -> list[dict]:
    return [s for s in administrator_minus_billing()["Statement"] if s["Effect"] == effect]


def statement(sid: str) -> dict:
    return next(s for s in administrator_minus_billing()["Statement"] if s["Sid"] == sid)


def denied_actions() -> list[str]:
    actions: list[str] = []
    for statement in statements("Deny"):
        action = statement["Action"]
        actions += [action] if isinstance(action, str) else action
    return actions


def test_the_document_fits_iams_managed_policy_limit():
    document = compact(administrator_minus_billing())
    assert MAX_POLICY_CHARACTERS == 6144
    assert len(re.sub(r"\s", "", document)) < MAX_POLICY_CHARACTERS
    # Pretty-printed, as a person would paste it, it still fits once whitespace is ignored.
    pretty = json.dumps(administrator_minus_billing(), indent=4)
    assert len(re.sub(r"\s", "", pretty)) < MAX_POLICY_CHARACTERS


def test_the_document_is_valid_iam_json():
    document = administrator_minus_billing()
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in document["Statement"]]
    assert len(sids) == len(set(sids))
    for each in document["Statement"]:
        assert re.fullmatch(r"[A-Za-z0-9]+", each["Sid"])
    # Only the changes to the role and the policy name resources; everything else is account-wide.
    specific = {each["Sid"] for each in document["Statement"] if each["Resource"] != "*"}
    assert specific == {"DenyChangesToTheAccessRole", "DenyChangesToThisPolicy"}


def test_it_allows_everything():
    allows = statements("Allow")
    assert len(allows) == 1
    assert allows[0]["Action"] == "*"
    assert allows[0]["Resource"] == "*"
    assert "Condition" not in allows[0]


def test_it_denies_every_billing_and_cost_prefix():
    denied = denied_actions()
    for prefix in BILLING_SERVICE_PREFIXES:
        assert f"{prefix}:*" in denied, prefix
    for must_have in ("aws-portal", "billing", "ce", "cur", "budgets", "payments", "tax", "invoicing"):
        assert must_have in BILLING_SERVICE_PREFIXES


def test_it_denies_exactly_the_eight_account_ownership_actions():
    account_actions = [action for action in denied_actions() if action.startswith("account:")]
    assert not any(
        action.startswith("account:") for action in statement("DenyChangesToTheAccessRole")["Action"]
    )
    assert sorted(account_actions) == sorted(ACCOUNT_SETTINGS_ACTIONS)
    assert len(set(account_actions)) == 8
    assert {
        "account:PutContactInformation",
        "account:PutAlternateContact",
        "account:DeleteAlternateContact",
        "account:PutAccountName",
        "account:StartPrimaryEmailUpdate",
        "account:AcceptPrimaryEmailUpdate",
        "account:CloseAccount",
        "account:PutChallengeQuestions",
    } == set(account_actions)


def test_it_never_denies_all_of_account_so_regions_can_still_be_enabled():
    denied = denied_actions()
    assert "account:*" not in denied
    assert not any(action in ("*", "account:Enable*", "account:EnableRegion") for action in denied)


def test_every_denied_action_is_a_listed_one():
    expected = (
        {f"{prefix}:*" for prefix in BILLING_SERVICE_PREFIXES}
        | set(ACCOUNT_SETTINGS_ACTIONS)
        | {"customer-verification:*", "organizations:LeaveOrganization"}
        | set(PAYER_PURCHASE_ACTIONS)
        | set(ROLE_CHANGE_ACTIONS)
        | set(POLICY_CHANGE_ACTIONS)
        | set(BOUNDED_IDENTITY_ACTIONS)
        | set(BOUNDARY_REMOVAL_ACTIONS)
    )
    assert set(denied_actions()) == expected
    # Once each, but for the access role's own boundary actions, also denied account-wide (another condition).
    twice = {"iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary"}
    assert {action for action in denied_actions() if denied_actions().count(action) > 1} == twice
    assert len(denied_actions()) == len(expected) + len(twice)


def test_the_gaps_found_in_review_are_closed():
    denied = set(denied_actions())
    assert {"customer-verification:*", "organizations:LeaveOrganization", "savingsplans:*"} <= denied
    assert {"ec2:PurchaseReservedInstancesOffering", "rds:PurchaseReservedDBInstancesOffering"} <= denied
    assert {"supportplans:StartSupportPlanUpdate", "aws-marketplace:Subscribe"} <= denied


def test_it_denies_changes_to_the_access_role_and_this_policy_to_every_session_but_orgvends():
    role = statement("DenyChangesToTheAccessRole")
    assert role["Resource"] == [f"arn:aws:iam::*:role/{name}" for name in ROLE_NAMES]
    assert {"iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy"} <= set(role["Action"])
    policy = statement("DenyChangesToThisPolicy")
    assert policy["Resource"] == f"arn:aws:iam::*:policy/{POLICY_NAME}"
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"} <= set(policy["Action"])
    for each in (role, policy, statement("DenyRemovingBoundaries")):
        assert each["Condition"] == {"StringNotLike": {"aws:userid": "*:orgvend-*"}}


def test_whatever_its_holders_mint_is_capped_by_this_policy():
    minted = statement("DenyIdentitiesWithoutThisBoundary")
    assert set(minted["Action"]) == {
        "iam:CreateRole",
        "iam:CreateUser",
        "iam:PutRolePermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
    }
    assert minted["Condition"] == {
        "ArnNotEquals": {
            "iam:PermissionsBoundary": f"arn:aws:iam::${{aws:PrincipalAccount}}:policy/{POLICY_NAME}"
        }
    }
    assert "Condition" not in statement("DenyBillingAndCost")


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_the_partition_is_the_callers(partition):
    document = compact(baseline(partition=partition, policy_name=POLICY_NAME, access_role_names=ROLE_NAMES))
    assert f"arn:{partition}:iam::" in document
    assert partition == "aws" or "arn:aws:iam::" not in document


def test_the_trust_admits_orgvend_and_the_operators_by_principal_arn_only():
    trust = access_role_trust(
        partition="aws",
        management_account_id="123456789012",
        orgvend_principal_arns=("arn:aws:iam::123456789012:role/orgvend/member-access/*",),
        operator_principal_arns=("arn:aws:iam::123456789012:role/ops-*",),
    )
    orgvend, operators = trust["Statement"]
    for each in (orgvend, operators):
        assert each["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        assert each["Action"] == "sts:AssumeRole"
    assert orgvend["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/orgvend/member-access/*"]}
    }
    assert operators["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/ops-*"]},
        "StringNotLike": {"sts:RoleSessionName": "orgvend-*"},
    }


def test_without_operators_the_trust_admits_orgvend_alone():
    trust = access_role_trust(
        partition="aws",
        management_account_id="123456789012",
        orgvend_principal_arns=("arn:aws:iam::123456789012:role/orgvend/member-access/*",),
        operator_principal_arns=(),
    )
    assert [each["Sid"] for each in trust["Statement"]] == ["OrgvendFunctions"]


def test_each_call_returns_a_fresh_document():
    first = administrator_minus_billing()
    first["Statement"].clear()
    assert administrator_minus_billing()["Statement"]


def test_compact_is_sorted_and_has_no_whitespace_between_tokens():
    text = compact({"b": 1, "a": [1, 2]})
    assert text == '{"a":[1,2],"b":1}'


def test_same_document_ignores_key_order_and_formatting():
    document = administrator_minus_billing()
    reordered = {
        "Statement": [dict(reversed(list(statement.items()))) for statement in document["Statement"]],
        "Version": document["Version"],
    }
    assert same_document(document, reordered)
    assert same_document(json.dumps(reordered, indent=2), document)
    assert same_document(compact(document), json.dumps(document))


def test_same_document_sees_a_real_difference():
    document = administrator_minus_billing()
    changed = administrator_minus_billing()
    changed["Statement"][1]["Action"] = changed["Statement"][1]["Action"][:-1]
    assert not same_document(document, changed)
    assert not same_document(json.dumps(document), json.dumps(changed))
    widened = administrator_minus_billing()
    widened["Statement"][0]["Effect"] = "Deny"
    assert not same_document(document, widened)


def test_from_a_hub_the_trust_admits_the_hubs_functions_and_the_management_accounts_operators():
    hub, management = "210987654321", "123456789012"
    trust = access_role_trust(
        partition="aws",
        management_account_id=management,
        orgvend_principal_arns=(f"arn:aws:iam::{hub}:role/orgvend/member-access/*",),
        operator_principal_arns=(f"arn:aws:iam::{management}:role/ops-*",),
    )
    orgvend, operators = trust["Statement"]
    assert orgvend["Principal"] == {"AWS": f"arn:aws:iam::{hub}:root"}
    assert operators["Principal"] == {"AWS": f"arn:aws:iam::{management}:root"}
    assert management not in json.dumps(orgvend)  # the management account as a whole is no longer trusted
