"""Where moto differs from AWS in ways orgvend depends on, make moto behave like AWS.

Each patch is listed in README.md ("Architecture: the embedded AWS"). The product
code is never bent to fit moto; moto is taught the AWS behaviour instead.

1. Organizations CreateAccount is asynchronous in AWS: the status stays
   IN_PROGRESS (with no AccountId) for a while. moto answers SUCCEEDED at once.
   ``OrganizationsBehaviour`` keeps each creation IN_PROGRESS for a latency, or
   follows a scripted sequence of states for the tests.
2. AWS refuses a second account with the same email (FAILED,
   EMAIL_ALREADY_EXISTS); moto creates it. And CloseAccount leaves an account
   PENDING_CLOSURE for a while before SUSPENDED; moto suspends it at once.
3. In AWS the role CreateAccount makes carries the AWS managed policy
   AdministratorAccess; moto makes it with no policy, and loads no AWS managed
   policies unless told to load all 1,500 of them in every account (0.1 s per
   account). The patch adds AdministratorAccess alone and attaches it.
4. StartExecution without a name: AWS names the execution with a UUID; moto's
   interpreter names it "None". And ``$$.Execution.StartTime`` is an ISO 8601
   string in AWS, a datetime object in moto (which then fails to serialise).
5. Step Functions announces execution status changes on EventBridge
   ("Step Functions Execution Status Change"); moto does not.
6. EventBridge delivers to Lambda functions and Step Functions state machines;
   moto delivers only to queues, logs, buses and archives. ``EventBridgeBridge``
   adds those two target kinds, for every rule, with moto's own pattern matching.
7. RedriveExecution continues a FAILED, TIMED_OUT or ABORTED execution from the
   state that failed; moto does not implement it. ``redrive.py`` adds it on
   moto's interpreter (same execution, history continued after
   ``ExecutionRedriven``), and the redrive fields of DescribeExecution; the
   status change events carry the execution's ``redriveCount``.
8. STS AssumeRole is decided by the role's trust policy in AWS (and a role that
   does not exist is AccessDenied); moto hands out credentials for any role ARN.
   The patch evaluates the trust policy for the caller (principal, aws:PrincipalArn
   and the other conditions orgvend's trust uses), so the narrowed trust of an
   access role admits orgvend's functions and the operators, and refuses the rest.
9. IAM ListOrganizationsFeatures (is centralised root access on?) is not
   implemented by moto; the embedded organization answers "no features", as a
   new organization does.
10. RemoveAccountFromOrganization of an account that is no longer a member
   answers AccountNotFoundException in AWS; moto answers
   AWSOrganizationsNotInUseException ("your account is not a member").
11. A task token is good for one answer while its task waits. In AWS, SendTaskSuccess
   with the token of a task that has ended (answered, timed out) fails with
   TaskTimedOut; moto's interpreter accepts it and drops it, so whoever sent it
   believes it woke a workflow that was no longer waiting.
12. Organizations announces the end of an account creation on EventBridge
   (``CreateAccountResult``, "AWS Service Event via CloudTrail", us-east-1)
   when a CloudTrail trail is logging; moto announces nothing. The patch puts
   that event, in CloudTrail's shape, on the management account's default bus
   the moment a creation ends, if a trail logs there (none does by default,
   so tests that model accounts made before orgvend see no such event).
"""

import copy
import functools
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from moto import backends as moto_backends
from moto.cloudtrail.models import cloudtrail_backends
from moto.core.responses import ActionResult
from moto.events import models as events_models
from moto.events.models import events_backends
from moto.events.utils import EventMessageType, EventTemplateParser
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, iam_backends
from moto.iam.responses import IamResponse
from moto.organizations import models as organizations_models
from moto.organizations.exceptions import (
    AccountAlreadyClosedException,
    AccountNotFoundException,
    ConstraintViolationException,
)
from moto.organizations.models import PAGINATION_MODEL, FakeAccount, OrganizationsBackend
from moto.stepfunctions.exceptions import AWSError
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.states import ContextObject
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend import execution as sfn_execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.sts.exceptions import STSClientError
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse
from moto.utilities.arns import parse_arn
from moto.utilities.paginator import paginate

