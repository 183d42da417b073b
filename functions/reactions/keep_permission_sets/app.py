"""Keep the permission sets orgvend keeps in IAM Identity Center: at deployment (a CloudFormation custom
resource) and on the reconciliation's schedule (or on demand with lambda invoke)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.custom_resource import CustomResourceRequest
from orgvend.observability import observed_handler
from orgvend.reactions.keep_permission_sets import answer_cloudformation, keep_orgvend_permission_sets
from orgvend.settings import Settings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@observed_handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    partition = context.invoked_function_arn.split(":")[1]
    sso_admin = aws.identity_center_client(
        "sso-admin", SETTINGS.required(SETTINGS.identity_center_region, "identity_center_region")
    )
    if "RequestType" in event and "ResponseURL" in event:
        answer_cloudformation(CustomResourceRequest.model_validate(event), sso_admin, SETTINGS, partition)
        return {"answered": "CloudFormation"}
    return {
        "permissionSets": [
            each.to_json() for each in keep_orgvend_permission_sets(sso_admin, SETTINGS, partition)
        ]
    }
