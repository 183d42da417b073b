"""Account settings applied to a member account of moto's organization (orgvend.account_settings).

The member is reached as orgvend reaches it: its access role assumed with STS, each client made with the
temporary credentials (moto keeps each account's resources apart by them). Contacts are set from the
management account's Account Management client. Each setting: applied, a second apply changes nothing,
a hand change is drift.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import boto3
import pytest

from orgvend import aws
from orgvend.account_settings.apply_settings import (
    ORDER,
    SettingsTarget,
    apply_settings,
    check_settings,
    settings_drift,
)
from orgvend.account_settings.block_public_access import apply_public_access_block, public_access_block_drift
from orgvend.account_settings.delete_default_vpcs import (
    apply_default_vpcs,
    default_vpc_id,
    default_vpcs_drift,
)
from orgvend.account_settings.encrypt_ebs_by_default import apply_ebs_encryption, ebs_encryption_drift
from orgvend.account_settings.member_account import AssumedMemberAccount
from orgvend.account_settings.models import (
    DEFAULT_PROFILE,
    AlternateContacts,
    DefaultVpcs,
    EbsEncryption,
    PasswordPolicy,
    S3PublicAccessBlock,
    resolve_profile,
)
from orgvend.account_settings.set_account_alias import account_alias_drift, apply_account_alias
from orgvend.account_settings.set_alternate_contacts import alternate_contacts_drift, apply_alternate_contacts
from orgvend.account_settings.set_password_policy import apply_password_policy, password_policy_drift
from orgvend.errors import AccountAliasTaken, SettingFailed, SettingsNotApplied
from orgvend.models import Setting, SettingDrift

from .support import failing

ROLE = "OrganizationAccountAccessRole"
SECURITY = {"name": "Agency SOC", "title": "Security", "email": "soc@agency.example", "phone": "+1 555 0100"}
BILLING = {"name": "Agency Finance", "title": "Billing", "email": "ap@agency.example", "phone": "+1 555 0101"}


@pytest.fixture
def account_id(create_member: Callable[..., str]) -> str:
    return create_member("aws+acme-web@agency.example", name="acme-web")


@pytest.fixture
def member(account_id: str) -> AssumedMemberAccount:
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="orgvend-settings"
    )["Credentials"]
    return AssumedMemberAccount(credentials)


@pytest.fixture
def management_account(organizations: Any) -> Any:
    return aws.client("account")


def fields(drifts: list[SettingDrift]) -> list[tuple[str, str | None]]:
    return [(drift.field, drift.region) for drift in drifts]


# -- one setting at a time ---------------------------------------------------------------------------


def test_the_alias_is_set_once_and_a_hand_change_is_drift(member: AssumedMemberAccount) -> None:
    iam = member.iam()

    first = apply_account_alias(iam, "acme-web")
    second = apply_account_alias(iam, "acme-web")
    iam.create_account_alias(AccountAlias="someone-else")

    assert (first.changed, second.changed) == (True, False)
    assert account_alias_drift(iam, "acme-web") == [
        SettingDrift(setting=Setting.ALIAS, field="alias", expected="acme-web", actual="someone-else")
    ]
    assert apply_account_alias(iam, "acme-web").changed
    assert iam.list_account_aliases()["AccountAliases"] == ["acme-web"]


def test_an_alias_taken_elsewhere_is_terminal_naming_it_and_keeps_the_old_alias(
    member: AssumedMemberAccount,
) -> None:
    iam = member.iam()
    iam.create_account_alias(AccountAlias="acme-old")
    iam.meta.events.register("before-call.iam.CreateAccountAlias", failing("EntityAlreadyExists"))

    with pytest.raises(AccountAliasTaken, match="'acme-web' is taken") as raised:
        apply_account_alias(iam, "acme-web")

    assert (raised.value.setting, raised.value.alias) == ("alias", "acme-web")
    assert isinstance(raised.value, SettingFailed)
    assert iam.list_account_aliases()["AccountAliases"] == ["acme-old"]


def test_the_password_policy_is_applied_once_and_a_hand_change_is_drift(member: AssumedMemberAccount) -> None:
    iam = member.iam()
    wanted = PasswordPolicy(minimum_password_length=16, max_password_age=90, password_reuse_prevention=24)

    assert "minimumPasswordLength" in [drift.field for drift in password_policy_drift(iam, wanted)]
    first = apply_password_policy(iam, wanted)
    second = apply_password_policy(iam, wanted)
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=False)

    assert (first.changed, second.changed) == (True, False)
    drifted = {drift.field: (drift.expected, drift.actual) for drift in password_policy_drift(iam, wanted)}
    assert drifted["minimumPasswordLength"] == (16, 8)
    assert drifted["requireSymbols"] == (True, False)
    assert drifted["maxPasswordAge"] == (90, None)
    assert apply_password_policy(iam, wanted).changed
    assert password_policy_drift(iam, wanted) == []


def test_s3_public_access_is_blocked_once_and_a_hand_change_is_drift(
    member: AssumedMemberAccount, account_id: str
) -> None:
    s3control, wanted = member.s3control(), S3PublicAccessBlock()

    first = apply_public_access_block(s3control, account_id, wanted)
    second = apply_public_access_block(s3control, account_id, wanted)
    s3control.put_public_access_block(
        AccountId=account_id,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )

    assert (first.changed, second.changed) == (True, False)
    assert fields(public_access_block_drift(s3control, account_id, wanted)) == [("blockPublicPolicy", None)]


def test_ebs_encryption_is_turned_on_per_region_once_and_a_hand_change_is_drift(
    member: AssumedMemberAccount,
) -> None:
    wanted = EbsEncryption(enabled=True, regions=["us-east-1", "eu-west-1"])

    first = apply_ebs_encryption(member, wanted)
    second = apply_ebs_encryption(member, wanted)
    member.ec2("eu-west-1").disable_ebs_encryption_by_default()

    assert (first.changed, second.changed) == (True, False)
    assert "enabled in us-east-1" in first.detail and "enabled in eu-west-1" in first.detail
    assert fields(ebs_encryption_drift(member, wanted)) == [("enabled", "eu-west-1")]
    assert member.ec2("us-east-1").get_ebs_encryption_by_default()["EbsEncryptionByDefault"]


def test_contacts_are_set_from_the_management_account_once_and_a_hand_change_is_drift(
    management_account: Any, account_id: str
) -> None:
    wanted = AlternateContacts.model_validate({"security": SECURITY, "billing": BILLING})

    first = apply_alternate_contacts(management_account, account_id, wanted)
    second = apply_alternate_contacts(management_account, account_id, wanted)
    management_account.put_alternate_contact(
        AccountId=account_id,
        AlternateContactType="BILLING",
        Name="Someone",
        Title="Billing",
        EmailAddress="someone@elsewhere.example",
        PhoneNumber="+1 555 0199",
    )

    assert (first.changed, second.changed) == (True, False)
    contact = management_account.get_alternate_contact(AccountId=account_id, AlternateContactType="SECURITY")
    assert contact["AlternateContact"]["EmailAddress"] == SECURITY["email"]
    assert fields(alternate_contacts_drift(management_account, account_id, wanted)) == [
        ("billing.name", None),
        ("billing.email", None),
        ("billing.phone", None),
    ]


def test_an_empty_default_vpc_is_deleted_once(member: AssumedMemberAccount) -> None:
    wanted = DefaultVpcs(delete=True, regions=["us-east-1", "eu-west-1"])
    ec2 = member.ec2("us-east-1")
    vpc_id = default_vpc_id(ec2)

    first = apply_default_vpcs(member, wanted)
    second = apply_default_vpcs(member, wanted)

    assert (first.changed, second.changed) == (True, False)
    assert f"{vpc_id} in us-east-1" in first.detail and first.kept == []
    assert default_vpc_id(ec2) is None and default_vpc_id(member.ec2("eu-west-1")) is None
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [str(vpc_id)]}])["Subnets"] == []
    assert default_vpcs_drift(member, wanted) == []


def test_a_default_vpc_in_use_is_reported_and_kept(member: AssumedMemberAccount) -> None:
    wanted = DefaultVpcs(delete=True, regions=["us-east-1"])
    ec2 = member.ec2("us-east-1")
    vpc_id = default_vpc_id(ec2)
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [str(vpc_id)]}])["Subnets"][0]
    interface = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]

    result = apply_default_vpcs(member, wanted)

    assert not result.changed
    assert result.kept == [
        f"{vpc_id} in us-east-1: not empty (network interface {interface['NetworkInterfaceId']})"
    ]
    assert default_vpc_id(ec2) == vpc_id
    assert fields(default_vpcs_drift(member, wanted)) == [("delete", "us-east-1")]


def test_a_default_vpc_with_an_instance_is_kept(member: AssumedMemberAccount) -> None:
    ec2 = member.ec2("us-east-1")
    vpc_id = default_vpc_id(ec2)
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [str(vpc_id)]}])["Subnets"][0]
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"])

    result = apply_default_vpcs(member, DefaultVpcs(delete=True, regions=["us-east-1"]))

    assert not result.changed and "network interface eni-" in result.kept[0]
    assert default_vpc_id(ec2) == vpc_id


def test_a_custom_subnet_keeps_the_default_vpc(member: AssumedMemberAccount) -> None:
    ec2 = member.ec2("us-east-1")
    vpc_id = str(default_vpc_id(ec2))
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="172.31.96.0/20")["Subnet"]

    result = apply_default_vpcs(member, DefaultVpcs(delete=True, regions=["us-east-1"]))

    assert result.kept == [f"{vpc_id} in us-east-1: not empty (subnet {subnet['SubnetId']})"]


def test_ebs_encryption_turned_off_where_the_profile_says_so(member: AssumedMemberAccount) -> None:
    member.ec2("us-east-1").enable_ebs_encryption_by_default()
    wanted = EbsEncryption(enabled=False, regions=["us-east-1"])

    assert apply_ebs_encryption(member, wanted).changed
    assert not member.ec2("us-east-1").get_ebs_encryption_by_default()["EbsEncryptionByDefault"]


def test_default_vpcs_kept_by_the_profile_are_left_alone(member: AssumedMemberAccount) -> None:
    wanted = DefaultVpcs(delete=False, regions=["us-east-1"])

    assert not apply_default_vpcs(member, wanted).changed
    assert default_vpc_id(member.ec2("us-east-1")) is not None


# -- the whole profile ---------------------------------------------------------------------------


def profile_for_tests() -> Any:
    return resolve_profile(DEFAULT_PROFILE, overrides={"alternateContacts": {"security": SECURITY}})


def target(account_id: str, member: AssumedMemberAccount, management_account: Any) -> SettingsTarget:
    return SettingsTarget(
        account_id=account_id,
        client="acme",
        project="web",
        member=member,
        management_account=management_account,
    )


def test_apply_settings_applies_each_section_in_order_and_a_second_run_changes_nothing(
    member: AssumedMemberAccount, management_account: Any, account_id: str
) -> None:
    profile = profile_for_tests()
    where = target(account_id, member, management_account)

    first = apply_settings(profile, where)
    second = apply_settings(profile, where)

    applied = [result.setting for result in first.results]
    assert applied == [setting for setting in ORDER if setting != Setting.OPT_IN_REGIONS]
    assert all(result.changed for result in first.results)
    assert not second.changed
    assert (first.profile, first.version) == ("default", 1)
    assert member.iam().list_account_aliases()["AccountAliases"] == ["acme-web"]
    assert settings_drift(profile, where) == []
    assert first.to_json()["results"][0] == {
        "setting": "alias",
        "changed": True,
        "detail": "changed alias",
        "kept": [],
    }


def test_settings_drift_reads_everything_back_without_changing_it(
    member: AssumedMemberAccount, management_account: Any, account_id: str
) -> None:
    profile = profile_for_tests()
    where = target(account_id, member, management_account)
    apply_settings(profile, where)
    member.iam().delete_account_alias(AccountAlias="acme-web")
    member.ec2("us-east-1").disable_ebs_encryption_by_default()

    drift = settings_drift(profile, where)

    assert [(item.setting, item.field) for item in drift] == [
        (Setting.ALIAS, "alias"),
        (Setting.EBS_ENCRYPTION, "enabled"),
    ]
    assert member.iam().list_account_aliases()["AccountAliases"] == []  # reported, not repaired


def test_check_settings_repairs_only_when_the_profile_says_so(
    member: AssumedMemberAccount, management_account: Any, account_id: str
) -> None:
    where = target(account_id, member, management_account)
    reporting = profile_for_tests()
    repairing = reporting.model_copy(update={"repair": True})
    apply_settings(reporting, where)
    member.ec2("us-east-1").disable_ebs_encryption_by_default()

    reported = check_settings(reporting, where)
    repaired = check_settings(repairing, where)

    assert reported.repaired is None and len(reported.drift) == 1
    assert repaired.repaired is not None
    assert [result.setting for result in repaired.repaired.results if result.changed] == [
        Setting.EBS_ENCRYPTION
    ]
    assert check_settings(repairing, where).drift == []


def test_a_setting_aws_refuses_stops_the_rest_naming_it(
    member: AssumedMemberAccount, management_account: Any, account_id: str
) -> None:
    member.s3control().meta.events.register(
        "before-call.s3-control.PutPublicAccessBlock", failing("AccessDenied", "not allowed", status=403)
    )

    with pytest.raises(
        SettingsNotApplied, match=r"^s3PublicAccessBlock: AWS refused it \(AccessDenied\)"
    ) as raised:
        apply_settings(profile_for_tests(), target(account_id, member, management_account))

    assert raised.value.setting == "s3PublicAccessBlock"
    # Applied before it: kept. After it: not reached.
    assert member.iam().list_account_aliases()["AccountAliases"] == ["acme-web"]
    assert not member.ec2("us-east-1").get_ebs_encryption_by_default()["EbsEncryptionByDefault"]


def test_an_alias_too_long_for_the_account_is_not_applied_naming_the_setting(
    member: AssumedMemberAccount, management_account: Any, account_id: str
) -> None:
    where = replace(target(account_id, member, management_account), client="c" * 24, project="p" * 24)
    profile = resolve_profile(DEFAULT_PROFILE, overrides={"alias": "agency-{client}-{project}-workloads"})

    with pytest.raises(SettingsNotApplied, match=r"^alias: the account alias") as raised:
        apply_settings(profile, where)

    assert raised.value.setting == "alias"


def test_a_delete_whose_answer_was_lost_is_finished_by_the_retry_not_refused(
    member: AssumedMemberAccount,
) -> None:
    """AWS deleted the subnet but its answer was lost: botocore's retry is told it is not found."""
    wanted = DefaultVpcs(delete=True, regions=["us-east-1"])
    ec2 = member.ec2("us-east-1")
    vpc_id = default_vpc_id(ec2)
    behind_the_scenes = boto3.client(
        "ec2",
        region_name="us-east-1",
        aws_access_key_id=member.credentials["AccessKeyId"],
        aws_secret_access_key=member.credentials["SecretAccessKey"],
        aws_session_token=member.credentials["SessionToken"],
    )
    lost: list[str] = []

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["subnet"] = params["SubnetId"]

    def deleted_but_answer_lost(context: dict[str, Any], **_: Any) -> Any:
        if lost:
            return None
        lost.append(context["subnet"])
        behind_the_scenes.delete_subnet(SubnetId=context["subnet"])
        return failing("InvalidSubnetID.NotFound", "gone")()

    ec2.meta.events.register("before-parameter-build.ec2.DeleteSubnet", remember)
    ec2.meta.events.register("before-call.ec2.DeleteSubnet", deleted_but_answer_lost)

    result = apply_default_vpcs(member, wanted)

    assert lost and result.changed and default_vpc_id(ec2) is None
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [str(vpc_id)]}])["Subnets"] == []


def test_a_change_whose_read_back_is_throttled_counts_as_changed_so_a_retry_does_not_hide_it(
    member: AssumedMemberAccount,
) -> None:
    wanted = EbsEncryption(enabled=True, regions=["us-east-1"])
    ec2 = member.ec2("us-east-1")
    reads: list[int] = []

    def throttle_the_read_back(**_: Any) -> Any:
        reads.append(1)
        if len(reads) == 2:  # the first read finds it off; the second is the read-back
            return failing("Throttling", "slow down")(**_)
        return None

    ec2.meta.events.register("before-call.ec2.GetEbsEncryptionByDefault", throttle_the_read_back)

    result = apply_ebs_encryption(member, wanted)

    assert result.changed and "reading it back was throttled (Throttling)" in result.detail
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