from orgvend_local.policy_evaluation import principal_context, trust_allows

LOG = logging.getLogger("orgvend_local")
ADMINISTRATOR_ACCESS = "AdministratorAccess"


# --------------------------------------------------------------------------- Organizations


@dataclass
class _PendingCreation:
    status_id: str
    account_name: str
    requested: float
    account: FakeAccount | None = None  # None when the creation fails
    failure_reason: str | None = None
    script: list[str] = field(default_factory=list)
    polls: int = 0
    completed: float | None = None
    management_account: str = ""
    announced: bool = False


class OrganizationsBehaviour:
    """AWS's asynchronous CreateAccount on top of moto's synchronous one.

    ``creation_seconds`` is how long a creation stays IN_PROGRESS. Tests can
    instead script the states that successive DescribeCreateAccountStatus calls
    return for the next creation of an email: ``script_creation(email, [...])``.
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
        self._pending: dict[str, _PendingCreation] = {}
        self._lock = threading.Lock()
        self.listeners: list[Callable[[str, FakeAccount], None]] = []

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

    def _state(self, pending: _PendingCreation, now: float, *, peek: bool = False) -> str:
        if pending.completed is not None:
            return "FAILED" if pending.account is None else "SUCCEEDED"
        if pending.script:
            state = pending.script[min(pending.polls, len(pending.script) - 1)]
            if not peek:
                pending.polls += 1
        else:
            state = "IN_PROGRESS" if now - pending.requested < self.creation_seconds else "SUCCEEDED"
        if state != "IN_PROGRESS":
            pending.completed = now
            if state == "FAILED" and pending.failure_reason is None:
                pending.failure_reason = "INTERNAL_FAILURE"
            if not pending.announced:
                pending.announced = True
                threading.Thread(target=self._announce, args=(pending,), daemon=True).start()
        return state

    def _end_on_time(self, pending: _PendingCreation) -> None:
        """A creation with a latency ends by itself (and is announced), whether or not anyone polls."""
        with self._lock:
            self._state(pending, time.monotonic(), peek=True)

    def _announce(self, pending: _PendingCreation) -> None:
        """Organizations' CreateAccountResult, as EventBridge delivers it from CloudTrail (patch 12)."""
        if not _trail_logs_us_east_1(pending.management_account):
            return
        succeeded = pending.account is not None
        status: dict[str, Any] = {
            "id": pending.status_id,
            "state": "SUCCEEDED" if succeeded else "FAILED",
            "accountName": "****",  # CloudTrail masks it
            "requestedTimestamp": cloudtrail_timestamp(
                datetime.now(UTC) - timedelta(seconds=time.monotonic() - pending.requested)
            ),
            "completedTimestamp": cloudtrail_timestamp(),
        }
        if succeeded and pending.account is not None:
            status["accountId"] = pending.account.id
        else:
            status["failureReason"] = pending.failure_reason
        entry = organizations_service_event(
            "CreateAccountResult", {"createAccountStatus": status}, pending.management_account
        )
        events_backends[pending.management_account]["us-east-1"].put_events([entry])

    def create_account(
        self, backend: OrganizationsBackend, original: Callable[..., dict[str, Any]], **kwargs: Any
    ) -> dict[str, Any]:
        in_progress = self.in_progress()
        self.seen_in_progress.append(in_progress)
        if self.max_in_progress is not None and in_progress >= self.max_in_progress:
            self.rate_limited += 1
            error = ConstraintViolationException(
                "You have exceeded the allowed number of accounts being created."
            )
            error.Reason = "ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"
            raise error
        email = kwargs["Email"].lower()
        script = self._scripts.pop(email, [])
        duplicate = any(
            account.email.lower() == email
            for organizations_backend in _all_organizations_backends()
            for account in organizations_backend.accounts
        )
        if duplicate:
            pending = _PendingCreation(
                status_id=organizations_models.utils.make_random_create_account_status_id(),
                account_name=kwargs["AccountName"],
                requested=time.monotonic(),
                failure_reason="EMAIL_ALREADY_EXISTS",
                script=[state if state != "SUCCEEDED" else "FAILED" for state in script] or ["FAILED"],
            )
        else:
            status = original(backend, **kwargs)["CreateAccountStatus"]
            account = backend.get_account_by_id(status["AccountId"])
            _attach_administrator_access(account.id, kwargs.get("RoleName", "OrganizationAccountAccessRole"))
            pending = _PendingCreation(
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

    def _describe(self, pending: _PendingCreation, *, peek: bool = False) -> dict[str, Any]:
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
        self, backend: OrganizationsBackend, original: Callable[..., dict[str, Any]], **kwargs: Any
    ) -> dict[str, Any]:
        pending = self._pending.get(kwargs["CreateAccountRequestId"])
        if pending is None:  # created before the patch, or in another way
            return original(backend, **kwargs)
        with self._lock:
            return {"CreateAccountStatus": self._describe(pending)}

    def is_hidden(self, account: FakeAccount) -> bool:
        """An account whose creation is still IN_PROGRESS is not yet a member in AWS."""
        now = time.monotonic()
        with self._lock:
            return any(
                pending.account is account and self._state(pending, now, peek=True) == "IN_PROGRESS"
                for pending in self._pending.values()
            )

    def install(self) -> None:
        behaviour = self
        original_create = OrganizationsBackend.create_account
        original_describe = OrganizationsBackend.describe_create_account_status

        def create_account(backend: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
            return behaviour.create_account(backend, original_create, **kwargs)

        def describe_create_account_status(backend: OrganizationsBackend, **kwargs: Any) -> dict[str, Any]:
            return behaviour.describe_create_account_status(backend, original_describe, **kwargs)

        def list_accounts(backend: OrganizationsBackend) -> list[Any]:
            visible = [account for account in backend.accounts if not behaviour.is_hidden(account)]
            return sorted(
                (account.describe() for account in visible), key=lambda item: item["JoinedTimestamp"]
            )

        original_describe_account = FakeAccount.describe

        def close(account: FakeAccount) -> None:
            if account.status in ("PENDING_CLOSURE", "SUSPENDED"):
                raise AccountAlreadyClosedException
            account.status = account.state = "PENDING_CLOSURE"
            behaviour._closing[account.id] = time.monotonic()

        def describe_account(account: FakeAccount) -> dict[str, Any]:
            started = behaviour._closing.get(account.id)
            if started is not None and time.monotonic() - started >= behaviour.closure_seconds:
                account.status = account.state = "SUSPENDED"
            return original_describe_account(account)

        original_remove = OrganizationsBackend.remove_account_from_organization

        def remove_account_from_organization(backend: OrganizationsBackend, **kwargs: str) -> None:
            if all(account.id != kwargs["AccountId"] for account in backend.accounts):
                raise AccountNotFoundException
            original_remove(backend, **kwargs)

        OrganizationsBackend.remove_account_from_organization = remove_account_from_organization
        FakeAccount.close = close
        FakeAccount.describe = describe_account
        OrganizationsBackend.create_account = create_account
        OrganizationsBackend.describe_create_account_status = describe_create_account_status
        # moto's own pagination, around the filtered list.
        OrganizationsBackend.list_accounts = paginate(pagination_model=PAGINATION_MODEL)(list_accounts)


def cloudtrail_timestamp(moment: datetime | None = None) -> str:
    """CloudTrail's service-event format, e.g. "May 15, 2023 8:26:54 AM" (no leading zero on the hour)."""
    moment = moment or datetime.now(UTC)
    return f"{moment:%b} {moment.day}, {moment:%Y} {int(moment.strftime('%I'))}:{moment:%M:%S %p}"


def organizations_service_event(
    event_name: str, service_event_details: dict[str, Any], account_id: str
) -> dict[str, Any]:
    """A PutEvents entry shaped like Organizations' "AWS Service Event via CloudTrail" events."""
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {"accountId": account_id, "invokedBy": "AWS Internal"},
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "organizations.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "AWS Internal",
        "userAgent": "AWS Internal",
        "requestParameters": None,
        "responseElements": None,
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "serviceEventDetails": service_event_details,
        "eventCategory": "Management",
    }
    return {
        "Source": "aws.organizations",
        "DetailType": "AWS Service Event via CloudTrail",
        "Detail": json.dumps(detail),
    }


