"""The REST API: API Gateway's Lambda proxy integration, served beside moto (``api_server.py``)."""

import requests

from orgvend_local.parity.patch import (
    CANARY_ACCOUNT,
    CANARY_REGION,
    Kind,
    Patch,
    still_unimplemented,
    stock_moto,
)


def canary_lambda_proxy() -> None:
    """A deployed REST API whose method has a Lambda proxy integration: moto's API Gateway refuses to invoke it."""
    function_arn = f"arn:aws:lambda:{CANARY_REGION}:{CANARY_ACCOUNT}:function:canary"
    with stock_moto() as session:
        apigateway = session.client("apigateway")
        api_id = apigateway.create_rest_api(name="canary")["id"]
        root_id = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        apigateway.put_method(
            restApiId=api_id, resourceId=root_id, httpMethod="GET", authorizationType="NONE"
        )
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=root_id,
            httpMethod="GET",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{CANARY_REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        )
        apigateway.create_deployment(restApiId=api_id, stageName="canary")

        def call_the_stage() -> str:
            answer = requests.get(
                f"https://{api_id}.execute-api.{CANARY_REGION}.amazonaws.com/canary", timeout=5
            )
            return f"{answer.status_code} {answer.text[:200]}"

        still_unimplemented(call_the_stage, "AWS_PROXY")


LAMBDA_PROXY_API = Patch(
    name="apigateway-lambda-proxy",
    kind=Kind.EMULATION,
    aws="API Gateway turns each request into the REST API proxy event and hands it to the function (an "
    "undeclared route answers `403 Missing Authentication Token`)",
    aws_doc="https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html",
    moto="no `AWS_PROXY` integration (`NotImplementedError`)",
    closed_by="`api_server.py` serves the template's routes on `:3000`: each request becomes the proxy event "
    "and goes through moto's Lambda to the same handler; SigV4 signatures are not verified (no IAM here)",
    implemented_in="orgvend_local.api_server",
    canary=canary_lambda_proxy,
)
