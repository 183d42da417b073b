"""The parts of the embedded AWS that parity patches hand their work to, without its server: what
the parity tests apply patches with, on an in-process moto."""

from dataclasses import dataclass, field
from typing import Any

from orgvend_local.parity import EventBridgeBridge, InProcessLambda, OrganizationsBehaviour

RUNTIME_ENVIRONMENT = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class StandaloneEmulator:
    """Satisfies ``orgvend_local.parity.Emulator``; EventBridge's deliveries are recorded, not made."""

    organizations_behaviour: OrganizationsBehaviour = field(
        default_factory=lambda: OrganizationsBehaviour(creation_seconds=0.3, closure_seconds=0.3)
    )
    lambdas: InProcessLambda = field(default_factory=lambda: InProcessLambda(dict(RUNTIME_ENVIRONMENT)))
    invoked: list[tuple[str, Any]] = field(default_factory=list)
    started: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bridge = EventBridgeBridge(
            lambda arn, payload: self.invoked.append((arn, payload)),
            lambda arn, payload: self.started.append((arn, payload)),
        )