def _trail_logs_us_east_1(account_id: str) -> bool:
    """A CloudTrail trail is logging in us-east-1 (where Organizations' events are) for the account."""
    return any(
        trail.status.is_logging
        for region, backend in cloudtrail_backends[account_id].items()
        for trail in backend.trails.values()
        if region == "us-east-1" or trail.is_multi_region
    )


def _all_organizations_backends() -> list[OrganizationsBackend]:
    backends: list[OrganizationsBackend] = []
    for account_backends in organizations_models.organizations_backends.values():
        backends.extend(account_backends.values())
    return backends


_administrator_access_data = json.loads(aws_managed_policies_data)[ADMINISTRATOR_ACCESS]


def _attach_administrator_access(account_id: str, role_name: str) -> None:
    iam = iam_backends[account_id]["global"]
    policy = AWSManagedPolicy.from_data(
        ADMINISTRATOR_ACCESS, account_id, "global", _administrator_access_data
    )
    iam.managed_policies[policy.arn] = policy
    iam.attach_role_policy(policy.arn, role_name)


# --------------------------------------------------------------------------- IAM


def organizations_features() -> None:
    """IAM ListOrganizationsFeatures answers in AWS; moto does not implement it (a 500).

    The embedded organization runs without centralised root access management,
    as a new AWS organization does: no features enabled.
    """

    def list_organizations_features(response: IamResponse) -> ActionResult:
        organization = organizations_models.organizations_backends[response.current_account]["aws"].org
        result: dict[str, Any] = {"EnabledFeatures": []}
        if organization is not None:
            result["OrganizationId"] = organization.id
        return ActionResult(result)

    IamResponse.list_organizations_features = list_organizations_features


