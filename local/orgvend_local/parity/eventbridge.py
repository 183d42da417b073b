"""EventBridge rules that deliver to Lambda functions and Step Functions state machines."""

import copy
import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from moto.events import models as events_models
from moto.events.utils import EventMessageType, EventTemplateParser
from moto.utilities.arns import parse_arn

from orgvend_local.parity.patch import (
    CANARY_ACCOUNT,
    CANARY_REGION,
    Emulator,
    Patcher,
    declared,
    still,
    stock_moto,
)

LOG = logging.getLogger("orgvend_local")
BRIDGED_SERVICES = ("lambda", "states")


class EventBridgeBridge:
    """Delivers matching events to Lambda and Step Functions targets, asynchronously like AWS."""

    def __init__(
        self,
        invoke_function: Callable[[str, dict[str, Any]], None],
        start_execution: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self._invoke_function = invoke_function
        self._start_execution = start_execution
        self.deliveries: list[tuple[str, str]] = []  # (rule name, target ARN)

    def deliver(self, rule: Any, matched: Mapping[str, Any]) -> None:
        event = dict(matched)
        if isinstance(event.get("time"), int | float):  # moto keeps a number; AWS sends ISO 8601
            event["time"] = datetime.fromtimestamp(event["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ingestion_time = event.pop("ingestion-time", None)  # a transformer's variable, not part of the event
        for target in rule.targets:
            service = parse_arn(target["Arn"]).service
            if service not in BRIDGED_SERVICES:
                continue
            payload = target_input(target, event, ingestion_time)
            send = self._invoke_function if service == "lambda" else self._start_execution
            self.deliveries.append((rule.name, target["Arn"]))
            threading.Thread(target=self._send, args=(send, target["Arn"], payload), daemon=True).start()

    @staticmethod
    def _send(send: Callable[[str, dict[str, Any]], None], arn: str, payload: dict[str, Any]) -> None:
        try:
            send(arn, payload)
        except Exception:
            LOG.exception("EventBridge could not deliver to %s", arn)


def target_input(target: dict[str, Any], event: dict[str, Any], ingestion_time: Any = None) -> Any:
    """What the target receives: the event, or its Input, InputPath or InputTransformer (whose
    predefined variables include ``aws.events.event.ingestion-time``)."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        value: Any = event
        for part in target["InputPath"].removeprefix("$").strip(".").split("."):
            if part:
                value = value[part]
        return value
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast("EventMessageType", {**event, "ingestion-time": ingestion_time}),
        )
    return event


def apply_lambda_and_state_machine_targets(patcher: Patcher, emulator: Emulator) -> None:
    """For every rule, with moto's own pattern matching; the other targets are still moto's."""
    bridge = emulator.bridge

    @patcher.around(events_models.Rule, "send_to_targets")
    def send_to_targets(
        original: Callable[..., None],
        rule: Any,
        original_event: EventMessageType,
        transform_input: bool = True,
    ) -> None:
        ours = [target for target in rule.targets if parse_arn(target["Arn"]).service in BRIDGED_SERVICES]
        if len(ours) < len(rule.targets):
            # moto raises on target kinds it does not know: hand it only the others.
            theirs = copy.copy(rule)
            theirs.targets = [target for target in rule.targets if target not in ours]
            original(theirs, original_event, transform_input)
        if ours and rule.state == "ENABLED" and rule.event_pattern.matches_event(original_event):
            bridge.deliver(rule, original_event)


def canary_lambda_and_state_machine_targets() -> None:
    """A rule whose target is a state machine, another whose target is a function: moto refuses to deliver
    an event to either (NotImplementedError, a 500 from its server)."""
    targets = {
        "states": f"arn:aws:states:{CANARY_REGION}:{CANARY_ACCOUNT}:stateMachine:canary",
        "lambda": f"arn:aws:lambda:{CANARY_REGION}:{CANARY_ACCOUNT}:function:canary",
    }
    with stock_moto() as session:
        events = session.client("events")
        for service, arn in targets.items():
            events.put_rule(
                Name=f"canary-{service}", EventPattern=json.dumps({"source": [f"canary.{service}"]})
            )
            events.put_targets(Rule=f"canary-{service}", Targets=[{"Id": "target", "Arn": arn}])
            try:
                events.put_events(
                    Entries=[{"Source": f"canary.{service}", "DetailType": "probe", "Detail": "{}"}]
                )
            except NotImplementedError:
                continue
            still(False, f"an event was delivered to a {service} target")


LAMBDA_AND_STATE_MACHINE_TARGETS = declared(
    "eventbridge-lambda-and-states-targets",
    apply=apply_lambda_and_state_machine_targets,
    canary=canary_lambda_and_state_machine_targets,
)
