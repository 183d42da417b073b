"""The layout reads like the workflows: a Task state, its function and its step module share one name.

For every Task state of ``statemachines/<verb>_account.asl.json`` that invokes a function, say
``NotifyOnboarded`` of the onboarding workflow:

- the ASL names the function through a DefinitionSubstitution that is ``!GetAtt NotifyOnboardedFunction.Arn``;
- that function's CodeUri is ``functions/onboarding/notify_onboarded/``;
- its step is ``layers/common/orgvend/steps/onboarding/notify_onboarded.py``, which the handler imports
  (and no other step: what two steps share lives in a shared module).

Nothing is left over: every directory under ``functions/<workflow>/`` and every step module belongs to a
state, and every other function (``functions/reactions/*``, ``functions/api``) answers an event rule, a
schedule, the API or a custom resource of the template.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from template_support import (
    FUNCTIONS_PATH,
    PACKAGE_PATH,
    ROOT,
    STATE_MACHINES_PATH,
    WORKFLOWS,
    all_states,
    get_att_target,
    handler_source,
    imported_modules,
    invoked_function_placeholder,
    lambda_task_names,
    resources_of_type,
    snake_case,
    state_machine_of,
)

# Functions that are no state's: what starts them, by the template's event source types.
EVENT_SOURCES = {
    "reactions": {"EventBridgeRule", "ScheduleV2", "Schedule", "CloudWatchEvent"},
    "api": {"Api"},
}
STEPS_PACKAGE = "orgvend.steps"
REACTIONS_PACKAGE = "orgvend.reactions"


TASKS = [(asl_file, name) for asl_file in WORKFLOWS for name in lambda_task_names(asl_file)]


def subdirectories(path: Path) -> list[Path]:
    """The directories in ``path`` (Python's byte-code caches aside)."""
    return sorted(child for child in path.iterdir() if child.is_dir() and child.name != "__pycache__")


def code_directory(function: dict[str, Any]) -> Path:
    return (ROOT / function["Properties"]["CodeUri"]).resolve()


def test_snake_case_is_the_names_of_directories_and_modules():
    assert snake_case("NotifyOnboarded") == "notify_onboarded"
    assert snake_case("WaitForCreationSlot") == "wait_for_creation_slot"
    assert snake_case("Configure") == "configure"
    assert snake_case("CheckMFADevice") == "check_mfa_device"


def test_every_workflow_file_is_one_state_machine_of_the_template(sam_template):
    assert {path.name for path in STATE_MACHINES_PATH.glob("*.asl.json")} == set(WORKFLOWS)
    for asl_file in WORKFLOWS:
        state_machine_of(sam_template, asl_file)  # exactly one
        assert lambda_task_names(asl_file), f"{asl_file} invokes no function"


@pytest.mark.parametrize(("asl_file", "state_name"), TASKS, ids=[f"{WORKFLOWS[f]}:{s}" for f, s in TASKS])
def test_a_task_state_its_function_and_its_step_share_the_states_name(
    sam_template, lambda_functions, asl_file, state_name
):
    workflow, snake = WORKFLOWS[asl_file], snake_case(state_name)
    states = dict(all_states(json.loads((STATE_MACHINES_PATH / asl_file).read_text())["States"]))
    placeholder = invoked_function_placeholder(states[state_name])
    substitution = state_machine_of(sam_template, asl_file)["Properties"]["DefinitionSubstitutions"][
        placeholder
    ]
    target = get_att_target(substitution)
    assert target is not None and target[1] == "Arn", (
        f"{state_name}: ${{{placeholder}}} is not a GetAtt ….Arn"
    )

    function_id = target[0]
    assert function_id == f"{state_name}Function", f"state {state_name} invokes {function_id}"
    function = sam_template["Resources"][function_id]
    assert code_directory(function) == (FUNCTIONS_PATH / workflow / snake).resolve(), (
        f"{function_id}'s CodeUri is {function['Properties']['CodeUri']}, not functions/{workflow}/{snake}/"
    )

    step_module = f"{STEPS_PACKAGE}.{workflow}.{snake}"
    assert (PACKAGE_PATH / "steps" / workflow / f"{snake}.py").is_file(), f"{state_name}: no {step_module}"
    imported = imported_modules(handler_source(sam_template, lambda_functions, function_id))
    assert step_module in imported, f"{function_id}'s handler does not import {step_module}"
    other_steps = {
        name
        for name in imported
        if name.startswith(f"{STEPS_PACKAGE}.") and name.count(".") == 3 and name != step_module
    }
    assert other_steps == set(), f"{function_id}'s handler imports other steps' modules"


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS.values()))
def test_every_function_directory_and_step_module_of_a_workflow_belongs_to_one_of_its_states(workflow):
    (asl_file,) = [name for name, word in WORKFLOWS.items() if word == workflow]
    states = {snake_case(name) for name in lambda_task_names(asl_file)}
    directories = {path.name for path in subdirectories(FUNCTIONS_PATH / workflow)}
    modules = {
        path.stem for path in (PACKAGE_PATH / "steps" / workflow).glob("*.py") if path.name != "__init__.py"
    }
    assert directories - states == set(), f"functions/{workflow}/ directories of no state"
    assert modules - states == set(), f"orgvend/steps/{workflow}/ modules of no state"
    assert {path.name for path in subdirectories(PACKAGE_PATH / "steps")} == set(WORKFLOWS.values())


