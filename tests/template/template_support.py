"""Helpers for the template tests: the SAM transform, run offline, and a tiny intrinsic evaluator.

Kept free of product code (``orgvend_local``) on purpose: these tests check the
template, so they read it with their own, deliberately small, CloudFormation model.
"""

import ast
import contextlib
import copy
import json
import os
import re
import shlex
import sys
import tomllib
from collections.abc import Iterator, Mapping
from modulefinder import ModuleFinder
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
PYPROJECT_PATH = ROOT / "pyproject.toml"
LAYER_REQUIREMENTS_PATH = ROOT / "layers" / "common" / "requirements.txt"
LAYER_PATH = ROOT / "layers" / "common"
PACKAGE_PATH = LAYER_PATH / "orgvend"
ERRORS_PATH = PACKAGE_PATH / "errors.py"
ERRORS_MODULE = "orgvend.errors"
STATE_MACHINES_PATH = ROOT / "statemachines"
FUNCTIONS_PATH = ROOT / "functions"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "orgvend"
STAGING_BUCKET = "local-bucket"


def venv_bin() -> Path:
    """The project's virtualenv bin directory (falls back to the running interpreter's)."""
    candidate = ROOT / ".venv" / "bin"
    return candidate if candidate.is_dir() else Path(sys.executable).parent


def tool_environment() -> dict[str, str]:
    """Environment for sam / cfn-lint: no telemetry, a region, the venv's bin first on PATH."""
    env = dict(os.environ)
    env["SAM_CLI_TELEMETRY"] = "0"
    env["AWS_DEFAULT_REGION"] = REGION
    env["PATH"] = os.pathsep.join([str(venv_bin()), env.get("PATH", "")])
    return env


# -- loading ------------------------------------------------------------------------


def load_sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE_PATH.read_text())


class StubPolicyLoader:
    """Managed-policy name → ARN map; empty, so nothing is looked up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


@contextlib.contextmanager
def _region_set() -> Iterator[None]:
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)


def transform_template(sam_template: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of ``sam_template``, offline."""
    template = copy.deepcopy(dict(sam_template))
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::StateMachine" and isinstance(
            properties.get("DefinitionUri"), str
        ):
            properties["Definition"] = json.loads((ROOT / properties.pop("DefinitionUri")).read_text())
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://{STAGING_BUCKET}/{properties[key]}"
    with _region_set():
        return transform(template, {}, StubPolicyLoader())


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def get_att_target(value: Any) -> tuple[str, str] | None:
    """(logical ID, attribute) of a literal ``Fn::GetAtt``, else None."""
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        argument = value["Fn::GetAtt"]
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        return logical_id, attribute
    return None


def ref_target(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    return None


# -- intrinsic functions ---------------------------------------------------------------

# Physical names are CloudFormation-generated: stack name, logical ID and a random suffix.
_ARN_FORMATS = {
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::LayerVersion": "arn:{partition}:lambda:{region}:{account}:layer:{name}:1",
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "AWS::SNS::Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "AWS::SQS::Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "AWS::StepFunctions::StateMachine": "arn:{partition}:states:{region}:{account}:stateMachine:{name}",
    "AWS::Logs::LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{name}",
    "AWS::Events::Rule": "arn:{partition}:events:{region}:{account}:rule/{name}",
    "AWS::KMS::Key": "arn:{partition}:kms:{region}:{account}:key/{name}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{name}",
}
_REF_IS_ARN = {"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine", "AWS::Lambda::LayerVersion"}
_NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Events::Rule": "Name",
    "AWS::S3::Bucket": "BucketName",
}


NO_VALUE = object()  # AWS::NoValue: the property or list item is dropped
# A stack with people's access through IAM Identity Center on: the widest grants template.yaml makes.
IDENTITY_CENTER_ON = {
    "IdentityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-0123456789abcdef",
    "IdentityStoreId": "d-0123456789",
}


