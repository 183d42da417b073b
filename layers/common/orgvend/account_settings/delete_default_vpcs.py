"""The default VPC of each Region the profile lists, deleted when it is empty, and only then.

A default VPC comes with every account and Region: public subnets with an internet gateway, which the
agency's accounts should not have unless someone decided so. One that holds anything (a network
interface: an instance, a load balancer, a Lambda in the VPC; a subnet or security group someone made)
is in use: it is reported (``kept``) and never deleted. An empty one goes with what AWS made with it:
its default subnets and its internet gateway (its default security group, route table and network ACL
go with the VPC itself).
"""

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.account_settings.member_account import MemberAccount
from orgvend.account_settings.models import DefaultVpcs, SettingResult
from orgvend.aws import error_code
from orgvend.errors import SettingsNotApplied
from orgvend.models import Setting, SettingDrift

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FilterTypeDef


def _in_vpc(vpc_id: str) -> list["FilterTypeDef"]:
    return [{"Name": "vpc-id", "Values": [vpc_id]}]


def default_vpc_id(ec2: "EC2Client") -> str | None:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return vpcs[0]["VpcId"] if vpcs else None


def what_is_in(ec2: "EC2Client", vpc_id: str) -> list[str]:
    """What makes the VPC more than AWS made it, one entry each; empty when it may be deleted."""
    found = [
        f"network interface {interface['NetworkInterfaceId']}"
        for interface in ec2.describe_network_interfaces(Filters=_in_vpc(vpc_id))["NetworkInterfaces"]
    ]
    found += [
        f"subnet {subnet['SubnetId']}"
        for subnet in ec2.describe_subnets(Filters=_in_vpc(vpc_id))["Subnets"]
        if not subnet.get("DefaultForAz")
    ]
    found += [
        f"security group {group['GroupId']}"
        for group in ec2.describe_security_groups(Filters=_in_vpc(vpc_id))["SecurityGroups"]
        if group["GroupName"] != "default"
    ]
    return found


def default_vpcs_drift(member: MemberAccount, wanted: DefaultVpcs) -> list[SettingDrift]:
    if not wanted.delete:
        return []  # orgvend never makes a default VPC again
    drifts = []
    for region in wanted.regions:
        vpc_id = default_vpc_id(member.ec2(region))
        if vpc_id is not None:
            drifts.append(
                SettingDrift(
                    setting=Setting.DEFAULT_VPCS, field="delete", expected=None, actual=vpc_id, region=region
                )
            )
    return drifts


# What EC2 answers when what is being deleted is gone already: an earlier attempt whose answer was lost
# (botocore retried a call AWS had carried out), or someone else. Done, not refused.
ALREADY_GONE = frozenset(
    {
        "InvalidSubnetID.NotFound",
        "InvalidInternetGatewayID.NotFound",
        "Gateway.NotAttached",
        "InvalidVpcID.NotFound",
    }
)


def _unless_gone(call: Callable[[], object]) -> None:
    try:
        call()
    except ClientError as error:
        if error_code(error) not in ALREADY_GONE:
            raise


def delete_empty_vpc(ec2: "EC2Client", vpc_id: str) -> None:
    """Delete a default VPC and what AWS made with it, in the order EC2 lets them go; what is gone
    already counts as deleted, so a retry finishes what a lost answer left half done."""
    for subnet in ec2.describe_subnets(Filters=_in_vpc(vpc_id))["Subnets"]:
        _unless_gone(partial(ec2.delete_subnet, SubnetId=subnet["SubnetId"]))
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    for gateway in gateways["InternetGateways"]:
        gateway_id = gateway["InternetGatewayId"]
        _unless_gone(partial(ec2.detach_internet_gateway, InternetGatewayId=gateway_id, VpcId=vpc_id))
        _unless_gone(partial(ec2.delete_internet_gateway, InternetGatewayId=gateway_id))
    _unless_gone(partial(ec2.delete_vpc, VpcId=vpc_id))


def apply_default_vpcs(member: MemberAccount, wanted: DefaultVpcs) -> SettingResult:
    deleted: list[str] = []
    kept: list[str] = []
    for drift in default_vpcs_drift(member, wanted):
        ec2, vpc_id = member.ec2(str(drift.region)), str(drift.actual)
        contents = what_is_in(ec2, vpc_id)
        if contents:
            kept.append(f"{vpc_id} in {drift.region}: not empty ({', '.join(contents)})")
            continue
        delete_empty_vpc(ec2, vpc_id)
        if default_vpc_id(ec2) == vpc_id:
            raise SettingsNotApplied(Setting.DEFAULT_VPCS, f"{vpc_id} in {drift.region} is still there")
        deleted.append(f"{vpc_id} in {drift.region}")
    detail = f"deleted {', '.join(deleted)}" if deleted else "no empty default VPC to delete"
    return SettingResult(setting=Setting.DEFAULT_VPCS, changed=bool(deleted), detail=detail, kept=kept)