# --------------------------------------------------------------------------- STS


# moto's identity for requests signed with keys it does not know (the AWS CLI with the test keys).
DEFAULT_IDENTITY = "user/moto"


def caller_principal_arn(response: TokenResponse) -> str:
    """The IAM ARN of who signed the request, as ``aws:PrincipalArn`` has it: a role (not its session) for
    assumed-role credentials, a user, or moto's default identity for keys it does not know."""
    access_key = response.get_access_key()
    account = response.current_account
    for backend in list(sts_backends.values()):
        assumed = backend["aws"].get_assumed_role_from_access_key(access_key)
        if assumed is not None:
            return str(assumed.role_arn)
    user = iam_backends[account]["global"].get_user_from_access_key_id(access_key)
    if user is not None:
        return str(user.arn)
    return f"arn:aws:iam::{account}:{DEFAULT_IDENTITY}"


def _organization_id(account_id: str) -> str | None:
    for backend in _all_organizations_backends():
        if backend.org is not None and any(account.id == account_id for account in backend.accounts):
            return str(backend.org.id)
    return None


def trust_policies_decide_assume_role() -> None:
    """AssumeRole is decided by the role's trust policy in AWS; moto hands out credentials for any role ARN,
    even one that does not exist.

    A role that does not exist: AccessDenied (an invited account has no access role unless someone made
    one). A role that does: its trust policy is evaluated for the caller (``policy_evaluation``: the
    principal, and conditions on ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``,
    ``sts:RoleSessionName``), and AccessDenied unless it admits the caller, as IAM answers it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
    The caller's own identity policy is not evaluated: moto enforces no identity policies.
    """
    original = TokenResponse.assume_role

    def assume_role(response: TokenResponse) -> Any:
        role_arn = response._get_param("RoleArn")
        session_name = response._get_param("RoleSessionName") or ""
        parts = parse_arn(role_arn)
        caller = caller_principal_arn(response)
        denied = STSClientError(
            "AccessDenied",
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        )
        if parts.service != "iam" or parts.resource_type != "role":
            raise denied
        role_name = parts.resource_id.rsplit("/", 1)[-1]
        role = next(
            (role for role in iam_backends[parts.account]["global"].roles.values() if role.name == role_name),
            None,
        )
        if role is None:
            raise denied
        caller_account = parse_arn(caller).account
        context = {
            **principal_context(caller, org_id=_organization_id(caller_account)),
            "sts:RoleSessionName": session_name,
        }
        if not trust_allows(role.assume_role_policy_document, caller, context):
            raise denied
        return original(response)

    TokenResponse.assume_role = assume_role


