"""Run Lambda functions in-process instead of in Docker: the one shim over moto's Lambda.

moto runs a Lambda function by starting a Docker container
(``moto.awslambda.models.LambdaFunction._invoke_lambda``). There is no Docker
engine here, so ``apply_in_process_lambda`` replaces that one method: the function's handler
module (found from the template's CodeUri and Handler) is imported in this
process and called with the event, under the function's own environment
variables, and its output goes where moto puts a container's output (the
response payload, and CloudWatch Logs). Everything else about Lambda (create,
invoke, its API, Step Functions' calls to it) is moto's.

Each function runs with its execution role's credentials in its environment, as
Lambda gives them (the role's session is opened through moto's STS, once per
function), so that what a function does is done by its role: ``sts
get-caller-identity`` answers the role, and trust policies that name orgvend's
roles admit exactly them.

Invocations run one at a time: environment variables are process-wide, and a
Lambda execution environment serves one invocation at a time anyway.
"""

import importlib.util
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from moto.awslambda.models import LambdaFunction
from moto.sts.models import sts_backends
from moto.utilities.arns import parse_arn

from orgvend_local.parity.patch import Emulator, Patcher, declared, still, stock_moto


@dataclass
class LocalFunction:
    """A function of the template: where its code is (its environment is moto's, so that
    ``lambda update-function-configuration`` takes effect as in AWS)."""

    name: str
    code_dir: Path
    handler: str
    memory_size: int = 128
    timeout: int = 3
    role_arn: str | None = None
    _module: ModuleType | None = field(default=None, repr=False)
    _credentials: dict[str, str] | None = field(default=None, repr=False)

    def role_credentials(self) -> dict[str, str]:
        """The execution role's credentials, as Lambda puts them in the function's environment."""
        if self.role_arn is None:
            return {}
        if self._credentials is None:
            account = parse_arn(self.role_arn).account
            # Lambda's service principal assumes the role (its trust admits lambda.amazonaws.com); the session
            # is named after the function, as in AWS.
            session = sts_backends[account]["aws"].assume_role(
                region_name="us-east-1",
                role_session_name=self.name[:64],
                role_arn=self.role_arn,
                policy="",
                duration=43200,
                external_id="",
            )
            self._credentials = {
                "AWS_ACCESS_KEY_ID": session.access_key_id,
                "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
                "AWS_SESSION_TOKEN": session.session_token,
            }
        return self._credentials

    def handler_callable(self) -> Any:
        module_path, function_name = self.handler.rsplit(".", 1)
        if self._module is None:
            source = self.code_dir / (module_path.replace(".", "/") + ".py")
            spec = importlib.util.spec_from_file_location(f"orgvend_function_{self.code_dir.name}", source)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load handler module {source}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._module = module
        return getattr(self._module, function_name)


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the attributes Powertools reads)."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


# Powertools' own fields, left out of the console's one-line rendering.
_LOG_NOISE = frozenset(
    {
        "level",
        "message",
        "timestamp",
        "location",
        "service",
        "cold_start",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "function_name",
        "correlation_id",
        "xray_trace_id",
    }
)


