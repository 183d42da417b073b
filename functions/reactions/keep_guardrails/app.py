"""Keep the guardrail SCP on orgvend's scope: at deployment (a CloudFormation custom resource) and on the
reconciliation's schedule (or on demand with lambda invoke)."""

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.custom_resource import CustomResourceRequest, respond
from orgvend.guardrails import guardrail_policy, keep_guardrail, remove_guardrail
from orgvend.observability import logger, metrics, tracer
from orgvend.settings import Settings


def keep(partition: str) -> dict[str, Any]:
    settings = Settings.from_environment()
    guardrail = keep_guardrail(
        aws.client("organizations"),
        settings.clients_parent_ou_id,
        os.environ["GUARDRAIL_POLICY_NAME"],
        guardrail_policy(
            partition=partition,
            access_role_names=settings.access_role_names,
            baseline_policy_name=settings.baseline_policy_name,
        ),
    )
    if guardrail.changed:
        metrics.add_metric(name="GuardrailRepaired", unit="Count", value=1)
    logger.info("Guardrail kept", extra={"guardrail": guardrail.to_json()})
    return guardrail.to_json()


def deployed(request: CustomResourceRequest, partition: str) -> None:
    """The custom resource: keep the guardrail on Create and Update, remove it on Delete."""
    name = os.environ["GUARDRAIL_POLICY_NAME"]
    try:
        if request.RequestType == "Delete":
            if request.PhysicalResourceId == name:  # never what a failed Create left under another ID
                remove_guardrail(aws.client("organizations"), name)
            data: dict[str, Any] = {}
        else:
            data = keep(partition)
    except Exception as error:
        logger.exception("Guardrail not kept")
        respond(
            request, succeeded=False, physical_resource_id=name, reason=f"{type(error).__name__}: {error}"
        )
        return
    respond(request, succeeded=True, physical_resource_id=name, data={"PolicyId": data.get("policyId", "")})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    partition = context.invoked_function_arn.split(":")[1]
    if "RequestType" in event and "ResponseURL" in event:
        deployed(CustomResourceRequest.model_validate(event), partition)
        return {"answered": "CloudFormation"}
    return keep(partition)
