"""Not differences in behaviour, costs: what the embedded AWS does to be fast enough on one core.

Together they took the 50-onboarding burst from 1.6-1.9 to 1.44 times its floor (bench/RESULTS.md).
"""

import functools
import os
import sys
from collections.abc import Callable
from typing import Any
from unittest import mock

from moto import backends as moto_backends
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from orgvend_local.parity.patch import Emulator, Patcher, declared, still, stock_moto
from orgvend_local.parity.stepfunctions import ONE_PASS_STATE, create_state_machine, wait_until_stopped

# --------------------------------------------------------------------------- service integration clients


def apply_reuse_service_integration_clients(patcher: Patcher, _emulator: Emulator) -> None:
    """The clients are the same every time (fixed keys, this server's endpoint), and boto3 clients are
    thread-safe: one per region and service serves every call."""
    cached = functools.cache(boto_client.boto_client_for)

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return cached(region, service)  # moto ignores state_credentials as well

    # Modules imported later bind the patched function; those imported already are patched in place.
    for module in dict.fromkeys([boto_client, *list(sys.modules.values())]):
        name = getattr(module, "__name__", "")
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            patcher.replace(module, "boto_client_for", boto_client_for)


def canary_reuse_service_integration_clients() -> None:
    with stock_moto():
        first = boto_client.boto_client_for("us-east-1", "sqs")
        second = boto_client.boto_client_for("us-east-1", "sqs")
        still(first is not second, "moto's interpreter reuses its clients")


REUSE_SERVICE_INTEGRATION_CLIENTS = declared(
    "stepfunctions-reuse-service-clients",
    apply=apply_reuse_service_integration_clients,
    canary=canary_reuse_service_integration_clients,
)


# --------------------------------------------------------------------------- parsed definitions


@functools.lru_cache(maxsize=64)
def _program_of(definition: str) -> Any:
    return AmazonStateLanguageParser.parse(definition)[0]


def apply_parse_definitions_once(patcher: Patcher, _emulator: Emulator) -> None:
    """The parsed program is a tree of stateless components (an execution's state lives in its own
    ``Environment``): one parse per definition serves every execution. The heap keys those components
    give an environment are made stable and thread-safe (their identity) instead of random and lazily
    set, since executions now share the components."""

    def _get_evaluation_entrypoint(worker: ExecutionWorker) -> Any:
        return _program_of(worker._evaluation_details.state_machine_details.definition)

    patcher.replace(ExecutionWorker, "_get_evaluation_entrypoint", _get_evaluation_entrypoint)
    patcher.replace(
        EvalComponent, "heap_key", property(lambda component: f"{type(component).__name__}-{id(component)}")
    )


def canary_parse_definitions_once() -> None:
    """Two executions of one state machine: moto's interpreter parses its definition twice."""
    with stock_moto(execute_state_machines=True) as session:
        stepfunctions = session.client("stepfunctions")
        state_machine_arn = create_state_machine(session, "canary", ONE_PASS_STATE)
        parse: Callable[..., Any] = AmazonStateLanguageParser.parse
        with mock.patch.object(AmazonStateLanguageParser, "parse", side_effect=parse) as counted:
            for name in ("first", "second"):
                execution_arn = stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=name)[
                    "executionArn"
                ]
                wait_until_stopped(stepfunctions, execution_arn)
        still(counted.call_count >= 2, f"two executions parsed the definition {counted.call_count} time(s)")


PARSE_DEFINITIONS_ONCE = declared(
    "stepfunctions-parse-definitions-once",
    apply=apply_parse_definitions_once,
    canary=canary_parse_definitions_once,
)


# --------------------------------------------------------------------------- moto's list of its modules


def apply_list_moto_modules_once(patcher: Patcher, _emulator: Emulator) -> None:
    modules = tuple(moto_backends.list_of_moto_modules())
    patcher.replace(moto_backends, "list_of_moto_modules", lambda: modules)


def canary_list_moto_modules_once() -> None:
    with mock.patch.object(os, "listdir", side_effect=os.listdir) as listed:
        for _ in range(2):
            list(moto_backends.list_of_moto_modules())
    still(listed.call_count == 2, f"two requests listed moto's package {listed.call_count} time(s)")


LIST_MOTO_MODULES_ONCE = declared(
    "server-list-moto-modules-once", apply=apply_list_moto_modules_once, canary=canary_list_moto_modules_once
)