# --------------------------------------------------------------------------- Step Functions → EventBridge

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


def _millis(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def _announce(execution: Any) -> None:
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": execution.exec_status.value,
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "inputDetails": {"included": True},
        "output": json.dumps(execution.output) if execution.output is not None else None,
        "outputDetails": {"included": True} if execution.output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
        "redriveCount": getattr(execution, "redrive_count", 0),
    }
    events_backends[execution.account_id][execution.region_name].put_events(
        [
            {
                "Source": "aws.states",
                "DetailType": EXECUTION_STATUS_CHANGE,
                "Detail": json.dumps(detail),
                "Resources": [execution.exec_arn],
            }
        ]
    )


def name_unnamed_executions() -> None:
    """StartExecution without a name gets a UUID in AWS; moto's interpreter names it None."""
    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        backend: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution


class TaskTimedOut(AWSError):
    """What AWS answers to a token whose task has ended (moto's own classes for it cannot be raised:
    they lack the message its server's error path needs, and it answers 500)."""

    TYPE = "TaskTimedOut"
    STATUS = 400

    def __init__(self) -> None:
        super().__init__("Task Timed Out: 'Provided task does not exist anymore'")


def task_tokens_answer_once() -> None:
    """Once a ``.waitForTaskToken`` task has ended, its token answers TaskTimedOut, as in AWS."""
    ended: set[str] = set()
    original_update = ContextObject.update_task_token
    original_eval_body = StateTaskServiceCallback._eval_body
    original_send_task_success = StepFunctionsParserBackend.send_task_success

    def update_task_token(context_object: ContextObject) -> str:
        token = original_update(context_object)
        context_object.orgvend_last_task_token = token
        return token

    def _eval_body(state: StateTaskServiceCallback, env: Any) -> None:
        try:
            original_eval_body(state, env)
        finally:
            token = getattr(env.states.context_object, "orgvend_last_task_token", None)
            if token:
                ended.add(token)

    def send_task_success(backend: StepFunctionsParserBackend, task_token: str, outcome: str) -> Any:
        if task_token in ended:
            raise TaskTimedOut()
        return original_send_task_success(backend, task_token, outcome)

    ContextObject.update_task_token = update_task_token
    StateTaskServiceCallback._eval_body = _eval_body
    StepFunctionsParserBackend.send_task_success = send_task_success


def reuse_service_integration_clients() -> None:
    """Not a difference in behaviour, a cost: moto's interpreter builds a new boto3 client for every
    Task state it runs (``boto_client_for``, about 7 ms of CPU each, on the one core the whole
    embedded AWS shares). The clients are the same every time (fixed keys, this server's endpoint),
    and boto3 clients are thread-safe: one per region and service serves every call.
    """
    cached = functools.cache(boto_client.boto_client_for)

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return cached(region, service)  # moto ignores state_credentials as well

    # Modules imported later bind the patched function; those imported already are patched in place.
    for module in [boto_client, *list(sys.modules.values())]:
        name = getattr(module, "__name__", "")
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for


