"""What every setting's module shares: comparing what the account has with what the profile says,
and changing it only where it differs."""

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from orgvend.account_settings.models import SettingResult
from orgvend.aws import error_code, passes_with_time
from orgvend.errors import SettingsNotApplied
from orgvend.models import Setting, SettingDrift


def differences(
    setting: Setting, expected: Mapping[str, Any], actual: Mapping[str, Any], region: str | None = None
) -> list[SettingDrift]:
    """One drift per field of ``expected`` whose value ``actual`` does not have (a missing field is None)."""
    return [
        SettingDrift(setting=setting, field=name, expected=value, actual=actual.get(name), region=region)
        for name, value in expected.items()
        if actual.get(name) != value
    ]


def fields_of(drifts: list[SettingDrift]) -> str:
    """The drifted fields, for a result's detail ("requireSymbols, maxPasswordAge")."""
    return ", ".join(f"{drift.field} in {drift.region}" if drift.region else drift.field for drift in drifts)


def converge(
    setting: Setting,
    drift: Callable[[], list[SettingDrift]],
    change: Callable[[list[SettingDrift]], None],
) -> SettingResult:
    """Read, change only when something differs, read back: the shape of every idempotent setting.

    ``change`` gets what differs; what still differs afterwards is a ``SettingsNotApplied`` naming the
    setting (AWS accepted the change but the account does not show it).
    """
    before = drift()
    if not before:
        return SettingResult(setting=setting, changed=False, detail="already as the profile says")
    change(before)
    try:
        after = drift()
    except ClientError as error:
        if not passes_with_time(error):
            raise
        # AWS accepted the change; only reading it back was throttled. Failing here would make the
        # retry find nothing to do and report the account unchanged: say changed, unread.
        return SettingResult(
            setting=setting,
            changed=True,
            detail=f"changed {fields_of(before)}; reading it back was throttled ({error_code(error)}): "
            "the next check reads it",
        )
    if after:
        raise SettingsNotApplied(setting, f"still differs after the change: {fields_of(after)}")
    return SettingResult(setting=setting, changed=True, detail=f"changed {fields_of(before)}")


def profile_form(fields: Mapping[str, Any], leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """An AWS answer's fields (PascalCase) under the profile's JSON names (camelCase), to compare them."""
    return {name[0].lower() + name[1:]: value for name, value in fields.items() if name not in leave_out}
