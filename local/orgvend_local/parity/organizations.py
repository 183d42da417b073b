"""Organizations as AWS runs it: account creation takes a while and can fail, closure takes a while,
the access role is an administrator, and a removal of a non-member names the account.

``OrganizationsBehaviour`` holds the state these patches share (creations in progress, closures)
and the knobs tests and benchmarks turn (creation latency, scripted creation states, AWS's quota
of creations in progress).
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, iam_backends
from moto.organizations import models as organizations_models
from moto.organizations.exceptions import (
    AccountAlreadyClosedException,
    AccountNotFoundException,
    ConstraintViolationException,
)
from moto.organizations.models import FakeAccount, OrganizationsBackend
from moto.organizations.utils import PAGINATION_MODEL, make_random_create_account_status_id
from moto.utilities.paginator import paginate

from orgvend_local.parity.patch import Emulator, Patcher, declared, refusal, still, stock_moto

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import CreateAccountStatusTypeDef

ADMINISTRATOR_ACCESS = "AdministratorAccess"
DEFAULT_ACCESS_ROLE = "OrganizationAccountAccessRole"
CANARY_EMAIL = "canary@example.com"


@dataclass
class PendingCreation:
    """One CreateAccount request, from the call until its end (and after: DescribeCreateAccountStatus)."""

    status_id: str
    account_name: str
    requested: float  # time.monotonic() of the call
    account: FakeAccount | None = None  # None when the creation fails
    failure_reason: str | None = None
    script: list[str] = field(default_factory=list)
    polls: int = 0
    outcome: str | None = None  # SUCCEEDED or FAILED, once it ended: it stays so, as in AWS
    management_account: str = ""
    ended: bool = False  # its end was announced to the listeners


class RateLimitExceeded(ConstraintViolationException):
    """AWS's answer when too many creations are in progress (its Reason says which limit)."""

    def __init__(self) -> None:
        super().__init__("You have exceeded the allowed number of accounts being created.")
        self.Reason = "ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"


