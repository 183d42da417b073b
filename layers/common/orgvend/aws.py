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

Where orgvend runs (README, *Deploying: single account or hub*): in the organization's management account,
every client acts with the function's own role. In a hub account (``ORGVEND_MANAGEMENT_ROLE_ARN`` set, the
stack's ``ManagementRoleArn``), the clients of the services whose calls must be made in the management
account (``MANAGEMENT_SERVICES``) act with a session of that role instead: this module is the one place that
decides it, so no step knows which mode it runs in. The role's session is botocore's own refreshable
assume-role credentials (fetched on first use, refreshed 15 minutes before they expire), kept per set of
the function's credentials; a client is made per set of the role's credentials, so a client handed out
always has at least those 15 minutes left, more than a Lambda invocation lasts.

``client("organizations")`` is typed as ``OrganizationsClient`` (and so on for each
service orgvend calls) by the boto3 stub packages, which are development
dependencies only: they are imported for the type checker, never at run time.
"""

import os
import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    Credentials,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker, TransientRetryableChecker

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_billing import BillingClient
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_identitystore import IdentityStoreClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_s3 import S3Client
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
    "ce",
    "dynamodb",
    "events",
    "iam",
    "organizations",
    "s3",
    "sns",
    "stepfunctions",
    "sts",
]
# The services whose calls orgvend makes in the management account (management-role.yaml holds their grants
# for a hub deployment): the organization, its budgets and costs, its billing and member accounts' settings,
# the organizations features of IAM, and IAM Identity Center (whose instance is the management account's).
MANAGEMENT_SERVICES: frozenset[str] = frozenset(
    {"organizations", "budgets", "ce", "billing", "account", "iam", "sso-admin", "identitystore"}
)
# The stack's ManagementRoleArn: empty in the management account, the role to act through from a hub.
MANAGEMENT_ROLE_ARN_VARIABLE = "ORGVEND_MANAGEMENT_ROLE_ARN"
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


def management_role_arn() -> str | None:
    """The role management-account calls go through (a hub deployment), or None (they are the function's own)."""
    return os.environ.get(MANAGEMENT_ROLE_ARN_VARIABLE) or None


def _session_name() -> str:
    """``orgvend-<function>``: CloudTrail in the management account tells which hub function acted, and the
    access roles' trust reserves ``orgvend-*`` sessions to orgvend (operators may not open them)."""
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    return re.sub(r"[^\w+=,.@-]", "-", f"orgvend-{function}")[:64]


@lru_cache(maxsize=16)
def _management_role_credentials(
    role_arn: str, source: tuple[str, str, str] | None, session_name: str
) -> RefreshableCredentials:
    """The management role's session for the function's own credentials ``source`` (botocore's chain when
    None): botocore's assume-role fetcher, the same that ``role_arn`` in an AWS profile uses."""
    source_credentials = Credentials(*source) if source is not None else session().get_credentials()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda service_name, **keys: session().client(
            service_name, config=CLIENT_CONFIG, **keys
        ),
        source_credentials=source_credentials,
        role_arn=role_arn,
        extra_args={"RoleSessionName": session_name},
    )
    return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")


def _acting_credentials(service_name: str) -> tuple[str, str, str] | None:
    """Whose credentials a client of ``service_name`` acts with: the management role's session for a
    management-account service in a hub deployment, else the function's own."""
    own = _environment_credentials()
    role_arn = management_role_arn()
    if role_arn is None or service_name not in MANAGEMENT_SERVICES:
        return own
    return _management_role_keys(role_arn, own)


def _management_role_keys(role_arn: str, own: tuple[str, str, str] | None) -> tuple[str, str, str]:
    """The management role's current credentials (refreshed by botocore when fewer than 15 minutes are left)."""
    frozen = _management_role_credentials(role_arn, own, _session_name()).get_frozen_credentials()
    return str(frozen.access_key), str(frozen.secret_key), str(frozen.token or "")


