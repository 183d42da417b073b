"""What ApplySettings (onboarding) and KeepAccountSettings (a settings run) share: reaching an account
through its access role, and what the account's entry records of an application."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orgvend.access_role import access_role_arn, assume_access_role
from orgvend.account_settings.apply_settings import SettingsTarget
from orgvend.account_settings.member_account import AssumedMemberAccount
from orgvend.account_settings.models import SettingsResult
from orgvend.clock import now
from orgvend.errors import SettingsNotApplied
from orgvend.models import AppliedSettings

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_sts import STSClient

SESSION_NAME = "orgvend-settings"


def _not_assumable(why: str) -> SettingsNotApplied:
    return SettingsNotApplied("accessRole", why)


def reach_account(
    sts: "STSClient",
    management_account: "AccountClient",
    *,
    account_id: str,
    role_name: str,
    client: str,
    project: str,
) -> SettingsTarget:
    """The account, reached through its access role (an ``orgvend-settings`` session; the caller's role
    path is ``member-access``, which the role's trust admits)."""
    partition = sts.get_caller_identity()["Arn"].split(":")[1]
    credentials = assume_access_role(
        sts,
        access_role_arn(partition, account_id, role_name),
        session_name=SESSION_NAME,
        failed=_not_assumable,
    )
    return SettingsTarget(
        account_id=account_id,
        client=client,
        project=project,
        member=AssumedMemberAccount(credentials),
        management_account=management_account,
    )


def applied(result: SettingsResult, overrides: Mapping[str, Any]) -> AppliedSettings:
    """What the account's entry records of an application (with the overrides a later run keeps)."""
    return AppliedSettings(
        profile=result.profile,
        version=result.version,
        applied_at=now(),
        changed=[str(each.setting) for each in result.results if each.changed],
        kept=[kept for each in result.results for kept in each.kept],
        overrides=dict(overrides),
    )
