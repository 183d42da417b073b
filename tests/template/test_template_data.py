"""Stateful resources (registry, topic, queues, logs) and the failure-report rule."""

import fnmatch
from typing import Any

import pytest
from template_support import as_list, get_att_target, ref_target, resources_of_type

from orgvend.registry import BY_CLIENT_INDEX, account_key, onboarding_key

# Who hears of each workflow's failed, timed-out or aborted executions.
REPORT_FUNCTIONS = {
    "OnboardAccountStateMachine": "ReportOnboardingFailureFunction",
    "OffboardAccountStateMachine": "ReportOffboardingFailureFunction",
    "KeepSettingsStateMachine": "ReportSettingsRunFailureFunction",
}
FAILURE_STATUSES = {"FAILED", "TIMED_OUT", "ABORTED"}


@pytest.fixture(scope="module")
def registry_table(cfn) -> dict[str, Any]:
    table = cfn["Resources"]["RegistryTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    return table


def key_schema(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def test_registry_table_survives_stack_deletion_and_replacement(registry_table):
    assert registry_table.get("DeletionPolicy") == "Retain"
    assert registry_table.get("UpdateReplacePolicy") == "Retain"
    assert registry_table["Properties"].get("DeletionProtectionEnabled") is True


def test_registry_table_is_recoverable_encrypted_and_on_demand(registry_table):
    properties = registry_table["Properties"]
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"


def test_registry_table_keys_are_the_ones_the_registry_writes(registry_table):
    schema = key_schema(registry_table["Properties"]["KeySchema"])
    assert set(schema) == {"HASH", "RANGE"}
    assert set(account_key("111111111111")) == set(schema.values())
    assert set(onboarding_key("onboarding-1")) == set(schema.values())


def test_registry_table_has_the_by_client_index(registry_table):
    properties = registry_table["Properties"]
    indexes = {index["IndexName"]: index for index in properties.get("GlobalSecondaryIndexes", [])}
    assert BY_CLIENT_INDEX in indexes
    assert key_schema(indexes[BY_CLIENT_INDEX]["KeySchema"]) == {"HASH": "gsi1pk", "RANGE": "gsi1sk"}
    declared = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
    assert declared["gsi1pk"] == declared["gsi1sk"] == "S"


def test_operator_topic_is_encrypted(cfn):
    topic = cfn["Resources"]["OperatorTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"].get("KmsMasterKeyId")


def test_queues_are_encrypted(cfn):
    queues = resources_of_type(cfn, "AWS::SQS::Queue")
    assert queues
    for queue_id, queue in queues.items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or properties.get("KmsMasterKeyId"), queue_id


# -- the failure report ----------------------------------------------------------------------


@pytest.fixture
def report_function(state_machine_id: str) -> str:
    return REPORT_FUNCTIONS[state_machine_id]


@pytest.fixture
def failure_rule(cfn, report_function) -> tuple[dict[str, Any], dict[str, Any]]:
    """(rule, target) of the EventBridge rule that invokes the workflow's failure reporter."""
    found = [
        (rule, target)
        for rule in resources_of_type(cfn, "AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if get_att_target(target["Arn"]) == (report_function, "Arn")
    ]
    assert len(found) == 1, f"expected one rule targeting {report_function}, found {len(found)}"
    return found[0]


def test_failure_rule_matches_the_end_of_a_failed_execution(failure_rule, state_machine_id, intrinsics):
    rule, _ = failure_rule
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert set(pattern["detail"]["status"]) == FAILURE_STATUSES
    assert len(pattern["detail"]["status"]) == len(FAILURE_STATUSES)
    assert intrinsics.resolve(pattern["detail"]["stateMachineArn"]) == [intrinsics.arn(state_machine_id)]
    assert rule["Properties"].get("State", "ENABLED") == "ENABLED"


def test_failure_rule_retries_and_keeps_undeliverable_events(cfn, failure_rule, intrinsics):
    rule, target = failure_rule
    retry = target["RetryPolicy"]
    assert retry["MaximumRetryAttempts"] >= 1
    assert retry["MaximumEventAgeInSeconds"] >= 60

    queue = get_att_target(target["DeadLetterConfig"]["Arn"])
    assert queue is not None and cfn["Resources"][queue[0]]["Type"] == "AWS::SQS::Queue"
    queue_arn = intrinsics.arn(queue[0])
    rule_id = next(logical_id for logical_id, r in cfn["Resources"].items() if r is rule)
    rule_arn = intrinsics.arn(rule_id)

    # Without a queue policy letting this rule send, EventBridge drops the event silently.
    allowed = False
    for policy in resources_of_type(cfn, "AWS::SQS::QueuePolicy").values():
        if queue[0] not in {ref_target(q) for q in policy["Properties"]["Queues"]}:
            continue
        for statement in as_list(intrinsics.resolve(policy["Properties"]["PolicyDocument"])["Statement"]):
            source_arns = [
                arn
                for operator in ("ArnLike", "ArnEquals")
                for arn in as_list(statement.get("Condition", {}).get(operator, {}).get("aws:SourceArn", []))
            ]
            allowed |= (
                statement["Effect"] == "Allow"
                and "events.amazonaws.com" in as_list(statement["Principal"].get("Service"))
                and "sqs:SendMessage" in as_list(statement["Action"])
                and queue_arn in as_list(statement["Resource"])
                and any(fnmatch.fnmatchcase(rule_arn, pattern) for pattern in source_arns)
            )
    assert allowed, f"no queue policy lets {rule_id} send to {queue[0]}"


def test_failure_reporter_keeps_events_it_failed_to_process(cfn, intrinsics, report_function):
    function = cfn["Resources"][report_function]["Properties"]
    destinations = []
    if "DeadLetterConfig" in function:
        destinations.append(function["DeadLetterConfig"]["TargetArn"])
    for config in resources_of_type(cfn, "AWS::Lambda::EventInvokeConfig").values():
        if ref_target(config["Properties"]["FunctionName"]) == report_function:
            on_failure = config["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
            if "Destination" in on_failure:
                destinations.append(on_failure["Destination"])
    queues = {intrinsics.arn(queue_id) for queue_id in resources_of_type(cfn, "AWS::SQS::Queue")}
    topics = {intrinsics.arn(topic_id) for topic_id in resources_of_type(cfn, "AWS::SNS::Topic")}
    assert destinations
    assert {intrinsics.resolve(destination) for destination in destinations} <= queues | topics


# -- logs --------------------------------------------------------------------------------------


def test_every_function_log_group_expires_after_log_retention_in_days(cfn, lambda_functions, intrinsics):
    log_groups = {
        intrinsics.resolve(group["Properties"]["LogGroupName"]): group
        for group in resources_of_type(cfn, "AWS::Logs::LogGroup").values()
        if "LogGroupName" in group["Properties"]
    }
    missing = []
    for function_id, function in lambda_functions.items():
        configured = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        name = intrinsics.resolve(configured) if configured else f"/aws/lambda/{intrinsics.ref(function_id)}"
        group = log_groups.get(name)
        if group is None or ref_target(group["Properties"].get("RetentionInDays")) != "LogRetentionInDays":
            missing.append(function_id)
    assert missing == []