# Bounded: a new set of the role's credentials (hourly) makes new clients, and the old ones are let go.
@lru_cache(maxsize=64)
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
def client(service_name: Literal["ce"]) -> "CostExplorerClient": ...
@overload
def client(service_name: Literal["dynamodb"]) -> "DynamoDBClient": ...
@overload
def client(service_name: Literal["events"]) -> "EventBridgeClient": ...
@overload
def client(service_name: Literal["iam"]) -> "IAMClient": ...
@overload
def client(service_name: Literal["organizations"]) -> "OrganizationsClient": ...
@overload
def client(service_name: Literal["s3"]) -> "S3Client": ...
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
    """The client of ``service_name``: a management-account service's acts in the management account
    (through the management role in a hub deployment), any other acts with the function's own role."""
    if service_name in MANAGEMENT_SERVICES and management_role_arn() is not None:
        return cast("BaseClient", ManagementRoleClient(service_name))
    return _client(service_name, _acting_credentials(service_name))


class ManagementRoleClient:
    """A management-account client of a hub deployment, which assumes the management role when it is first
    used rather than when it is built: a function that builds one and never calls it (the event door's
    scope, for requests an event may not make) needs no ``sts:AssumeRole``. Every attribute is the current
    client's, made with the role's current credentials, so a client held across a refresh keeps working."""

    def __init__(self, service_name: str, region: str | None = None) -> None:
        self._service_name = service_name
        self._region = region

    def __getattr__(self, name: str) -> Any:
        current = _client(
            cast("ServiceName", self._service_name), _acting_credentials(self._service_name), self._region
        )
        return getattr(current, name)


def management_role_sts() -> "STSClient | None":
    """STS acting as the management role, in a hub deployment (None in the management account, where the
    function's own STS is the management account's): for chaining into a member account whose access role
    still trusts only the management account (``orgvend.access_role``), and for the management account's ID."""
    role_arn = management_role_arn()
    if role_arn is None:
        return None
    return cast("STSClient", _client("sts", _management_role_keys(role_arn, _environment_credentials())))


@lru_cache(maxsize=16)
def _account_of(credentials: tuple[str, str, str] | None) -> str:
    return str(cast("STSClient", _client("sts", credentials)).get_caller_identity()["Account"])


def own_account_id() -> str:
    """The account the function runs in (its own role's), asked once per set of credentials."""
    return _account_of(_environment_credentials())


def management_account_id() -> str:
    """The organization's management account (where budgets are owned, and the access roles' first trust),
    asked once per set of credentials."""
    role_arn = management_role_arn()
    own = _environment_credentials()
    return _account_of(own if role_arn is None else _management_role_keys(role_arn, own))


@overload
def identity_center_client(service_name: Literal["sso-admin"], region: str) -> "SSOAdminClient": ...
@overload
def identity_center_client(service_name: Literal["identitystore"], region: str) -> "IdentityStoreClient": ...
def identity_center_client(service_name: IdentityCenterService, region: str) -> BaseClient:
    if management_role_arn() is not None:
        return cast("BaseClient", ManagementRoleClient(service_name, region))
    return _client(service_name, _acting_credentials(service_name), region)


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
    _management_role_credentials.cache_clear()
    _account_of.cache_clear()


def error_code(error: Exception) -> str:
    response: Any = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def passes_with_time(error: ClientError) -> bool:
    """Throttling or a transient failure, as botocore's standard retry mode classifies them (its own
    retries ran out): a later attempt may pass, so it is no refusal."""
    context = RetryContext(attempt_number=1, parsed_response=error.response)
    return ThrottledRetryableChecker().is_retryable(context) or TransientRetryableChecker().is_retryable(
        context
    )


def error_reason(error: Exception) -> str:
    """Organizations' ConstraintViolationException carries its reason beside the code."""
    response: Any = getattr(error, "response", None) or {}
    return str(response.get("Reason") or response.get("Error", {}).get("Reason", ""))
