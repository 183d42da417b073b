"""Opt-in Regions enabled for the account, from the management account (Account Management).

Enabling a Region takes minutes to hours (ENABLING): the step waits a bounded while, then hands the
wait to the workflow's retry (``RegionNotReady``), which calls again and finds what is done. Regions are
never disabled here: disabling one deletes what the account has in it.
"""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from orgvend.account_settings.drift import differences
from orgvend.account_settings.models import SettingResult
from orgvend.errors import RegionNotReady
from orgvend.models import Setting, SettingDrift

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_account.literals import RegionOptStatusType

ENABLED_STATUSES: frozenset["RegionOptStatusType"] = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})
# The step's own wait, well inside a Lambda's timeout; beyond it the workflow's retry waits.
WAIT_ATTEMPTS = 6
WAIT_SECONDS = 10.0


def region_statuses(account: "AccountClient", account_id: str, regions: list[str]) -> dict[str, str]:
    return {
        region: account.get_region_opt_status(AccountId=account_id, RegionName=region)["RegionOptStatus"]
        for region in regions
    }


def not_enabled(account: "AccountClient", account_id: str, regions: list[str]) -> list[str]:
    return [
        region
        for region, status in region_statuses(account, account_id, regions).items()
        if status not in ENABLED_STATUSES
    ]


def opt_in_regions_drift(account: "AccountClient", account_id: str, regions: list[str]) -> list[SettingDrift]:
    return [
        drift
        for region, status in region_statuses(account, account_id, regions).items()
        if status not in ENABLED_STATUSES
        for drift in differences(Setting.OPT_IN_REGIONS, {"status": "ENABLED"}, {"status": status}, region)
    ]


def apply_opt_in_regions(
    account: "AccountClient",
    account_id: str,
    regions: list[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = WAIT_ATTEMPTS,
    interval: float = WAIT_SECONDS,
) -> SettingResult:
    statuses = region_statuses(account, account_id, regions)
    enabled = [region for region, status in statuses.items() if status == "DISABLED"]
    for region in enabled:
        account.enable_region(AccountId=account_id, RegionName=region)
    # ENABLING, and DISABLING too: a Region being disabled cannot be enabled until it is DISABLED, which
    # the workflow's retry finds and enables.
    waiting = [region for region, status in statuses.items() if status not in ENABLED_STATUSES]
    if enabled:
        waiting = not_enabled(account, account_id, waiting)  # a look before any wait: it may be quick
    for _ in range(attempts):
        if not waiting:
            break
        sleep(interval)
        waiting = not_enabled(account, account_id, waiting)
    if waiting:
        raise RegionNotReady(
            f"{Setting.OPT_IN_REGIONS}: {', '.join(waiting)} not enabled yet for {account_id} "
            f"(after {attempts} looks {interval:g} s apart)"
        )
    detail = f"enabled {', '.join(enabled)}" if enabled else "already as the profile says"
    return SettingResult(setting=Setting.OPT_IN_REGIONS, changed=bool(enabled), detail=detail)
