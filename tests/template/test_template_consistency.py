"""The template against the rest of the project: pins, samconfig, settings, runtimes."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from template_support import (
    LAYER_REQUIREMENTS_PATH,
    PYPROJECT_PATH,
    ROOT,
    parameter_violations,
    resources_of_type,
    samconfig_parameter_overrides,
)

from orgvend.settings import Settings

RUNTIME = "python3.13"

# orgvend.settings.Settings: a field is read from the variable of its name in capitals. The ones with no
# default every function needs (template.yaml's Globals); the others, the functions below.
VARIABLES = {name.upper(): field for name, field in Settings.model_fields.items()}
ENVIRONMENT_EVERYWHERE = {name for name, field in VARIABLES.items() if field.is_required()}
ENVIRONMENT_PER_FUNCTION = {
    "RecordRequestFunction": {"ACCESS_ROLE_NAMES"},
    "CreateAccountFunction": {"MAX_CREATIONS_IN_PROGRESS", "CREATION_TIMEOUT_SECONDS"},
    "ApplyBaselineFunction": {
        "BASELINE_POLICY_NAME",
        "ACCESS_ROLE_NAMES",
        "ORGVEND_PRINCIPAL_ARNS",
        "OPERATOR_PRINCIPAL_ARNS",
    },
    "ApiFunction": {
        "ONBOARD_STATE_MACHINE_ARN",
        "OFFBOARD_STATE_MACHINE_ARN",
        "KEEP_SETTINGS_STATE_MACHINE_ARN",
        "IDEMPOTENCY_TABLE_NAME",
        "ACCESS_ROLE_NAMES",
        "DEFAULT_MONTHLY_BUDGET_USD",
    },
    "StartRequestedOnboardingFunction": {"ONBOARD_STATE_MACHINE_ARN", "ACCESS_ROLE_NAMES"},
    "FollowOrganizationFunction": {"ONBOARD_STATE_MACHINE_ARN", "ACCESS_ROLE_NAMES"},
    "ReconcileRegistryFunction": {
        "ONBOARD_STATE_MACHINE_ARN",
        "ACCESS_ROLE_NAMES",
        "DEFAULT_MONTHLY_BUDGET_USD",
    },
    "CreateBudgetFunction": {"DEFAULT_MONTHLY_BUDGET_USD"},
    "ReportOnboardingFailureFunction": {"ONBOARD_STATE_MACHINE_ARN"},
    "ReportOffboardingFailureFunction": {"OFFBOARD_STATE_MACHINE_ARN"},
    "ReportSettingsRunFailureFunction": {"KEEP_SETTINGS_STATE_MACHINE_ARN"},
    "KeepGuardrailsFunction": {"ACCESS_ROLE_NAMES", "BASELINE_POLICY_NAME", "GUARDRAIL_POLICY_NAME"},
    "ReportMonthlyCostsFunction": {"COST_REPORT_BUCKET_NAME"},
}


def pins(requirements: list[str]) -> dict[str, tuple[frozenset[str], str]]:
    parsed = [Requirement(line) for line in requirements]
    return {canonicalize_name(r.name): (frozenset(r.extras), str(r.specifier)) for r in parsed}


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_layer_requirements_pin_the_project_dependencies():
    project = pins(tomllib.loads(PYPROJECT_PATH.read_text())["project"]["dependencies"])
    layer = pins(requirement_lines(LAYER_REQUIREMENTS_PATH))
    assert layer == project
    assert all(specifier.startswith("==") for _, specifier in layer.values()), "layer pins must be exact"


def test_samconfig_overrides_name_template_parameters_with_valid_values(sam_template):
    parameters = sam_template["Parameters"]
    overrides = samconfig_parameter_overrides()
    assert "local.deploy" in overrides
    problems = []
    for section, values in overrides.items():
        for name, value in values.items():
            if name not in parameters:
                problems.append(f"[{section}] {name} is not a template parameter")
            else:
                problems.extend(
                    f"[{section}] {p}" for p in parameter_violations(name, parameters[name], value)
                )
    assert problems == []


def test_parameter_defaults_are_valid_values(sam_template):
    problems = [
        problem
        for name, spec in sam_template["Parameters"].items()
        if "Default" in spec
        for problem in parameter_violations(name, spec, str(spec["Default"]))
    ]
    assert problems == []


def test_parameter_groups_list_every_parameter_once(sam_template):
    groups = sam_template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [name for group in groups for name in group["Parameters"]]
    assert sorted(listed) == sorted(sam_template["Parameters"])


def function_environment(function: dict) -> dict:
    return function["Properties"].get("Environment", {}).get("Variables", {})


def test_every_setting_is_set_by_the_template(lambda_functions):
    assert {"REGISTRY_TABLE_NAME", "OPERATOR_TOPIC_ARN", "CLIENTS_PARENT_OU_ID"} <= ENVIRONMENT_EVERYWHERE
    set_somewhere = {
        name for function in lambda_functions.values() for name in function_environment(function)
    }
    assert set(VARIABLES) - set_somewhere == set()


def test_functions_get_the_environment_they_need(lambda_functions):
    required = ENVIRONMENT_EVERYWHERE | {
        name for names in ENVIRONMENT_PER_FUNCTION.values() for name in names
    }
    assert required <= set(VARIABLES), f"Settings has no field for {sorted(required - set(VARIABLES))}"
    assert set(ENVIRONMENT_PER_FUNCTION) <= set(lambda_functions)
    missing = {}
    for function_id, function in lambda_functions.items():
        needed = ENVIRONMENT_EVERYWHERE | ENVIRONMENT_PER_FUNCTION.get(function_id, set())
        if needed - set(function_environment(function)):
            missing[function_id] = sorted(needed - set(function_environment(function)))
    assert missing == {}


def test_no_handler_reads_the_environment_itself():
    """One source: the handlers read their settings through Settings, never os.environ."""
    readers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "functions").rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    ]
    assert readers == []


def test_runtime_is_python_3_13_everywhere(sam_template, cfn, lambda_functions):
    assert {function["Properties"]["Runtime"] for function in lambda_functions.values()} == {RUNTIME}
    layers = resources_of_type(sam_template, "AWS::Serverless::LayerVersion")
    assert layers
    for layer_id, layer in layers.items():
        assert layer["Properties"]["CompatibleRuntimes"] == [RUNTIME], layer_id
        assert layer["Metadata"]["BuildMethod"] == RUNTIME, layer_id
    version = RUNTIME.removeprefix("python")
    requires = tomllib.loads(PYPROJECT_PATH.read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(version), f"requires-python {requires} excludes {version}"


def test_functions_and_layer_share_one_architecture(sam_template, lambda_functions):
    architectures = {tuple(function["Properties"]["Architectures"]) for function in lambda_functions.values()}
    assert len(architectures) == 1
    ((architecture,),) = architectures
    for layer_id, layer in resources_of_type(sam_template, "AWS::Serverless::LayerVersion").items():
        assert layer["Properties"]["CompatibleArchitectures"] == [architecture], layer_id
        assert layer["Metadata"]["BuildArchitecture"] == architecture, layer_id


def test_every_function_uses_the_common_layer(sam_template, lambda_functions):
    layer_ids = set(resources_of_type(sam_template, "AWS::Serverless::LayerVersion"))
    for function_id, function in lambda_functions.items():
        referenced = {layer.get("Ref", "") for layer in function["Properties"].get("Layers", [])}
        # The transform renames a layer to its logical ID plus a content hash.
        assert any(ref.startswith(layer_id) for ref in referenced for layer_id in layer_ids), function_id
