"""Helpers of the unit tests: botocore event hooks, Lambda handlers loaded from template.yaml.

Faults are injected only through botocore's public event system: a ``before-call``
handler that returns ``(http_response, parsed)`` short-circuits the request (and
botocore's retries), exactly as botocore.stub.Stubber does.
"""

import importlib.util
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.awsrequest import AWSResponse

from orgvend import aws
from orgvend_local.template import Template


def error_response(
    code: str, message: str = "", *, status: int = 400, **modeled: Any
) -> tuple[AWSResponse, dict[str, Any]]:
    """What botocore's parser makes of an AWS error; modeled members (``Reason``) sit at the top level."""
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
        **modeled,
    }
    return AWSResponse("https://aws.invalid/", status, {}, None), parsed


def failing(code: str, message: str = "", *, status: int = 400, times: int | None = None, **modeled: Any):
    """A ``before-call`` handler answering ``code`` (the first ``times`` calls, or always)."""
    answered = []

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if times is not None and len(answered) >= times:
            return None
        answered.append(code)
        return error_response(code, message, status=status, **modeled)

    return handler


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any]


@dataclass
class Calls:
    """Operations attempted through a client or a session: register on ``before-parameter-build``."""

    made: list[Call] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.made.append(Call(model.service_model.service_name, model.name, dict(params)))

    def operations(self, service: str | None = None) -> list[str]:
        return [call.operation for call in self.made if service in (None, call.service)]

    def of(self, operation: str) -> list[Call]:
        return [call for call in self.made if call.operation == operation]

    def mutating(self, service: str) -> list[str]:
        """Operations other than reads (Get*, List*, Describe*)."""
        return [name for name in self.operations(service) if not name.startswith(("Get", "List", "Describe"))]


def record_calls(client: Any) -> Calls:
    calls = Calls()
    client.meta.events.register("before-parameter-build", calls)
    return calls


@dataclass
class Inbox:
    """An SQS queue receiving what orgvend sends (an SNS subscription or an EventBridge target)."""

    sqs: Any
    url: str

    def receive(self) -> list[dict[str, Any]]:
        bodies = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


# --------------------------------------------------------------------------- Lambda handlers


@dataclass
class FakeLambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def function_properties(template: Template, logical_id: str) -> dict[str, Any]:
    """A function's properties, SAM Globals merged in."""
    return template.enabled_resources("AWS::Serverless::Function")[logical_id]["Properties"]


def function_environment(template: Template, logical_id: str) -> dict[str, str]:
    variables = template.resolve(function_properties(template, logical_id)["Environment"]["Variables"])
    return {name: str(value) for name, value in variables.items()}


@cache
def _load_handler(
    root: str, code_uri: str, handler: str, logical_id: str, environment: frozenset[tuple[str, str]]
) -> Callable[..., Any]:
    """A handler module imported once per environment: it reads its settings when imported (its cold start)."""
    module_name, attribute = handler.rsplit(".", 1)
    path = f"{root}/{code_uri.rstrip('/')}/{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"orgvend_function_{logical_id}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def load_handler(template: Template, logical_id: str) -> Callable[..., Any]:
    """The handler of a function, imported by file path from its CodeUri and Handler."""
    properties = function_properties(template, logical_id)
    return _load_handler(
        str(template.root),
        properties["CodeUri"],
        properties["Handler"],
        logical_id,
        frozenset(os.environ.items()),
    )


def lambda_context(template: Template, logical_id: str) -> FakeLambdaContext:
    properties = function_properties(template, logical_id)
    return FakeLambdaContext(
        function_name=template.physical_name(logical_id),
        memory_limit_in_mb=int(properties["MemorySize"]),
        invoked_function_arn=template.arn(logical_id),
    )


def as_json(value: Any) -> Any:
    """What Step Functions carries between states: JSON text, parsed again."""
    return json.loads(json.dumps(value))


@contextmanager
def hooked_session(event_name: str, handler: Callable[..., Any]) -> Iterator[None]:
    """``handler`` on orgvend's botocore session (its public event hooks) while in the block; the
    cached clients are rebuilt before and after so that they pick the hook up and drop it."""
    events = aws.session().events
    unique_id = f"unit-tests-{uuid.uuid4()}"
    events.register(event_name, handler, unique_id=unique_id)
    aws.reset()
    try:
        yield
    finally:
        events.unregister(event_name, unique_id=unique_id)
        aws.reset()
