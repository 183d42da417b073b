"""The state machines (onboarding, offboarding): each resource, its ASL file and how the two fit together."""

import json
import math
from pathlib import Path
from typing import Any

from template_support import (
    PLACEHOLDER,
    ROOT,
    all_states,
    error_classes,
    get_att_target,
    item_processor_states,
    module_defines,
    records_item_failure,
    ref_target,
    resources_of_type,
)

# Errors the workflow retries: errors.py's Retryable classes (what each means is its docstring there).
RETRYABLE = error_classes(under="Retryable")
CATCH_ALL = {"States.TaskFailed", "States.ALL"}
# ApplyBaseline's budget for AccountNotReady: a fresh account takes minutes to become usable.
ACCOUNT_NOT_READY_BUDGET_SECONDS = (10 * 60, 20 * 60)


# The only Step Functions service integrations a workflow may use (every other Task invokes one of
# the template's functions), each with the reason.
SERVICE_INTEGRATIONS = {
    "arn:aws:states:::dynamodb:getItem": "onboarding's LookForCreationSlot: a waiter whose wake-up did not "
    "come reads the creation semaphore's item instead of invoking CreateAccount",
    "arn:aws:states:::dynamodb:updateItem": "a settings run's RecordSettingsFailure: an account whose item "
    "failed is added to the run's item without a Lambda, and the run goes on with the others",
}
# The only callback integration: the function named in Parameters.FunctionName gets the task token.
WAIT_FOR_TASK_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def tasks(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {name: state for name, state in all_states(asl["States"]) if state["Type"] == "Task"}
    assert found, "the ASL has no Task state"
    return found


def lambda_tasks(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Tasks that invoke a function (orgvend's errors come only from those)."""
    found = tasks(asl)
    return {name: state for name, state in found.items() if state["Resource"] not in SERVICE_INTEGRATIONS}


def invoked_function(state: dict[str, Any]) -> str:
    """The ${...} placeholder of the function a Lambda task invokes."""
    if state["Resource"] == WAIT_FOR_TASK_TOKEN:
        return str(state["Parameters"]["FunctionName"])
    return str(state["Resource"])


def terminal_errors() -> set[str]:
    """errors.py's Terminal classes: every orgvend error that is not retryable."""
    terminal = error_classes(under="Terminal")
    assert terminal == error_classes() - RETRYABLE, "an error of errors.py is neither Retryable nor Terminal"
    return terminal


def total_backoff_seconds(retrier: dict[str, Any]) -> float:
    interval = retrier.get("IntervalSeconds", 1)
    rate = retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", math.inf)
    return sum(min(interval * rate**attempt, cap) for attempt in range(retrier.get("MaxAttempts", 3)))


# -- the resource ------------------------------------------------------------------------------


def test_state_machine_is_standard_traced_and_logged(cfn, state_machine_id, intrinsics):
    properties = cfn["Resources"][state_machine_id]["Properties"]
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}

    logging = properties["LoggingConfiguration"]
    assert logging["Level"] in {"ALL", "ERROR", "FATAL"}
    (destination,) = logging["Destinations"]
    target = get_att_target(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert target is not None and target[1] == "Arn"
    log_group = cfn["Resources"][target[0]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    # Step Functions needs a resource policy per log group unless it is under /aws/vendedlogs/.
    assert intrinsics.resolve(log_group["Properties"]["LogGroupName"]).startswith("/aws/vendedlogs/")
    retention = ref_target(log_group["Properties"].get("RetentionInDays"))
    assert retention in cfn["Parameters"], "the state machine's log group must expire its logs"


def test_every_placeholder_has_a_substitution_and_every_substitution_is_used(asl_text, sam_state_machine):
    placeholders = set(PLACEHOLDER.findall(asl_text))
    substitutions = set(sam_state_machine["Properties"]["DefinitionSubstitutions"])
    assert placeholders, "the ASL has no ${...} placeholder"
    assert placeholders - substitutions == set(), "placeholders without a substitution"
    assert substitutions - placeholders == set(), "substitutions the ASL never uses"


def test_substituted_definition_is_valid_json(asl_text, cfn, state_machine_id, intrinsics):
    substitutions = intrinsics.resolve(
        cfn["Resources"][state_machine_id]["Properties"]["DefinitionSubstitutions"]
    )
    definition = asl_text
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", str(value))
    assert "${" not in definition
    json.loads(definition)


def test_every_task_invokes_a_function_of_this_template(asl, sam_template, sam_state_machine):
    substitutions = sam_state_machine["Properties"]["DefinitionSubstitutions"]
    for name, state in lambda_tasks(asl).items():
        match = PLACEHOLDER.fullmatch(invoked_function(state))
        assert match, f"{name}: function {invoked_function(state)!r} is not a ${{...}} placeholder"
        target = get_att_target(substitutions[match[1]])
        assert target is not None and target[1] == "Arn", f"{name}: {match[1]} is not a GetAtt ….Arn"
        resource = sam_template["Resources"].get(target[0], {})
        assert resource.get("Type") == "AWS::Serverless::Function", f"{name}: {target[0]} is not a function"


def test_service_integrations_read_only_tables_of_this_template(asl, sam_template, sam_state_machine):
    # A DynamoDB integration names its table through a substitution that is a Ref to a table here.
    substitutions = sam_state_machine["Properties"]["DefinitionSubstitutions"]
    for name, state in tasks(asl).items():
        if state["Resource"] not in SERVICE_INTEGRATIONS:
            continue
        match = PLACEHOLDER.fullmatch(state["Parameters"]["TableName"])
        assert match, f"{name}: TableName is not a ${{...}} placeholder"
        table = ref_target(substitutions[match[1]])
        assert sam_template["Resources"][table]["Type"] == "AWS::DynamoDB::Table", name


def test_waiting_for_a_creation_slot_is_a_line_woken_by_releases_with_the_semaphore_read_as_fallback():
    states = json.loads((ROOT / "statemachines/onboard_account.asl.json").read_text())["States"]
    # No free slot: wait in line with the task token, calling neither Organizations nor CreateAccount.
    assert states["HasCreationSlot"]["Choices"] == [
        {"Variable": "$.creation.state", "StringEquals": "WAITING_FOR_SLOT", "Next": "SpreadSlotCheck"}
    ]
    # Each wait for a wake-up lasts [SlotRecheckSeconds, SlotRecheckSeconds + MaxCreationsInProgress) at
    # random: waiters whose wake-up was lost never check in lock-step.
    configuration = states["Configure"]["Parameters"]["config"]
    assert configuration["slotRecheckSeconds.$"] == "States.StringToJson('${SlotRecheckSeconds}')"
    assert configuration["slotCheckCeilingSeconds.$"] == (
        "States.MathAdd(States.StringToJson('${SlotRecheckSeconds}'), "
        "States.StringToJson('${MaxCreationsInProgress}'))"
    )
    spread = states["SpreadSlotCheck"]
    assert spread["Parameters"] == {
        "seconds.$": "States.MathRandom($.config.slotRecheckSeconds, $.config.slotCheckCeilingSeconds)"
    }
    assert (spread["ResultPath"], spread["Next"]) == ("$.slotWait", "WaitForCreationSlot")

    wait = states["WaitForCreationSlot"]
    assert wait["Resource"] == WAIT_FOR_TASK_TOKEN
    assert wait["Parameters"] == {
        "FunctionName": "${WaitForCreationSlotFunctionArn}",
        "Payload": {"onboarding.$": "$.onboarding", "taskToken.$": "$$.Task.Token"},
    }
    assert wait["TimeoutSecondsPath"] == "$.slotWait.seconds"
    assert wait["Next"] == "CreateAccount"  # woken: a slot was released
    assert wait["Catch"] == [
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.slotWait", "Next": "LookForCreationSlot"}
    ]

    # No wake-up came: read the semaphore's item (strongly consistent) and decide without a function.
    look = states["LookForCreationSlot"]
    assert look["Resource"] == "arn:aws:states:::dynamodb:getItem"
    assert look["Parameters"]["TableName"] == "${RegistryTableName}"
    assert look["Parameters"]["ConsistentRead"] is True
    assert look["ResultSelector"]["checkedAt.$"] == "$$.State.EnteredTime"
    assert look["Next"] == "IsCreationSlotFree"
    # CreateAccount only when the item has no freeAt (never written, or by an older version) or freeAt
    # has come (a lease ran out); otherwise back in line.
    free_at = f"{look['ResultPath']}.read.Item.freeAt.S"
    assert states["IsCreationSlotFree"]["Choices"] == [
        {"Variable": free_at, "IsPresent": False, "Next": "CreateAccount"},
        {
            "Variable": free_at,
            "StringLessThanEqualsPath": f"{look['ResultPath']}.checkedAt",
            "Next": "CreateAccount",
        },
    ]
    assert states["IsCreationSlotFree"]["Default"] == "SpreadSlotCheck"
    # Nothing else leads back to CreateAccount.
    leading_back = sorted(
        name
        for name, state in states.items()
        if state.get("Next") == "CreateAccount"
        or any(choice.get("Next") == "CreateAccount" for choice in state.get("Choices", []))
        or state.get("Default") == "CreateAccount"
    )
    assert leading_back == ["CreateOrAdopt", "IsCreationSlotFree", "WaitForCreationSlot"]


def test_every_function_code_directory_has_its_handler(sam_template, lambda_functions):
    functions = resources_of_type(sam_template, "AWS::Serverless::Function")
    assert set(functions) == set(lambda_functions)
    for function_id, function in functions.items():
        code = ROOT / function["Properties"]["CodeUri"]
        assert code.is_dir(), f"{function_id}: CodeUri {code} is not a directory"
        # Handler as CloudFormation gets it, i.e. with the SAM Globals merged in.
        handler = lambda_functions[function_id]["Properties"]["Handler"]
        module, attribute = handler.rsplit(".", 1)
        source = code / Path(*module.split(".")).with_suffix(".py")
        assert source.is_file(), f"{function_id}: {source} (from Handler {handler}) does not exist"
        assert module_defines(source, attribute), f"{function_id}: {source} defines no {attribute}"


# -- failure handling in the ASL -------------------------------------------------------------


def test_no_state_catches_failures(asl):
    # A failed execution stops at the failed step, so that RedriveExecution resumes there;
    # the EventBridge rule (ReportOnboardingFailureFunction) reports it. The one catcher allowed
    # is a callback task's own timeout (no wake-up came): that is how it stops waiting, not a failure.
    caught = {
        (name, error)
        for name, state in all_states(asl["States"])
        for catcher in state.get("Catch", [])
        for error in catcher["ErrorEquals"]
    }
    timeouts_of_callbacks = {
        (name, "States.Timeout")
        for name, state in tasks(asl).items()
        if state["Resource"] == WAIT_FOR_TASK_TOKEN
    }
    # A Distributed Map's item (one account of a settings run) may end where its failure is recorded,
    # in the same item processor: the run goes on with the other items.
    in_items = item_processor_states(asl["States"])
    items_recorded = {
        (name, error)
        for name, state in in_items.items()
        for catcher in state.get("Catch", [])
        if catcher["Next"] in in_items and records_item_failure(in_items[catcher["Next"]])
        for error in catcher["ErrorEquals"]
    }
    assert caught <= timeouts_of_callbacks | items_recorded


def test_every_error_name_in_the_asl_exists(asl):
    known = error_classes()
    unknown = {
        (name, error)
        for name, state in all_states(asl["States"])
        for retrier in state.get("Retry", [])
        for error in retrier["ErrorEquals"]
        if not error.startswith(("States.", "Lambda.")) and error not in known
    }
    assert unknown == set()


def test_catch_all_retriers_come_after_a_no_retry_for_every_terminal_error(asl):
    terminal = terminal_errors()
    assert terminal
    for name, state in lambda_tasks(asl).items():
        retriers = state.get("Retry", [])
        for index, retrier in enumerate(retriers):
            if not CATCH_ALL & set(retrier["ErrorEquals"]):
                continue
            guarded = any(
                earlier.get("MaxAttempts") == 0 and terminal <= set(earlier["ErrorEquals"])
                for earlier in retriers[:index]
            )
            assert guarded, f"{name}: retrier {index} retries terminal errors {sorted(terminal)}"


def test_terminal_errors_are_never_retried_and_retryable_ones_never_stopped(asl):
    terminal = terminal_errors()
    for name, state in tasks(asl).items():
        for index, retrier in enumerate(state.get("Retry", [])):
            errors = set(retrier["ErrorEquals"])
            if retrier.get("MaxAttempts") == 0:
                assert errors & RETRYABLE == set(), f"{name}: retrier {index} stops retryable errors"
            else:
                assert errors & terminal == set(), f"{name}: retrier {index} retries terminal errors"


def test_every_task_retries_transient_failures(asl):
    for name, state in tasks(asl).items():
        assert any(
            CATCH_ALL & set(retrier["ErrorEquals"]) and retrier.get("MaxAttempts", 3) > 0
            for retrier in state.get("Retry", [])
        ), f"{name} does not retry transient (Lambda service) failures"


def test_apply_baseline_waits_10_to_20_minutes_for_a_new_account():
    state = json.loads((ROOT / "statemachines/onboard_account.asl.json").read_text())["States"][
        "ApplyBaseline"
    ]
    (retrier,) = [r for r in state["Retry"] if "AccountNotReady" in r["ErrorEquals"]]
    low, high = ACCOUNT_NOT_READY_BUDGET_SECONDS
    assert low <= total_backoff_seconds(retrier) <= high


def test_organizations_busy_retriers_use_full_jitter(asl, state_machine_id):
    retriers = [
        (name, retrier)
        for name, state in tasks(asl).items()
        for retrier in state.get("Retry", [])
        if "OrganizationsBusy" in retrier["ErrorEquals"]
    ]
    # The settings runs' steps call no Organizations API (test_template_error_handling proves from the
    # code that every step retries the retryable errors it can raise).
    calls_organizations = state_machine_id != "KeepSettingsStateMachine"
    assert bool(retriers) == calls_organizations, "OrganizationsBusy retriers"
    assert [name for name, retrier in retriers if retrier.get("JitterStrategy") != "FULL"] == []
