"""ApplySettings: the account set up as its settings profile says (orgvend.account_settings).

After AssignAccess: the profile is resolved again as RecordRequest checked it (the stack's default,
the named profile's current version, the request's overrides), the access role is assumed (an
``orgvend-settings`` session; the function's role path is ``member-access``, which the role's trust
admits), and each setting is applied idempotently and read back: the alias, the password policy, S3's
public access block, EBS encryption and default VPCs through the role; alternate contacts and opt-in
Regions from the management account (Account Management's ``AccountId``). What was applied (profile,
version, when, what changed, what was kept) is recorded on the account's entry. A setting that cannot
be applied fails the run here, naming it (``SettingsNotApplied``); a redrive resumes at this step,
where what is done already changes nothing.
"""

from typing import TYPE_CHECKING

from orgvend.access_role import access_role_arn, assume_access_role
from orgvend.account_settings.apply_settings import SettingsTarget, apply_settings
from orgvend.account_settings.member_account import AssumedMemberAccount
from orgvend.account_settings.models import SettingsResult
from orgvend.clock import now
from orgvend.errors import SettingsNotApplied
from orgvend.models import AppliedSettings, Model, Onboarding
from orgvend.observability import logger, metrics
from orgvend.registry import Registry

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_sts import STSClient

SESSION_NAME = "orgvend-settings"


class ApplySettingsInput(Model):
    onboarding: Onboarding
    account_id: str


def applied(result: SettingsResult) -> AppliedSettings:
    """What the account's entry records of an application."""
    return AppliedSettings(
        profile=result.profile,
        version=result.version,
        applied_at=now(),
        changed=[str(each.setting) for each in result.results if each.changed],
        kept=[kept for each in result.results for kept in each.kept],
    )


def _not_assumable(why: str) -> SettingsNotApplied:
    return SettingsNotApplied("accessRole", why)


def apply_account_settings(
    step_input: ApplySettingsInput, sts: "STSClient", account: "AccountClient", registry: Registry
) -> SettingsResult:
    onboarding, account_id = step_input.onboarding, step_input.account_id
    profile = registry.resolve_settings_profile(onboarding.settings_profile, onboarding.settings)
    partition = sts.get_caller_identity()["Arn"].split(":")[1]
    credentials = assume_access_role(
        sts,
        access_role_arn(partition, account_id, onboarding.role_name),
        session_name=SESSION_NAME,
        failed=_not_assumable,
    )
    result = apply_settings(
        profile,
        SettingsTarget(
            account_id=account_id,
            client=onboarding.client,
            project=onboarding.project,
            member=AssumedMemberAccount(credentials),
            management_account=account,
        ),
    )
    record = applied(result)
    registry.update_account(account_id, lambda current: current.changed(settings=record))
    metrics.add_metric(name="SettingsChanged", unit="Count", value=len(record.changed))
    if record.kept:
        metrics.add_metric(name="SettingsKept", unit="Count", value=len(record.kept))
        logger.warning(
            "Settings found something to keep (not deleted)",
            extra={"accountId": account_id, "kept": record.kept},
        )
    logger.info(
        "Settings applied",
        extra={
            "accountId": account_id,
            "profile": result.profile,
            "version": result.version,
            "changed": record.changed,
            "kept": record.kept,
        },
    )
    return result