class OrganizationsBehaviour:
    """AWS's asynchronous CreateAccount and CloseAccount on top of moto's synchronous ones.

    ``creation_seconds`` is how long a creation stays IN_PROGRESS. Tests can instead script the
    states that successive DescribeCreateAccountStatus calls return for the next creation of an
    email: ``script_creation(email, [...])``. ``on_creation_end`` is told when a creation ends.
    """

    def __init__(
        self, creation_seconds: float = 2.0, closure_seconds: float = 2.0, max_in_progress: int | None = None
    ) -> None:
        self.creation_seconds = creation_seconds
        # AWS's quota of creations in progress at once (about 5): None leaves it unenforced.
        self.max_in_progress = max_in_progress
        self.peak_in_progress = 0
        self.rate_limited = 0
        self.seen_in_progress: list[int] = []  # creations in progress at each CreateAccount call
        self.closure_seconds = closure_seconds
        self._closing: dict[str, float] = {}  # account ID → when CloseAccount was called
        self._scripts: dict[str, list[str]] = {}
        self._pending: dict[str, PendingCreation] = {}
        self._lock = threading.Lock()
        self.on_creation_end: list[Callable[[PendingCreation], None]] = []

    def script_creation(self, email: str, states: list[str]) -> None:
        """The next creation for ``email`` answers these states in turn (the last one repeats)."""
        self._scripts[email.lower()] = list(states)

    def finish(self, request_id: str) -> None:
        """End a scripted creation now, with the last state of its script."""
        with self._lock:
            pending = self._pending[request_id]
            pending.polls = len(pending.script)
            self._state(pending, time.monotonic())

    def in_progress(self) -> int:
        """Creations that have not finished yet (what AWS's concurrency quota counts)."""
        now = time.monotonic()
        with self._lock:
            return sum(
                1
                for pending in self._pending.values()
                if self._state(pending, now, peek=True) == "IN_PROGRESS"
            )

    def _state(self, pending: PendingCreation, now: float, *, peek: bool = False) -> str:
        if pending.outcome is not None:
            return pending.outcome
        if pending.script:
            state = pending.script[min(pending.polls, len(pending.script) - 1)]
            if not peek:
                pending.polls += 1
        else:
            state = "IN_PROGRESS" if now - pending.requested < self.creation_seconds else "SUCCEEDED"
        if state != "IN_PROGRESS":
            pending.outcome = "FAILED" if pending.account is None else state
            if pending.outcome == "FAILED" and pending.failure_reason is None:
                pending.failure_reason = "INTERNAL_FAILURE"
            if not pending.ended:
                pending.ended = True
                threading.Thread(target=self._tell_ended, args=(pending,), daemon=True).start()
        return state

    def _tell_ended(self, pending: PendingCreation) -> None:
        for listener in list(self.on_creation_end):
            listener(pending)

    def _end_on_time(self, pending: PendingCreation) -> None:
        """A creation with a latency ends by itself (and is announced), whether or not anyone polls."""
        with self._lock:
            self._state(pending, time.monotonic(), peek=True)

    def create_account(
        self, original: Callable[..., dict[str, Any]], backend: OrganizationsBackend, **kwargs: Any
    ) -> dict[str, Any]:
        in_progress = self.in_progress()
        self.seen_in_progress.append(in_progress)
        if self.max_in_progress is not None and in_progress >= self.max_in_progress:
            self.rate_limited += 1
            raise RateLimitExceeded
        script = self._scripts.pop(kwargs["Email"].lower(), [])
        status = original(backend, **kwargs)["CreateAccountStatus"]
        if status["State"] == "FAILED":  # refused before anything was created (EMAIL_ALREADY_EXISTS)
            pending = PendingCreation(
                status_id=status["Id"],
                account_name=kwargs["AccountName"],
                requested=time.monotonic(),
                failure_reason=status.get("FailureReason"),
                script=[state if state != "SUCCEEDED" else "FAILED" for state in script] or ["FAILED"],
            )
        else:
            account = backend.get_account_by_id(status["AccountId"])
            pending = PendingCreation(
                status_id=status["Id"],
                account_name=account.name,
                requested=time.monotonic(),
                account=account,
                script=script,
            )
        pending.management_account = backend.account_id
        with self._lock:
            self._pending[pending.status_id] = pending
        if not pending.script:
            timer = threading.Timer(self.creation_seconds, self._end_on_time, args=(pending,))
            timer.daemon = True
            timer.start()
        self.peak_in_progress = max(self.peak_in_progress, self.in_progress())
        return {"CreateAccountStatus": self._describe(pending, peek=True)}

    def _describe(self, pending: PendingCreation, *, peek: bool = False) -> dict[str, Any]:
        state = self._state(pending, time.monotonic(), peek=peek)
        requested = datetime.now(UTC).timestamp() - (time.monotonic() - pending.requested)
        status: dict[str, Any] = {
            "Id": pending.status_id,
            "AccountName": pending.account_name,
            "State": state,
            "RequestedTimestamp": requested,
        }
        if state == "SUCCEEDED" and pending.account is not None:
            status["AccountId"] = pending.account.id
            status["CompletedTimestamp"] = datetime.now(UTC).timestamp()
        if state == "FAILED":
            status["FailureReason"] = pending.failure_reason
            status["CompletedTimestamp"] = datetime.now(UTC).timestamp()
        return status

    def describe_create_account_status(
        self, original: Callable[..., dict[str, Any]], backend: OrganizationsBackend, **kwargs: Any
    ) -> dict[str, Any]:
        pending = self._pending.get(kwargs["CreateAccountRequestId"])
        if pending is None:  # created before the patch, or in another way
            return original(backend, **kwargs)
        with self._lock:
            return {"CreateAccountStatus": self._describe(pending)}

    def is_hidden(self, account: FakeAccount) -> bool:
        """An account whose creation is still IN_PROGRESS is not yet a member in AWS, and one whose creation
        failed never is (moto made it at once; a script said it failed)."""
        now = time.monotonic()
        with self._lock:
            return any(
                pending.account is account and self._state(pending, now, peek=True) != "SUCCEEDED"
                for pending in self._pending.values()
            )

    def begin_closure(self, account: FakeAccount) -> None:
        if account.status in ("PENDING_CLOSURE", "SUSPENDED"):
            raise AccountAlreadyClosedException
        account.status = account.state = "PENDING_CLOSURE"
        self._closing[account.id] = time.monotonic()

    def settle_closure(self, account: FakeAccount) -> None:
        """A closure AWS accepted ``closure_seconds`` ago has suspended the account by now."""
        started = self._closing.get(account.id)
        if started is not None and time.monotonic() - started >= self.closure_seconds:
            account.status = account.state = "SUSPENDED"


