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
from orgvend.account_settings.models import SettingResult, SettingsCheck, SettingsProfile, SettingsResult
from orgvend.account_settings.set_account_alias import account_alias_drift, apply_account_alias
from orgvend.account_settings.set_alternate_contacts import alternate_contacts_drift, apply_alternate_contacts
from orgvend.account_settings.set_password_policy import apply_password_policy, password_policy_drift
from orgvend.aws import error_code, passes_with_time
from orgvend.errors import SettingsNotApplied, SettingsThrottled
from orgvend.models import Setting, SettingDrift

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


@dataclass(frozen=True)
class SettingsTarget:
    """The account a profile is applied to: its ID, client and project, the clients acting inside it
    (``member``), and the management account's Account Management client (contacts, Regions)."""

    account_id: str
    client: str
    project: str
    member: MemberAccount
    management_account: "AccountClient"


def setting_steps(profile: SettingsProfile, target: SettingsTarget) -> list[SettingStep]:
    """The profile's sections that say something, in ``ORDER``."""
    account_id, client, project = target.account_id, target.client, target.project
    member, management_account = target.member, target.management_account
    steps: dict[Setting, SettingStep] = {}
    try:
        alias = profile.alias_for(client, project)
    except ValueError as error:
        raise SettingsNotApplied(Setting.ALIAS, str(error)) from None
    if alias is not None:
        steps[Setting.ALIAS] = _step(
            Setting.ALIAS, apply_account_alias, account_alias_drift, member.iam(), alias
        )
    if (contacts := profile.alternate_contacts) is not None:
        steps[Setting.ALTERNATE_CONTACTS] = _step(
            Setting.ALTERNATE_CONTACTS,
            apply_alternate_contacts,
            alternate_contacts_drift,
            management_account,
            account_id,
            contacts,
        )
    if (policy := profile.password_policy) is not None:
        steps[Setting.PASSWORD_POLICY] = _step(
            Setting.PASSWORD_POLICY, apply_password_policy, password_policy_drift, member.iam(), policy
        )
    if (block := profile.s3_public_access_block) is not None:
        steps[Setting.S3_PUBLIC_ACCESS_BLOCK] = _step(
            Setting.S3_PUBLIC_ACCESS_BLOCK,
            apply_public_access_block,
            public_access_block_drift,
            member.s3control(),
            account_id,
            block,
        )
    if regions := profile.opt_in_regions:
        steps[Setting.OPT_IN_REGIONS] = _step(
            Setting.OPT_IN_REGIONS,
            apply_opt_in_regions,
            opt_in_regions_drift,
            management_account,
            account_id,
            regions,
        )
    if (encryption := profile.ebs_encryption) is not None:
        steps[Setting.EBS_ENCRYPTION] = _step(
            Setting.EBS_ENCRYPTION, apply_ebs_encryption, ebs_encryption_drift, member, encryption
        )
    if (vpcs := profile.default_vpcs) is not None:
        steps[Setting.DEFAULT_VPCS] = _step(
            Setting.DEFAULT_VPCS, apply_default_vpcs, default_vpcs_drift, member, vpcs
        )
    return [steps[setting] for setting in ORDER if setting in steps]


def _step[**Arguments](
    setting: Setting,
    apply: Callable[Arguments, SettingResult],
    drift: Callable[Arguments, list[SettingDrift]],
    *arguments: Arguments.args,
    **keywords: Arguments.kwargs,
) -> SettingStep:
    """A setting's apply and drift, which take the same arguments."""
    return SettingStep(setting, lambda: apply(*arguments, **keywords), lambda: drift(*arguments, **keywords))


def _named[T](setting: Setting, run: Callable[[], T]) -> T:
    """``run``'s answer; an AWS refusal becomes a ``SettingsNotApplied`` naming the setting, throttling a
    ``SettingsThrottled`` (orgvend's own errors, retryable or not, pass as they are)."""
    try:
        return run()
    except ClientError as error:
        if passes_with_time(error):
            raise SettingsThrottled(f"{setting}: {error_code(error)} after botocore's retries") from None
        raise SettingsNotApplied(setting, f"AWS refused it ({error_code(error)}): {error}") from None


def apply_settings(profile: SettingsProfile, target: SettingsTarget) -> SettingsResult:
    """Apply each of the profile's settings in ``ORDER``; a second run changes nothing."""
    steps = setting_steps(profile, target)
    results = [_named(step.setting, step.apply) for step in steps]
    return SettingsResult(profile=profile.name, version=profile.version, results=results)


def settings_drift(profile: SettingsProfile, target: SettingsTarget) -> list[SettingDrift]:
    """How the account differs from the profile, setting by setting; nothing is changed."""
    steps = setting_steps(profile, target)
    return [drift for step in steps for drift in _named(step.setting, step.drift)]


def check_settings(profile: SettingsProfile, target: SettingsTarget) -> SettingsCheck:
    """The account's drift, repaired when the profile says ``repair`` (else only reported)."""
    drift = settings_drift(profile, target)
    if not drift or not profile.repair:
        return SettingsCheck(drift=drift)
    repaired = apply_settings(profile, target)
    return SettingsCheck(drift=drift, repaired=repaired)
