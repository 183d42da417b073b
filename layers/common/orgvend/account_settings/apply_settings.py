"""Apply a settings profile to an account, or read back how the account differs from it.

Settings are applied one after another in a fixed order (``ORDER``): opt-in Regions before the
per-Region settings that may name them. The first that cannot be applied stops the rest with a
``SettingsNotApplied`` naming it (a Terminal error: the workflow fails there, and a redrive applies
again from the start, where what is done already changes nothing). ``RegionNotReady`` is the one
error to retry: an opt-in Region still being enabled.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.account_settings.block_public_access import (
    apply_public_access_block,
    public_access_block_drift,
)
from orgvend.account_settings.delete_default_vpcs import apply_default_vpcs, default_vpcs_drift
from orgvend.account_settings.enable_regions import apply_opt_in_regions, opt_in_regions_drift
from orgvend.account_settings.encrypt_ebs_by_default import apply_ebs_encryption, ebs_encryption_drift
from orgvend.account_settings.member_account import MemberAccount
from orgvend.account_settings.models import (
    Setting,
    SettingDrift,
    SettingResult,
    SettingsCheck,
    SettingsProfile,
    SettingsResult,
)
from orgvend.account_settings.set_account_alias import account_alias_drift, apply_account_alias
from orgvend.account_settings.set_alternate_contacts import alternate_contacts_drift, apply_alternate_contacts
from orgvend.account_settings.set_password_policy import apply_password_policy, password_policy_drift
from orgvend.aws import error_code
from orgvend.errors import SettingsNotApplied

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient

ORDER: tuple[Setting, ...] = (
    Setting.ALIAS,
    Setting.ALTERNATE_CONTACTS,
    Setting.PASSWORD_POLICY,
    Setting.S3_PUBLIC_ACCESS_BLOCK,
    Setting.OPT_IN_REGIONS,
    Setting.EBS_ENCRYPTION,
    Setting.DEFAULT_VPCS,
)


@dataclass(frozen=True)
class SettingStep:
    """One setting of a profile, ready to apply or to check."""

    setting: Setting
    apply: Callable[[], SettingResult]
    drift: Callable[[], list[SettingDrift]]


def setting_steps(
    profile: SettingsProfile,
    *,
    account_id: str,
    client: str,
    project: str,
    member: MemberAccount,
    management_account: "AccountClient",
) -> list[SettingStep]:
    """The profile's sections that say something, in ``ORDER``."""
    steps: dict[Setting, SettingStep] = {}
    try:
        alias = profile.alias_for(client, project)
    except ValueError as error:
        raise SettingsNotApplied(Setting.ALIAS, str(error)) from None
    if alias is not None:
        steps[Setting.ALIAS] = SettingStep(
            Setting.ALIAS,
            lambda: apply_account_alias(member.iam(), alias),
            lambda: account_alias_drift(member.iam(), alias),
        )
    if (contacts := profile.alternate_contacts) is not None:
        steps[Setting.ALTERNATE_CONTACTS] = SettingStep(
            Setting.ALTERNATE_CONTACTS,
            lambda: apply_alternate_contacts(management_account, account_id, contacts),
            lambda: alternate_contacts_drift(management_account, account_id, contacts),
        )
    if (policy := profile.password_policy) is not None:
        steps[Setting.PASSWORD_POLICY] = SettingStep(
            Setting.PASSWORD_POLICY,
            lambda: apply_password_policy(member.iam(), policy),
            lambda: password_policy_drift(member.iam(), policy),
        )
    if (block := profile.s3_public_access_block) is not None:
        steps[Setting.S3_PUBLIC_ACCESS_BLOCK] = SettingStep(
            Setting.S3_PUBLIC_ACCESS_BLOCK,
            lambda: apply_public_access_block(member.s3control(), account_id, block),
            lambda: public_access_block_drift(member.s3control(), account_id, block),
        )
    if regions := profile.opt_in_regions:
        steps[Setting.OPT_IN_REGIONS] = SettingStep(
            Setting.OPT_IN_REGIONS,
            lambda: apply_opt_in_regions(management_account, account_id, regions),
            lambda: opt_in_regions_drift(management_account, account_id, regions),
        )
    if (encryption := profile.ebs_encryption) is not None:
        steps[Setting.EBS_ENCRYPTION] = SettingStep(
            Setting.EBS_ENCRYPTION,
            lambda: apply_ebs_encryption(member, encryption),
            lambda: ebs_encryption_drift(member, encryption),
        )
    if (vpcs := profile.default_vpcs) is not None:
        steps[Setting.DEFAULT_VPCS] = SettingStep(
            Setting.DEFAULT_VPCS,
            lambda: apply_default_vpcs(member, vpcs),
            lambda: default_vpcs_drift(member, vpcs),
        )
    return [steps[setting] for setting in ORDER if setting in steps]


def _named[T](setting: Setting, run: Callable[[], T]) -> T:
    """``run``'s answer; an AWS refusal becomes a ``SettingsNotApplied`` naming the setting (orgvend's own
    errors, retryable or not, pass as they are)."""
    try:
        return run()
    except ClientError as error:
        raise SettingsNotApplied(setting, f"AWS refused it ({error_code(error)}): {error}") from None


def apply_settings(
    profile: SettingsProfile,
    *,
    account_id: str,
    client: str,
    project: str,
    member: MemberAccount,
    management_account: "AccountClient",
) -> SettingsResult:
    """Apply each of the profile's settings in ``ORDER``; a second run changes nothing."""
    steps = setting_steps(
        profile,
        account_id=account_id,
        client=client,
        project=project,
        member=member,
        management_account=management_account,
    )
    results = [_named(step.setting, step.apply) for step in steps]
    return SettingsResult(profile=profile.name, version=profile.version, results=results)


def settings_drift(
    profile: SettingsProfile,
    *,
    account_id: str,
    client: str,
    project: str,
    member: MemberAccount,
    management_account: "AccountClient",
) -> list[SettingDrift]:
    """How the account differs from the profile, setting by setting; nothing is changed."""
    steps = setting_steps(
        profile,
        account_id=account_id,
        client=client,
        project=project,
        member=member,
        management_account=management_account,
    )
    return [drift for step in steps for drift in _named(step.setting, step.drift)]


def check_settings(
    profile: SettingsProfile,
    *,
    account_id: str,
    client: str,
    project: str,
    member: MemberAccount,
    management_account: "AccountClient",
) -> SettingsCheck:
    """The account's drift, repaired when the profile says ``repair`` (else only reported)."""
    drift = settings_drift(
        profile,
        account_id=account_id,
        client=client,
        project=project,
        member=member,
        management_account=management_account,
    )
    if not drift or not profile.repair:
        return SettingsCheck(drift=drift)
    repaired = apply_settings(
        profile,
        account_id=account_id,
        client=client,
        project=project,
        member=member,
        management_account=management_account,
    )
    return SettingsCheck(drift=drift, repaired=repaired)