def test_every_function_is_a_state_a_reaction_or_the_api(sam_template):
    assert {path.name for path in subdirectories(FUNCTIONS_PATH)} == set(WORKFLOWS.values()) | set(
        EVENT_SOURCES
    )
    states = {(FUNCTIONS_PATH / WORKFLOWS[asl_file] / snake_case(name)).resolve() for asl_file, name in TASKS}
    others = {(FUNCTIONS_PATH / "api").resolve()} | {
        path.resolve() for path in subdirectories(FUNCTIONS_PATH / "reactions")
    }
    for function_id, function in resources_of_type(sam_template, "AWS::Serverless::Function").items():
        directory = code_directory(function)
        assert directory in states | others, (
            f"{function_id}: CodeUri {function['Properties']['CodeUri']} is no state's, reaction's or the API's"
        )
        if directory in states:  # only its state machine invokes it
            assert not function["Properties"].get("Events"), f"{function_id}: a state's function has events"


def custom_resource_functions(sam_template: dict[str, Any]) -> set[str]:
    """Functions that are the ServiceToken of a custom resource of the template."""
    found = set()
    for resource in sam_template["Resources"].values():
        if (
            resource["Type"].startswith("Custom::")
            or resource["Type"] == "AWS::CloudFormation::CustomResource"
        ):
            target = get_att_target(resource["Properties"]["ServiceToken"])
            assert target is not None and target[1] == "Arn", resource
            found.add(target[0])
    return found


@pytest.mark.parametrize("group", sorted(EVENT_SOURCES))
def test_every_function_outside_the_workflows_answers_an_event_a_schedule_the_api_or_a_custom_resource(
    sam_template, lambda_functions, group
):
    functions = resources_of_type(sam_template, "AWS::Serverless::Function")
    by_directory = {code_directory(function): function_id for function_id, function in functions.items()}
    group_path = FUNCTIONS_PATH / group
    directories = subdirectories(group_path) if group == "reactions" else [group_path]
    assert directories, f"functions/{group} is empty"
    custom_resources = custom_resource_functions(sam_template)
    for directory in directories:
        function_id = by_directory.get(directory.resolve())
        assert function_id, f"{directory.relative_to(ROOT)} is no function's CodeUri"
        sources = {event["Type"] for event in functions[function_id]["Properties"].get("Events", {}).values()}
        assert sources & EVENT_SOURCES[group] or function_id in custom_resources, (
            f"{function_id} ({directory.relative_to(ROOT)}) answers no event, schedule, API or custom resource"
        )
        if group == "reactions":
            # A reaction's logic is the module of the same name in orgvend/reactions/.
            module = f"{REACTIONS_PACKAGE}.{directory.name}"
            assert (PACKAGE_PATH / "reactions" / f"{directory.name}.py").is_file(), f"no {module}"
            imported = imported_modules(handler_source(sam_template, lambda_functions, function_id))
            assert module in imported, f"{function_id}'s handler does not import {module}"
    if group == "reactions":
        modules = {
            path.stem for path in (PACKAGE_PATH / "reactions").glob("*.py") if path.name != "__init__.py"
        }
        assert modules - {path.name for path in directories} == set(), (
            "orgvend/reactions/ modules of no function"
        )
