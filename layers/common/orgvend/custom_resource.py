"""CloudFormation custom resources: the request, and the one answer CloudFormation waits for.

CloudFormation sends a Create, Update or Delete request and waits (up to an hour)
for a JSON document PUT to the request's presigned ``ResponseURL``. That protocol is
one HTTP PUT; AWS's ``cfn-response`` module exists only inline in templates and
``crhelper`` brings a polling framework orgvend has no use for, so the PUT is
written here with the standard library.
"""

import json
import urllib.request
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

MAX_REASON = 1000


class CustomResourceRequest(BaseModel):
    """What CloudFormation sends to a Lambda-backed custom resource."""

    model_config = ConfigDict(extra="ignore")

    RequestType: Literal["Create", "Update", "Delete"]
    ResponseURL: str
    StackId: str
    RequestId: str
    LogicalResourceId: str
    ResourceType: str = "Custom::Resource"
    PhysicalResourceId: str | None = None
    ResourceProperties: dict[str, Any] = {}
    OldResourceProperties: dict[str, Any] | None = None


def respond(
    request: CustomResourceRequest,
    *,
    succeeded: bool,
    physical_resource_id: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    timeout: float = 30,
) -> None:
    body = json.dumps(
        {
            "Status": "SUCCESS" if succeeded else "FAILED",
            "Reason": reason[:MAX_REASON] or "See the function's CloudWatch Logs",
            "PhysicalResourceId": physical_resource_id,
            "StackId": request.StackId,
            "RequestId": request.RequestId,
            "LogicalResourceId": request.LogicalResourceId,
            "Data": data or {},
        }
    ).encode()
    # The presigned URL is signed for an empty content type.
    answer = urllib.request.Request(
        request.ResponseURL,
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(answer, timeout=timeout) as response:
        response.read()
