"""The administrator-minus-billing policy orgvend puts on each account's access role, and its trust.

There is no AWS managed policy for this, and AWS's old example (deny
``aws-portal:*``) has not covered billing since the 2023 move to fine-grained
billing actions. So the policy denies every billing and cost service prefix, the
account-contact/name/email/close actions of ``account:`` (not all of
``account:*``, which would also block EnableRegion and ListRegions), and purchases
the payer would be billed for.

And it cannot be turned into more than it is (README, "What orgvend will and will not touch"):
- it denies changes to the access role itself (its policies, trust, boundary, tags) and
  to this policy's versions, to every session but orgvend's own (``orgvend-*`` session
  names, which the role's trust lets only orgvend's functions open);
- it lets its holders create IAM roles and users only with this policy as their
  permissions boundary, and never remove a boundary: whatever they mint is capped here;
- it denies ``organizations:LeaveOrganization`` (the guardrail SCP denies it too, for
  every principal of the accounts in the scope).

Why allow and deny live in one document: the deny cannot be detached without
detaching administrator access with it.
"""

import json
from typing import Any

BILLING_SERVICE_PREFIXES: tuple[str, ...] = (
    "aws-portal",
    "billing",
    "payments",
    "tax",
    "invoicing",
    "purchase-orders",
    "consolidatedbilling",
    "freetier",
    "ce",
    "cur",
    "budgets",
    "bcm-data-exports",
    "bcm-dashboards",
    "bcm-pricing-calculator",
    "bcm-recommended-actions",
    "billingconductor",
    "cost-optimization-hub",
    "savingsplans",
    "mapcredits",
    "sustainability",
)

ACCOUNT_SETTINGS_ACTIONS: tuple[str, ...] = (
    "account:PutContactInformation",
    "account:PutAlternateContact",
    "account:DeleteAlternateContact",
    "account:PutAccountName",
    "account:StartPrimaryEmailUpdate",
    "account:AcceptPrimaryEmailUpdate",
    "account:CloseAccount",
    "account:PutChallengeQuestions",
)

# Purchases billed to the payer, not usage: reserved capacity, support plans, marketplace subscriptions.
# (Savings Plans are denied with the savingsplans prefix above.)
PAYER_PURCHASE_ACTIONS: tuple[str, ...] = (
    "ec2:PurchaseReservedInstancesOffering",
    "ec2:PurchaseHostReservation",
    "ec2:PurchaseScheduledInstances",
    "ec2:PurchaseCapacityBlock",
    "ec2:AcceptReservedInstancesExchangeQuote",
    "rds:PurchaseReservedDBInstancesOffering",
    "elasticache:PurchaseReservedCacheNodesOffering",
    "redshift:PurchaseReservedNodeOffering",
    "dynamodb:PurchaseReservedCapacityOfferings",
    "es:PurchaseReserved*",
    "memorydb:PurchaseReservedNodesOffering",
    "medialive:PurchaseOffering",
    "supportplans:StartSupportPlanUpdate",
    "supportplans:CreateSupportPlanSchedule",
    "aws-marketplace:Subscribe",
    "aws-marketplace:AcceptAgreementRequest",
    "aws-marketplace:AcceptAgreementApprovalRequest",
    "aws-marketplace:CreateAgreementRequest",
)

# Changes to the access role and to this policy: only orgvend's own sessions may make them.
ROLE_CHANGE_ACTIONS: tuple[str, ...] = (
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:DeleteRole",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
)
POLICY_CHANGE_ACTIONS: tuple[str, ...] = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
# Identities minted by the role's holders must carry this policy as their permissions boundary.
BOUNDED_IDENTITY_ACTIONS: tuple[str, ...] = (
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:PutRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
)
BOUNDARY_REMOVAL_ACTIONS: tuple[str, ...] = (
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
)

# The session names orgvend uses when it assumes an access role (ApplyBaseline, role checks). The
# role's trust lets no other principal open a session with such a name (``access_role_trust``).
ORGVEND_SESSION_PATTERN = "orgvend-*"
ORGVEND_SESSION_USERID = f"*:{ORGVEND_SESSION_PATTERN}"

