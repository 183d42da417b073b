"""The account's IAM alias (its sign-in URL's name), from the profile's pattern.

An account has at most one alias, and CreateAccountAlias replaces it: the old one is never deleted
first, so an alias taken elsewhere (aliases are unique across all of AWS) leaves the account's own.
"""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.account_settings.drift import converge, differences
from orgvend.account_settings.models import SettingResult
from orgvend.aws import error_code
from orgvend.errors import AccountAliasTaken
from orgvend.models import Setting, SettingDrift

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient


def current_alias(iam: "IAMClient") -> str | None:
    aliases = iam.list_account_aliases()["AccountAliases"]
    return aliases[0] if aliases else None


def account_alias_drift(iam: "IAMClient", alias: str) -> list[SettingDrift]:
    return differences(Setting.ALIAS, {"alias": alias}, {"alias": current_alias(iam)})


def apply_account_alias(iam: "IAMClient", alias: str) -> SettingResult:
    def change(_: list[SettingDrift]) -> None:
        try:
            iam.create_account_alias(AccountAlias=alias)
        except ClientError as error:
            if error_code(error) == "EntityAlreadyExists":
                raise AccountAliasTaken(alias) from None
            raise

    return converge(Setting.ALIAS, lambda: account_alias_drift(iam, alias), change)
