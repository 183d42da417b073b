"""The embedded AWS: one process with moto's server, orgvend deployed in it from template.yaml.

Two deployments, as in AWS (README, *Deploying: single account or hub*):

- ``single`` (the default): the stack in the organization's management account.
- ``hub`` (``ORGVEND_MODE=hub make run``): a hub account, a member of the organization outside orgvend's
  scope (an Infrastructure OU), holds the stack; the management account holds management-role.yaml's stack
  (the role the hub's functions act through, and the rule forwarding Organizations' events to the hub).
"""

import json
import logging
import os
import re
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import boto3
from moto.awslambda.models import lambda_backends
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer
from moto.utilities.arns import parse_arn

from orgvend import aws
from orgvend_local import parity
from orgvend_local.api_server import LocalApi
from orgvend_local.provision import Deployment, Provisioner
from orgvend_local.template import PROJECT_ROOT, Template, parameter_overrides, template_parameters

REGION = "us-east-1"
MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default account: the organization's management account
DeploymentMode = Literal["single", "hub"]
DEPLOYMENT_MODES: tuple[DeploymentMode, ...] = ("single", "hub")
MODE_VARIABLE = "ORGVEND_MODE"
HUB_ACCOUNT_EMAIL = "aws+orgvend-hub@example.com"
STACK_NAME = "orgvend"
MANAGEMENT_STACK_NAME = "orgvend-management"
# The hub's own principal for the AWS CLI and the tests (moto knows an account by its access keys).
HUB_OPERATOR_USER = "orgvend-local-operator"
# What the tests and the CLI find in the management account in either mode (the organization, its people's
# access, budgets, costs, trails); everything else is the stack's, in the account that holds it.
MANAGEMENT_SIDE_SERVICES = frozenset(
    {"organizations", "sso-admin", "identitystore", "budgets", "ce", "billing", "account", "cloudtrail"}
)
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
# The services the emulator and the tests call through ``EmbeddedAws.client``.
EmulatedService = Literal[
    "budgets",
    "cloudtrail",
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "identitystore",
    "lambda",
    "logs",
    "organizations",
    "s3",
    "sns",
    "sqs",
    "sso-admin",
    "stepfunctions",
    "sts",
]
OPERATOR_INBOX = "orgvend-local-operator-inbox"
LOG_ARCHIVE_EMAIL = "aws+log-archive@example.com"
# The embedded Identity Store's groups: the agency's operators, and two clients' developers, for
# template.yaml's default AccessRules (agency-ops, {client}-developers, {client}-{project}-readonly).
IDENTITY_STORE_GROUPS = ("agency-ops", "acme-developers", "globex-developers", "acme-web-readonly")


@dataclass(frozen=True)
class OrganizationLayout:
    """The embedded organization, laid out like a real one: orgvend's scope beside what it must not touch."""

    root_id: str
    clients_ou_id: str  # orgvend's scope (ClientsParentOuId)
    security_ou_id: str  # outside the scope
    log_archive_account_id: str  # in Security: never adopted, tagged, moved, baselined or closed by orgvend
    organization_id: str = ""
    infrastructure_ou_id: str | None = None  # a hub deployment: holds the hub account, outside the scope
    hub_account_id: str | None = None


@dataclass(frozen=True)
class IdentityCenterLayout:
    """The organization's IAM Identity Center instance (moto makes one per account) and its groups."""

    instance_arn: str
    identity_store_id: str
    groups: dict[str, str]  # display name -> group ID

    @property
    def portal_url(self) -> str:
        return f"https://{self.identity_store_id}.awsapps.com/start"


