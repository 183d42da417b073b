"""ApplyBaseline: make the access role administrator-minus-billing and narrow its trust, idempotently.

Runs with the role itself (assumed from the management account, as an ``orgvend-*``
session): it attaches orgvend's policy before detaching AdministratorAccess, so the
session never loses the IAM permissions it is using, and then replaces the role's
trust (which trusts the whole management account when Organizations makes it) with
one that admits orgvend's functions and the operators' roles only.

An adopted account's role may trust more: other accounts, identity providers,
anyone. The trust found is audited first; what it admitted outside the
organization is reported (``trust_findings``), and a trust that admits outsiders
and cannot be replaced stops the onboarding here (``UnsafeAccessRoleTrust``):
orgvend does not register an account whose access role strangers can assume.
"""

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.access_role import NOT_READY_ERRORS, access_role_arn, assume_access_role
from orgvend.aws import error_code
from orgvend.baseline_policy import access_role_trust, administrator_minus_billing, compact, same_document
from orgvend.errors import AccountNotReady, BaselineFailed, UnsafeAccessRoleTrust
from orgvend.models import Baseline, Model, Onboarding
from orgvend.observability import logger
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_iam.type_defs import PolicyDocumentDictTypeDef, PolicyVersionTypeDef
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_sts import STSClient

ADMINISTRATOR_ACCESS = "AdministratorAccess"
SESSION_NAME = "orgvend-baseline"
MAX_POLICY_VERSIONS = 5


class ApplyBaselineInput(Model):
    onboarding: Onboarding
    account_id: str


def _decoded(document: "str | PolicyDocumentDictTypeDef") -> dict[str, Any]:
    # IAM returns documents URL-encoded on the wire; boto3 decodes most but not all.
    if isinstance(document, str):
        decoded: dict[str, Any] = json.loads(unquote(document))
        return decoded
    return dict(document)


