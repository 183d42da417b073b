"""Retry and Catch, proved from the error classes and from the code of each step.

``layers/common/orgvend/errors.py`` sorts the errors a workflow can see into ``Retryable`` and
``Terminal``. For every Task state that invokes a function, the errors its function can raise are read
from the code (the classes of ``orgvend.errors`` named by its handler and by every orgvend module the
handler imports, directly or not); then the state's Retry and Catch clauses, applied as Step Functions
applies them (the first clause that matches), must:

- retry every retryable error (by name, or by ``States.TaskFailed``/``States.ALL``);
- never retry a terminal error, and let it end the run on the failure path: a Catch may only lead it to a
  Fail state, and with no Catch the execution fails, which the template's rule on the state machine's
  FAILED status reports (and leaves the run where it stopped, for RedriveExecution). Inside a Distributed
  Map's item processor the run is the item: a Catch may also lead to the state that records the item's
  failure in the run's registry item and ends the item (a settings run goes on with the other accounts).
"""

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest
from template_support import (
    ROOT,
    STATE_MACHINES_PATH,
    WORKFLOWS,
    all_states,
    error_classes,
    first_matching,
    handler_source,
    invoked_function_id,
    lambda_task_names,
    orgvend_modules_of,
    records_item_failure,
    ref_target,
    referenced_errors,
    resources_of_type,
    state_machine_of,
)

from orgvend import errors

RETRYABLE = error_classes(under="Retryable")
TERMINAL = error_classes(under="Terminal")
DEFAULT_MAX_ATTEMPTS = 3  # Step Functions' default for a retrier without MaxAttempts
TASKS = [(asl_file, name) for asl_file in WORKFLOWS for name in lambda_task_names(asl_file)]
FAILED_STATUS_CHANGE = "Step Functions Execution Status Change"


def asl_states(asl_file: str) -> dict[str, dict[str, Any]]:
    return dict(all_states(json.loads((STATE_MACHINES_PATH / asl_file).read_text())["States"]))


def errors_a_function_can_raise(sam_template, lambda_functions, function_id: str) -> dict[str, list[str]]:
    """Error name -> where it is named: the handler, and every orgvend module it imports (transitively)."""
    handler = handler_source(sam_template, lambda_functions, function_id)
    known = error_classes()
    found: dict[str, list[str]] = {}
    sources = [(str(handler.relative_to(ROOT)), "__main__", handler)] + [
        (name, name, path) for name, path in sorted(orgvend_modules_of(handler).items())
    ]
    for label, module_name, path in sources:
        for error in referenced_errors(module_name, path, known):
            found.setdefault(error, []).append(label)
    return found


def handling_problems(
    state_name: str, states: Mapping[str, dict[str, Any]], raised: Mapping[str, list[str]]
) -> list[str]:
    """What is wrong with how a state's Retry and Catch clauses treat the errors its function raises."""
    state = states[state_name]
    problems = []
    for error, where in sorted(raised.items()):
        origin = f"(named in {', '.join(where)})"
        retrier = first_matching(state.get("Retry", []), error)
        retried = retrier is not None and retrier[1].get("MaxAttempts", DEFAULT_MAX_ATTEMPTS) > 0
        if error in RETRYABLE and not retried:
            why = "no retrier matches it" if retrier is None else f"retrier {retrier[0]} has MaxAttempts 0"
            problems.append(f"{state_name}: retryable {error} {origin} is not retried: {why}")
        if error in TERMINAL:
            if retried:
                assert retrier is not None
                problems.append(
                    f"{state_name}: terminal {error} {origin} is retried by retrier {retrier[0]} "
                    f"{retrier[1]['ErrorEquals']}"
                )
            catcher = first_matching(state.get("Catch", []), error)
            ending = states[catcher[1]["Next"]] if catcher is not None else None
            if ending is not None and ending["Type"] != "Fail" and not records_item_failure(ending):
                problems.append(
                    f"{state_name}: terminal {error} {origin} is caught by catcher {catcher[0]} and the run "
                    f"goes on to {catcher[1]['Next']} instead of failing"
                )
    return problems


# -- the classes -------------------------------------------------------------------------------------


def subclasses(cls: type) -> set[type]:
    return {sub for child in cls.__subclasses__() for sub in {child, *subclasses(child)}}


def test_every_error_is_either_retryable_or_terminal():
    assert {cls.__name__ for cls in errors.OrgvendError.__subclasses__()} == {"Retryable", "Terminal"}
    assert RETRYABLE and TERMINAL
    assert RETRYABLE.isdisjoint(TERMINAL)
    assert error_classes() == RETRYABLE | TERMINAL
    # What the source says (read here without importing it) is what Python makes of it.
    assert {cls.__name__ for cls in subclasses(errors.Retryable) if not cls.__subclasses__()} == RETRYABLE
    assert {cls.__name__ for cls in subclasses(errors.Terminal) if not cls.__subclasses__()} == TERMINAL


# -- each step ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("asl_file", "state_name"), TASKS, ids=[f"{WORKFLOWS[f]}:{s}" for f, s in TASKS])
def test_a_step_retries_its_retryable_errors_and_fails_on_its_terminal_ones(
    sam_template, lambda_functions, asl_file, state_name
):
    states = asl_states(asl_file)
    function_id = invoked_function_id(sam_template, asl_file, states[state_name])
    assert function_id, f"{state_name} invokes no function of the template"
    raised = errors_a_function_can_raise(sam_template, lambda_functions, function_id)

    assert handling_problems(state_name, states, raised) == []


