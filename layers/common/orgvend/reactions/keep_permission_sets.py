"""KeepPermissionSets: the permission sets orgvend keeps in IAM Identity Center (orgvend.access.permission_sets),
kept at deployment (a CloudFormation custom resource, updated with each new version of the shared code, so a
change of the baseline policy reaches them) and on the reconciliation's schedule."""

from typing import TYPE_CHECKING

from orgvend.access.permission_sets import KeptPermissionSet, keep_permission_sets, kept_specs
from orgvend.custom_resource import CustomResourceRequest, answer
from orgvend.observability import logger, metrics
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sso_admin import SSOAdminClient

PHYSICAL_ID = "orgvend-permission-sets"


def keep_orgvend_permission_sets(
    sso_admin: "SSOAdminClient", settings: Settings, partition: str
) -> list[KeptPermissionSet]:
    instance_arn = settings.required(
        settings.identity_center_instance_arn or None, "identity_center_instance_arn"
    )
    kept = keep_permission_sets(
        sso_admin,
        instance_arn,
        kept_specs(
            partition=partition,
            baseline_policy_name=settings.required(settings.baseline_policy_name, "baseline_policy_name"),
            access_role_names=settings.roles,
        ),
        settings.required(settings.access_session_duration, "access_session_duration"),
    )
    changed = [each for each in kept if each.created or each.changed]
    if changed:
        metrics.add_metric(name="PermissionSetsRepaired", unit="Count", value=len(changed))
    logger.info("Permission sets kept", extra={"permissionSets": [each.to_json() for each in kept]})
    return kept


def answer_cloudformation(
    request: CustomResourceRequest, sso_admin: "SSOAdminClient", settings: Settings, partition: str
) -> None:
    """Keep them on Create and Update; on Delete leave them: people's access to every client account
    depends on them, and Identity Center refuses to delete a permission set still provisioned."""
    answer(
        request,
        PHYSICAL_ID,
        keep=lambda: {
            each.name: each.arn for each in keep_orgvend_permission_sets(sso_admin, settings, partition)
        },
    )
