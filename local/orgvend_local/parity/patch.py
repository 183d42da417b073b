"""What a parity patch is: a typed record of one place where the embedded AWS departs from stock moto.

Every record says what real AWS does (and the AWS page that says so), what moto does instead,
how the emulator closes the gap, the function that applies it, and a canary: a probe of STOCK
moto that keeps passing while moto still behaves the way the patch replaces, and fails, naming
the patch, once moto behaves like AWS (then the patch can go).

The words are data, in ``patches.toml`` (one table per patch, validated on load); the code binds a
table's behaviour to it by name with ``declared``.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.config import DefaultConfig
from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from mypy_boto3_sqs import SQSClient

    from orgvend_local.parity.eventbridge import EventBridgeBridge
    from orgvend_local.parity.lambda_runtime import InProcessLambda
    from orgvend_local.parity.organizations import OrganizationsBehaviour

CANARY_REGION = "us-east-1"
CANARY_ACCOUNT = "123456789012"  # moto's default account
DECLARATIONS_FILE = "patches.toml"
AWS_DOCS = "https://docs.aws.amazon.com/"


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

    def around[Wrapper: Callable[..., Any]](self, owner: type, method: str) -> Callable[[Wrapper], Wrapper]:
        """Decorates the replacement of a method that still calls moto's: the replacement is called with
        the method it replaces first, then the method's own arguments (``self`` included)."""
        original: Callable[..., Any] = getattr(owner, method)

        def decorate(wrapper: Wrapper) -> Wrapper:
            def replacement(*args: Any, **kwargs: Any) -> Any:
                return wrapper(original, *args, **kwargs)

            self.replace(owner, method, replacement)
            return wrapper

        return decorate

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


@dataclass(frozen=True, kw_only=True)
class Patch:
    name: str
    kind: Kind
    moto: str  # what stock moto does instead
    closed_by: str  # what the embedded AWS does about it
    canary: Callable[[], None]  # probes stock moto; raises MotoNowLikeAws when moto behaves like AWS
    aws: str | None = None  # what real AWS does (Markdown); None for a cost, which changes no behaviour
    aws_doc: str | None = None  # the AWS documentation the emulated behaviour follows (None for a cost)
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


class Undocumented(NamedTuple):
    field: str
    problem: str


def undocumented(kind: Kind, aws: str | None, aws_doc: str | None) -> Undocumented | None:
    """What a patch's account of AWS lacks: a behaviour or an emulation says what AWS does, and links the
    AWS page that says so; a cost changes no behaviour, so it needs neither."""
    if kind is Kind.COST:
        return None
    if not aws:
        return Undocumented("aws", "what AWS does is missing")
    if not (aws_doc or "").startswith(AWS_DOCS):
        return Undocumented("aws_doc", "the AWS documentation it follows is missing")
    return None


class Declaration(BaseModel):
    """A table of ``patches.toml``: the words of a patch, which its module binds to code by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    moto: str
    closed_by: str
    aws: str | None = None
    aws_doc: str | None = None
    implemented_in: str | None = None
    needs: tuple[str, ...] = ()


def load_declarations(text: str) -> dict[str, Declaration]:
    """The tables of a ``patches.toml``, by patch name, in file order; a ValueError naming the patch and
    the field when one is malformed."""
    declarations: dict[str, Declaration] = {}
    for name, table in tomllib.loads(text).items():
        if not isinstance(table, dict):
            raise ValueError(f"{DECLARATIONS_FILE}: {name!r} is not a table ([{name}])")
        try:
            declaration = Declaration.model_validate(table)
        except ValidationError as error:
            fields = "; ".join(
                f"{'.'.join(map(str, detail['loc']))}: {detail['msg']}" for detail in error.errors()
            )
            raise ValueError(f"{DECLARATIONS_FILE} [{name}] {fields}") from None
        if missing := undocumented(declaration.kind, declaration.aws, declaration.aws_doc):
            raise ValueError(f"{DECLARATIONS_FILE} [{name}] {missing.field}: {missing.problem}")
        declarations[name] = declaration
    return declarations


DECLARATIONS = load_declarations(resources.files(__package__).joinpath(DECLARATIONS_FILE).read_text("utf-8"))


def declared(name: str, *, canary: Callable[[], None], apply: Apply | None = None) -> Patch:
    """The patch ``patches.toml`` declares under ``name``, bound to the code that applies it (none for an
    emulation) and to its canary."""
    if name not in DECLARATIONS:
        raise ValueError(f"declared({name!r}): {DECLARATIONS_FILE} has no [{name}] table")
    declaration = DECLARATIONS[name]
    return Patch(
        name=name,
        kind=declaration.kind,
        moto=declaration.moto,
        closed_by=declaration.closed_by,
        canary=canary,
        aws=declaration.aws,
        aws_doc=declaration.aws_doc,
        apply=apply,
        implemented_in=declaration.implemented_in,
        needs=declaration.needs,
    )


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


# --------------------------------------------------------------------------- the canaries' toolkit


def poll[Answer](
    probe: Callable[[], Answer],
    done: Callable[[Answer], bool],
    *,
    timeout: float = 10,
    give_up: str | None = None,
) -> Answer:
    """``probe`` every 50 ms until ``done`` accepts its answer or ``timeout`` seconds have passed: the last
    answer, or, given ``give_up`` (what never happened), a RuntimeError when the awaited one never came."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            if give_up is not None:
                raise RuntimeError(f"the canary's {give_up}")
            return answer
        time.sleep(0.05)


def refusal(call: Callable[[], object]) -> str | None:
    """The AWS error code a call answers, or None when moto accepts it."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def still_unimplemented(call: Callable[[], object], says: str) -> None:
    """The probe of an action moto lacks: in-process moto raises NotImplementedError (what its server
    answers as a 500) saying ``says``. Any answer, a result or an AWS error, means moto implements it now."""
    try:
        answer = call()
    except NotImplementedError as error:
        still(says in str(error), f"it failed otherwise: {error}")
    except ClientError as error:
        still(False, f"it answered {error.response['Error']['Code']}")
    else:
        still(False, f"it answered {answer}")


@dataclass(frozen=True)
class EventsQueue:
    """A queue that an EventBridge rule fills with the events of one source: what a canary sees announced."""

    sqs: SQSClient
    events: EventBridgeClient
    queue_url: str

    @classmethod
    def of_source(cls, session: boto3.session.Session, source: str) -> EventsQueue:
        sqs, events = session.client("sqs"), session.client("events")
        queue_url = sqs.create_queue(QueueName="canary")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="canary", EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule="canary", Targets=[{"Id": "queue", "Arn": queue_arn}])
        return cls(sqs, events, queue_url)

    def received(self, *, within: float) -> list[str]:
        """The bodies of the messages that arrive within ``within`` seconds (moto's queue does not long-poll)."""
        messages = poll(
            lambda: self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ),
            bool,
            timeout=within,
        )
        return [str(message["Body"]) for message in messages]

    def check_delivery(self, entry: PutEventsRequestEntryTypeDef) -> None:
        """An event of the source, put by hand, arrives: else the canary could not see moto announce one."""
        self.events.put_events(Entries=[entry])
        if not self.received(within=1.0):
            raise RuntimeError("the canary's rule delivers nothing: it cannot tell whether moto announces")
