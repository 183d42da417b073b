"""Session fixtures: template.yaml as written, and as the SAM transform turns it into CloudFormation."""

import json
from typing import Any

import pytest
from template_support import (
    IDENTITY_CENTER_ON,
    ROOT,
    Intrinsics,
    load_sam_template,
    resources_of_type,
    transform_template,
)


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml, parsed (SAM syntax, Globals not merged)."""
    return load_sam_template()


@pytest.fixture(scope="session")
def cfn(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The SAM-transformed CloudFormation template (offline: no S3, no IAM look-ups)."""
    return transform_template(sam_template)


@pytest.fixture(scope="session")
def intrinsics(cfn: dict[str, Any]) -> Intrinsics:
    """Intrinsic functions of the transformed template, evaluated with the parameters' defaults and people's
    access through IAM Identity Center on (its grants are checked too)."""
    return Intrinsics(cfn, IDENTITY_CENTER_ON)


@pytest.fixture(scope="session")
def lambda_functions(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    functions = resources_of_type(cfn, "AWS::Lambda::Function")
    assert functions, "the transformed template has no Lambda function"
    return functions


# The workflows: every state machine test runs for each of them.
STATE_MACHINES = ("OnboardAccountStateMachine", "OffboardAccountStateMachine", "KeepSettingsStateMachine")


@pytest.fixture(scope="session", params=STATE_MACHINES)
def state_machine_id(cfn: dict[str, Any], request: pytest.FixtureRequest) -> str:
    machines = resources_of_type(cfn, "AWS::StepFunctions::StateMachine")
    assert set(machines) == set(STATE_MACHINES), f"expected {STATE_MACHINES}, found {sorted(machines)}"
    return str(request.param)


@pytest.fixture(scope="session")
def sam_state_machine(sam_template: dict[str, Any], state_machine_id: str) -> dict[str, Any]:
    resource = sam_template["Resources"][state_machine_id]
    assert resource["Type"] == "AWS::Serverless::StateMachine"
    return resource


@pytest.fixture(scope="session")
def asl(sam_state_machine: dict[str, Any]) -> dict[str, Any]:
    """The state machine's ASL file, as written (placeholders not substituted)."""
    return json.loads((ROOT / sam_state_machine["Properties"]["DefinitionUri"]).read_text())


@pytest.fixture(scope="session")
def asl_text(sam_state_machine: dict[str, Any]) -> str:
    return (ROOT / sam_state_machine["Properties"]["DefinitionUri"]).read_text()
