"""S3 Block Public Access for the whole account (S3 Control, with the member account's credentials)."""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.account_settings.drift import converge, differences, profile_form
from orgvend.account_settings.models import S3PublicAccessBlock, SettingResult
from orgvend.aws import error_code
from orgvend.models import Setting, SettingDrift

if TYPE_CHECKING:
    from mypy_boto3_s3control import S3ControlClient


def current_public_access_block(s3control: "S3ControlClient", account_id: str) -> dict[str, Any]:
    """The account's block in the profile's JSON form; empty when it has none (nothing blocked)."""
    try:
        block = s3control.get_public_access_block(AccountId=account_id)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error_code(error) == "NoSuchPublicAccessBlockConfiguration":
            return {}
        raise
    return profile_form(block)


def public_access_block_drift(
    s3control: "S3ControlClient", account_id: str, wanted: S3PublicAccessBlock
) -> list[SettingDrift]:
    expected = wanted.model_dump(mode="json", by_alias=True)
    return differences(
        Setting.S3_PUBLIC_ACCESS_BLOCK, expected, current_public_access_block(s3control, account_id)
    )


def apply_public_access_block(
    s3control: "S3ControlClient", account_id: str, wanted: S3PublicAccessBlock
) -> SettingResult:
    def change(_: list[SettingDrift]) -> None:
        s3control.put_public_access_block(
            AccountId=account_id,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": wanted.block_public_acls,
                "IgnorePublicAcls": wanted.ignore_public_acls,
                "BlockPublicPolicy": wanted.block_public_policy,
                "RestrictPublicBuckets": wanted.restrict_public_buckets,
            },
        )

    return converge(
        Setting.S3_PUBLIC_ACCESS_BLOCK,
        lambda: public_access_block_drift(s3control, account_id, wanted),
        change,
    )
