"""boto3 clients for the functions, built once per process (per set of credentials).

One botocore session carries every client, so a test or benchmark can inject
faults through botocore's public event system (``session().events.register``)
and then call ``reset()`` to have the next clients pick the hooks up. The session
is made on first use, never on import: whatever a test patches into botocore
(moto's hooks) before its first call is in it, whichever module was imported first.

Lambda gives a function its execution role's credentials in the environment. The
clients are kept per set of those credentials: in Lambda they never change for a
process, and the embedded AWS (``make run``) runs every function of the stack in
one process, each under its own role, as Lambda runs them in sandboxes of their own.

``client("organizations")`` is typed as ``OrganizationsClient`` (and so on for each
service orgvend calls) by the boto3 stub packages, which are development
dependencies only: they are imported for the type checker, never at run time.
"""

import os
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.client import BaseClient
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_billing import BillingClient
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_identitystore import IdentityStoreClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3control import S3ControlClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sso_admin import SSOAdminClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import CredentialsTypeDef

# The services orgvend's functions call (each needs its stub package in the dev extra).
ServiceName = Literal[
    "account",
    "billing",
    "budgets",
    "dynamodb",
    "events",
    "iam",
    "organizations",
    "sns",
    "stepfunctions",
    "sts",
]
# IAM Identity Center's services: called in the instance's Region, which may not be the stack's.
IdentityCenterService = Literal["sso-admin", "identitystore"]
# What orgvend calls inside a member account, with the access role's temporary credentials
# (orgvend.account_settings): EC2's settings are per Region, so its clients are too.
MemberService = Literal["iam", "ec2", "s3control"]

# Standard retry mode: exponential backoff with jitter for throttling and
# transient errors inside one invocation; the state machine retries beyond that.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    user_agent_appid="orgvend",  # type: ignore[call-arg]  # botocore has it (1.31+); botocore-stubs 1.43 lacks it
    connect_timeout=5,
    read_timeout=30,
)


@cache
def session() -> boto3.session.Session:
    """The one session of the process, made on first use (so after any test's patches of botocore)."""
    return boto3.session.Session()


def _environment_credentials() -> tuple[str, str, str] | None:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None  # a profile, SSO, instance metadata: botocore's own chain finds them
    return key, secret, os.environ.get("AWS_SESSION_TOKEN", "")


@cache
def _client(
    service_name: ServiceName | IdentityCenterService,
    credentials: tuple[str, str, str] | None,
    region: str | None = None,
) -> BaseClient:
    if credentials is None:
        return session().client(service_name, region_name=region, config=CLIENT_CONFIG)
    key, secret, token = credentials
    return session().client(
        service_name,
        region_name=region,
        config=CLIENT_CONFIG,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token or None,
    )


@overload
def client(service_name: Literal["billing"]) -> "BillingClient": ...
@overload
def client(service_name: Literal["budgets"]) -> "BudgetsClient": ...
@overload
def client(service_name: Literal["dynamodb"]) -> "DynamoDBClient": ...
@overload
def client(service_name: Literal["events"]) -> "EventBridgeClient": ...
@overload
def client(service_name: Literal["iam"]) -> "IAMClient": ...
@overload
def client(service_name: Literal["organizations"]) -> "OrganizationsClient": ...
@overload
def client(service_name: Literal["sns"]) -> "SNSClient": ...
@overload
def client(service_name: Literal["stepfunctions"]) -> "SFNClient": ...
@overload
def client(service_name: Literal["sts"]) -> "STSClient": ...
# Last: functools.partial(client, "billing") is typed by the first overload (set_billing_preferences).
@overload
def client(service_name: Literal["account"]) -> "AccountClient": ...
def client(service_name: ServiceName) -> BaseClient:
    return _client(service_name, _environment_credentials())


@overload
def identity_center_client(service_name: Literal["sso-admin"], region: str) -> "SSOAdminClient": ...
@overload
def identity_center_client(service_name: Literal["identitystore"], region: str) -> "IdentityStoreClient": ...
def identity_center_client(service_name: IdentityCenterService, region: str) -> BaseClient:
    return _client(service_name, _environment_credentials(), region)


@overload
def member_client(
    service_name: Literal["iam"], credentials: "CredentialsTypeDef", region: str | None = None
) -> "IAMClient": ...
@overload
def member_client(
    service_name: Literal["ec2"], credentials: "CredentialsTypeDef", region: str | None = None
) -> "EC2Client": ...
@overload
def member_client(
    service_name: Literal["s3control"], credentials: "CredentialsTypeDef", region: str | None = None
) -> "S3ControlClient": ...
def member_client(
    service_name: MemberService, credentials: "CredentialsTypeDef", region: str | None = None
) -> BaseClient:
    """A client acting with temporary credentials (an assumed role in a member account), in ``region``
    (the stack's when None). Not cached: the credentials expire within the hour, and a step makes few."""
    return session().client(
        service_name,
        region_name=region,
        config=CLIENT_CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def client_with_credentials(service_name: Literal["iam"], credentials: "CredentialsTypeDef") -> "IAMClient":
    """An IAM client acting with temporary credentials (an assumed role in a member account)."""
    return member_client(service_name, credentials)


def reset() -> None:
    """Forget cached clients (after registering event hooks, or changing the environment)."""
    _client.cache_clear()


def error_code(error: Exception) -> str:
    response: Any = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_reason(error: Exception) -> str:
    """Organizations' ConstraintViolationException carries its reason beside the code."""
    response: Any = getattr(error, "response", None) or {}
    return str(response.get("Reason") or response.get("Error", {}).get("Reason", ""))
