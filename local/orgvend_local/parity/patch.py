"""What a parity patch is: a typed record of one place where the embedded AWS departs from stock moto.

Every record says what real AWS does (and the AWS page that says so), what moto does instead,
how the emulator closes the gap, the function that applies it, and a canary: a probe of STOCK
moto that keeps passing while moto still behaves the way the patch replaces, and fails, naming
the patch, once moto behaves like AWS (then the patch can go).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import boto3
from moto import mock_aws
from moto.core.config import DefaultConfig

if TYPE_CHECKING:
    from orgvend_local.parity.eventbridge import EventBridgeBridge
    from orgvend_local.parity.lambda_runtime import InProcessLambda
    from orgvend_local.parity.organizations import OrganizationsBehaviour

CANARY_REGION = "us-east-1"
CANARY_ACCOUNT = "123456789012"  # moto's default account


class Kind(StrEnum):
    BEHAVIOUR = "behaviour"  # moto's code taught what AWS does
    EMULATION = "emulation"  # done beside moto (moto cannot do it at all): deploying, serving the API
    COST = "cost"  # not a behaviour: what the emulator does to be fast enough


class Emulator(Protocol):
    """The parts of the embedded AWS that patches hand their work to (``runtime.EmbeddedAws`` has them)."""

    @property
    def organizations_behaviour(self) -> OrganizationsBehaviour: ...

    @property
    def lambdas(self) -> InProcessLambda: ...

    @property
    def bridge(self) -> EventBridgeBridge: ...


@dataclass(frozen=True)
class Replacement:
    owner: object
    attribute: str
    original: object  # MISSING when the owner had no attribute of its own by that name


MISSING = object()


@dataclass
class Patcher:
    """Replaces attributes of moto (or of the process) and remembers the originals, so that a patch
    can be undone exactly: what ``undo`` restores is what was there before, absent included."""

    replacements: list[Replacement] = field(default_factory=list)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def replace(self, owner: object, attribute: str, value: object) -> None:
        replacement = Replacement(
            owner, attribute, vars(owner).get(attribute, MISSING)
        )  # not an inherited one
        setattr(owner, attribute, value)
        self.replacements.append(replacement)

        def restore() -> None:
            if replacement.original is MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, replacement.original)

        self._undo.append(restore)

    def on_undo(self, callback: Callable[[], None]) -> None:
        self._undo.append(callback)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()
        self.replacements.clear()


Apply = Callable[[Patcher, Emulator], None]


class MotoNowLikeAws(AssertionError):  # a finding, not a failure of the canary
    """Raised by a canary when stock moto no longer shows the behaviour its patch replaces."""


class PatchNoLongerNeeded(AssertionError):
    """A canary found moto behaving like AWS: the patch can be dropped."""


def still(condition: bool, observed: str) -> None:
    """The canary's assertion: moto still behaves as the patch says (``observed`` is what it did)."""
    if not condition:
        raise MotoNowLikeAws(observed)


@dataclass(frozen=True)
class Patch:
    name: str
    kind: Kind
    aws: str  # what real AWS does (Markdown)
    aws_doc: str | None  # the AWS documentation the emulated behaviour follows (None for a cost)
    moto: str  # what stock moto does instead
    closed_by: str  # what the embedded AWS does about it
    canary: Callable[[], None]  # probes stock moto; raises MotoNowLikeAws when moto behaves like AWS
    apply: Apply | None = None  # None: an emulation beside moto, done where ``implemented_in`` says
    implemented_in: str | None = None  # the module, when ``apply`` does not tell
    needs: tuple[str, ...] = ()  # patches that must be applied first

    @property
    def module(self) -> str:
        if self.implemented_in is not None:
            return self.implemented_in
        if self.apply is not None:
            return self.apply.__module__
        raise ValueError(f"{self.name}: neither apply nor implemented_in")

    def run_canary(self) -> None:
        """Run the canary; PatchNoLongerNeeded, naming the patch, when moto now behaves like AWS."""
        try:
            self.canary()
        except MotoNowLikeAws as finding:
            raise PatchNoLongerNeeded(
                f"moto now behaves like AWS for {self.name!r} ({finding}): the patch {self.name} "
                f"({self.module}) can be dropped, with its row in README.md "
                "(python -m orgvend_local.parity --update-readme)"
            ) from finding


@contextmanager
def stock_moto(*, execute_state_machines: bool = False) -> Iterator[boto3.session.Session]:
    """A fresh in-process moto (no server, no patch of orgvend's), with Step Functions' interpreter on or
    off: the session a canary makes its clients from. Its backends are reset on entry, so never run a
    canary in a process where the embedded AWS runs."""
    config: DefaultConfig = {"stepfunctions": {"execute_state_machine": execute_state_machines}}
    with mock_aws(config=config):
        yield boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=CANARY_REGION
        )
