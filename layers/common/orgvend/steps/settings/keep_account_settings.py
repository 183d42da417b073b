"""KeepAccountSettings: one account of a settings run, as the map's item.

The account's profile is the run's (``settingsProfile``) or the one it was set up with, at its current
version, with the account's own overrides on top. ``apply`` applies it (what is as the profile says is
not touched: a second run changes nothing); ``check`` reads the account back and records the drift on
its entry (``settingsDrift``), applying the profile again only where it says ``repair``. The outcome is
added to the run's item. A refused setting ends this account's item (the workflow's Catch records it as
failed) and never the run; throttling past botocore's retries is retried by the workflow.
"""

from typing import TYPE_CHECKING

from orgvend.account_settings.apply_settings import apply_settings, check_settings
from orgvend.account_settings.reach import applied, reach_account
from orgvend.account_settings.runs import (
    AccountOutcome,
    AccountSettingsItem,
    AccountSettingsKept,
    SettingsRunMode,
)
from orgvend.clock import now
from orgvend.models import AccountRecord, AccountStatus, SettingsDriftReport
from orgvend.observability import logger, metrics
from orgvend.registry import Registry
from orgvend.registry.settings_profiles import DEFAULT_PROFILE_NAME

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_sts import STSClient


def _kept(registry: Registry, item: AccountSettingsItem, outcome: AccountOutcome) -> AccountSettingsKept:
    registry.record_settings_outcome(item.run_id, item.account_id, outcome)
    metrics.add_metric(name=f"Settings{str(outcome).capitalize()}", unit="Count", value=1)
    return AccountSettingsKept(account_id=item.account_id, outcome=outcome)


def keep_account_settings(
    item: AccountSettingsItem, sts: "STSClient", management_account: "AccountClient", registry: Registry
) -> AccountSettingsKept:
    record = registry.get_account(item.account_id)
    if record is None or record.status != AccountStatus.ACTIVE:
        logger.info("Not active any more: skipped", extra={"accountId": item.account_id})
        return _kept(registry, item, AccountOutcome.SKIPPED)
    before = record.settings
    overrides = before.overrides if before else {}
    name = item.settings_profile or (before.profile if before else DEFAULT_PROFILE_NAME)
    profile = registry.resolve_settings_profile(name, overrides)
    target = reach_account(
        sts,
        management_account,
        account_id=record.account_id,
        role_name=record.role_name,
        client=record.client,
        project=record.project,
    )
    if item.mode == SettingsRunMode.APPLY:
        result = apply_settings(profile, target)
        in_sync = SettingsDriftReport(checked_at=now(), profile=profile.name, version=profile.version)

        def with_applied(current: AccountRecord) -> AccountRecord:
            return current.changed(settings=applied(result, overrides), settings_drift=in_sync)

        registry.update_account(record.account_id, with_applied)
        logger.info(
            "Settings applied",
            extra={"accountId": record.account_id, "profile": profile.name, "version": profile.version},
        )
        return _kept(registry, item, AccountOutcome.CHANGED if result.changed else AccountOutcome.UNCHANGED)

    check = check_settings(profile, target)
    report = SettingsDriftReport(
        checked_at=now(),
        profile=profile.name,
        version=profile.version,
        drift=check.drift,
        repaired=check.repaired is not None,
    )
    repaired = check.repaired

    def with_report(current: AccountRecord) -> AccountRecord:
        if repaired is None:
            return current.changed(settings_drift=report)
        return current.changed(settings_drift=report, settings=applied(repaired, overrides))

    registry.update_account(record.account_id, with_report)
    if check.drift:
        logger.warning(
            "Settings drifted",
            extra={
                "accountId": record.account_id,
                "drift": [each.to_json() for each in check.drift],
                "repaired": repaired is not None,
            },
        )
    if repaired is not None:
        return _kept(registry, item, AccountOutcome.REPAIRED)
    return _kept(registry, item, AccountOutcome.DRIFTED if check.drift else AccountOutcome.UNCHANGED)
