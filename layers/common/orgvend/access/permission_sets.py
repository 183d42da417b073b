"""The permission sets orgvend keeps in IAM Identity Center, kept as code says they are.

- ``AdministratorMinusBilling``: its inline policy is the access role's baseline policy document
  (orgvend.baseline_policy.administrator_minus_billing), the same function's output, so the two
  cannot drift apart. Its boundary condition names the baseline policy by name in each account,
  which ApplyBaseline puts there before AssignAccess runs.
- ``ReadOnlyAccess``: the AWS managed policy of that name.

Kept at deployment (the stack's ``AccessPermissionSets`` custom resource, updated with every new
version of the shared code) and on the reconciliation's schedule: a permission set whose policy,
managed policy or session duration differs is changed and re-provisioned to every account it is
provisioned to, so a change of the baseline reaches the accounts people already use.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orgvend import rules
from orgvend.access.identity_center import identity_center_errors
from orgvend.baseline_policy import administrator_minus_billing, compact, same_document
from orgvend.models import Model

if TYPE_CHECKING:
    from mypy_boto3_sso_admin import SSOAdminClient

PROVISIONING_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class PermissionSetSpec:
    name: str
    description: str
    inline_policy: dict[str, Any] | None = None
    managed_policy_arn: str | None = None


class KeptPermissionSet(Model):
    name: str
    arn: str
    created: bool = False
    changed: list[str] = []
    provisioning: str | None = None  # the reprovisioning's status, when one was needed


def kept_specs(
    *, partition: str, baseline_policy_name: str, access_role_names: tuple[str, ...]
) -> tuple[PermissionSetSpec, ...]:
    return (
        PermissionSetSpec(
            name=rules.ADMINISTRATOR_MINUS_BILLING,
            description="orgvend: administrator access without billing, the access role's baseline policy",
            inline_policy=administrator_minus_billing(
                partition=partition, policy_name=baseline_policy_name, access_role_names=access_role_names
            ),
        ),
        PermissionSetSpec(
            name=rules.READ_ONLY_ACCESS,
            description="orgvend: read-only access (the AWS managed ReadOnlyAccess policy)",
            managed_policy_arn=f"arn:{partition}:iam::aws:policy/ReadOnlyAccess",
        ),
    )


def _find(sso_admin: "SSOAdminClient", instance_arn: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in sso_admin.get_paginator("list_permission_sets").paginate(InstanceArn=instance_arn):
        for arn in page["PermissionSets"]:
            described = sso_admin.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)
            found[described["PermissionSet"]["Name"]] = dict(described["PermissionSet"])
    return found


def keep_permission_sets(
    sso_admin: "SSOAdminClient",
    instance_arn: str,
    specs: tuple[PermissionSetSpec, ...],
    session_duration: str,
    sleep: Callable[[float], None] = time.sleep,
) -> list[KeptPermissionSet]:
    """Create the permission sets that are missing, change those that differ, re-provision what changed."""
    kept: list[KeptPermissionSet] = []
    with identity_center_errors("keeping the permission sets"):
        found = _find(sso_admin, instance_arn)
        for spec in specs:
            kept.append(
                _keep(
                    sso_admin,
                    instance_arn=instance_arn,
                    spec=spec,
                    session_duration=session_duration,
                    current=found.get(spec.name),
                    sleep=sleep,
                )
            )
    return kept


def _keep(
    sso_admin: "SSOAdminClient",
    *,
    instance_arn: str,
    spec: PermissionSetSpec,
    session_duration: str,
    current: dict[str, Any] | None,
    sleep: Callable[[float], None],
) -> KeptPermissionSet:
    changed: list[str] = []
    if current is None:
        arn = sso_admin.create_permission_set(
            InstanceArn=instance_arn,
            Name=spec.name,
            Description=spec.description,
            SessionDuration=session_duration,
            Tags=[{"Key": rules.MANAGED_TAG_KEY, "Value": "orgvend"}],
        )["PermissionSet"]["PermissionSetArn"]
    else:
        arn = current["PermissionSetArn"]
        if (
            current.get("SessionDuration") != session_duration
            or current.get("Description") != spec.description
        ):
            sso_admin.update_permission_set(
                InstanceArn=instance_arn,
                PermissionSetArn=arn,
                Description=spec.description,
                SessionDuration=session_duration,
            )
            changed.append(
                "session duration" if current.get("SessionDuration") != session_duration else "description"
            )
    if spec.inline_policy is not None:
        stored = sso_admin.get_inline_policy_for_permission_set(
            InstanceArn=instance_arn, PermissionSetArn=arn
        )
        if not stored.get("InlinePolicy") or not same_document(stored["InlinePolicy"], spec.inline_policy):
            sso_admin.put_inline_policy_to_permission_set(
                InstanceArn=instance_arn, PermissionSetArn=arn, InlinePolicy=compact(spec.inline_policy)
            )
            changed.append("inline policy")
    if spec.managed_policy_arn is not None:
        attached = sso_admin.list_managed_policies_in_permission_set(
            InstanceArn=instance_arn, PermissionSetArn=arn
        )
        if spec.managed_policy_arn not in {policy["Arn"] for policy in attached["AttachedManagedPolicies"]}:
            sso_admin.attach_managed_policy_to_permission_set(
                InstanceArn=instance_arn, PermissionSetArn=arn, ManagedPolicyArn=spec.managed_policy_arn
            )
            changed.append("managed policy")
    provisioning = None
    if current is not None and changed:
        provisioning = _reprovision(sso_admin, instance_arn, arn, sleep)
    return KeptPermissionSet(
        name=spec.name, arn=arn, created=current is None, changed=changed, provisioning=provisioning
    )


def _reprovision(
    sso_admin: "SSOAdminClient", instance_arn: str, arn: str, sleep: Callable[[float], None]
) -> str:
    """Push the changed permission set to every account it is provisioned to; its status after a bounded wait."""
    status = sso_admin.provision_permission_set(
        InstanceArn=instance_arn, PermissionSetArn=arn, TargetType="ALL_PROVISIONED_ACCOUNTS"
    )["PermissionSetProvisioningStatus"]
    waited = 0.0
    while status.get("Status") == "IN_PROGRESS" and waited < PROVISIONING_WAIT_SECONDS:
        sleep(1.0)
        waited += 1.0
        status = sso_admin.describe_permission_set_provisioning_status(
            InstanceArn=instance_arn, ProvisionPermissionSetRequestId=status["RequestId"]
        )["PermissionSetProvisioningStatus"]
    return str(status.get("Status", "IN_PROGRESS"))
