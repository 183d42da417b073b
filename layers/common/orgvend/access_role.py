"""The access role of a member account, assumed by orgvend's functions.

Shared by the steps that work inside the account (ApplyBaseline, ApplySettings): the role's trust
admits the functions whose role path is ``member-access`` (ORGVEND_PRINCIPAL_ARNS), and the sessions
are named ``orgvend-*`` so CloudTrail tells them apart.

How the role is reached depends on where orgvend runs. In the management account, directly: the
functions are the management account's principals that a fresh account's role trusts. From a hub
account, directly too once ApplyBaseline has narrowed the trust (it admits the hub's member-access
functions then); before that (a fresh or invited account, whose role trusts only the management
account), through the management role (``through``: a chained session, at most one hour, which
is more than a step needs). A new account answers "not ready" errors for
minutes after its creation: those are ``AccountNotReady`` (retried by the workflow); any other refusal
is the calling step's own Terminal error (``failed``).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import AccountNotReady
from orgvend.observability import metrics

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import CredentialsTypeDef

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


def access_role_arn(partition: str, account_id: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


def assume_role_by_any(
    routes: "tuple[STSClient, ...]", role_arn: str, session_name: str
) -> "CredentialsTypeDef":
    """The role's credentials by the first route its trust admits (the last refusal is raised)."""
    for index, sts in enumerate(routes):
        try:
            return sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        except ClientError as error:
            if error_code(error) not in DENIED or index == len(routes) - 1:
                raise
    raise ValueError("no route to assume the role by")


def routes_to(sts: "STSClient", through: "STSClient | None") -> "tuple[STSClient, ...]":
    """Directly first (a narrowed trust admits the functions where they run), then through the
    management role when orgvend runs in a hub (a trust not narrowed yet admits only the management account)."""
    return (sts,) if through is None else (sts, through)


def assume_access_role(
    sts: "STSClient",
    role_arn: str,
    *,
    session_name: str,
    failed: Callable[[str], Exception],
    through: "STSClient | None" = None,
) -> "CredentialsTypeDef":
    """The role's temporary credentials; ``AccountNotReady`` while the account settles, else ``failed``.
    ``through``: the management role's STS in a hub deployment (``orgvend.aws.management_role_sts``)."""
    try:
        return assume_role_by_any(routes_to(sts, through), role_arn, session_name)
    except ClientError as error:
        if error_code(error) in NOT_READY_ERRORS:
            metrics.add_metric(name="AccountNotReady", unit="Count", value=1)  # one retry of the workflow
            raise AccountNotReady(f"cannot assume {role_arn} yet: {error_code(error)}") from None
        raise failed(f"cannot assume {role_arn}: {error}") from None