def _document(version: "PolicyVersionTypeDef") -> dict[str, Any]:
    return _decoded(version["Document"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_account(principal: str) -> str | None:
    """The account of an AWS principal written as an account ID or an ARN; None for "*"."""
    if principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else None


def trust_outsiders(
    trust: dict[str, Any], organizations: "OrganizationsClient", own_account_ids: frozenset[str]
) -> list[str]:
    """Who the trust lets assume the role from outside the organization, one finding each.

    Anyone (``*`` without an ``aws:PrincipalOrgID`` condition), identity providers (Federated: people
    who are not IAM principals of the organization) and accounts that are not members.
    """
    findings: list[str] = []
    members: dict[str, bool] = {}
    for statement in _as_list(trust.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        anyone = principal == "*" or (
            isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", []))
        )
        if anyone and "aws:PrincipalOrgID" not in json.dumps(statement.get("Condition", {})):
            findings.append("anyone (Principal *)")
        if isinstance(principal, dict):
            findings.extend(
                f"identity provider {provider}" for provider in _as_list(principal.get("Federated", []))
            )
            for aws_principal in _as_list(principal.get("AWS", [])):
                account = _principal_account(str(aws_principal))
                if account is None or account in own_account_ids:
                    continue
                if account not in members:
                    try:
                        organizations.describe_account(AccountId=account)
                        members[account] = True
                    except ClientError as error:
                        if error_code(error) != "AccountNotFoundException":
                            raise
                        members[account] = False
                if not members[account]:
                    findings.append(f"{aws_principal} (account {account} is not in the organization)")
    return findings


def ensure_trust(
    iam: "IAMClient",
    role_name: str,
    trust: dict[str, Any],
    organizations: "OrganizationsClient",
    own_account_ids: frozenset[str],
) -> tuple[bool, list[str]]:
    """Replace the role's trust with ``trust``; (replaced, what the old trust admitted from outside)."""
    current = _decoded(iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])
    if same_document(current, trust):
        return False, []
    findings = trust_outsiders(current, organizations, own_account_ids)
    try:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=compact(trust))
    except ClientError as error:
        if error_code(error) not in ("AccessDenied", "AccessDeniedException", "UnmodifiableEntity"):
            raise
        if findings:
            raise UnsafeAccessRoleTrust(
                f"the {role_name} role trusts principals outside the organization ({'; '.join(findings)}) "
                f"and orgvend may not replace its trust ({error_code(error)}); fix the role's trust policy, "
                "then retry the onboarding"
            ) from None
        if error_code(error) == "UnmodifiableEntity":
            raise BaselineFailed(f"cannot narrow the trust of {role_name}: {error}") from None
        # A trust without outsiders that cannot be changed yet: IAM of a fresh account settling.
        raise AccountNotReady(f"cannot narrow the trust of {role_name} yet: {error_code(error)}") from None
    return True, findings


def ensure_policy(iam: "IAMClient", policy_arn: str, policy_name: str, document: dict[str, Any]) -> bool:
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


def attached_policy_arns(iam: "IAMClient", role_name: str) -> dict[str, str]:
    """Name → ARN of the managed policies attached to ``role_name``."""
    attached: dict[str, str] = {}
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for policy in page["AttachedPolicies"]:
            attached[policy["PolicyName"]] = policy["PolicyArn"]
    return attached


def apply_baseline(
    step_input: ApplyBaselineInput,
    sts: "STSClient",
    organizations: "OrganizationsClient",
    settings: Settings,
    through: "STSClient | None" = None,
) -> Baseline:
    """``through``: the management role's STS when orgvend runs in a hub (``orgvend.access_role``)."""
    onboarding, account_id = step_input.onboarding, step_input.account_id
    policy_name = settings.required(settings.baseline_policy_name, "baseline_policy_name")
    orgvend_principals = settings.required(settings.orgvend_principal_arns, "orgvend_principal_arns")
    caller = sts.get_caller_identity()
    # Where orgvend runs (single account), or the management account behind the hub's management role.
    management_account_id = (caller if through is None else through.get_caller_identity())["Account"]
    if account_id == management_account_id:
        raise BaselineFailed("refusing to baseline the management account")
    if not orgvend_principals:
        raise BaselineFailed("ORGVEND_PRINCIPAL_ARNS is empty: the access role's trust would admit nobody")
    partition = caller["Arn"].split(":")[1]
    role_arn = access_role_arn(partition, account_id, onboarding.role_name)
    credentials = assume_access_role(
        sts, role_arn, session_name=SESSION_NAME, failed=BaselineFailed, through=through
    )
    iam = aws.client_with_credentials("iam", credentials)
    policy_arn = f"arn:{partition}:iam::{account_id}:policy/{policy_name}"
    policy = administrator_minus_billing(
        partition=partition, policy_name=policy_name, access_role_names=settings.roles
    )
    trust = access_role_trust(
        partition=partition,
        management_account_id=management_account_id,
        orgvend_principal_arns=orgvend_principals,
        operator_principal_arns=settings.operator_principal_arns or (),
    )
    try:
        changed = ensure_policy(iam, policy_arn, policy_name, policy)
        attached = attached_policy_arns(iam, onboarding.role_name)
        if policy_name not in attached:
            iam.attach_role_policy(RoleName=onboarding.role_name, PolicyArn=policy_arn)
            changed = True
        if ADMINISTRATOR_ACCESS in attached:
            iam.detach_role_policy(RoleName=onboarding.role_name, PolicyArn=attached[ADMINISTRATOR_ACCESS])
            changed = True
        # Last: the session keeps working (it was opened under the old trust), and a failure before
        # this point leaves the role assumable by orgvend for the retry.
        trust_replaced, findings = ensure_trust(
            iam, onboarding.role_name, trust, organizations, frozenset({management_account_id, account_id})
        )
    except ClientError as error:
        if error_code(error) in NOT_READY_ERRORS:
            raise AccountNotReady(f"IAM in {account_id} is not ready: {error_code(error)}") from None
        raise BaselineFailed(f"baseline of {account_id} failed: {error}") from None
    if findings:
        logger.warning("Access role trusted outsiders; trust replaced", extra={"findings": findings})
    logger.info(
        "Baseline applied",
        extra={"accountId": account_id, "changed": changed, "trustReplaced": trust_replaced},
    )
    return Baseline(
        role_arn=role_arn,
        policy_arn=policy_arn,
        changed=changed or trust_replaced,
        trust_replaced=trust_replaced,
        trust_findings=findings,
    )
