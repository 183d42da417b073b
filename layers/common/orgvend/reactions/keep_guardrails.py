"""KeepGuardrails: the guardrail SCP on orgvend's scope, kept at deployment (a CloudFormation custom
resource) and on the reconciliation's schedule (orgvend.guardrails says what it is and why)."""

from typing import TYPE_CHECKING

from orgvend.custom_resource import CustomResourceRequest, answer
from orgvend.guardrails import Guardrail, guardrail_policy, keep_guardrail, remove_guardrail
from orgvend.observability import logger, metrics
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


def keep_guardrails(organizations: "OrganizationsClient", settings: Settings, partition: str) -> Guardrail:
    guardrail = keep_guardrail(
        organizations,
        settings.clients_parent_ou_id,
        settings.required(settings.guardrail_policy_name, "guardrail_policy_name"),
        guardrail_policy(
            partition=partition,
            access_role_names=settings.roles,
            baseline_policy_name=settings.required(settings.baseline_policy_name, "baseline_policy_name"),
        ),
    )
    if guardrail.changed:
        metrics.add_metric(name="GuardrailRepaired", unit="Count", value=1)
    logger.info("Guardrail kept", extra={"guardrail": guardrail.to_json()})
    return guardrail


def answer_cloudformation(
    request: CustomResourceRequest, organizations: "OrganizationsClient", settings: Settings, partition: str
) -> None:
    """The custom resource: keep the guardrail on Create and Update, remove it on Delete; always answer."""
    name = settings.required(settings.guardrail_policy_name, "guardrail_policy_name")

    def remove() -> None:
        if request.PhysicalResourceId == name:  # never what a failed Create left under another ID
            remove_guardrail(organizations, name)

    answer(
        request,
        name,
        keep=lambda: {"PolicyId": keep_guardrails(organizations, settings, partition).policy_id},
        remove=remove,
    )
