"""Read template.yaml (and samconfig.toml) the way CloudFormation would, for the embedded AWS.

Only what the local deployment needs: SAM Globals merged into functions, and
the intrinsic functions the template uses resolved against local names and ARNs.
Everything (names, environment, substitutions, event patterns) comes from the
template itself, so there is no second copy of any of it.
"""

import copy
import json
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NO_VALUE = object()

# Physical names and ARNs, as CloudFormation would derive them (minus its random suffixes).
_ARN_FORMATS = {
    "AWS::Serverless::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Serverless::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
    "AWS::Serverless::LayerVersion": "arn:aws:lambda:{region}:{account}:layer:{name}:1",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{account}:policy/{name}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
}
# What Ref returns, when it is not the physical name.
_REF_RETURNS_ARN = {
    "AWS::SNS::Topic",
    "AWS::Serverless::StateMachine",
    "AWS::Serverless::LayerVersion",
    "AWS::IAM::ManagedPolicy",
}
_NAME_PROPERTY = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Events::Rule": "Name",
}
# Resource types whose generated names are lowercase (S3 bucket names are), as CloudFormation makes them.
_LOWERCASE_NAMES = {"AWS::S3::Bucket"}


def parameter_overrides(samconfig: Path, environment: str) -> dict[str, str]:
    """``parameter_overrides`` of one samconfig.toml environment, as a dict."""
    if not samconfig.exists():
        return {}
    config = tomllib.loads(samconfig.read_text())
    raw = config.get(environment, {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    pairs = shlex.split(raw) if isinstance(raw, str) else list(raw)
    return dict(pair.split("=", 1) for pair in pairs)


def template_parameters(path: Path) -> frozenset[str]:
    """The parameters a template declares."""
    return frozenset(yaml_parse(path.read_text()).get("Parameters", {}))


@dataclass
class Template:
    """A parsed SAM template, resolved for one local stack."""

    body: dict[str, Any]
    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, str]
    root: Path = PROJECT_ROOT
    endpoint_url: str = "http://127.0.0.1:4566"
    _conditions: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        path: Path = PROJECT_ROOT / "template.yaml",
        *,
        stack_name: str = "orgvend",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        endpoint_url: str = "http://127.0.0.1:4566",
        overrides: Mapping[str, str] | None = None,
    ) -> "Template":
        body = yaml_parse(path.read_text())
        parameters = {name: str(spec.get("Default", "")) for name, spec in body.get("Parameters", {}).items()}
        unknown = set(overrides or {}) - set(parameters)
        if unknown:
            raise ValueError(f"parameter overrides for unknown parameters: {sorted(unknown)}")
        parameters.update(overrides or {})
        template = cls(body, stack_name, region, account_id, parameters, path.parent, endpoint_url)
        # In order: a condition may name one declared before it (Condition: Name).
        for name, expression in body.get("Conditions", {}).items():
            template._conditions[name] = bool(template.resolve(expression))
        return template

    # -- resources -------------------------------------------------------------

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body["Resources"]

    def enabled_resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical ID → resource of a type, with conditions applied and SAM Globals merged."""
        found = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] != resource_type:
                continue
            if not self.enabled(resource):
                continue
            found[logical_id] = self._with_globals(resource)
        return found

    def enabled(self, resource: dict[str, Any]) -> bool:
        """Whether CloudFormation creates the resource: it has no Condition, or its Condition is true."""
        return "Condition" not in resource or self._conditions[resource["Condition"]]

    def _with_globals(self, resource: dict[str, Any]) -> dict[str, Any]:
        kind = resource["Type"].removeprefix("AWS::Serverless::")
        if kind == resource["Type"]:
            return resource
        merged = copy.deepcopy(self.body.get("Globals", {}).get(kind, {}))
        for key, value in resource.get("Properties", {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = _merge(merged[key], value)
            else:
                merged[key] = value
        return {**resource, "Properties": merged}

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        name_property = _NAME_PROPERTY.get(resource["Type"])
        explicit = resource.get("Properties", {}).get(name_property) if name_property else None
        if explicit is not None:
            return str(self.resolve(explicit))
        generated = f"{self.stack_name}-{logical_id}"
        return generated.lower() if resource["Type"] in _LOWERCASE_NAMES else generated

    def arn(self, logical_id: str) -> str:
        resource_type = self.resources[logical_id]["Type"]
        return _ARN_FORMATS[resource_type].format(
            region=self.region, account=self.account_id, name=self.physical_name(logical_id)
        )

    def ref(self, logical_id: str) -> str:
        resource_type = self.resources[logical_id]["Type"]
        if resource_type in _REF_RETURNS_ARN:
            return self.arn(logical_id)
        if resource_type == "AWS::SQS::Queue":
            return self.queue_url(logical_id)
        return self.physical_name(logical_id)

    def queue_url(self, logical_id: str) -> str:
        # The queue URL form of moto's server.
        return f"{self.endpoint_url}/{self.account_id}/{self.physical_name(logical_id)}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id).removesuffix(":*")
        if attribute in ("Name", "TopicName", "QueueName"):
            return self.physical_name(logical_id)
        if attribute == "DomainName" and self.resources[logical_id]["Type"] == "AWS::S3::Bucket":
            return f"{self.physical_name(logical_id)}.s3.amazonaws.com"
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        raise ValueError(f"Fn::GetAtt {logical_id}.{attribute} is not emulated")

    # -- intrinsic functions -----------------------------------------------------

    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def _ref_value(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            spec = self.body.get("Parameters", {}).get(name, {})
            if spec.get("Type") == "CommaDelimitedList":  # Ref gives CloudFormation's list of strings
                return self.parameters[name].split(",")
            return self.parameters[name]
        pseudo = self.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        return self.ref(name)

    def resolve(self, value: Any) -> Any:  # noqa: PLR0912 (one branch per intrinsic)
        """Evaluate CloudFormation intrinsic functions in ``value``."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref_value(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = self.resolve(argument)
                return separator.join(str(item) for item in items)
            if key == "Fn::Split":
                separator, text = self.resolve(argument)
                return text.split(separator)
            if key == "Fn::Select":
                index, items = self.resolve(argument)
                return items[int(index)]
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self._conditions[condition] else when_false)
            if key == "Fn::Equals":
                left, right = self.resolve(argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Fn::And":
                return all(self.resolve(argument))
            if key == "Fn::Or":
                return any(self.resolve(argument))
            if key == "Condition":
                return self._conditions[argument]
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _sub(self, argument: str | list[Any]) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {name: self.resolve(item) for name, item in argument[1].items()}
        else:
            text, variables = argument, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self._ref_value(name))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)

    def outputs(self) -> dict[str, str]:
        """The outputs CloudFormation shows: those whose Condition (if any) holds."""
        return {
            name: str(self.resolve(output["Value"]))
            for name, output in self.body.get("Outputs", {}).items()
            if self.enabled(output)
        }

    def state_machine_definition(self, logical_id: str) -> str:
        """The ASL file with its DefinitionSubstitutions applied, as Step Functions receives it."""
        properties = self.resources[logical_id]["Properties"]
        definition = (self.root / properties["DefinitionUri"]).read_text()
        substitutions = self.resolve(properties.get("DefinitionSubstitutions", {}))
        for name, value in substitutions.items():
            definition = definition.replace("${" + name + "}", str(value))
        json.loads(definition)  # still valid JSON, or the template is wrong
        return definition


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
