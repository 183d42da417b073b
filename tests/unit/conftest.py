"""Fixtures of the unit tests: an in-process moto AWS, and every name taken from template.yaml.

orgvend's clients reach moto whatever is imported first: ``orgvend.aws`` makes its session on
first use, after moto (imported here) hooks botocore (tests/unit/test_lazy_session.py).
Powertools reads its environment when its objects are built (on import of
``orgvend.observability``), so that environment is set here, before any test
module is collected, and again for every test through monkeypatch.
"""

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# Powertools reads these when orgvend.observability builds its objects, which the orgvend imports below
# may do: set before them (a test file run alone would otherwise build Metrics without a namespace).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "orgvend")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Orgvend")

import boto3
import pytest
from moto import mock_aws

from orgvend import aws
from orgvend.models import Onboarding
from orgvend.organizations import Scope
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore, creation_slots
from orgvend.settings import Settings
from orgvend_local.template import PROJECT_ROOT, Template, parameter_overrides

from .support import Calls, Inbox, function_environment, hooked_session

PLACEHOLDER_SCOPE = "ou-test-placeholder"
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "orgvend",
    "POWERTOOLS_METRICS_NAMESPACE": "Orgvend",
}
# Anything that could send a client elsewhere than moto (unset for each test).
UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION")
# Only defaults at import (other test directories may share the process); each test sets them all.
for _name, _value in ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)
# Arranging tests goes through a session of its own, kept for the whole run so that
# its loaded service models are reused (a fresh boto3 session loads them again).
SETUP_SESSION = boto3.session.Session(region_name="us-east-1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "aws_managed_policies: moto loads the AWS managed IAM policies (slow: about 1 s an account)",
    )


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    aws.reset()
    yield
    aws.reset()
    from orgvend.observability import metrics  # noqa: PLC0415 (imported once the environment is set)

    metrics.clear_metrics()


@pytest.fixture(scope="session")
def template() -> Template:
    """template.yaml with samconfig.toml's local overrides (allowed email domains, operators), as on make run.

    ClientsParentOuId is each test's own Clients OU (the ``organization`` fixture puts it in the
    environment), as make run's is known only once its organization exists.
    """
    overrides = parameter_overrides(PROJECT_ROOT / "samconfig.toml", "local")
    # A well-formed scope for the functions' settings; a test's own organization replaces it.
    return Template.load(overrides={**overrides, "ClientsParentOuId": PLACEHOLDER_SCOPE})


@pytest.fixture
def moto_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def setup_client(moto_aws: None) -> Callable[..., Any]:
    """Clients for arranging a test, outside orgvend's session (so its hooks never see them)."""

    def make(service: str, **kwargs: Any) -> Any:
        return SETUP_SESSION.client(service, **kwargs)

    return make


@pytest.fixture
def set_function_environment(
    monkeypatch: pytest.MonkeyPatch, template: Template
) -> Callable[[str], dict[str, str]]:
    """Give the process the environment template.yaml gives one function.

    Cached clients are kept: none of these variables changes how a client is built
    (so a Stubber on ``aws.client(...)`` stays in place for the handler).
    """

    def apply(logical_id: str) -> dict[str, str]:
        variables = function_environment(template, logical_id)
        for name, value in variables.items():
            if name == "CLIENTS_PARENT_OU_ID" and os.environ.get(name):
                continue  # the test's organization's scope (see ``template``)
            monkeypatch.setenv(name, value)
        return variables

    return apply


@pytest.fixture
def settings_for(set_function_environment: Callable[[str], dict[str, str]]) -> Callable[[str], Settings]:
    def settings(logical_id: str) -> Settings:
        set_function_environment(logical_id)
        return Settings.from_environment()

    return settings


@pytest.fixture
def session_calls() -> Iterator[Calls]:
    """Every operation of every orgvend client built during the test (clients made per call too)."""
    calls = Calls()
    with hooked_session("before-parameter-build", calls):
        yield calls


# --------------------------------------------------------------------------- registry


@pytest.fixture
def table_name(setup_client: Callable[..., Any], template: Template) -> str:
    """The registry table, made from template.yaml's RegistryTable definition."""
    properties = template.resources["RegistryTable"]["Properties"]
    name = template.physical_name("RegistryTable")
    setup_client("dynamodb").create_table(
        TableName=name,
        **{
            key: properties[key]
            for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        },
    )
    return name


@pytest.fixture
def dynamodb(moto_aws: None) -> Any:
    return aws.client("dynamodb")


@pytest.fixture
def registry(dynamodb: Any, table_name: str) -> Registry:
    return Registry(dynamodb, table_name)


@pytest.fixture
def slots(dynamodb: Any, table_name: str) -> Semaphore:
    """The account-creation semaphore, in the registry table (as the functions build it)."""
    return creation_slots(dynamodb, table_name)


@pytest.fixture
def table_items(setup_client: Callable[..., Any], table_name: str) -> Callable[[], list[dict[str, Any]]]:
    """Everything in the registry table (the test's own Scan, outside orgvend's session)."""

    def items() -> list[dict[str, Any]]:
        return setup_client("dynamodb").scan(TableName=table_name, ConsistentRead=True)["Items"]

    return items


# --------------------------------------------------------------------------- organization