def all_organizations_backends() -> list[OrganizationsBackend]:
    return [
        backend
        for account_backends in organizations_models.organizations_backends.values()
        for backend in account_backends.values()
    ]


def organization_of(account_id: str) -> str | None:
    """The ID of the organization the account is a member of."""
    for backend in all_organizations_backends():
        if backend.org is not None and any(account.id == account_id for account in backend.accounts):
            return str(backend.org.id)
    return None


def canary_organization(session: "boto3.session.Session") -> "OrganizationsClient":
    """An organization with all features in a canary's moto: its management account's client."""
    organizations = session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    return organizations


def create_canary_account(
    organizations: "OrganizationsClient", account_name: str = "canary"
) -> "CreateAccountStatusTypeDef":
    return organizations.create_account(Email=CANARY_EMAIL, AccountName=account_name)["CreateAccountStatus"]


# --------------------------------------------------------------------------- the access role


_administrator_access_data = json.loads(aws_managed_policies_data)[ADMINISTRATOR_ACCESS]


def attach_administrator_access(account_id: str, role_name: str) -> None:
    """AdministratorAccess alone, in the new account only (loading all 1,500 managed policies in every
    account would cost 0.1 s each)."""
    iam = iam_backends[account_id]["global"]
    policy = AWSManagedPolicy.from_data(
        ADMINISTRATOR_ACCESS, account_id, "global", _administrator_access_data
    )
    iam.managed_policies[policy.arn] = policy
    iam.attach_role_policy(policy.arn, role_name)


def apply_access_role_is_administrator(patcher: Patcher, _emulator: Emulator) -> None:
    @patcher.around(OrganizationsBackend, "create_account")
    def create_account(
        original: Callable[..., dict[str, Any]], backend: OrganizationsBackend, **kwargs: Any
    ) -> dict[str, Any]:
        result = original(backend, **kwargs)
        status = result["CreateAccountStatus"]
        if status.get("AccountId"):
            attach_administrator_access(status["AccountId"], kwargs.get("RoleName", DEFAULT_ACCESS_ROLE))
        return result


def canary_access_role_is_administrator() -> None:
    with stock_moto() as session:
        account_id = create_canary_account(canary_organization(session))["AccountId"]
        role = next(
            role
            for role in iam_backends[account_id]["global"].roles.values()
            if role.name == DEFAULT_ACCESS_ROLE
        )
        still(not role.managed_policies, f"the new role carries {sorted(role.managed_policies)}")


ACCESS_ROLE_IS_ADMINISTRATOR = declared(
    "organizations-access-role-administrator",
    apply=apply_access_role_is_administrator,
    canary=canary_access_role_is_administrator,
)


# --------------------------------------------------------------------------- duplicate emails


def apply_email_already_exists(patcher: Patcher, _emulator: Emulator) -> None:
    refused: dict[str, dict[str, Any]] = {}

    @patcher.around(OrganizationsBackend, "create_account")
    def create_account(
        original: Callable[..., dict[str, Any]], backend: OrganizationsBackend, **kwargs: Any
    ) -> dict[str, Any]:
        email = kwargs["Email"].lower()
        if any(
            account.email.lower() == email
            for organization in all_organizations_backends()
            for account in organization.accounts
        ):
            now = datetime.now(UTC).timestamp()
            status = {
                "Id": make_random_create_account_status_id(),
                "AccountName": kwargs["AccountName"],
                "State": "FAILED",
                "FailureReason": "EMAIL_ALREADY_EXISTS",
                "RequestedTimestamp": now,
                "CompletedTimestamp": now,
            }
            refused[status["Id"]] = status
            return {"CreateAccountStatus": dict(status)}
        return original(backend, **kwargs)

    @patcher.around(OrganizationsBackend, "describe_create_account_status")
    def describe_create_account_status(
        original: Callable[..., dict[str, Any]], backend: OrganizationsBackend, **kwargs: Any
    ) -> dict[str, Any]:
        status = refused.get(kwargs["CreateAccountRequestId"])
        if status is not None:
            return {"CreateAccountStatus": dict(status)}
        return original(backend, **kwargs)


