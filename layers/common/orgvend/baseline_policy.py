"""The administrator-minus-billing policy orgvend puts on each account's access role.

There is no AWS managed policy for this, and AWS's old example (deny
``aws-portal:*``) has not covered billing since the 2023 move to fine-grained
billing actions. So the policy denies every billing and cost service prefix and
the account-contact/name/email/close actions of ``account:`` (not all of
``account:*``, which would also block EnableRegion and ListRegions).

Why allow and deny live in one document: the deny cannot be detached without
detaching administrator access with it. An administrator inside the account can
still write themselves a new policy; IAM inside an account is not a boundary
against its own administrators. The boundaries that hold are the account's
``IamUserAccessToBilling = DENY`` (set at creation) and, where wanted, a service
control policy, both outside the account's reach (README, "Security model").
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

# IAM's limit for a managed policy document, not counting whitespace.
MAX_POLICY_CHARACTERS = 6144


def administrator_minus_billing() -> dict[str, Any]:
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
                "Action": list(ACCOUNT_SETTINGS_ACTIONS),
                "Resource": "*",
            },
        ],
    }


def compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def same_document(left: dict[str, Any] | str, right: dict[str, Any] | str) -> bool:
    """Compare policy documents as data (IAM returns them URL-decoded JSON, keys in any order)."""

    def load(document: dict[str, Any] | str) -> dict[str, Any]:
        return json.loads(document) if isinstance(document, str) else document

    return compact(load(left)) == compact(load(right))
