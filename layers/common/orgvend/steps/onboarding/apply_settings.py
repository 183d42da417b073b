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

from orgvend.account_settings.apply_settings import apply_settings
from orgvend.account_settings.models import SettingsResult
from orgvend.account_settings.reach import applied, reach_account
from orgvend.models import Model, Onboarding
from orgvend.observability import logger, metrics
from orgvend.registry import Registry

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_sts import STSClient


class ApplySettingsInput(Model):
    onboarding: Onboarding
    account_id: str


def apply_account_settings(
    step_input: ApplySettingsInput, sts: "STSClient", account: "AccountClient", registry: Registry
) -> SettingsResult:
    onboarding, account_id = step_input.onboarding, step_input.account_id
    profile = registry.resolve_settings_profile(onboarding.settings_profile, onboarding.settings)
    target = reach_account(
        sts,
        account,
        account_id=account_id,
        role_name=onboarding.role_name,
        client=onboarding.client,
        project=onboarding.project,
    )
    result = apply_settings(profile, target)
    record = applied(result, onboarding.settings)
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
