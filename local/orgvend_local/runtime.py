"""The embedded AWS: one process with moto's server, orgvend deployed in it from template.yaml."""

import json
import logging
import os
import re
import time
import warnings
from dataclasses import dataclass, field
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
from orgvend_local.template import PROJECT_ROOT, Template, parameter_overrides

REGION = "us-east-1"
MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default account: the organization's management account
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

    def __post_init__(self) -> None:
        self.endpoint_url = f"http://{self.host}:{self.port}"
        self.organizations_behaviour = parity.OrganizationsBehaviour(self.creation_seconds)
        self.lambdas = parity.InProcessLambda(self._function_runtime_environment())
        self.bridge = parity.EventBridgeBridge(self._invoke_function, self._start_execution)
        self.session = boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        )
        self.deployment = Deployment()
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
        self.template = Template.load(
            stack_name="orgvend",
            region=REGION,
            account_id=MANAGEMENT_ACCOUNT_ID,
            endpoint_url=self.endpoint_url,
            overrides={**overrides, **self.parameters},
        )
        self.deployment = Provisioner(self.template, self.session, self.lambdas).deploy()
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
        return OrganizationLayout(
            root_id=root_id,
            clients_ou_id=clients["OrganizationalUnit"]["Id"],
            security_ou_id=security_ou_id,
            log_archive_account_id=account_id,
        )

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
