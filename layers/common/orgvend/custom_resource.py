"""CloudFormation custom resources: the request, and the one answer CloudFormation waits for.

CloudFormation sends a Create, Update or Delete request and waits (up to an hour)
for a JSON document PUT to the request's presigned ``ResponseURL``. That protocol is
one HTTP PUT; AWS's ``cfn-response`` module exists only inline in templates and
``crhelper`` brings a polling framework orgvend has no use for, so the PUT is
written here with the standard library.
"""

import json
import urllib.request
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from orgvend.observability import logger

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


def answer(
    request: CustomResourceRequest,
    physical_resource_id: str,
    *,
    keep: Callable[[], dict[str, Any]],
    remove: Callable[[], None] | None = None,
) -> None:
    """Run ``keep`` on Create and Update (its result is the resource's data), ``remove`` on Delete, and
    always answer CloudFormation: a failure is answered FAILED with its reason, never left to time out."""
    try:
        data: dict[str, Any] = {}
        if request.RequestType != "Delete":
            data = keep()
        elif remove is not None:
            remove()
    except Exception as error:
        logger.exception("Custom resource not kept", extra={"resource": request.LogicalResourceId})
        respond(
            request,
            succeeded=False,
            physical_resource_id=physical_resource_id,
            reason=f"{type(error).__name__}: {error}",
        )
        return
    respond(request, succeeded=True, physical_resource_id=physical_resource_id, data=data)
