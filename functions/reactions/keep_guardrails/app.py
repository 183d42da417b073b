"""Keep the guardrail SCP on orgvend's scope: at deployment (a CloudFormation custom resource) and on the
reconciliation's schedule (or on demand with lambda invoke)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.custom_resource import CustomResourceRequest
from orgvend.observability import observed_handler
from orgvend.reactions.keep_guardrails import answer_cloudformation, keep_guardrails
from orgvend.settings import Settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@observed_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    partition = context.invoked_function_arn.split(":")[1]
    if "RequestType" in event and "ResponseURL" in event:
        request = CustomResourceRequest.model_validate(event)
        answer_cloudformation(request, aws.client("organizations"), SETTINGS, partition)
        return {"answered": "CloudFormation"}
    return keep_guardrails(aws.client("organizations"), SETTINGS, partition).to_json()