# A hub deployment (issue #17): the stack in a hub account (ACCOUNT_ID), the management account reached
# through management-role.yaml's role.
MANAGEMENT_ACCOUNT_ID = "111122223333"
HUB_ON = {"ManagementRoleArn": f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/orgvend-management"}


class Intrinsics:
    """Evaluates Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Split, Fn::Select and the conditions (Fn::If,
    Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition, AWS::NoValue) for one stack."""

    def __init__(self, template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> None:
        self.template = template
        declared = template.get("Parameters", {})
        unknown = set(overrides or {}) - set(declared)
        if unknown:
            raise KeyError(f"no such parameters: {sorted(unknown)}")
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(overrides or {})
        self.pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::URLSuffix": "amazonaws.com",
        }
        # In order: a condition may name one declared before it.
        self.conditions: dict[str, bool] = {}
        for name, expression in template.get("Conditions", {}).items():
            self.conditions[name] = bool(self.resolve(expression))

    def enabled(self, logical_id: str) -> bool:
        """Whether CloudFormation creates the resource with these parameters."""
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.conditions[condition]

    def resource_type(self, logical_id: str) -> str:
        return self.template["Resources"][logical_id]["Type"]

    def physical_name(self, logical_id: str) -> str:
        resource = self.template["Resources"][logical_id]
        name_property = _NAME_PROPERTIES.get(resource["Type"])
        explicit = resource.get("Properties", {}).get(name_property) if name_property else None
        if explicit is not None:
            return str(self.resolve(explicit))
        return f"{STACK_NAME}-{logical_id}-R4ND0M"

    def arn(self, logical_id: str) -> str:
        return _ARN_FORMATS[self.resource_type(logical_id)].format(
            partition=self.pseudo["AWS::Partition"],
            region=REGION,
            account=ACCOUNT_ID,
            name=self.physical_name(logical_id),
        )

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            if self.template.get("Parameters", {}).get(name, {}).get("Type") == "CommaDelimitedList":
                return self.parameters[name].split(",")  # Ref gives CloudFormation's list of strings
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        resource_type = self.resource_type(name)
        if resource_type in _REF_IS_ARN:
            return self.arn(name)
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{self.physical_name(name)}"
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id).removesuffix(":*")
        if attribute == "Name":
            return self.physical_name(logical_id)
        raise NotImplementedError(f"Fn::GetAtt {logical_id}.{attribute}")

    def resolve(self, value: Any) -> Any:  # noqa: PLR0912 (one branch per intrinsic)
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                target = get_att_target(value)
                assert target is not None
                return self.get_att(*target)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return str(self.resolve(separator)).join(str(item) for item in self.resolve(items))
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(str(self.resolve(separator)))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.conditions[condition] else when_false)
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
                return self.conditions[argument]
            if key.startswith("Fn::"):
                raise NotImplementedError(key)
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
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)


# -- IAM -----------------------------------------------------------------------------------


def role_of_function(cfn: Mapping[str, Any], function_id: str) -> str:
    target = get_att_target(cfn["Resources"][function_id]["Properties"]["Role"])
    assert target is not None and target[1] == "Arn", f"{function_id}'s Role is not a role of this template"
    return target[0]


def inline_statements(role: Mapping[str, Any], intrinsics: Intrinsics | None = None) -> list[dict[str, Any]]:
    """The role's inline statements; with ``intrinsics``, as that stack has them (conditions applied)."""
    statements = []
    for policy in role["Properties"].get("Policies", []):
        listed = policy["PolicyDocument"]["Statement"]
        statements.extend(as_list(intrinsics.resolve(listed) if intrinsics else listed))
    return statements


def statement_actions(statement: Mapping[str, Any]) -> list[str]:
    return as_list(statement.get("Action", []))


