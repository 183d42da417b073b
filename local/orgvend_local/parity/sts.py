"""STS AssumeRole decided by the role's trust policy, as IAM decides it."""

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse
from moto.utilities.arns import parse_arn

from orgvend_local.parity.organizations import organization_of
from orgvend_local.parity.patch import CANARY_ACCOUNT, Emulator, Patcher, declared, refusal, still, stock_moto
from orgvend_local.policy_evaluation import principal_context, trust_allows

# moto's identity for requests signed with keys it does not know (the AWS CLI with the test keys).
DEFAULT_IDENTITY = "user/moto"


def principal_of_access_key(access_key: str, account: str | None = None) -> str:
    """The IAM ARN ``aws:PrincipalArn`` has for requests signed with ``access_key``: a role (not its session)
    for assumed-role credentials, a user, or moto's default identity (in ``account``, moto's default account
    when None) for keys it does not know."""
    for backend in list(sts_backends.values()):
        assumed = backend["aws"].get_assumed_role_from_access_key(access_key)
        if assumed is not None:
            return str(assumed.role_arn)
    for backends in list(iam_backends.values()):
        user = backends["global"].get_user_from_access_key_id(access_key)
        if user is not None:
            return str(user.arn)
    return f"arn:aws:iam::{account or DEFAULT_ACCOUNT_ID}:{DEFAULT_IDENTITY}"


def principal_of_request(request: Any) -> str:
    """Who signs a botocore request (a ``before-send`` hook's ``request``): ``principal_of_access_key`` of the
    access key in its SigV4 ``Authorization`` header."""
    header = request.headers.get("Authorization", b"")
    text = header.decode() if isinstance(header, bytes) else str(header)
    found = re.search(r"Credential=([^/]+)/", text)
    return principal_of_access_key(found.group(1) if found else "")


def caller_principal_arn(response: TokenResponse) -> str:
    """Who signed the request (``principal_of_access_key``), in the account moto answers it for."""
    return principal_of_access_key(response.get_access_key(), response.current_account)


def apply_trust_policies_decide(patcher: Patcher, _emulator: Emulator) -> None:
    """A role that does not exist: AccessDenied (an invited account has no access role unless someone made
    one). A role that does: its trust policy is evaluated for the caller (``policy_evaluation``: the
    principal, and conditions on ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``,
    ``sts:RoleSessionName``), and AccessDenied unless it admits the caller. The caller's own identity
    policy is not evaluated: moto enforces no identity policies."""

    @patcher.around(TokenResponse, "assume_role")
    def assume_role(original: Callable[[TokenResponse], Any], response: TokenResponse) -> Any:
        role_arn = response._get_param("RoleArn")
        session_name = response._get_param("RoleSessionName") or ""
        parts = parse_arn(role_arn)
        caller = caller_principal_arn(response)
        denied = STSClientError(
            "AccessDenied",
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        )
        if parts.service != "iam" or parts.resource_type != "role":
            raise denied
        role_name = parts.resource_id.rsplit("/", 1)[-1]
        role = next(
            (role for role in iam_backends[parts.account]["global"].roles.values() if role.name == role_name),
            None,
        )
        if role is None:
            raise denied
        context = {
            **principal_context(caller, org_id=organization_of(parse_arn(caller).account)),
            "sts:RoleSessionName": session_name,
        }
        if not trust_allows(role.assume_role_policy_document, caller, context):
            raise denied
        return original(response)


def canary_trust_policies_decide() -> None:
    """moto hands out credentials for a role that does not exist, and for one whose trust admits only Lambda."""
    with stock_moto() as session:
        sts = session.client("sts")
        lambda_only = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        lambda_only_arn = session.client("iam").create_role(
            RoleName="lambda-only", AssumeRolePolicyDocument=json.dumps(lambda_only)
        )["Role"]["Arn"]
        for role_arn, what in (
            (f"arn:aws:iam::{CANARY_ACCOUNT}:role/absent", "a role that does not exist"),
            (lambda_only_arn, "a role whose trust admits only Lambda"),
        ):
            code = refusal(functools.partial(sts.assume_role, RoleArn=role_arn, RoleSessionName="canary"))
            still(code is None, f"assuming {what} answered {code}")


TRUST_POLICIES_DECIDE = declared(
    "sts-assume-role-trust-policy", apply=apply_trust_policies_decide, canary=canary_trust_policies_decide
)
