"""EC2's encryption by default of new EBS volumes, in each Region the profile lists (a per-Region setting)."""

from orgvend.account_settings.drift import converge, differences
from orgvend.account_settings.member_account import MemberAccount
from orgvend.account_settings.models import EbsEncryption, SettingResult
from orgvend.models import Setting, SettingDrift


def ebs_encryption_drift(member: MemberAccount, wanted: EbsEncryption) -> list[SettingDrift]:
    return [
        drift
        for region in wanted.regions
        for drift in differences(
            Setting.EBS_ENCRYPTION,
            {"enabled": wanted.enabled},
            {"enabled": member.ec2(region).get_ebs_encryption_by_default()["EbsEncryptionByDefault"]},
            region,
        )
    ]


def apply_ebs_encryption(member: MemberAccount, wanted: EbsEncryption) -> SettingResult:
    def change(drifts: list[SettingDrift]) -> None:
        for drift in drifts:
            ec2 = member.ec2(str(drift.region))
            if wanted.enabled:
                ec2.enable_ebs_encryption_by_default()
            else:
                ec2.disable_ebs_encryption_by_default()

    return converge(Setting.EBS_ENCRYPTION, lambda: ebs_encryption_drift(member, wanted), change)