def reuse_parsed_definitions() -> None:
    """Also a cost, not a behaviour: moto's interpreter parses the state machine's definition again
    (ANTLR, in pure Python: a quarter of a second of CPU for orgvend's workflow) for every execution
    it starts or redrives. The parsed program is a tree of stateless components (an execution's state
    lives in its own ``Environment``): one parse per definition serves every execution. The heap
    keys those components give an environment are made stable and thread-safe (their identity)
    instead of random and lazily set, since executions now share the components.
    """

    @functools.lru_cache(maxsize=64)
    def program_of(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    def _get_evaluation_entrypoint(self: ExecutionWorker) -> Any:
        return program_of(self._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint
    EvalComponent.heap_key = property(lambda self: f"{type(self).__name__}-{id(self)}")


def list_moto_modules_once() -> None:
    """A cost too: moto's server lists its own package directory (a listdir and a stat per entry,
    about 1.4 ms) on every request to find the service a host names. The list never changes."""
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules


def iso_start_time_in_context_object() -> None:
    """``$$.Execution.StartTime`` is an ISO 8601 string in AWS; moto's interpreter puts a datetime there."""
    original = ExecutionWorker._get_evaluation_environment

    def _get_evaluation_environment(worker: Any) -> Any:
        environment = original(worker)
        execution = environment.states.context_object.context_object_data["Execution"]
        start: object = execution["StartTime"]  # typed str by moto, which puts a datetime there
        if isinstance(start, datetime):
            execution["StartTime"] = (
                start.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
        return environment

    ExecutionWorker._get_evaluation_environment = _get_evaluation_environment


def announce_execution_status_changes() -> None:
    original_terminated = sfn_execution.BaseExecutionWorkerCommunication.terminated
    original_start = sfn_execution.Execution.start

    def terminated(communication: Any) -> None:
        original_terminated(communication)
        _announce(communication.execution)

    def start(execution: Any) -> None:
        original_start(execution)
        _announce(execution)

    sfn_execution.BaseExecutionWorkerCommunication.terminated = terminated
    sfn_execution.Execution.start = start


# --------------------------------------------------------------------------- EventBridge → Lambda, Step Functions


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

    def install(self) -> None:
        bridge = self
        original = events_models.Rule.send_to_targets

        def send_to_targets(
            rule: Any, original_event: EventMessageType, transform_input: bool = True
        ) -> None:
            ours = [target for target in rule.targets if parse_arn(target["Arn"]).service in BRIDGED_SERVICES]
            if len(ours) < len(rule.targets):
                # moto raises on target kinds it does not know: hand it only the others.
                theirs = copy.copy(rule)
                theirs.targets = [target for target in rule.targets if target not in ours]
                original(theirs, original_event, transform_input)
            if ours and rule.state == "ENABLED" and rule.event_pattern.matches_event(original_event):
                bridge.deliver(rule, original_event)

        events_models.Rule.send_to_targets = send_to_targets

    def deliver(self, rule: Any, original_event: Mapping[str, Any]) -> None:
        event = dict(original_event)
        if isinstance(event.get("time"), int | float):  # moto keeps a number; AWS sends ISO 8601
            event["time"] = datetime.fromtimestamp(event["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event.pop("ingestion-time", None)
        for target in rule.targets:
            service = parse_arn(target["Arn"]).service
            if service not in BRIDGED_SERVICES:
                continue
            payload = _target_input(target, event)
            send = self._invoke_function if service == "lambda" else self._start_execution
            self.deliveries.append((rule.name, target["Arn"]))
            threading.Thread(target=self._send, args=(send, target["Arn"], payload), daemon=True).start()

    @staticmethod
    def _send(send: Callable[[str, dict[str, Any]], None], arn: str, payload: dict[str, Any]) -> None:
        try:
            send(arn, payload)
        except Exception:
            LOG.exception("EventBridge could not deliver to %s", arn)


def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
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
            event=cast(EventMessageType, event),  # moto's parser reads any event's paths
        )
    return event
