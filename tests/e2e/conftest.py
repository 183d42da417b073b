"""The embedded AWS for end-to-end tests: the real template, ASL and handlers on moto.

One runtime per test process (moto's backends are process-wide); each test uses
its own client/project/email so tests never see each other's accounts.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

# The handlers run in this process (the embedded AWS's Lambda shim): orgvend's modules a test imports
# first must see what Lambda would give them, or they keep what they saw (Powertools reads its
# environment when its objects are built).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "orgvend")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Orgvend")

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse
from moto.organizations.models import organizations_backends

from orgvend import aws
from orgvend_local.faults import FaultInjector
from orgvend_local.parity.sts import principal_of_request
from orgvend_local.runtime import (
    MANAGEMENT_SIDE_SERVICES,
    MODE_VARIABLE,
    DeploymentMode,
    EmbeddedAws,
    OrganizationLayout,
)

# The states an onboarding that creates an account passes through, one poll, in order: the spec the
# API's timeline and the execution history are both held to (written once).
CREATED_ACCOUNT_STATES = [
    "Configure",
    "RecordRequest",
    "CreateOrAdopt",
    "CreateAccount",
    "HasCreationSlot",
    "WaitForAccountCreation",
    "CheckAccountCreation",
    "IsAccountCreated",
    "PlaceAccount",
    "ApplyBaseline",
    "AssignAccess",
    "ApplySettings",
    "SetBillingPreferences",
    "CreateBudget",
    "RegisterAccount",
    "NotifyOnboarded",
    "Onboarded",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Harness:
    runtime: EmbeddedAws
    inbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, str]:
        return self.runtime.deployment.outputs

    @property
    def layout(self) -> OrganizationLayout:
        """The embedded organization: the Clients OU (orgvend's scope), the Security OU and its log archive."""
        assert self.runtime.layout is not None
        return self.runtime.layout

    def create_member(
        self, email: str, name: str = "member", *, parent: str | None = None, **arguments: Any
    ) -> tuple[str, str]:
        """An account made with the Organizations API, outside orgvend, then moved into ``parent`` (default:
        the Clients OU, orgvend's scope; the root stays where CreateAccount puts it): (request ID, account ID)."""
        organizations = self.client("organizations")
        request_id = organizations.create_account(Email=email, AccountName=name, **arguments)[
            "CreateAccountStatus"
        ]["Id"]

        def account_id() -> str | None:
            status = organizations.describe_create_account_status(CreateAccountRequestId=request_id)[
                "CreateAccountStatus"
            ]
            return status.get("AccountId") if status["State"] == "SUCCEEDED" else None

        account = str(self.eventually(account_id, what="account created"))
        destination = parent or self.layout.clients_ou_id
        if destination != self.layout.root_id:
            self.move_account(account, destination)
        return request_id, account

    def move_account(self, account_id: str, destination: str) -> None:
        organizations = self.client("organizations")
        source = organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"]
        organizations.move_account(
            AccountId=account_id, SourceParentId=source, DestinationParentId=destination
        )

    def parent_of(self, account_id: str) -> str:
        return str(self.client("organizations").list_parents(ChildId=account_id)["Parents"][0]["Id"])

    def client(self, service: str) -> Any:
        return self.runtime.client(service)

    def start(self, request: dict[str, Any]) -> str:
        return str(
            self.client("stepfunctions").start_execution(
                stateMachineArn=self.outputs["OnboardAccountStateMachineArn"], input=json.dumps(request)
            )["executionArn"]
        )

    def wait(self, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = sfn.describe_execution(executionArn=execution_arn)
            if execution["status"] != "RUNNING":
                return dict(execution)
            time.sleep(0.2)
        raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return list(self.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"])

    def registry_item(self, key: str, sort_key: str) -> dict[str, Any] | None:
        response = self.client("dynamodb").get_item(
            TableName=self.outputs["RegistryTableName"], Key={"pk": {"S": key}, "sk": {"S": sort_key}}
        )
        if "Item" not in response:
            return None
        deserializer = TypeDeserializer()
        return {name: deserializer.deserialize(value) for name, value in response["Item"].items()}

    def account_item(self, account_id: str) -> dict[str, Any] | None:
        return self.registry_item(f"ACCOUNT#{account_id}", "ACCOUNT")

    def onboarding_item(self, onboarding_id: str) -> dict[str, Any] | None:
        return self.registry_item(f"ONBOARDING#{onboarding_id}", "ONBOARDING")

    def eventually(self, probe: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"{what} not reached within {timeout} s")

    def operator_messages(self) -> list[dict[str, Any]]:
        """Every SNS message the operators' topic delivered so far (through the local inbox queue)."""
        sqs = self.client("sqs")
        while True:
            received = sqs.receive_message(QueueUrl=self.runtime.operator_inbox_url, MaxNumberOfMessages=10)
            messages = received.get("Messages", [])
            if not messages:
                return self.inbox
            for message in messages:
                self.inbox.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=self.runtime.operator_inbox_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def operator_message_about(self, text: str) -> dict[str, Any]:
        return self.eventually(
            lambda: next((m for m in self.operator_messages() if text in m["Message"]), None),
            what=f"an operator message mentioning {text}",
        )

    def cli_keys(self, service: str) -> dict[str, str]:
        """An operator's keys for ``service``: the management account's for the organization's services, the
        stack's account's for the rest (the hub's operator in a hub deployment)."""
        management = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        if service in MANAGEMENT_SIDE_SERVICES:
            return management
        return self.runtime.hub_credentials or management

    def aws_cli(self, *arguments: str) -> Any:
        """Run the AWS CLI installed in the venv against the embedded AWS; its JSON answer."""
        completed = subprocess.run(
            [
                str(Path(sys.executable).parent / "aws"),
                "--endpoint-url",
                self.runtime.endpoint_url,
                "--region",
                "us-east-1",
                *arguments,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env={**self.cli_keys(arguments[0]), "PATH": "/usr/bin:/bin"},
        )
        return json.loads(completed.stdout)

    def put_event(self, entry: dict[str, Any]) -> None:
        """An event where AWS puts it: an Organizations event on the management account's default bus (the
        stack's own in a single-account deployment; forwarded to the hub's in a hub deployment), any other
        on the default bus of the account holding the stack."""
        if entry.get("Source") == "aws.organizations":
            self.put_organizations_event(entry)
            return
        self.put_event_on_the_stack_bus(entry)

    def put_event_on_the_stack_bus(self, entry: dict[str, Any]) -> None:
        response = self.client("events").put_events(Entries=[entry])
        assert response["FailedEntryCount"] == 0, response

    def put_organizations_event(self, entry: dict[str, Any]) -> None:
        response = self.runtime.management_client("events").put_events(Entries=[entry])
        assert response["FailedEntryCount"] == 0, response

    def function_name(self, logical_id: str) -> str:
        assert self.runtime.template is not None
        return self.runtime.template.physical_name(logical_id)

    def invocations(self, logical_id: str) -> int:
        name = self.function_name(logical_id)
        return sum(1 for function, _, _ in self.runtime.lambdas.invocations if function == name)

    def invoke(self, logical_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Invoke a function of the stack through Lambda's API, as an operator would with the AWS CLI."""
        response = self.client("lambda").invoke(
            FunctionName=self.function_name(logical_id), Payload=json.dumps(payload)
        )
        result = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, result
        return dict(result)

    def executions_named(self, name: str) -> list[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("list_executions")
        arn = self.outputs["OnboardAccountStateMachineArn"]
        return [
            e
            for page in paginator.paginate(stateMachineArn=arn)
            for e in page["executions"]
            if e["name"] == name
        ]

    def offboarding_item(self, offboarding_id: str) -> dict[str, Any] | None:
        return self.registry_item(f"OFFBOARDING#{offboarding_id}", "OFFBOARDING")

    def backdate_account(self, account_id: str, age: timedelta) -> None:
        """Make the embedded Organizations say the account joined ``age`` earlier (a scripted world:
        AWS lets a created account leave only 4 days after its creation)."""
        for account_backends in organizations_backends.values():
            for backend in account_backends.values():
                for account in backend.accounts:
                    if account.id == account_id:
                        account.create_time -= age
                        return
        raise AssertionError(f"account {account_id} is not in the embedded Organizations")

    def member_iam(self, account_id: str, role_name: str = "OrganizationAccountAccessRole") -> Any:
        return self.member_client(account_id, "iam", role_name=role_name)

    def member_client(
        self,
        account_id: str,
        service: str,
        region: str | None = None,
        role_name: str = "OrganizationAccountAccessRole",
    ) -> Any:
        """A client of ``service`` acting in the member account through its access role (EC2 in ``region``)."""
        # As an operator of the management account (the access role's trust admits them in either mode).
        credentials = self.runtime.management_client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="e2e-check"
        )["Credentials"]
        return self.runtime.session.client(
            service,  # type: ignore[call-overload]
            region_name=region or self.runtime.session.region_name,
            endpoint_url=self.runtime.endpoint_url,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def deployment_mode() -> DeploymentMode:
    """The deployment the embedded AWS holds: ORGVEND_MODE (``make test`` runs the tests of
    test_deployment_modes.py once more with ``hub``)."""
    mode = os.environ.get(MODE_VARIABLE, "single")
    assert mode in ("single", "hub"), f"{MODE_VARIABLE}={mode!r}"
    return "hub" if mode == "hub" else "single"


@pytest.fixture(scope="session")
def embedded() -> Iterator[Harness]:
    runtime = EmbeddedAws(
        port=free_port(), api_port=free_port(), creation_seconds=1.0, mode=deployment_mode()
    )
    runtime.start()
    yield Harness(runtime)
    runtime.stop()


@pytest.fixture
def unique() -> str:
    """A short unique slug, so that each test has its own client, project and email."""
    return uuid.uuid4().hex[:8]


def request_for(unique: str, **overrides: Any) -> dict[str, Any]:
    return {"client": f"c{unique}", "project": "web", "email": f"aws+{unique}@example.com", **overrides}


@pytest.fixture
def faults() -> Iterator[FaultInjector]:
    injector = FaultInjector()
    yield injector
    injector.clear()


class FakeBilling:
    """Billing's RI_SHARING preferences, per account, as hooks answering the calls."""

    def __init__(self) -> None:
        self.sharing: dict[str, str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def remember(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["billing_params"] = dict(params)  # before-call sees only the serialised request
        with self._lock:
            self.calls.append((model.name, dict(params)))

    def answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        api_params = context["billing_params"]
        with self._lock:
            if model.name == "UpdateBillingPreferences":
                for preference in api_params["billingPreferencesPerKey"]:
                    self.sharing[preference["key"]] = preference["value"]
                parsed: dict[str, Any] = {}
            else:
                keys = api_params["filters"][0]["value"]
                parsed = {
                    "billingPreferences": [
                        {"feature": "RI_SHARING", "key": key, "value": self.sharing.get(key, "ENABLED")}
                        for key in keys
                    ]
                }
        return AWSResponse("https://billing.invalid", 200, {}, None), {
            **parsed,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def calls_for(self, account_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [(name, params) for name, params in self.calls if account_id in repr(params)]


@contextmanager
def hooked(hooks: list[tuple[str, Callable[..., Any]]]) -> Iterator[None]:
    for event_name, hook in hooks:
        aws.session().events.register(event_name, hook)
    aws.reset()
    try:
        yield
    finally:
        for event_name, hook in hooks:
            aws.session().events.unregister(event_name, hook)
        aws.reset()


@pytest.fixture
def billing() -> Iterator[FakeBilling]:
    fake = FakeBilling()
    with hooked([("before-parameter-build.billing", fake.remember), ("before-call.billing", fake.answer)]):
        yield fake


@dataclass
class OrgvendCalls:
    """The AWS calls orgvend's functions make (hooks on their session), and every error answered to them."""

    made: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (operation, error code)

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.made.append((model.name, dict(params)))

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if "Error" in parsed:
            self.refused.append((model.name, parsed["Error"].get("Code", "")))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.made if name == operation]


@pytest.fixture
def orgvend_calls() -> Iterator[OrgvendCalls]:
    calls = OrgvendCalls()
    with hooked([("before-parameter-build", calls.before), ("after-call", calls.after)]):
        yield calls


@dataclass
class CallsByPrincipal:
    """Every AWS request orgvend's functions send (hooks on their session), with who signs it: the IAM
    principal its access key belongs to (a role for an assumed role's session), as moto knows it."""

    made: list[tuple[str, str, str]] = field(default_factory=list)  # (service, operation, principal ARN)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Any, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.made.append((service, operation, principal_of_request(request)))

    def by_principal(self, services: frozenset[str] | None = None) -> dict[str, set[str]]:
        """Principal ARN → the "service.Operation" calls it made (of ``services`` only, when given)."""
        found: dict[str, set[str]] = {}
        for service, operation, principal in self.made:
            if services is None or service in services:
                found.setdefault(principal, set()).add(f"{service}.{operation}")
        return found


@pytest.fixture
def calls_by_principal() -> Iterator[CallsByPrincipal]:
    calls = CallsByPrincipal()
    with hooked([("before-send", calls.record)]):
        yield calls
