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

from orgvend_local.parity.organizations import organization_of
from orgvend_local.parity.patch import (
    CANARY_ACCOUNT,
    CANARY_REGION,
    Emulator,
    Patcher,
    declared,
    still,
    stock_moto,
)
from orgvend_local.policy_evaluation import Decision, Request, evaluate_policy, principal_context

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


def take_targets(
    patcher: Patcher,
    taken: Callable[[Any, dict[str, Any]], bool],
    deliver: Callable[[Any, list[dict[str, Any]], EventMessageType], None],
) -> None:
    """Rules deliver the targets ``taken`` picks with ``deliver``, once the rule is enabled and matches the
    event (moto's own matching); the others are sent as before this patch (moto raises on target kinds it
    does not know: it gets only the others)."""

    @patcher.around(events_models.Rule, "send_to_targets")
    def send_to_targets(
        original: Callable[..., None],
        rule: Any,
        original_event: EventMessageType,
        transform_input: bool = True,
    ) -> None:
        mine = [target for target in rule.targets if taken(rule, target)]
        if len(mine) < len(rule.targets):
            others = copy.copy(rule)
            others.targets = [target for target in rule.targets if target not in mine]
            original(others, original_event, transform_input)
        if mine and rule.state == "ENABLED" and rule.event_pattern.matches_event(original_event):
            deliver(rule, mine, original_event)


def apply_lambda_and_state_machine_targets(patcher: Patcher, emulator: Emulator) -> None:
    """For every rule, with moto's own pattern matching; the other targets are still moto's."""
    take_targets(
        patcher,
        lambda _rule, target: parse_arn(target["Arn"]).service in BRIDGED_SERVICES,
        lambda rule, _targets, event: emulator.bridge.deliver(rule, event),
    )


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


# -- event buses of other accounts -------------------------------------------------------------------


def _other_accounts_bus(rule: Any, target: dict[str, Any]) -> bool:
    arn = parse_arn(target["Arn"])
    return arn.service == "events" and arn.resource_type == "event-bus" and arn.account != rule.account_id


def bus_admits(bus: Any, bus_arn: str, sender_arn: str, event: Mapping[str, Any]) -> bool:
    """Whether the bus's resource policy lets ``sender_arn`` (the rule's role, or its account) put ``event``
    (its ``events:source`` and ``events:detail-type`` are the request's condition keys)."""
    if not bus.policy:
        return False
    sender_account = parse_arn(sender_arn).account
    context = {
        **principal_context(sender_arn, org_id=organization_of(sender_account)),
        "events:source": str(event.get("source", "")),
        "events:detail-type": str(event.get("detail-type", "")),
    }
    request = Request(sender_arn, "events:PutEvents", bus_arn, context)
    return evaluate_policy(json.loads(bus.policy), request, resource_based=True) is Decision.ALLOWED


def forward_to_bus(rule: Any, target: dict[str, Any], event: Mapping[str, Any]) -> bool:
    """The event on another account's bus, as EventBridge forwards it: the same event (its ``account`` and
    ``id`` are the sender's), matched there against that bus's rules; refused unless the bus's policy
    admits the rule's role (or the rule's account when it has none)."""
    arn = parse_arn(target["Arn"])
    backend = events_models.events_backends[arn.account][arn.region]
    bus = backend.describe_event_bus(arn.resource_id)
    sender = target.get("RoleArn") or f"arn:aws:iam::{rule.account_id}:root"
    if not bus_admits(bus, target["Arn"], sender, event):
        LOG.warning("EventBridge: %s may not put events on %s (its resource policy)", sender, target["Arn"])
        return False
    for receiving_rule in list(bus.rules.values()):
        receiving_rule.send_to_targets(cast("EventMessageType", copy.deepcopy(dict(event))))
    return True


def apply_cross_account_buses(patcher: Patcher, _emulator: Emulator) -> None:
    """Targets that are another account's bus go through its resource policy, and the event keeps its
    account; every other target is left to the patches before (and moto)."""

    def forward(rule: Any, buses: list[dict[str, Any]], event: EventMessageType) -> None:
        for target in buses:
            forward_to_bus(rule, target, cast("Mapping[str, Any]", event))

    take_targets(patcher, _other_accounts_bus, forward)


CANARY_OTHER_ACCOUNT = "222222222222"


def _as_account(client: Any, account_id: str) -> Any:
    """The client's requests act in ``account_id`` (moto's ``x-moto-account-id`` header)."""
    client.meta.events.register(
        "before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account_id)
    )
    return client


def canary_cross_account_buses() -> None:
    """A rule forwards to another account's bus whose policy admits nobody: moto delivers the event there
    anyway, and without the sender's account."""
    with stock_moto() as session:
        sqs = _as_account(session.client("sqs"), CANARY_OTHER_ACCOUNT)
        receiver = _as_account(session.client("events"), CANARY_OTHER_ACCOUNT)
        queue_url = sqs.create_queue(QueueName="canary")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        receiver.put_rule(Name="received", EventPattern=json.dumps({"source": ["canary.forwarded"]}))
        receiver.put_targets(Rule="received", Targets=[{"Id": "queue", "Arn": queue_arn}])
        sender = session.client("events")
        bus = f"arn:aws:events:{CANARY_REGION}:{CANARY_OTHER_ACCOUNT}:event-bus/default"
        sender.put_rule(Name="forward", EventPattern=json.dumps({"source": ["canary.forwarded"]}))
        sender.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": bus}])
        sender.put_events(Entries=[{"Source": "canary.forwarded", "DetailType": "probe", "Detail": "{}"}])
        bodies = [
            json.loads(message["Body"])
            for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        ]
        still(
            bool(bodies) and all(body.get("account") != CANARY_ACCOUNT for body in bodies),
            f"moto refused the forwarded event (no policy admits its sender), or kept its account: {bodies}",
        )


CROSS_ACCOUNT_BUSES = declared(
    "eventbridge-cross-account-bus-policy", apply=apply_cross_account_buses, canary=canary_cross_account_buses
)
