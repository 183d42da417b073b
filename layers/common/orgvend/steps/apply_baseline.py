"""ApplyBaseline: make the access role administrator-minus-billing, idempotently.

Runs with the role itself (assumed from the management account): it attaches
orgvend's policy before detaching AdministratorAccess, so the session never
loses the IAM permissions it is using.
"""

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.aws import error_code
from orgvend.baseline_policy import administrator_minus_billing, compact, same_document
from orgvend.errors import AccountNotReady, BaselineFailed
from orgvend.models import Baseline, Model, Onboarding
from orgvend.observability import logger, metrics

ADMINISTRATOR_ACCESS = "AdministratorAccess"
SESSION_NAME = "orgvend-baseline"
# A new account answers these until it is fully set up (minutes after SUCCEEDED).
NOT_READY_ERRORS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "SubscriptionRequiredException",
        "OptInRequired",
        "InvalidClientTokenId",
        "RegionDisabledException",
    }
)
MAX_POLICY_VERSIONS = 5


class ApplyBaselineInput(Model):
    onboarding: Onboarding
    account_id: str


def assume_access_role(sts: Any, role_arn: str) -> dict[str, Any]:
    try:
        return dict(sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"])
    except ClientError as error:
        if error_code(error) in NOT_READY_ERRORS:
            metrics.add_metric(name="AccountNotReady", unit="Count", value=1)  # one retry of the workflow
            raise AccountNotReady(f"cannot assume {role_arn} yet: {error_code(error)}") from None
        raise BaselineFailed(f"cannot assume {role_arn}: {error}") from None


def _document(version: dict[str, Any]) -> dict[str, Any]:
    document = version["Document"]
    # IAM returns documents URL-encoded on the wire; boto3 decodes most but not all.
    return json.loads(unquote(document)) if isinstance(document, str) else document


def ensure_policy(iam: Any, policy_arn: str, policy_name: str, document: dict[str, Any]) -> bool:
    """Create the policy, or give it a new default version when its document differs. True if changed."""
    try:
        policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    except ClientError as error:
        if error_code(error) != "NoSuchEntity":
            raise
        iam.create_policy(
            PolicyName=policy_name,
            PolicyDocument=compact(document),
            Description="orgvend: administrator access minus billing, cost and account ownership changes",
        )
        return True
    current = iam.get_policy_version(PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"])[
        "PolicyVersion"
    ]
    if same_document(_document(current), document):
        return False
    versions = iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]
    if len(versions) >= MAX_POLICY_VERSIONS:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=policy_arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=compact(document), SetAsDefault=True)
    return True


def attached_policy_arns(iam: Any, role_name: str) -> dict[str, str]:
    """Name → ARN of the managed policies attached to ``role_name``."""
    attached: dict[str, str] = {}
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for policy in page["AttachedPolicies"]:
            attached[policy["PolicyName"]] = policy["PolicyArn"]
    return attached


def apply_baseline(step_input: ApplyBaselineInput, sts: Any, policy_name: str) -> Baseline:
    onboarding, account_id = step_input.onboarding, step_input.account_id
    caller = sts.get_caller_identity()  # orgvend runs in the management account
    if account_id == caller["Account"]:
        raise BaselineFailed("refusing to baseline the management account")
    partition = caller["Arn"].split(":")[1]
    role_arn = f"arn:{partition}:iam::{account_id}:role/{onboarding.role_name}"
    credentials = assume_access_role(sts, role_arn)
    iam = aws.client_with_credentials("iam", credentials)
    policy_arn = f"arn:{partition}:iam::{account_id}:policy/{policy_name}"
    try:
        changed = ensure_policy(iam, policy_arn, policy_name, administrator_minus_billing())
        attached = attached_policy_arns(iam, onboarding.role_name)
        if policy_name not in attached:
            iam.attach_role_policy(RoleName=onboarding.role_name, PolicyArn=policy_arn)
            changed = True
        if ADMINISTRATOR_ACCESS in attached:
            iam.detach_role_policy(RoleName=onboarding.role_name, PolicyArn=attached[ADMINISTRATOR_ACCESS])
            changed = True
    except ClientError as error:
        if error_code(error) in NOT_READY_ERRORS:
            raise AccountNotReady(f"IAM in {account_id} is not ready: {error_code(error)}") from None
        raise BaselineFailed(f"baseline of {account_id} failed: {error}") from None
    logger.info("Baseline applied", extra={"accountId": account_id, "changed": changed})
    return Baseline(role_arn=role_arn, policy_arn=policy_arn, changed=changed)
