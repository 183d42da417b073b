"""The member account's clients, as the settings' modules ask for them (one protocol, one implementation).

Most settings are the member account's own (IAM, EC2 per Region, S3's account-level block) and are
changed with the access role's temporary credentials; contacts and Regions are changed from the
management account (Account Management's ``AccountId``), whose client the caller passes beside.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from orgvend import aws

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3control import S3ControlClient
    from mypy_boto3_sts.type_defs import CredentialsTypeDef


class MemberAccount(Protocol):
    """Clients acting inside one member account."""

    def iam(self) -> "IAMClient": ...
    def ec2(self, region: str) -> "EC2Client": ...
    def s3control(self) -> "S3ControlClient": ...


@dataclass
class AssumedMemberAccount:
    """A member account reached through its access role: ``credentials`` from ``sts.assume_role``.

    Clients are made once each (per Region for EC2): a profile asks for the same ones several times.
    """

    credentials: "CredentialsTypeDef"
    _ec2: dict[str, "EC2Client"] = field(default_factory=dict, init=False, repr=False)
    _iam: "IAMClient | None" = field(default=None, init=False, repr=False)
    _s3control: "S3ControlClient | None" = field(default=None, init=False, repr=False)

    def iam(self) -> "IAMClient":
        if self._iam is None:
            self._iam = aws.member_client("iam", self.credentials)
        return self._iam

    def ec2(self, region: str) -> "EC2Client":
        if region not in self._ec2:
            self._ec2[region] = aws.member_client("ec2", self.credentials, region)
        return self._ec2[region]

    def s3control(self) -> "S3ControlClient":
        if self._s3control is None:
            self._s3control = aws.member_client("s3control", self.credentials)
        return self._s3control
