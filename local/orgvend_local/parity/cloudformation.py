"""Deploying template.yaml: CloudFormation with the SAM transform, done beside moto (``provision.py``)."""

import json
import warnings

from orgvend_local.parity.patch import Kind, Patch, still, stock_moto


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


SAM_DEPLOYMENT = Patch(
    name="cloudformation-sam-deployment",
    kind=Kind.EMULATION,
    aws="CloudFormation runs the SAM transform and creates every resource of the template; a custom resource "
    "gets a `Create` request whose `ResponseURL` is a presigned S3 PUT, and exists once it answered `SUCCESS`",
    aws_doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html",
    moto="no SAM transform (`AWS::Serverless::*` resources are skipped); custom resources answer to moto's "
    "own endpoint from a function run in Docker",
    closed_by="`template.py` resolves the template (`Ref`, `Fn::GetAtt`, `Fn::Sub`, … and SAM's `Globals`) "
    "and `provision.py` creates each resource with moto's APIs, the custom resources last, as CloudFormation "
    "does, answered through a presigned PUT to the embedded S3",
    implemented_in="orgvend_local.provision",
    canary=canary_sam_transform,
)