def canary_email_already_exists() -> None:
    with stock_moto() as session:
        organizations = canary_organization(session)
        create_canary_account(organizations, "first")
        second = create_canary_account(organizations, "second")
        same_email = [
            account
            for account in organizations.list_accounts()["Accounts"]
            if account["Email"] == CANARY_EMAIL
        ]
        still(
            second["State"] == "SUCCEEDED" and len(same_email) == 2,
            f"a second creation with the same email answered {second}",
        )


EMAIL_ALREADY_EXISTS = declared(
    "organizations-email-already-exists", apply=apply_email_already_exists, canary=canary_email_already_exists
)


# --------------------------------------------------------------------------- asynchronous creation


def apply_asynchronous_creation(patcher: Patcher, emulator: Emulator) -> None:
    behaviour = emulator.organizations_behaviour
    patcher.around(OrganizationsBackend, "create_account")(behaviour.create_account)
    patcher.around(OrganizationsBackend, "describe_create_account_status")(
        behaviour.describe_create_account_status
    )

    def list_accounts(backend: OrganizationsBackend) -> list[dict[str, Any]]:
        visible = [account for account in backend.accounts if not behaviour.is_hidden(account)]
        return sorted((account.describe() for account in visible), key=lambda item: item["JoinedTimestamp"])

    # moto's own pagination, around the filtered list.
    patcher.replace(
        OrganizationsBackend, "list_accounts", paginate(pagination_model=PAGINATION_MODEL)(list_accounts)
    )


def canary_asynchronous_creation() -> None:
    with stock_moto() as session:
        state = create_canary_account(canary_organization(session))["State"]
        still(state == "SUCCEEDED", f"CreateAccount answered {state}")


ASYNCHRONOUS_CREATION = declared(
    "organizations-asynchronous-creation",
    apply=apply_asynchronous_creation,
    canary=canary_asynchronous_creation,
)


# --------------------------------------------------------------------------- closure


def apply_closure_takes_time(patcher: Patcher, emulator: Emulator) -> None:
    behaviour = emulator.organizations_behaviour

    def close(account: FakeAccount) -> None:
        behaviour.begin_closure(account)

    patcher.replace(FakeAccount, "close", close)  # a function: moto calls it as the account's method

    @patcher.around(FakeAccount, "describe")
    def describe(original: Callable[[FakeAccount], dict[str, Any]], account: FakeAccount) -> dict[str, Any]:
        behaviour.settle_closure(account)
        return original(account)


def canary_closure_takes_time() -> None:
    with stock_moto() as session:
        organizations = canary_organization(session)
        account_id = create_canary_account(organizations)["AccountId"]
        organizations.close_account(AccountId=account_id)
        account_status = organizations.describe_account(AccountId=account_id)["Account"]["Status"]
        still(account_status == "SUSPENDED", f"just after CloseAccount the account is {account_status}")


CLOSURE_TAKES_TIME = declared(
    "organizations-closure-pending", apply=apply_closure_takes_time, canary=canary_closure_takes_time
)


# --------------------------------------------------------------------------- removal


def apply_removal_of_non_member(patcher: Patcher, _emulator: Emulator) -> None:
    @patcher.around(OrganizationsBackend, "remove_account_from_organization")
    def remove_account_from_organization(
        original: Callable[..., None], backend: OrganizationsBackend, **kwargs: str
    ) -> None:
        if all(account.id != kwargs["AccountId"] for account in backend.accounts):
            raise AccountNotFoundException
        original(backend, **kwargs)


def canary_removal_of_non_member() -> None:
    with stock_moto() as session:
        organizations = canary_organization(session)
        code = refusal(lambda: organizations.remove_account_from_organization(AccountId="111122223333"))
        still(code == "AWSOrganizationsNotInUseException", f"the removal of a non-member answered {code}")


REMOVAL_OF_NON_MEMBER = declared(
    "organizations-remove-non-member", apply=apply_removal_of_non_member, canary=canary_removal_of_non_member
)
