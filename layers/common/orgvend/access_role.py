"""The access role of a member account, assumed from the management account by orgvend's functions.

Shared by the steps that work inside the account (ApplyBaseline, ApplySettings): the role's trust
admits the functions whose role path is ``member-access`` (ORGVEND_PRINCIPAL_ARNS), and the sessions
are named ``orgvend-*`` so CloudTrail tells them apart. A new account answers "not ready" errors for
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


def assume_access_role(
    sts: "STSClient", role_arn: str, *, session_name: str, failed: Callable[[str], Exception]
) -> "CredentialsTypeDef":
    """The role's temporary credentials; ``AccountNotReady`` while the account settles, else ``failed``."""
    try:
        return sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    except ClientError as error:
        if error_code(error) in NOT_READY_ERRORS:
            metrics.add_metric(name="AccountNotReady", unit="Count", value=1)  # one retry of the workflow
            raise AccountNotReady(f"cannot assume {role_arn} yet: {error_code(error)}") from None
        raise failed(f"cannot assume {role_arn}: {error}") from None
