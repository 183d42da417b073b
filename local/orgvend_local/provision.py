"""Create in moto the resources that template.yaml declares, as CloudFormation would.

Resource types the embedded AWS has no use for (the layer: its package is
installed in the venv) are reported, not silently skipped.
"""

import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from orgvend_local.parity.lambda_runtime import InProcessLambda, LocalFunction
from orgvend_local.template import Template

NOT_EMULATED = {
    "AWS::KMS::Key": "moto accepts any key ID for SNS and SQS encryption; nothing is encrypted locally",
    "AWS::KMS::Alias": "see the key",
    "AWS::Serverless::LayerVersion": "its package is installed in the venv, where the handlers import it",
    "AWS::SQS::QueuePolicy": "moto does not enforce resource policies",
    "AWS::SNS::TopicPolicy": "moto does not enforce resource policies",
}
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
_STATES_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
_PLACEHOLDER_CODE = io.BytesIO()
with zipfile.ZipFile(_PLACEHOLDER_CODE, "w") as archive:
    archive.writestr("README", "The embedded AWS runs this function's handler in-process from its CodeUri.")


@dataclass
class Deployment:
    """What the local stack holds: physical IDs by logical ID, and the outputs."""

    physical_ids: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


class Provisioner:
    def __init__(self, template: Template, session: boto3.session.Session, lambdas: InProcessLambda) -> None:
        self.template = template
        self.lambdas = lambdas
        endpoint = template.endpoint_url
        self._client = lambda service: session.client(
            service, endpoint_url=endpoint, region_name=template.region
        )
        self.deployment = Deployment()

    def deploy(self) -> Deployment:
        steps = [
            ("AWS::IAM::ManagedPolicy", self._managed_policy),
            ("AWS::IAM::Role", self._iam_role),
            ("AWS::Events::EventBusPolicy", self._bus_policy),
            ("AWS::Events::Rule", self._events_rule),
            ("AWS::DynamoDB::Table", self._table),
            ("AWS::SNS::Topic", self._topic),
            ("AWS::SNS::Subscription", self._subscription),
            ("AWS::SQS::Queue", self._queue),
            ("AWS::S3::Bucket", self._bucket),
            ("AWS::S3::BucketPolicy", self._bucket_policy),
            ("AWS::Logs::LogGroup", self._log_group),
            ("AWS::Serverless::Function", self._function),
            ("AWS::Serverless::StateMachine", self._state_machine),
            ("AWS::CloudWatch::Alarm", self._alarm),
            ("AWS::CloudWatch::Dashboard", self._dashboard),
        ]
        handled = {resource_type for resource_type, _ in steps}
        for resource_type, create in steps:
            for logical_id, resource in self.template.enabled_resources(resource_type).items():
                create(logical_id, self.template.resolve(resource.get("Properties", {})))
        # Custom resources last, as CloudFormation creates them once what they refer to exists.
        for logical_id, resource in self.template.resources.items():
            if self.template.enabled(resource) and (
                resource["Type"].startswith("Custom::")
                or resource["Type"] == "AWS::CloudFormation::CustomResource"
            ):
                handled.add(resource["Type"])
                self._custom_resource(
                    logical_id, resource["Type"], self.template.resolve(resource["Properties"])
                )
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] not in handled and self.template.enabled(resource):
                self.deployment.skipped[logical_id] = NOT_EMULATED.get(
                    resource["Type"], f"{resource['Type']} is not emulated"
                )
        self.deployment.outputs = self.template.outputs()
        return self.deployment

    def _created(self, logical_id: str, physical_id: str) -> None:
        self.deployment.physical_ids[logical_id] = physical_id

    # -- one method per resource type ---------------------------------------------

    def _table(self, logical_id: str, properties: dict[str, Any]) -> None:
        arguments = {
            key: properties[key]
            for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            if key in properties
        }
        name = self.template.physical_name(logical_id)
        dynamodb = self._client("dynamodb")
        dynamodb.create_table(TableName=name, **arguments)
        if properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        self._created(logical_id, name)

    def _topic(self, logical_id: str, properties: dict[str, Any]) -> None:
        attributes = (
            {"KmsMasterKeyId": properties["KmsMasterKeyId"]} if "KmsMasterKeyId" in properties else {}
        )
        arn = self._client("sns").create_topic(
            Name=self.template.physical_name(logical_id), Attributes=attributes
        )["TopicArn"]
        self._created(logical_id, arn)

    def _subscription(self, logical_id: str, properties: dict[str, Any]) -> None:
        arn = self._client("sns").subscribe(
            TopicArn=properties["TopicArn"], Protocol=properties["Protocol"], Endpoint=properties["Endpoint"]
        )["SubscriptionArn"]
        self._created(logical_id, arn)

    def _queue(self, logical_id: str, properties: dict[str, Any]) -> None:
        attributes = {
            key: str(value)
            for key, value in properties.items()
            if key in ("MessageRetentionPeriod", "VisibilityTimeout", "SqsManagedSseEnabled")
        }
        url = self._client("sqs").create_queue(
            QueueName=self.template.physical_name(logical_id), Attributes=attributes
        )["QueueUrl"]
        self._created(logical_id, url)

    def _bucket(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The bucket with the template's encryption, versioning, public access block and lifecycle (moto
        keeps each; it enforces none but versioning)."""
        name = self.template.physical_name(logical_id)
        s3 = self._client("s3")
        s3.create_bucket(Bucket=name)  # us-east-1: no LocationConstraint
        if "BucketEncryption" in properties:
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                }
                for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "VersioningConfiguration" in properties:
            s3.put_bucket_versioning(
                Bucket=name,
                VersioningConfiguration={"Status": properties["VersioningConfiguration"]["Status"]},
            )
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in properties:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=properties["OwnershipControls"])
        if "LifecycleConfiguration" in properties:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration=_lifecycle(properties["LifecycleConfiguration"])
            )
        self._created(logical_id, name)

    def _bucket_policy(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The policy is kept (``s3api get-bucket-policy``); moto does not enforce it."""
        self._client("s3").put_bucket_policy(
            Bucket=properties["Bucket"], Policy=json.dumps(properties["PolicyDocument"])
        )
        self._created(logical_id, properties["Bucket"])

    def _log_group(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = self.template.physical_name(logical_id)
        logs = self._client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in properties:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(properties["RetentionInDays"]))
        self._created(logical_id, name)

    def _managed_policy(self, logical_id: str, properties: dict[str, Any]) -> None:
        arn = self._client("iam").create_policy(
            PolicyName=self.template.physical_name(logical_id),
            PolicyDocument=json.dumps(properties["PolicyDocument"]),
            Description=properties.get("Description", ""),
        )["Policy"]["Arn"]
        self._created(logical_id, arn)

    def _iam_role(self, logical_id: str, properties: dict[str, Any]) -> None:
        """A role of the template (management-role.yaml's): its trust, which STS decides on
        (``sts-assume-role-trust-policy``), and its inline policies, kept (moto does not enforce them)."""
        iam = self._client("iam")
        name = self.template.physical_name(logical_id)
        arn = iam.create_role(
            RoleName=name,
            Path=properties.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
            Description=properties.get("Description", ""),
            MaxSessionDuration=int(properties.get("MaxSessionDuration", 3600)),
        )["Role"]["Arn"]
        for policy in properties.get("Policies", []):
            iam.put_role_policy(
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )
        for policy_arn in properties.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        self._created(logical_id, arn)

    def _bus_policy(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The bus's resource policy statement, which the embedded EventBridge evaluates for senders of other
        accounts (``eventbridge-cross-account-bus-policy``)."""
        statement = {"Sid": properties["StatementId"], **properties["Statement"]}
        self._client("events").put_permission(
            EventBusName=properties.get("EventBusName", "default"),
            Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
        self._created(logical_id, properties["StatementId"])

    def _events_rule(self, logical_id: str, properties: dict[str, Any]) -> None:
        """A rule of the template with its targets (their roles too: a bus of another account admits the role)."""
        events = self._client("events")
        name = self.template.physical_name(logical_id)
        bus = properties.get("EventBusName", "default")
        rule: dict[str, Any] = {
            "Name": name,
            "EventBusName": bus,
            "State": properties.get("State", "ENABLED"),
        }
        if "EventPattern" in properties:
            rule["EventPattern"] = json.dumps(properties["EventPattern"])
        if "ScheduleExpression" in properties:
            rule["ScheduleExpression"] = properties["ScheduleExpression"]
        events.put_rule(**rule)
        targets = [
            {
                key: value
                for key, value in target.items()
                if key in ("Id", "Arn", "RoleArn", "Input", "InputPath")
            }
            for target in properties.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self._created(logical_id, name)

    def _role(self, name: str, trust: dict[str, Any], policies: list[Any], path: str = "/") -> str:
        """The function's or state machine's role, with its inline statements (moto does not enforce them)
        and the managed policies it names (by ARN)."""
        iam = self._client("iam")
        arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        for policy in policies:
            if isinstance(policy, str) and policy.startswith("arn:"):
                iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        statements = [
            statement
            for policy in policies
            if isinstance(policy, dict)
            for statement in policy.get("Statement", [])
        ]
        if statements:
            iam.put_role_policy(
                RoleName=name,
                PolicyName="inline",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            )
        return str(arn)

    def _function(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = self.template.physical_name(logical_id)
        role_arn = self._role(
            f"{name}-role", _LAMBDA_TRUST, properties.get("Policies", []), properties.get("RolePath", "/")
        )
        environment = {
            key: str(value) for key, value in properties.get("Environment", {}).get("Variables", {}).items()
        }
        arn = self._client("lambda").create_function(
            FunctionName=name,
            Runtime=properties["Runtime"],
            Role=role_arn,
            Handler=properties["Handler"],
            Code={"ZipFile": _PLACEHOLDER_CODE.getvalue()},
            Timeout=int(properties.get("Timeout", 3)),
            MemorySize=int(properties.get("MemorySize", 128)),
            Environment={"Variables": environment},
            Description=properties.get("Description", ""),
        )["FunctionArn"]
        self.lambdas.register(
            LocalFunction(
                name=name,
                code_dir=self.template.root / properties["CodeUri"],
                handler=properties["Handler"],
                memory_size=int(properties.get("MemorySize", 128)),
                timeout=int(properties.get("Timeout", 3)),
                role_arn=role_arn,
            )
        )
        self._created(logical_id, arn)
        for event_id, event in properties.get("Events", {}).items():
            if event["Type"] == "EventBridgeRule":
                self._rule(f"{logical_id}{event_id}", event["Properties"], arn)

    def _rule(self, logical_id: str, properties: dict[str, Any], target_arn: str) -> None:
        """A SAM EventBridgeRule event: a rule on the bus with the function as its target."""
        events = self._client("events")
        name = f"{self.template.stack_name}-{logical_id}"
        bus = properties.get("EventBusName", "default")
        events.put_rule(
            Name=name, EventBusName=bus, EventPattern=json.dumps(properties["Pattern"]), State="ENABLED"
        )
        target: dict[str, Any] = {"Id": "target", "Arn": target_arn}
        for key in ("Input", "InputPath", "RetryPolicy", "DeadLetterConfig"):
            if key in properties:
                target[key] = properties[key]
        events.put_targets(Rule=name, EventBusName=bus, Targets=[target])
        self._created(logical_id, name)

    def _state_machine(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = self.template.physical_name(logical_id)
        role_arn = self._role(f"{name}-role", _STATES_TRUST, properties.get("Policies", []))
        arguments: dict[str, Any] = {}
        if "Logging" in properties:
            arguments["loggingConfiguration"] = {
                "level": properties["Logging"]["Level"],
                "includeExecutionData": properties["Logging"].get("IncludeExecutionData", False),
                "destinations": [
                    {
                        "cloudWatchLogsLogGroup": {
                            "logGroupArn": destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
                        }
                    }
                    for destination in properties["Logging"].get("Destinations", [])
                ],
            }
        if "Tracing" in properties:
            arguments["tracingConfiguration"] = {"enabled": bool(properties["Tracing"].get("Enabled"))}
        arn = self._client("stepfunctions").create_state_machine(
            name=name,
            definition=self.template.state_machine_definition(logical_id),
            roleArn=role_arn,
            type=properties.get("Type", "STANDARD"),
            **arguments,
        )["stateMachineArn"]
        self._created(logical_id, arn)

    def _alarm(self, logical_id: str, properties: dict[str, Any]) -> None:
        """The alarm exists (``aws cloudwatch describe-alarms``); moto does not evaluate it."""
        name = self.template.physical_name(logical_id)
        arguments: dict[str, Any] = {
            key[0].upper() + key[1:]: value
            for key, value in properties.items()
            if key
            in (
                "AlarmDescription",
                "Namespace",
                "MetricName",
                "Dimensions",
                "Statistic",
                "Period",
                "EvaluationPeriods",
                "ComparisonOperator",
                "TreatMissingData",
                "AlarmActions",
                "Metrics",
            )
        }
        arguments["Threshold"] = float(properties["Threshold"])
        self._client("cloudwatch").put_metric_alarm(AlarmName=name, **arguments)
        self._created(logical_id, name)

    def _custom_resource(self, logical_id: str, resource_type: str, properties: dict[str, Any]) -> None:
        """A Lambda-backed custom resource, created as CloudFormation does it: the function gets a Create
        request whose ResponseURL is a presigned S3 PUT (here to the embedded S3), and the resource exists
        once the function has answered SUCCESS there."""
        s3 = self._client("s3")
        bucket = f"{self.template.stack_name}-local-cloudformation-responses"
        s3.create_bucket(Bucket=bucket)
        request_id = str(uuid.uuid4())
        key = f"{logical_id}/{request_id}"
        response_url = s3.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
        )
        stack_id = (
            f"arn:aws:cloudformation:{self.template.region}:{self.template.account_id}:"
            f"stack/{self.template.stack_name}/{uuid.uuid4()}"
        )
        request = {
            "RequestType": "Create",
            "ResponseURL": response_url,
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }
        invoked = self._client("lambda").invoke(
            FunctionName=properties["ServiceToken"], Payload=json.dumps(request)
        )
        if "FunctionError" in invoked:
            raise RuntimeError(f"{logical_id}: its function failed: {invoked['Payload'].read().decode()}")
        answer = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        if answer["Status"] != "SUCCESS":
            raise RuntimeError(f"{logical_id} could not be created: {answer.get('Reason')}")
        self._created(logical_id, answer["PhysicalResourceId"])

    def _dashboard(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = str(properties.get("DashboardName") or self.template.physical_name(logical_id))
        self._client("cloudwatch").put_dashboard(
            DashboardName=name, DashboardBody=properties["DashboardBody"]
        )
        self._created(logical_id, name)


def _lifecycle(configuration: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's LifecycleConfiguration in S3's API shape (its rule properties are named otherwise)."""
    handled = {
        "Id",
        "Status",
        "Prefix",
        "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload",
        "ExpirationInDays",
    }
    rules = []
    for rule in configuration["Rules"]:
        if set(rule) - handled:
            raise ValueError(
                f"lifecycle rule {rule.get('Id')}: {sorted(set(rule) - handled)} not emulated yet"
            )
        api_rule: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "NoncurrentVersionExpiration" in rule:
            api_rule["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
            }
        if "AbortIncompleteMultipartUpload" in rule:
            api_rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            }
        if "ExpirationInDays" in rule:
            api_rule["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        rules.append(api_rule)
    return {"Rules": rules}
