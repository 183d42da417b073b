"""IAM Identity Center (sso-admin) behaviour moto lacks that orgvend's access assignments depend on."""

from collections.abc import Callable
from typing import Any

from moto.ssoadmin.models import SSOAdminBackend

from orgvend_local.parity.patch import Emulator, Patcher, declared, still, stock_moto


def create_account_assignment_once(
    original: Callable[..., dict[str, Any]], backend: SSOAdminBackend, *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """An assignment that exists already is answered SUCCEEDED and not made a second time."""
    created = original(backend, *args, **kwargs)
    newest = backend.account_assignments[-1]
    same = [
        assignment
        for assignment in backend.account_assignments[:-1]
        if _identity(assignment) == _identity(newest)
    ]
    if same:
        backend.account_assignments.pop()
    return created


def _identity(assignment: Any) -> tuple[str, ...]:
    return (
        assignment.instance_arn,
        assignment.target_id,
        assignment.target_type,
        assignment.permission_set_arn,
        assignment.principal_type,
        assignment.principal_id,
    )


def apply_assignments_once(patcher: Patcher, _emulator: Emulator) -> None:
    patcher.around(SSOAdminBackend, "create_account_assignment")(create_account_assignment_once)


def canary_assignments_once() -> None:
    with stock_moto() as session:
        sso_admin = session.client("sso-admin")
        instance_arn = sso_admin.list_instances()["Instances"][0]["InstanceArn"]
        permission_set_arn = sso_admin.create_permission_set(InstanceArn=instance_arn, Name="canary")[
            "PermissionSet"
        ]["PermissionSetArn"]

        def assign() -> None:
            sso_admin.create_account_assignment(
                InstanceArn=instance_arn,
                TargetId="111111111111",
                TargetType="AWS_ACCOUNT",
                PermissionSetArn=permission_set_arn,
                PrincipalType="GROUP",
                PrincipalId="canary-group",
            )

        assign()
        assign()
        listed = sso_admin.list_account_assignments(
            InstanceArn=instance_arn, AccountId="111111111111", PermissionSetArn=permission_set_arn
        )["AccountAssignments"]
        still(len(listed) == 2, f"moto lists {len(listed)} assignments after the same one was created twice")


ASSIGNMENTS_ONCE = declared(
    "sso-admin-account-assignments-once", apply=apply_assignments_once, canary=canary_assignments_once
)