def all_policy_statements(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement anywhere in the template (identity, trust and resource policies)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Statement" and isinstance(value, list | dict):
                for index, statement in enumerate(as_list(value)):
                    yield f"{path}/Statement[{index}]", statement
            else:
                yield from all_policy_statements(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from all_policy_statements(item, f"{path}[{index}]")


# -- Amazon States Language ------------------------------------------------------------


def all_states(states: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those in Parallel branches and Map item processors."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from all_states(state[key]["States"])


# A Distributed Map's item ends at a state that records the item's failure in the run's registry item
# (orgvend.registry.settings_runs): the one place a Catch may lead a terminal error other than Fail.
RECORD_ITEM_FAILURE = "arn:aws:states:::dynamodb:updateItem"


def item_processor_states(states: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The states inside Map item processors (their items' own little workflows)."""
    found: dict[str, dict[str, Any]] = {}
    for _, state in all_states(states):
        if "ItemProcessor" in state:
            found.update(all_states(state["ItemProcessor"]["States"]))
    return found


def records_item_failure(state: Mapping[str, Any]) -> bool:
    """A state that adds the failed item to the run's ``failed`` set, and ends the item."""
    return (
        state.get("Type") == "Task"
        and state.get("Resource") == RECORD_ITEM_FAILURE
        and state.get("End") is True
        and "ADD failed " in state.get("Parameters", {}).get("UpdateExpression", "")
    )


PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def invoked_function_placeholder(state: Mapping[str, Any]) -> str | None:
    """The ``${...}`` substitution naming the function a Task invokes, or None for other tasks.

    A Lambda task names its function as its Resource, or, through the ``lambda:invoke``
    integrations (``.waitForTaskToken`` and the like), as ``Parameters.FunctionName``.
    """
    if state.get("Type") != "Task":
        return None
    resource = str(state["Resource"])
    named = str(state["Parameters"]["FunctionName"]) if resource.startswith(LAMBDA_INVOKE) else resource
    match = PLACEHOLDER.fullmatch(named)
    return match[1] if match else None


def last_name(node: ast.expr) -> str | None:
    """The last name of a name or an attribute chain (``aws.client`` → ``client``), else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def snake_case(state_name: str) -> str:
    """A state's name as the names of its directory and module: ``NotifyOnboarded`` -> ``notify_onboarded``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", state_name).lower()


# Each workflow's ASL file and the word its functions and steps are grouped under.
WORKFLOWS = {
    "onboard_account.asl.json": "onboarding",
    "offboard_account.asl.json": "offboarding",
    "keep_settings.asl.json": "settings",
}


def lambda_task_names(asl_file: str) -> list[str]:
    """The Task states of a workflow that invoke a function, in the ASL's order."""
    states = json.loads((STATE_MACHINES_PATH / asl_file).read_text())["States"]
    return [name for name, state in all_states(states) if invoked_function_placeholder(state)]


def state_machine_of(sam_template: Mapping[str, Any], asl_file: str) -> dict[str, Any]:
    """The one state machine resource whose definition is ``statemachines/<asl_file>``."""
    (machine,) = [
        resource
        for resource in resources_of_type(sam_template, "AWS::Serverless::StateMachine").values()
        if Path(resource["Properties"]["DefinitionUri"]) == Path("statemachines") / asl_file
    ]
    return machine


def invoked_function_id(
    sam_template: Mapping[str, Any], asl_file: str, state: Mapping[str, Any]
) -> str | None:
    """The logical ID of the function a Task invokes (its substitution's ``!GetAtt <id>.Arn``), else None."""
    placeholder = invoked_function_placeholder(state)
    if placeholder is None:
        return None
    substitution = state_machine_of(sam_template, asl_file)["Properties"]["DefinitionSubstitutions"][
        placeholder
    ]
    target = get_att_target(substitution)
    return target[0] if target is not None and target[1] == "Arn" else None


def handler_source(
    sam_template: Mapping[str, Any], lambda_functions: Mapping[str, Any], function_id: str
) -> Path:
    """The file of a function's handler: its CodeUri and its Handler (SAM Globals merged in)."""
    module = lambda_functions[function_id]["Properties"]["Handler"].rsplit(".", 1)[0]
    code = ROOT / sam_template["Resources"][function_id]["Properties"]["CodeUri"]
    return code / Path(*module.split(".")).with_suffix(".py")


def first_matching(clauses: list[dict[str, Any]], error: str) -> tuple[int, dict[str, Any]] | None:
    """The Retry or Catch clause Step Functions applies to ``error`` (the first that matches), with its index.

    ``States.ALL`` matches every error, ``States.TaskFailed`` every error but ``States.Timeout``
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-error-representation).
    """
    for index, clause in enumerate(clauses):
        names = set(clause["ErrorEquals"])
        if (
            error in names
            or "States.ALL" in names
            or ("States.TaskFailed" in names and error != "States.Timeout")
        ):
            return index, clause
    return None


# -- Python sources -------------------------------------------------------------------------


def _error_bases(path: Path) -> dict[str, list[str]]:
    tree = ast.parse(path.read_text())
    return {
        node.name: [base.id for base in node.bases if isinstance(base, ast.Name)]
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


def error_classes(path: Path = ERRORS_PATH, under: str | None = None) -> set[str]:
    """Error names the workflow can see: the concrete classes (no other class derives from them) deriving
    from a root exception class, or from ``under`` (``Retryable``, ``Terminal``) when given."""
    bases = _error_bases(path)
    roots = {name for name, parents in bases.items() if set(parents) & {"Exception", "BaseException"}}
    abstract = {parent for parents in bases.values() for parent in parents}

    def derives_from(name: str, ancestors: set[str]) -> bool:
        return any(
            parent in ancestors or (parent in bases and derives_from(parent, ancestors))
            for parent in bases[name]
        )

    ancestors = {under} if under else roots
    return {name for name in bases if name not in abstract and derives_from(name, ancestors)}


def orgvend_modules_of(script: Path) -> dict[str, Path]:
    """The orgvend modules a script imports, directly or through others, anywhere (functions too), by name.

    The standard library's ``modulefinder`` follows the imports in the script's bytecode, searching
    only the layer: everything else (the standard library, boto3, pydantic) is left out.
    """
    finder = ModuleFinder(path=[str(LAYER_PATH)])
    finder.run_script(str(script))
    return {
        name: Path(module.__file__)
        for name, module in finder.modules.items()
        if module.__file__ and Path(module.__file__).is_relative_to(PACKAGE_PATH)
    }


def _module_package(module_name: str, path: Path) -> str:
    return module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def referenced_errors(module_name: str, path: Path, known: set[str]) -> set[str]:
    """The classes of ``orgvend.errors`` named in a module (raised, caught or passed on): ``known`` names only.

    Read from the source: names imported from ``orgvend.errors`` and attributes of the module
    imported as a whole (``errors.OrganizationsBusy``), wherever they appear, functions included.
    """
    tree = ast.parse(path.read_text())
    package = _module_package(module_name, path)
    aliases: dict[str, str] = {}  # local name -> error class
    module_aliases: set[str] = set()  # local names of orgvend.errors itself
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, package)
            for alias in node.names:
                if source == ERRORS_MODULE:
                    aliases[alias.asname or alias.name] = alias.name
                elif f"{source}.{alias.name}" == ERRORS_MODULE:
                    module_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ERRORS_MODULE:
                    module_aliases.add(alias.asname or alias.name)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in aliases:
            found.add(aliases[node.id])
        elif isinstance(node, ast.Attribute) and ast.unparse(node.value) in module_aliases:
            found.add(node.attr)
    return found & known


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports by absolute name, at top level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_defines(path: Path, name: str) -> bool:
    """Whether a module defines ``name`` at top level (def, async def, class or assignment)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return True
    return False


# -- samconfig.toml ------------------------------------------------------------------------


def samconfig_parameter_overrides() -> dict[str, dict[str, str]]:
    """Environment → parameter_overrides of every samconfig.toml command that has some."""
    config = tomllib.loads(SAMCONFIG_PATH.read_text())
    found = {}
    for environment, commands in config.items():
        if not isinstance(commands, dict):
            continue
        for command, sections in commands.items():
            raw = (
                sections.get("parameters", {}).get("parameter_overrides")
                if isinstance(sections, dict)
                else None
            )
            if raw is None:
                continue
            pairs = shlex.split(raw) if isinstance(raw, str) else list(raw)
            found[f"{environment}.{command}"] = dict(pair.split("=", 1) for pair in pairs)
    return found


def parameter_violations(name: str, spec: Mapping[str, Any], value: str) -> list[str]:
    """Why ``value`` would be rejected by CloudFormation for parameter ``spec`` (empty if it would not)."""
    problems = []
    if spec["Type"] == "Number":
        try:
            number = float(value)
        except ValueError:
            return [f"{name}={value!r} is not a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            problems.append(f"{name}={value} < MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            problems.append(f"{name}={value} > MaxValue {spec['MaxValue']}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        problems.append(f"{name}={value!r} does not match AllowedPattern {spec['AllowedPattern']!r}")
    if "AllowedValues" in spec and value not in {str(allowed) for allowed in spec["AllowedValues"]}:
        problems.append(f"{name}={value!r} is not one of AllowedValues")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(f"{name}={value!r} is shorter than MinLength {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(f"{name}={value!r} is longer than MaxLength {spec['MaxLength']}")
    return problems