def readable(line: str) -> str:
    """A Powertools JSON log line as one readable console line (others unchanged)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "level" not in record or "message" not in record:
        return line  # EMF metrics and anything else stay as they are
    function = str(record.get("function_name", "")).rsplit("-", 1)[-1]
    extras = {key: value for key, value in record.items() if key not in _LOG_NOISE}
    return (
        f"{str(record.get('timestamp', ''))[11:23]} {record['level']:<7} {function:<28} "
        f"[{record.get('correlation_id', '-')}] {record['message']}"
        + (f" {json.dumps(extras, default=str)}" if extras else "")
        + "\n"
    )


class _ConsoleWithCapture(io.TextIOBase):
    """sys.stdout for the whole process: always the console, and also the invoking thread's log buffer.

    Powertools' Logger binds sys.stdout when it is created, so the capture has to
    live inside the stream itself rather than swap sys.stdout per invocation.
    """

    def __init__(self, console: TextIO) -> None:
        self.console = console
        self._local = threading.local()

    @contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        buffer = io.StringIO()
        self._local.buffer = buffer
        try:
            yield buffer
        finally:
            self._local.buffer = None

    def write(self, text: str) -> int:
        buffer = getattr(self._local, "buffer", None)
        if buffer is not None:
            buffer.write(text)  # CloudWatch Logs gets the JSON lines as Lambda would
        self.console.write("".join(readable(line) for line in text.splitlines(keepends=True)))
        return len(text)

    def flush(self) -> None:
        if not self.console.closed:  # a test runner's capture may be gone by the time this one is collected
            self.console.flush()


class InProcessLambda:
    """The registry of local functions, and the replacement for moto's Docker invocation."""

    def __init__(self, runtime_environment: dict[str, str]) -> None:
        self.runtime_environment = runtime_environment
        self.console = _ConsoleWithCapture(sys.stdout)
        self.functions: dict[str, LocalFunction] = {}
        self.invocations: list[tuple[str, float, bool]] = []  # (function, seconds, errored)
        self._lock = threading.RLock()

    def register(self, function: LocalFunction) -> None:
        self.functions[function.name] = function

    @contextmanager
    def _environment(self, function: LocalFunction, variables: dict[str, str]) -> Iterator[None]:
        saved = dict(os.environ)
        os.environ.update(self.runtime_environment)
        os.environ.update(function.role_credentials())
        os.environ.update(variables)
        os.environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            }
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def _route_output(self, service: str | None) -> None:
        """Keep the handlers' output going through the capturing console.

        Something else (a test runner's capture) may have replaced sys.stdout since
        install, and Powertools binds its handler to the stream it saw at creation.
        """
        if sys.stdout is not self.console:
            self.console.console = sys.stdout
            sys.stdout = self.console
        if service:
            for handler in logging.getLogger(service).handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is not self.console:
                    handler.setStream(self.console)

    def invoke(self, moto_function: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        """Same contract as moto's ``_invoke_lambda``: (response payload, errored, logs)."""
        function = self.functions.get(moto_function.function_name)
        if function is None:
            message = f"{moto_function.function_name} is not a function of template.yaml"
            return json.dumps({"errorType": "ResourceNotFound", "errorMessage": message}), True, message
        if isinstance(event, str | bytes):
            event = json.loads(event or "{}")
        context = LambdaContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_size,
            invoked_function_arn=moto_function.function_arn,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{function.name}",
            deadline=time.monotonic() + function.timeout,
        )
        variables = {name: str(value) for name, value in (moto_function.environment_vars or {}).items()}
        self._route_output(variables.get("POWERTOOLS_SERVICE_NAME"))
        with self._lock, self._environment(function, variables), self.console.capture() as captured:
            started = time.perf_counter()
            try:
                result = function.handler_callable()(event, context)
                response, errored = json.dumps(result), False
            except Exception as error:  # the Lambda runtime reports any exception this way
                response, errored = _error_payload(error), True
                print(f"[ERROR] {function.name}: {type(error).__name__}: {error}")
            self.invocations.append((function.name, time.perf_counter() - started, errored))
        logs = captured.getvalue()
        moto_function.logs_backend.ensure_log_group(moto_function.logs_group_name)
        moto_function.save_logs(logs)
        return response, errored, logs


def _error_payload(error: Exception) -> str:
    """The JSON the Lambda runtime returns for an unhandled exception (errorType is what Step Functions matches)."""
    return json.dumps(
        {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
    )


def apply_in_process_lambda(patcher: Patcher, emulator: Emulator) -> None:
    shim = emulator.lambdas

    def _invoke_lambda(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        return shim.invoke(function, event)

    patcher.replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
    patcher.replace(sys, "stdout", shim.console)  # the handlers' logs, captured per invocation


def canary_in_process_lambda() -> None:
    """moto runs a function in a Docker container: with no Docker engine, the invocation fails saying so."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("app.py", "def handler(event, context):\n    return event\n")
    with stock_moto() as session:
        role_arn = session.client("iam").create_role(RoleName="canary", AssumeRolePolicyDocument="{}")[
            "Role"
        ]["Arn"]
        functions = session.client("lambda")
        functions.create_function(
            FunctionName="canary",
            Runtime="python3.13",
            Role=role_arn,
            Handler="app.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        invoked = functions.invoke(FunctionName="canary", Payload=b"{}")
        payload = invoked["Payload"].read().decode()
        still("docker" in payload.lower(), f"the function ran: {payload}")


IN_PROCESS_LAMBDA = declared(
    "lambda-in-process", apply=apply_in_process_lambda, canary=canary_in_process_lambda
)