# IAM's limit for a managed policy document, not counting whitespace.
MAX_POLICY_CHARACTERS = 6144


def administrator_minus_billing(
    *, partition: str = "aws", policy_name: str, access_role_names: tuple[str, ...]
) -> dict[str, Any]:
    """The policy for the access role(s) named, stored as the customer-managed policy ``policy_name``."""
    not_orgvend = {"StringNotLike": {"aws:userid": ORGVEND_SESSION_USERID}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AdministratorAccess", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "DenyBillingAndCost",
                "Effect": "Deny",
                "Action": [f"{prefix}:*" for prefix in BILLING_SERVICE_PREFIXES],
                "Resource": "*",
            },
            {
                "Sid": "DenyAccountOwnershipChanges",
                "Effect": "Deny",
                "Action": [
                    *ACCOUNT_SETTINGS_ACTIONS,
                    "customer-verification:*",
                    "organizations:LeaveOrganization",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DenyPurchasesBilledToThePayer",
                "Effect": "Deny",
                "Action": list(PAYER_PURCHASE_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DenyChangesToTheAccessRole",
                "Effect": "Deny",
                "Action": list(ROLE_CHANGE_ACTIONS),
                "Resource": [f"arn:{partition}:iam::*:role/{name}" for name in access_role_names],
                "Condition": not_orgvend,
            },
            {
                "Sid": "DenyChangesToThisPolicy",
                "Effect": "Deny",
                "Action": list(POLICY_CHANGE_ACTIONS),
                "Resource": f"arn:{partition}:iam::*:policy/{policy_name}",
                "Condition": not_orgvend,
            },
            {
                "Sid": "DenyIdentitiesWithoutThisBoundary",
                "Effect": "Deny",
                "Action": list(BOUNDED_IDENTITY_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "ArnNotEquals": {
                        "iam:PermissionsBoundary": f"arn:{partition}:iam::${{aws:PrincipalAccount}}:policy/{policy_name}"
                    }
                },
            },
            {
                "Sid": "DenyRemovingBoundaries",
                "Effect": "Deny",
                "Action": list(BOUNDARY_REMOVAL_ACTIONS),
                "Resource": "*",
                "Condition": not_orgvend,
            },
        ],
    }


def access_role_trust(
    *,
    partition: str,
    management_account_id: str,
    orgvend_principal_arns: tuple[str, ...],
    operator_principal_arns: tuple[str, ...],
) -> dict[str, Any]:
    """The access role's trust: orgvend's functions and the operators' roles of the management account only.

    Principal is the account orgvend's functions run in (the management account, or the hub in a hub
    deployment: the account of their ARN patterns) and the management account for the operators, each
    narrowed by ``aws:PrincipalArn`` (ARN patterns). Operators may not
    open sessions named like orgvend's (``sts:RoleSessionName``), so only orgvend's functions can make the
    changes the policy reserves to orgvend's sessions.
    """
    management = {"AWS": f"arn:{partition}:iam::{management_account_id}:root"}
    function_accounts = sorted(
        {arn.split(":")[4] for arn in orgvend_principal_arns if arn.count(":") >= 5} - {"", "*"}
    ) or [management_account_id]
    functions = {
        "AWS": [f"arn:{partition}:iam::{account}:root" for account in function_accounts]
        if len(function_accounts) > 1
        else f"arn:{partition}:iam::{function_accounts[0]}:root"
    }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OrgvendFunctions",
            "Effect": "Allow",
            "Principal": functions,
            "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:PrincipalArn": list(orgvend_principal_arns)}},
        }
    ]
    if operator_principal_arns:
        statements.append(
            {
                "Sid": "Operators",
                "Effect": "Allow",
                "Principal": management,
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": list(operator_principal_arns)},
                    "StringNotLike": {"sts:RoleSessionName": ORGVEND_SESSION_PATTERN},
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def same_document(left: dict[str, Any] | str, right: dict[str, Any] | str) -> bool:
    """Compare policy documents as data (IAM returns them URL-decoded JSON, keys in any order)."""

    def load(document: dict[str, Any] | str) -> dict[str, Any]:
        return json.loads(document) if isinstance(document, str) else document

    return compact(load(left)) == compact(load(right))