@pytest.mark.parametrize("asl_file", sorted(WORKFLOWS))
def test_every_task_state_stops_every_terminal_error_at_once(asl_file):
    """Moved from the unit tests (test_handlers.py), the set now read from the classes: every Lambda task's
    no-retry clause names every terminal error, so an error that a step learns to raise later is covered."""
    states = asl_states(asl_file)
    for name in lambda_task_names(asl_file):
        stopped = {
            error
            for retrier in states[name].get("Retry", [])
            if retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS) == 0
            for error in retrier["ErrorEquals"]
        }
        assert stopped == TERMINAL, f"{name}: MaxAttempts 0 for {sorted(stopped)}"


@pytest.mark.parametrize("asl_file", sorted(WORKFLOWS))
def test_a_failed_run_is_reported(sam_template, asl_file):
    """The failure path of an uncaught terminal error: the execution fails, and a rule of the template on
    the state machine's FAILED status invokes a function that reports it."""
    machine_id = next(
        logical_id
        for logical_id, resource in resources_of_type(sam_template, "AWS::Serverless::StateMachine").items()
        if resource is state_machine_of(sam_template, asl_file)
    )
    reporters = [
        function_id
        for function_id, function in resources_of_type(sam_template, "AWS::Serverless::Function").items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "EventBridgeRule"
        and event["Properties"]["Pattern"].get("detail-type") == [FAILED_STATUS_CHANGE]
        and "FAILED" in event["Properties"]["Pattern"]["detail"]["status"]
        and [ref_target(arn) for arn in event["Properties"]["Pattern"]["detail"]["stateMachineArn"]]
        == [machine_id]
    ]
    assert len(reporters) == 1, f"{machine_id}: functions reporting its failed runs: {reporters}"


# -- the reading of the code, and the check itself, can fail -------------------------------------------


def test_the_errors_of_a_step_are_read_from_its_code_and_what_it_imports(sam_template, lambda_functions):
    check = errors_a_function_can_raise(sam_template, lambda_functions, "CheckAccountCreationFunction")
    assert "orgvend.steps.onboarding.check_account_creation" in check["AccountCreationTimedOut"]
    assert "orgvend.organizations" in check["OrganizationsBusy"]  # through the shared Organizations helpers
    record = errors_a_function_can_raise(sam_template, lambda_functions, "RecordRequestFunction")
    assert {"InvalidOnboardingRequest", "EmailAlreadyRegistered", "OutOfScope"} <= set(record)
    assert "AccountClosureTimedOut" not in record  # only the offboarding's closure check raises it


def onboarding_states() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(asl_states("onboard_account.asl.json"))


def test_a_terminal_error_that_would_be_retried_is_named_with_its_state():
    states = onboarding_states()
    retriers = states["CheckAccountCreation"]["Retry"]
    retriers[0]["ErrorEquals"].remove("AccountCreationTimedOut")  # left to the States.TaskFailed retrier

    problems = handling_problems(
        "CheckAccountCreation",
        states,
        {"AccountCreationTimedOut": ["a step"], "OrganizationsBusy": ["a step"]},
    )

    assert problems == [
        "CheckAccountCreation: terminal AccountCreationTimedOut (named in a step) is retried by retrier "
        f"{len(retriers) - 1} ['States.TaskFailed']"
    ]


def test_a_retryable_error_that_would_stop_the_run_is_named_with_its_state():
    states = onboarding_states()
    states["PlaceAccount"]["Retry"][0]["ErrorEquals"].append("OrganizationsBusy")
    states["ApplyBaseline"]["Retry"] = [
        r for r in states["ApplyBaseline"]["Retry"] if r.get("MaxAttempts") == 0
    ]

    assert handling_problems("PlaceAccount", states, {"OrganizationsBusy": ["m"]}) == [
        "PlaceAccount: retryable OrganizationsBusy (named in m) is not retried: retrier 0 has MaxAttempts 0"
    ]
    assert handling_problems("ApplyBaseline", states, {"AccountNotReady": ["m"]}) == [
        "ApplyBaseline: retryable AccountNotReady (named in m) is not retried: no retrier matches it"
    ]


def test_a_terminal_error_may_be_caught_only_to_fail_the_run():
    states = onboarding_states()
    states["Failed"] = {"Type": "Fail"}
    states["RegisterAccount"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "NotifyOnboarded"}]
    states["NotifyOnboarded"]["Catch"] = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}]

    assert handling_problems("RegisterAccount", states, {"OutOfScope": ["m"]}) == [
        "RegisterAccount: terminal OutOfScope (named in m) is caught by catcher 0 and the run goes on to "
        "NotifyOnboarded instead of failing"
    ]
    assert handling_problems("NotifyOnboarded", states, {"OutOfScope": ["m"]}) == []


def test_a_terminal_error_of_a_map_item_may_end_the_item_where_its_failure_is_recorded():
    states = asl_states("keep_settings.asl.json")
    assert handling_problems("KeepAccountSettings", states, {"SettingsNotApplied": ["m"]}) == []
    # The recording state must end the item and record it as failed: else the item goes on.
    states["RecordSettingsFailure"] = {**states["RecordSettingsFailure"], "End": False, "Next": "Elsewhere"}
    assert handling_problems("KeepAccountSettings", states, {"SettingsNotApplied": ["m"]}) == [
        "KeepAccountSettings: terminal SettingsNotApplied (named in m) is caught by catcher 0 and the run "
        "goes on to RecordSettingsFailure instead of failing"
    ]