@dataclass
class Organization:
    management_account_id: str
    root_id: str
    clients_ou_id: str  # orgvend's scope (ClientsParentOuId)
    security_ou_id: str  # beside it, outside the scope


@pytest.fixture
def organization(setup_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Organization:
    """An organization laid out like make run's: a Clients OU (orgvend's scope) and a Security OU beside it."""
    organizations = setup_client("organizations")
    details = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    clients = organizations.create_organizational_unit(ParentId=root_id, Name="Clients")["OrganizationalUnit"]
    security = organizations.create_organizational_unit(ParentId=root_id, Name="Security")[
        "OrganizationalUnit"
    ]
    monkeypatch.setenv("CLIENTS_PARENT_OU_ID", clients["Id"])
    return Organization(details["MasterAccountId"], root_id, clients["Id"], security["Id"])


@pytest.fixture
def organizations(moto_aws: None, organization: Organization) -> Any:
    """orgvend's Organizations client (its session, its retry config)."""
    return aws.client("organizations")


@pytest.fixture
def scope(organizations: Any, organization: Organization) -> Scope:
    """orgvend's managed scope: the Clients OU's subtree, through orgvend's client."""
    return Scope(organizations, organization.clients_ou_id)


@pytest.fixture
def create_member(setup_client: Callable[..., Any], organization: Organization) -> Callable[..., str]:
    """A member account made by moto's CreateAccount (SUCCEEDED at once), with its access role, moved into
    ``parent`` (default: the Clients OU, orgvend's scope; the root or the Security OU put it outside)."""

    def create(
        email: str,
        name: str = "member",
        role_name: str = "OrganizationAccountAccessRole",
        parent: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        organizations = setup_client("organizations")
        status = organizations.create_account(
            Email=email,
            AccountName=name,
            RoleName=role_name,
            Tags=[{"Key": key, "Value": value} for key, value in (tags or {}).items()],
        )["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        destination = parent or organization.clients_ou_id
        if destination != organization.root_id:
            organizations.move_account(
                AccountId=account_id, SourceParentId=organization.root_id, DestinationParentId=destination
            )
        return account_id

    return create


# --------------------------------------------------------------------------- onboardings


@pytest.fixture
def default_role_name(template: Template) -> str:
    return template.parameters["AccessRoleNames"].split(",")[0]


@pytest.fixture
def execution_arn(template: Template) -> Callable[[str], str]:
    state_machine_arn = template.arn("OnboardAccountStateMachine")

    def arn(name: str) -> str:
        return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"

    return arn


@pytest.fixture
def make_onboarding(execution_arn: Callable[[str], str], default_role_name: str) -> Callable[..., Onboarding]:
    """An Onboarding as RecordRequest resolves it; keyword arguments change any field."""

    def make(**changes: Any) -> Onboarding:
        onboarding_id = changes.pop("onboarding_id", f"onb-{uuid.uuid4().hex[:12]}")
        client, project = changes.get("client", "acme"), changes.get("project", "web")
        fields: dict[str, Any] = {
            "onboarding_id": onboarding_id,
            "execution_arn": execution_arn(onboarding_id),
            "started_at": datetime.now(UTC) - timedelta(minutes=1),
            "mode": "create",
            "client": client,
            "project": project,
            "email": f"{onboarding_id}@example.com",
            "account_name": f"{client}-{project}",
            "role_name": default_role_name,
            "tags": {"client": client, "project": project},
            "iam_user_access_to_billing": "DENY",
        }
        fields.update(changes)
        return Onboarding(**fields)

    return make


@pytest.fixture
def opened_onboarding(
    registry: Registry, make_onboarding: Callable[..., Onboarding]
) -> Callable[..., Onboarding]:
    """An onboarding that RecordRequest has recorded (it owns its email in the registry)."""

    def open_(**changes: Any) -> Onboarding:
        onboarding = make_onboarding(**changes)
        registry.open_onboarding(onboarding)
        return onboarding

    return open_


# --------------------------------------------------------------------------- operators and events


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


@pytest.fixture
def operator_inbox(setup_client: Callable[..., Any], template: Template) -> Inbox:
    """template.yaml's OperatorTopic, with a queue subscribed to it."""
    sns, sqs = setup_client("sns"), setup_client("sqs")
    topic_arn = sns.create_topic(Name=template.physical_name("OperatorTopic"))["TopicArn"]
    assert topic_arn == template.ref("OperatorTopic")
    url, queue_arn = _queue(sqs, "operator-inbox")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Inbox(sqs, url)


@pytest.fixture
def event_inbox(setup_client: Callable[..., Any], template: Template) -> Inbox:
    """A rule on the event bus the functions use, for orgvend's events, with a queue target."""
    variables = function_environment(template, "NotifyOnboardedFunction")
    events, sqs = setup_client("events"), setup_client("sqs")
    url, queue_arn = _queue(sqs, "event-inbox")
    events.put_rule(
        Name="orgvend-events",
        EventBusName=variables["EVENT_BUS_NAME"],
        EventPattern=json.dumps({"source": [variables["EVENT_SOURCE"]]}),
    )
    events.put_targets(
        Rule="orgvend-events",
        EventBusName=variables["EVENT_BUS_NAME"],
        Targets=[{"Id": "inbox", "Arn": queue_arn}],
    )
    return Inbox(sqs, url)