@dataclass
class EmbeddedAws:
    """Start moto's server with Step Functions execution on, an Organization, and the stack from template.yaml.

    ``parameters`` override the template's defaults on top of samconfig.toml's
    ``local`` environment (short poll intervals so an onboarding takes seconds).
    """

    port: int = 4566
    host: str = "127.0.0.1"
    api_port: int | None = 3000
    creation_seconds: float = 2.0
    parameters: dict[str, str] = field(default_factory=dict)
    samconfig_environment: str = "local"
    mode: DeploymentMode = "single"

    def __post_init__(self) -> None:
        if self.mode not in DEPLOYMENT_MODES:
            raise ValueError(f"{MODE_VARIABLE}: {self.mode!r} is not one of {', '.join(DEPLOYMENT_MODES)}")
        self.endpoint_url = f"http://{self.host}:{self.port}"
        self.organizations_behaviour = parity.OrganizationsBehaviour(self.creation_seconds)
        self.lambdas = parity.InProcessLambda(self._function_runtime_environment())
        self.bridge = parity.EventBridgeBridge(self._invoke_function, self._start_execution)
        self.session = boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        )
        # The stack's account (the management account's session until a hub is made).
        self.stack_session = self.session
        self.stack_account_id = MANAGEMENT_ACCOUNT_ID
        self.hub_credentials: dict[str, str] | None = None
        self.deployment = Deployment()
        self.management_deployment: Deployment | None = (
            None  # management-role.yaml's stack, in a hub deployment
        )
        self.template: Template | None = None
        self._server: ThreadedMotoServer | None = None
        self.api: LocalApi | None = None
        self.layout: OrganizationLayout | None = None
        self.identity_center: IdentityCenterLayout | None = None

    def _function_runtime_environment(self) -> dict[str, str]:
        """What Lambda's runtime would set, pointed at this endpoint (boto3 honours AWS_ENDPOINT_URL)."""
        return {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": "local",
            # No X-Ray daemon runs here.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def _s3_control_on_the_endpoint(self, request: Any, **_: Any) -> None:
        """S3 Control's endpoint rules put the account ID in front of the host (``{AccountId}.s3-control.…``),
        the endpoint URL's too: a name nothing resolves locally. The request goes to the endpoint itself
        (moto finds the account in the ``x-amz-account-id`` header)."""
        request.url = re.sub(rf"//\d{{12}}\.{re.escape(self.host)}", f"//{self.host}", request.url, count=1)

    def client(self, service: EmulatedService) -> Any:
        """A client in the account that holds what ``service`` serves: the organization's services in the
        management account, the stack's in the account that holds the stack (the same one but in a hub)."""
        if service in MANAGEMENT_SIDE_SERVICES:
            return self.management_client(service)
        return self.stack_session.client(service, endpoint_url=self.endpoint_url)

    def management_client(self, service: EmulatedService) -> Any:
        """A client acting in the management account (moto's default identity there)."""
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def start(self) -> Deployment:
        # moto's Step Functions interpreter calls Lambda at localhost:MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        logging.getLogger("moto.stepfunctions").setLevel(
            logging.CRITICAL
        )  # it logs every failed task as an error
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # Powertools warns on every invocation that adds no metric; locally that drowns the logs.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        parity.apply_all(self)  # moto's classes are process-wide: one embedded AWS per process
        for session in (self.session, aws.session()):
            session.events.register("before-send.s3-control", self._s3_control_on_the_endpoint)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.client("organizations").create_organization(FeatureSet="ALL")
        self.layout = self._lay_out_organization()
        self.identity_center = self._lay_out_identity_center()
        overrides = {
            **parameter_overrides(PROJECT_ROOT / "samconfig.toml", self.samconfig_environment),
            "ClientsParentOuId": self.layout.clients_ou_id,
            "IdentityCenterInstanceArn": self.identity_center.instance_arn,
            "IdentityStoreId": self.identity_center.identity_store_id,
        }
        if self.mode == "hub":
            overrides["ManagementRoleArn"] = self._deploy_management_role({**overrides, **self.parameters})
        self.template = Template.load(
            stack_name=STACK_NAME,
            region=REGION,
            account_id=self.stack_account_id,
            endpoint_url=self.endpoint_url,
            overrides={**overrides, **self.parameters},
        )
        self.deployment = Provisioner(self.template, self.stack_session, self.lambdas).deploy()
        self._create_operator_inbox()
        if self.api_port is not None:
            self._serve_apis()
        return self.deployment

    def _lay_out_organization(self) -> OrganizationLayout:
        """A Clients OU (orgvend's scope) and, beside it, a Security OU holding a log-archive account."""
        organizations = self.client("organizations")
        root_id = organizations.list_roots()["Roots"][0]["Id"]
        clients = organizations.create_organizational_unit(ParentId=root_id, Name="Clients")
        security = organizations.create_organizational_unit(ParentId=root_id, Name="Security")
        security_ou_id = security["OrganizationalUnit"]["Id"]
        status = organizations.create_account(Email=LOG_ARCHIVE_EMAIL, AccountName="log-archive")
        request_id = status["CreateAccountStatus"]["Id"]
        while status["CreateAccountStatus"]["State"] == "IN_PROGRESS":
            time.sleep(0.1)
            status = organizations.describe_create_account_status(CreateAccountRequestId=request_id)
        account_id = status["CreateAccountStatus"]["AccountId"]
        organizations.move_account(
            AccountId=account_id, SourceParentId=root_id, DestinationParentId=security_ou_id
        )
        layout = OrganizationLayout(
            root_id=root_id,
            clients_ou_id=clients["OrganizationalUnit"]["Id"],
            security_ou_id=security_ou_id,
            log_archive_account_id=account_id,
            organization_id=organizations.describe_organization()["Organization"]["Id"],
        )
        if self.mode == "hub":
            infrastructure = organizations.create_organizational_unit(ParentId=root_id, Name="Infrastructure")
            infrastructure_ou_id = infrastructure["OrganizationalUnit"]["Id"]
            hub = self._create_member(HUB_ACCOUNT_EMAIL, "orgvend-hub", infrastructure_ou_id)
            layout = replace(layout, infrastructure_ou_id=infrastructure_ou_id, hub_account_id=hub)
            self._open_hub(hub)
        return layout

    def _create_member(self, email: str, name: str, parent_id: str) -> str:
        """An account of the organization (made by the management account), moved under ``parent_id``."""
        organizations = self.management_client("organizations")
        status = organizations.create_account(Email=email, AccountName=name)
        request_id = status["CreateAccountStatus"]["Id"]
        while status["CreateAccountStatus"]["State"] == "IN_PROGRESS":
            time.sleep(0.1)
            status = organizations.describe_create_account_status(CreateAccountRequestId=request_id)
        account_id = str(status["CreateAccountStatus"]["AccountId"])
        root_id = organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"]
        organizations.move_account(
            AccountId=account_id, SourceParentId=root_id, DestinationParentId=parent_id
        )
        return account_id

    def _open_hub(self, hub_account_id: str) -> None:
        """The hub's operator: an IAM user of the hub (made through the hub's OrganizationAccountAccessRole,
        as an administrator would sign in), whose keys act in the hub for the tests and the AWS CLI."""
        assumed = self.management_client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{hub_account_id}:role/OrganizationAccountAccessRole",
            RoleSessionName="orgvend-local-setup",
        )["Credentials"]
        iam = boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=assumed["AccessKeyId"],
            aws_secret_access_key=assumed["SecretAccessKey"],
            aws_session_token=assumed["SessionToken"],
        ).client("iam", endpoint_url=self.endpoint_url)
        iam.create_user(UserName=HUB_OPERATOR_USER)
        key = iam.create_access_key(UserName=HUB_OPERATOR_USER)["AccessKey"]
        self.hub_credentials = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        self.stack_session = boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        self.stack_account_id = hub_account_id
        self.stack_session.events.register("before-send.s3-control", self._s3_control_on_the_endpoint)

    def _deploy_management_role(self, hub_parameters: dict[str, str]) -> str:
        """management-role.yaml in the management account, for the hub: the role's ARN (its output)."""
        assert self.layout is not None and self.layout.hub_account_id is not None
        path = PROJECT_ROOT / "management-role.yaml"
        values = {
            **hub_parameters,
            "HubAccountId": self.layout.hub_account_id,
            "HubStackName": STACK_NAME,
            "OrganizationId": self.layout.organization_id,
        }
        template = Template.load(
            path,
            stack_name=MANAGEMENT_STACK_NAME,
            region=REGION,
            account_id=MANAGEMENT_ACCOUNT_ID,
            endpoint_url=self.endpoint_url,
            overrides={name: value for name, value in values.items() if name in template_parameters(path)},
        )
        self.management_deployment = Provisioner(template, self.session, self.lambdas).deploy()
        return self.management_deployment.outputs["ManagementRoleArn"]

    def _lay_out_identity_center(self) -> IdentityCenterLayout:
        """The instance moto has for the management account, and the groups the access rules name."""
        instance = self.client("sso-admin").list_instances()["Instances"][0]
        identity_store = self.client("identitystore")
        groups = {
            name: identity_store.create_group(IdentityStoreId=instance["IdentityStoreId"], DisplayName=name)[
                "GroupId"
            ]
            for name in IDENTITY_STORE_GROUPS
        }
        return IdentityCenterLayout(
            instance_arn=instance["InstanceArn"], identity_store_id=instance["IdentityStoreId"], groups=groups
        )

    def _serve_apis(self) -> None:
        """The template's REST API on api_port; its URL output then points here."""
        assert self.template is not None
        for logical_id in self.template.enabled_resources("AWS::Serverless::Api"):
            self.api = LocalApi(self.template, logical_id, self.host, int(self.api_port or 0))
            self.api.start()
            self.deployment.skipped.pop(logical_id, None)
            self.deployment.outputs["ApiUrl"] = self.api.url

    def _create_operator_inbox(self) -> None:
        """A queue subscribed to the operators' topic, so that the messages can be read locally."""
        sqs = self.client("sqs")
        queue_url = sqs.create_queue(QueueName=OPERATOR_INBOX)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.client("sns").subscribe(
            TopicArn=self.deployment.outputs["OperatorTopicArn"],
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        self.operator_inbox_url = queue_url

    def stop(self) -> None:
        if self.api:
            self.api.stop()
        if self._server:
            self._server.stop()

    # -- EventBridge targets ------------------------------------------------------

    def _invoke_function(self, arn: str, payload: dict[str, Any]) -> None:
        parts = parse_arn(arn)
        function = lambda_backends[parts.account][parts.region].get_function(arn)
        function.invoke(json.dumps(payload), {"x-amz-invocation-type": "Event"}, {})

    def _start_execution(self, arn: str, payload: dict[str, Any]) -> None:
        self.client("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps(payload))
