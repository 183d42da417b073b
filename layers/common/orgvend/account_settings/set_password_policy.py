"""IAM's account password policy, as the profile says it, field by field."""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.account_settings.drift import converge, differences, profile_form
from orgvend.account_settings.models import PasswordPolicy, SettingResult
from orgvend.aws import error_code
from orgvend.models import Setting, SettingDrift

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient


def current_password_policy(iam: "IAMClient") -> dict[str, Any]:
    """The account's policy in the profile's JSON form; empty when the account has none (IAM's defaults)."""
    try:
        policy = iam.get_account_password_policy()["PasswordPolicy"]
    except ClientError as error:
        if error_code(error) == "NoSuchEntity":
            return {}
        raise
    # ExpirePasswords is IAM's own: it says whether MaxPasswordAge is set.
    current = profile_form(policy, leave_out=frozenset({"ExpirePasswords"}))
    # Unset, these are absent from IAM's answer, or 0 from some implementations (moto); 0 is no valid
    # value of either, so both read as the profile's None.
    for unset_when_zero in ("maxPasswordAge", "passwordReusePrevention"):
        current[unset_when_zero] = current.get(unset_when_zero) or None
    return current


def password_policy_drift(iam: "IAMClient", wanted: PasswordPolicy) -> list[SettingDrift]:
    expected = wanted.model_dump(mode="json", by_alias=True)
    return differences(Setting.PASSWORD_POLICY, expected, current_password_policy(iam))


def apply_password_policy(iam: "IAMClient", wanted: PasswordPolicy) -> SettingResult:
    def change(_: list[SettingDrift]) -> None:
        # UpdateAccountPasswordPolicy sets every field: one left out goes back to IAM's default, which is
        # what a None in the profile means (never expire, any password may be reused).
        iam.update_account_password_policy(
            MinimumPasswordLength=wanted.minimum_password_length,
            RequireSymbols=wanted.require_symbols,
            RequireNumbers=wanted.require_numbers,
            RequireUppercaseCharacters=wanted.require_uppercase_characters,
            RequireLowercaseCharacters=wanted.require_lowercase_characters,
            AllowUsersToChangePassword=wanted.allow_users_to_change_password,
            HardExpiry=wanted.hard_expiry,
            **({"MaxPasswordAge": wanted.max_password_age} if wanted.max_password_age else {}),
            **(
                {"PasswordReusePrevention": wanted.password_reuse_prevention}
                if wanted.password_reuse_prevention
                else {}
            ),
        )

    return converge(Setting.PASSWORD_POLICY, lambda: password_policy_drift(iam, wanted), change)
