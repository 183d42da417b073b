"""Deploying template.yaml: CloudFormation with the SAM transform, done beside moto (``provision.py``)."""

import json
import warnings

from orgvend_local.parity.patch import declared, still, stock_moto


def canary_sam_transform() -> None:
    """A stack with the SAM transform and one ``AWS::Serverless::Function``: moto's CloudFormation skips
    the function (it knows no ``AWS::Serverless::*`` type), so no function exists."""
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Canary": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "index.handler",
                    "Runtime": "python3.13",
                    "InlineCode": "def handler(event, context):\n    return event\n",
                },
            }
        },
    }
    with stock_moto() as session, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # moto's own warning that it skips the function
        session.client("cloudformation").create_stack(StackName="canary", TemplateBody=json.dumps(template))
        functions = session.client("lambda").list_functions()["Functions"]
        still(
            not functions, f"the SAM transform created {[function['FunctionName'] for function in functions]}"
        )


SAM_DEPLOYMENT = declared("cloudformation-sam-deployment", canary=canary_sam_transform)
