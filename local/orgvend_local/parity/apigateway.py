"""The REST API: API Gateway's Lambda proxy integration, served beside moto (``api_server.py``)."""

import requests

from orgvend_local.parity.patch import (
    CANARY_ACCOUNT,
    CANARY_REGION,
    declared,
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


LAMBDA_PROXY_API = declared("apigateway-lambda-proxy", canary=canary_lambda_proxy)
