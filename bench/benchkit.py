"""Shared helpers of the benchmarks (not a benchmark itself: ``make bench`` runs ``bench_*.py`` only).

- ``say``: print to the real console. The embedded AWS makes ``sys.stdout`` its Lambda
  log capture; the benchmarks start it with that console pointed at /dev/null so the
  functions' JSON log lines do not drown the figures (they still reach moto's CloudWatch Logs).
- ``start_embedded``: one embedded AWS per process, on free ports.
- execution helpers: post a burst through the local API, wait for executions, read histories.
- ``ApiCalls``: every AWS API call orgvend's functions make, through a botocore hook on
  ``orgvend.aws.session()`` (the public hook point ``orgvend_local.faults`` uses too).
"""

import json
import logging
import math
import os
import re
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CONSOLE = sys.__stdout__ or sys.stdout


def say(*parts: Any) -> None:
    print(*parts, file=CONSOLE, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoGaps(logging.Filter):
    """Counts (and keeps off the console) moto's tracebacks for operations it does not implement.

    moto's server answers them with an HTML 500 and werkzeug logs the whole traceback; the
    benchmarks say how many there were instead (orgvend treats some, such as IAM's
    ListOrganizationsFeatures, as "unknown").
    """

    PATTERN = re.compile(r"The (\w+) action has not been implemented")

    def __init__(self) -> None:
        super().__init__()
        self.unimplemented: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        found = self.PATTERN.search(record.getMessage())
        if found:
            self.unimplemented[found.group(1)] += 1
            return False
        return True


MOTO_GAPS = MotoGaps()


def start_embedded(
    creation_seconds: float, parameters: dict[str, str] | None = None, mode: str = "single"
) -> Any:
    """An EmbeddedAws on free ports, started; its functions' log lines go to /dev/null (and CloudWatch Logs)."""
    from orgvend_local.runtime import EmbeddedAws  # noqa: PLC0415 (imported when a benchmark needs it)

    devnull = open(os.devnull, "w")  # noqa: PTH123, SIM115 (kept open for the process's lifetime)
    saved = sys.stdout
    sys.stdout = devnull
    try:
        runtime = EmbeddedAws(
            port=free_port(),
            api_port=free_port(),
            creation_seconds=creation_seconds,
            parameters=dict(parameters or {}),
            mode=mode,
        )
    finally:
        sys.stdout = saved
    logging.getLogger("werkzeug").addFilter(MOTO_GAPS)
    runtime.start()  # makes sys.stdout the Lambda console, which writes to devnull
    return runtime


def moto_gaps() -> str:
    """A line for the report: the operations moto answered with 500 Not Implemented, if any."""
    if not MOTO_GAPS.unimplemented:
        return "moto answered every call"
    return "moto does not implement (answered 500, traceback not shown): " + ", ".join(
        f"{name} x{count}" for name, count in MOTO_GAPS.unimplemented.most_common()
    )


def execution_arn(runtime: Any, name: str) -> str:
    state_machine = runtime.deployment.outputs["OnboardAccountStateMachineArn"]
    return state_machine.replace(":stateMachine:", ":execution:") + f":{name}"


def post_onboardings(api_url: str, requests: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any], float]]:
    """POST /accounts for every request at once (one thread each, an Idempotency-Key each).

    Returns (status, body, seconds the request took) in the order of the requests.
    """
    import urllib3  # noqa: PLC0415

    http = urllib3.PoolManager(maxsize=len(requests), retries=False, timeout=120)
    answers: list[tuple[int, dict[str, Any], float]] = [(0, {}, 0.0)] * len(requests)
    barrier = threading.Barrier(len(requests))

    def post(index: int, request: dict[str, Any]) -> None:
        barrier.wait()
        began = time.perf_counter()
        response = http.request(
            "POST",
            api_url + "/accounts",
            body=json.dumps(request),
            headers={"content-type": "application/json", "Idempotency-Key": f"bench-{request['email']}"},
        )
        answers[index] = (response.status, json.loads(response.data), time.perf_counter() - began)

    threads = [threading.Thread(target=post, args=pair) for pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def wait_for_executions(runtime: Any, arns: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """DescribeExecution of each once none is RUNNING (polled through ListExecutions, cheap for moto)."""
    sfn = runtime.client("stepfunctions")
    state_machine = runtime.deployment.outputs["OnboardAccountStateMachineArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=state_machine, statusFilter="RUNNING", maxResults=1000)
        if not running["executions"]:
            break
        time.sleep(0.25)
    else:
        raise TimeoutError(f"executions still RUNNING after {timeout} s")
    return {arn: sfn.describe_execution(executionArn=arn) for arn in arns}


def history(runtime: Any, arn: str) -> list[dict[str, Any]]:
    paginator = runtime.client("stepfunctions").get_paginator("get_execution_history")
    return [event for page in paginator.paginate(executionArn=arn) for event in page["events"]]


def state_name(event: dict[str, Any]) -> str:
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
    return str(details.get("name", ""))


@dataclass
class HistoryFigures:
    """What one execution's history says: state entries, retries, Wait visits, time in each kind of state."""

    entered: Counter[str] = field(default_factory=Counter)  # state name -> entries
    exited: int = 0
    lambda_scheduled: int = 0
    task_scheduled: int = 0  # service integrations (DynamoDB GetItem): TaskScheduled events
    lambda_failed: int = 0
    task_entered: int = 0
    wait_seconds: float = 0.0  # Wait states, and tasks waiting for a task token (asleep, not working)
    task_seconds: float = 0.0
    lambda_seconds: float = 0.0  # LambdaFunctionStarted -> Succeeded/Failed, as Step Functions saw it
    total_seconds: float = 0.0

    @property
    def entries(self) -> int:
        return sum(self.entered.values())

    @property
    def retries(self) -> int:
        """Extra attempts of a Task state: Lambda invocations and service calls beyond one per state entry."""
        return self.lambda_scheduled + self.task_scheduled - self.task_entered

    @property
    def billable_transitions(self) -> int:
        """AWS counts a transition each time a step runs, retries included."""
        return self.entries + self.retries


def _count_state_time(
    figures: HistoryFigures, exited: dict[str, Any], entered_at: dict[str, datetime], waiting: set[str]
) -> None:
    name = state_name(exited)
    seconds = (exited["timestamp"] - entered_at.get(name, exited["timestamp"])).total_seconds()
    if exited["type"] == "WaitStateExited" or name in waiting:
        figures.wait_seconds += seconds
    elif exited["type"] == "TaskStateExited":
        figures.task_seconds += seconds


def history_figures(events: list[dict[str, Any]]) -> HistoryFigures:
    figures = HistoryFigures()
    entered_at: dict[str, datetime] = {}
    lambda_started: datetime | None = None
    waiting_for_token: set[str] = set()  # states whose task waits for a task token
    current = ""
    for event in events:
        kind, stamp = event["type"], event["timestamp"]
        if kind.endswith("StateEntered"):
            name = current = state_name(event)
            figures.entered[name] += 1
            entered_at[name] = stamp
            if kind == "TaskStateEntered":
                figures.task_entered += 1
        elif kind.endswith("StateExited"):
            figures.exited += 1
            _count_state_time(figures, event, entered_at, waiting_for_token)
        elif kind in {"LambdaFunctionScheduled", "TaskScheduled"}:  # a function, or a service integration
            figures.lambda_scheduled += kind == "LambdaFunctionScheduled"
            figures.task_scheduled += kind == "TaskScheduled"
            details = event.get("taskScheduledEventDetails") or {}
            if str(details.get("resource", "")).endswith(".waitForTaskToken"):
                waiting_for_token.add(current)
        elif kind == "LambdaFunctionStarted":
            lambda_started = stamp
        elif kind in {"LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}:
            if kind != "LambdaFunctionSucceeded":
                figures.lambda_failed += 1
            if lambda_started is not None:
                figures.lambda_seconds += (stamp - lambda_started).total_seconds()
                lambda_started = None
    if events:
        figures.total_seconds = (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds()
    return figures


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


class ApiCalls:
    """Counts every call of orgvend's functions by service and operation (``before-call`` on orgvend's session).

    ``calls`` keeps (service, operation, params) for the cost model; ``responses`` the
    parsed answers of the operations named in ``keep_responses`` (``after-call``).
    """

    def __init__(self, keep_responses: tuple[str, ...] = ()) -> None:
        self.counts: Counter[str] = Counter()
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.responses: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        self._keep = keep_responses
        self._lock = threading.Lock()
        self._registered: list[tuple[str, Any]] = []

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        kept = dict(params)  # the same object in ``calls`` and ``responses``: match them by identity
        with self._lock:
            self.counts[f"{service}.{operation}"] += 1
            self.calls.append((service, operation, kept))
        context["bench_params"] = kept

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        if operation in self._keep:
            with self._lock:
                self.responses.append((service, operation, context.get("bench_params", {}), dict(parsed)))

    def install(self) -> "ApiCalls":
        from orgvend import aws  # noqa: PLC0415

        # before-parameter-build sees the caller's parameters (before-call sees the serialised request).
        for event_name, hook in (("before-parameter-build", self._before), ("after-call", self._after)):
            aws.session().events.register(event_name, hook)
            self._registered.append((event_name, hook))
        aws.reset()  # cached clients are rebuilt with the hooks
        return self

    def clear(self) -> None:
        with self._lock:
            self.counts.clear()
            self.calls.clear()
            self.responses.clear()

    def uninstall(self) -> None:
        from orgvend import aws  # noqa: PLC0415

        for event_name, hook in self._registered:
            aws.session().events.unregister(event_name, hook)
        self._registered.clear()
        aws.reset()


# --------------------------------------------------------------------------- DynamoDB item sizes


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (maps and lists: 3 bytes, plus 1 per element)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        digits = len(content.strip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(content)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind in {"SS", "NS", "BS"}:
        return sum(attribute_size({kind[0]: element}) for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(inner) + 1 for name, inner in content.items())
    if kind == "L":
        return 3 + sum(attribute_size(inner) + 1 for inner in content)
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())
