"""Each parity patch, applied alone on an in-process moto, behaves as the AWS documentation it cites says.

(The end-to-end tests exercise the same patches together, through orgvend's workflows.)
"""

import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.config import DefaultConfig

from orgvend_local.parity import applied
from orgvend_local.parity.eventbridge import LAMBDA_AND_STATE_MACHINE_TARGETS
from orgvend_local.parity.iam import ORGANIZATIONS_FEATURES
from orgvend_local.parity.lambda_runtime import IN_PROCESS_LAMBDA, LocalFunction
from orgvend_local.parity.organization_events import CREATE_ACCOUNT_RESULT_EVENTS
from orgvend_local.parity.organizations import (
    ACCESS_ROLE_IS_ADMINISTRATOR,
    ASYNCHRONOUS_CREATION,
    CLOSURE_TAKES_TIME,
    EMAIL_ALREADY_EXISTS,
    REMOVAL_OF_NON_MEMBER,
)
from orgvend_local.parity.performance import PARSE_DEFINITIONS_ONCE, REUSE_SERVICE_INTEGRATION_CLIENTS
from orgvend_local.parity.stepfunctions import (
    ISO_START_TIME,
    TASK_TOKENS_ANSWER_ONCE,
    UNNAMED_EXECUTIONS_GET_UUIDS,
)
from orgvend_local.parity.stepfunctions_events import EXECUTION_STATUS_CHANGE, STATUS_CHANGE_EVENTS
from orgvend_local.parity.sts import TRUST_POLICIES_DECIDE

from .parity_support import StandaloneEmulator

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/states"


def eventually(probe: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def emulator() -> StandaloneEmulator:
    return StandaloneEmulator()


@contextmanager
def patched_moto(
    emulator: StandaloneEmulator, *names: str, execute_state_machines: bool = False
) -> Iterator[boto3.session.Session]:
    """A fresh in-process moto with these patches (and what they need) applied, undone on exit."""
    config: DefaultConfig = {"stepfunctions": {"execute_state_machine": execute_state_machines}}
    with mock_aws(config=config), applied(emulator, *names):
        yield boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )


@pytest.fixture
def patched(emulator: StandaloneEmulator) -> Callable[..., Any]:
    """``with patched(name, ..., execute_state_machines=...) as session``."""
    return functools.partial(patched_moto, emulator)


def organization(session: boto3.session.Session) -> Any:
    organizations = session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    return organizations


def queue_for(session: boto3.session.Session, pattern: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """A rule on the default bus sending matching events to a new queue; returns a reader of its events."""
    sqs, events = session.client("sqs"), session.client("events")
    queue_url = sqs.create_queue(QueueName=f"inbox-{time.monotonic_ns()}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"rule-{time.monotonic_ns()}"
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}])
    received: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
        return received

    return read


def state_machine(session: boto3.session.Session, states: dict[str, Any], name: str = "machine") -> str:
    return session.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(states), roleArn=ROLE
    )["stateMachineArn"]


def stopped(session: boto3.session.Session, execution_arn: str) -> dict[str, Any]:
    stepfunctions = session.client("stepfunctions")
    return eventually(
        lambda: (
            (execution := stepfunctions.describe_execution(executionArn=execution_arn))["status"] != "RUNNING"
            and execution
        ),
        what="execution stopped",
    )


PASS = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}


# --------------------------------------------------------------------------- Organizations


def test_a_creation_is_in_progress_without_an_account_then_succeeds(patched: Any) -> None:
    with patched(ASYNCHRONOUS_CREATION.name) as session:
        organizations = organization(session)
        members_before = len(organizations.list_accounts()["Accounts"])
        status = organizations.create_account(Email="a@example.com", AccountName="a")["CreateAccountStatus"]

        assert status["State"] == "IN_PROGRESS"
        assert "AccountId" not in status
        assert len(organizations.list_accounts()["Accounts"]) == members_before  # not a member yet

        def succeeded() -> dict[str, Any] | None:
            current = organizations.describe_create_account_status(CreateAccountRequestId=status["Id"])
            return (
                current["CreateAccountStatus"]
                if current["CreateAccountStatus"]["State"] != "IN_PROGRESS"
                else None
            )

        final = eventually(succeeded, what="creation ended")
        assert final["State"] == "SUCCEEDED"
        assert final["AccountId"] in {account["Id"] for account in organizations.list_accounts()["Accounts"]}


def test_too_many_creations_in_progress_exceed_the_rate_limit(
    patched: Any, emulator: StandaloneEmulator
) -> None:
    emulator.organizations_behaviour.max_in_progress = 1
    with patched(ASYNCHRONOUS_CREATION.name) as session:
        organizations = organization(session)
        organizations.create_account(Email="first@example.com", AccountName="first")
        with pytest.raises(ClientError) as refused:
            organizations.create_account(Email="second@example.com", AccountName="second")

    assert refused.value.response["Error"]["Code"] == "ConstraintViolationException"
    assert refused.value.response["Reason"] == "ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"
    assert emulator.organizations_behaviour.rate_limited == 1


def test_a_scripted_creation_answers_its_states_in_turn(patched: Any, emulator: StandaloneEmulator) -> None:
    emulator.organizations_behaviour.script_creation(
        "A@example.com", ["IN_PROGRESS", "IN_PROGRESS", "FAILED"]
    )
    with patched(ASYNCHRONOUS_CREATION.name) as session:
        organizations = organization(session)
        request_id = organizations.create_account(Email="a@example.com", AccountName="a")[
            "CreateAccountStatus"
        ]["Id"]
        states = [
            organizations.describe_create_account_status(CreateAccountRequestId=request_id)[
                "CreateAccountStatus"
            ]
            for _ in range(4)
        ]

    assert [status["State"] for status in states] == ["IN_PROGRESS", "IN_PROGRESS", "FAILED", "FAILED"]
    assert states[-1]["FailureReason"] == "INTERNAL_FAILURE"


def test_a_second_account_with_the_same_email_fails_email_already_exists(patched: Any) -> None:
    with patched(EMAIL_ALREADY_EXISTS.name, ASYNCHRONOUS_CREATION.name) as session:
        organizations = organization(session)
        organizations.create_account(Email="taken@example.com", AccountName="first")
        refused = organizations.create_account(Email="TAKEN@example.com", AccountName="second")[
            "CreateAccountStatus"
        ]
        described = organizations.describe_create_account_status(CreateAccountRequestId=refused["Id"])

        assert described["CreateAccountStatus"]["State"] == "FAILED"
        assert described["CreateAccountStatus"]["FailureReason"] == "EMAIL_ALREADY_EXISTS"
        assert "AccountId" not in described["CreateAccountStatus"]
        names = [account["Name"] for account in organizations.list_accounts()["Accounts"]]
        assert "second" not in names


def test_the_new_accounts_role_is_an_administrator(patched: Any) -> None:
    with patched(ACCESS_ROLE_IS_ADMINISTRATOR.name) as session:
        organizations = organization(session)
        account_id = organizations.create_account(Email="a@example.com", AccountName="a", RoleName="Access")[
            "CreateAccountStatus"
        ]["AccountId"]
        credentials = session.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/Access", RoleSessionName="look"
        )["Credentials"]
        iam = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name="us-east-1",
        ).client("iam")
        attached = iam.list_attached_role_policies(RoleName="Access")["AttachedPolicies"]

    assert [policy["PolicyName"] for policy in attached] == ["AdministratorAccess"]


def test_a_closure_is_pending_then_suspended_and_cannot_be_repeated(patched: Any) -> None:
    with patched(CLOSURE_TAKES_TIME.name) as session:
        organizations = organization(session)
        account_id = organizations.create_account(Email="a@example.com", AccountName="a")[
            "CreateAccountStatus"
        ]["AccountId"]
        organizations.close_account(AccountId=account_id)

        assert organizations.describe_account(AccountId=account_id)["Account"]["Status"] == "PENDING_CLOSURE"
        with pytest.raises(ClientError, match="AccountAlreadyClosedException"):
            organizations.close_account(AccountId=account_id)
        eventually(
            lambda: organizations.describe_account(AccountId=account_id)["Account"]["Status"] == "SUSPENDED",
            what="suspended",
        )


def test_removing_an_account_that_is_not_a_member_is_account_not_found(patched: Any) -> None:
    with patched(REMOVAL_OF_NON_MEMBER.name) as session:
        organizations = organization(session)
        with pytest.raises(ClientError) as refused:
            organizations.remove_account_from_organization(AccountId="111122223333")

    assert refused.value.response["Error"]["Code"] == "AccountNotFoundException"


def test_create_account_result_is_announced_when_a_trail_logs(patched: Any) -> None:
    with patched(CREATE_ACCOUNT_RESULT_EVENTS.name) as session:
        organizations = organization(session)
        read = queue_for(
            session, {"source": ["aws.organizations"], "detail": {"eventName": ["CreateAccountResult"]}}
        )
        organizations.create_account(Email="before@example.com", AccountName="before")
        time.sleep(0.6)  # past its creation: no trail logs, nothing is announced
        assert read() == []

        session.client("s3").create_bucket(Bucket="trail")
        cloudtrail = session.client("cloudtrail")
        cloudtrail.create_trail(Name="trail", S3BucketName="trail")
        cloudtrail.start_logging(Name="trail")
        request_id = organizations.create_account(Email="a@example.com", AccountName="a")[
            "CreateAccountStatus"
        ]["Id"]
        [event] = eventually(read, what="CreateAccountResult")

    assert event["detail-type"] == "AWS Service Event via CloudTrail"
    status = event["detail"]["serviceEventDetails"]["createAccountStatus"]
    assert status["id"] == request_id
    assert status["state"] == "SUCCEEDED"
    assert status["accountName"] == "****"
    assert re.fullmatch(
        r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M", status["completedTimestamp"]
    )


# --------------------------------------------------------------------------- IAM, STS


def test_list_organizations_features_answers_none_enabled(patched: Any) -> None:
    with patched(ORGANIZATIONS_FEATURES.name) as session:
        organization_id = organization(session).describe_organization()["Organization"]["Id"]
        features = session.client("iam").list_organizations_features()

    assert features["EnabledFeatures"] == []
    assert features["OrganizationId"] == organization_id


def test_assume_role_is_decided_by_the_trust_policy(patched: Any) -> None:
    def trusting(principal: dict[str, str]) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
            }
        )

    with patched(TRUST_POLICIES_DECIDE.name) as session:
        iam, sts = session.client("iam"), session.client("sts")
        admits_account = iam.create_role(
            RoleName="admits", AssumeRolePolicyDocument=trusting({"AWS": ACCOUNT})
        )
        lambda_only = iam.create_role(
            RoleName="lambda-only", AssumeRolePolicyDocument=trusting({"Service": "lambda.amazonaws.com"})
        )

        assert sts.assume_role(RoleArn=admits_account["Role"]["Arn"], RoleSessionName="ok")["Credentials"]
        for role_arn in (lambda_only["Role"]["Arn"], f"arn:aws:iam::{ACCOUNT}:role/absent"):
            with pytest.raises(ClientError) as refused:
                sts.assume_role(RoleArn=role_arn, RoleSessionName="no")
            assert refused.value.response["Error"]["Code"] == "AccessDenied"


# --------------------------------------------------------------------------- Step Functions


def test_an_execution_started_without_a_name_is_named_with_a_uuid(patched: Any) -> None:
    with patched(UNNAMED_EXECUTIONS_GET_UUIDS.name, execute_state_machines=True) as session:
        execution_arn = session.client("stepfunctions").start_execution(
            stateMachineArn=state_machine(session, PASS)
        )["executionArn"]
        execution = stopped(session, execution_arn)

    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", execution["name"])
    assert execution_arn.endswith(f":{execution['name']}")


def test_the_execution_start_time_reads_as_iso_8601(patched: Any) -> None:
    states = {
        "StartAt": "Read",
        "States": {
            "Read": {"Type": "Pass", "Parameters": {"start.$": "$$.Execution.StartTime"}, "End": True}
        },
    }
    with patched(ISO_START_TIME.name, execute_state_machines=True) as session:
        execution_arn = session.client("stepfunctions").start_execution(
            stateMachineArn=state_machine(session, states), name="iso"
        )["executionArn"]
        execution = stopped(session, execution_arn)

    assert execution["status"] == "SUCCEEDED"
    start = json.loads(execution["output"])["start"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", start)


def test_status_changes_are_announced_on_eventbridge(patched: Any) -> None:
    with patched(STATUS_CHANGE_EVENTS.name, execute_state_machines=True) as session:
        read = queue_for(session, {"source": ["aws.states"], "detail-type": [EXECUTION_STATUS_CHANGE]})
        failing = {
            "StartAt": "Fail",
            "States": {"Fail": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}},
        }
        execution_arn = session.client("stepfunctions").start_execution(
            stateMachineArn=state_machine(session, failing), name="announced", input='{"k": 1}'
        )["executionArn"]
        stopped(session, execution_arn)
        events = eventually(lambda: len(read()) >= 2 and read(), what="two status changes")

    by_status = {
        event["detail"]["status"]: event["detail"] for event in events
    }  # delivery order is not promised
    assert set(by_status) == {"RUNNING", "FAILED"}
    assert {detail["executionArn"] for detail in by_status.values()} == {execution_arn}
    assert by_status["FAILED"]["error"] == "Broken"
    assert by_status["FAILED"]["cause"] == "on purpose"
    assert json.loads(by_status["RUNNING"]["input"]) == {"k": 1}
    assert by_status["FAILED"]["redriveCount"] == 0
    assert all(event["resources"] == [execution_arn] for event in events)


def test_the_token_of_an_ended_task_answers_task_timed_out(patched: Any) -> None:
    with patched(TASK_TOKENS_ANSWER_ONCE.name, execute_state_machines=True) as session:
        sqs, stepfunctions = session.client("sqs"), session.client("stepfunctions")
        queue_url = sqs.create_queue(QueueName="tokens")["QueueUrl"]
        states = {
            "StartAt": "WaitForToken",
            "States": {
                "WaitForToken": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                    "Next": "Later",
                },
                "Later": {"Type": "Wait", "Seconds": 3, "End": True},
            },
        }
        execution_arn = stepfunctions.start_execution(
            stateMachineArn=state_machine(session, states), name="tokens"
        )["executionArn"]
        [message] = eventually(lambda: sqs.receive_message(QueueUrl=queue_url).get("Messages"), what="token")
        token = json.loads(message["Body"])["token"]

        stepfunctions.send_task_success(taskToken=token, output="{}")  # the waiting task takes it
        eventually(
            lambda: any(
                event["type"] == "WaitStateEntered"
                for event in stepfunctions.get_execution_history(executionArn=execution_arn)["events"]
            ),
            what="moved on",
        )
        with pytest.raises(ClientError) as late:
            stepfunctions.send_task_success(taskToken=token, output="{}")

    assert late.value.response["Error"]["Code"] == "TaskTimedOut"
    assert late.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_definition_is_parsed_once_for_every_execution(patched: Any) -> None:
    from unittest import mock  # noqa: PLC0415

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser  # noqa: PLC0415

    distinct = {"StartAt": "Distinct", "States": {"Distinct": {"Type": "Pass", "Result": 7, "End": True}}}
    with patched(PARSE_DEFINITIONS_ONCE.name, execute_state_machines=True) as session:
        stepfunctions = session.client("stepfunctions")
        arn = state_machine(session, distinct)
        with mock.patch.object(
            AmazonStateLanguageParser, "parse", side_effect=AmazonStateLanguageParser.parse
        ) as parsed:
            outputs = [
                stopped(
                    session, stepfunctions.start_execution(stateMachineArn=arn, name=name)["executionArn"]
                )
                for name in ("one", "two", "three")
            ]

    assert parsed.call_count == 1
    assert [execution["output"] for execution in outputs] == ["7", "7", "7"]


def test_task_states_share_one_client_per_service(patched: Any) -> None:
    from moto.stepfunctions.parser.asl.utils import boto_client  # noqa: PLC0415

    with patched(REUSE_SERVICE_INTEGRATION_CLIENTS.name):
        assert boto_client.boto_client_for("us-east-1", "sqs") is boto_client.boto_client_for(
            "us-east-1", "sqs"
        )
        assert boto_client.boto_client_for("us-east-1", "sqs") is not boto_client.boto_client_for(
            "us-east-1", "dynamodb"
        )


# --------------------------------------------------------------------------- EventBridge, Lambda


def test_rules_deliver_to_state_machines_and_functions_besides_moto_targets(
    patched: Any, emulator: StandaloneEmulator
) -> None:
    state_machine_arn = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:target"
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:target"
    with patched(LAMBDA_AND_STATE_MACHINE_TARGETS.name) as session:
        events, sqs = session.client("events"), session.client("sqs")
        queue_url = sqs.create_queue(QueueName="beside")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="rule", EventPattern=json.dumps({"source": ["test"], "detail": {"kind": ["a"]}}))
        events.put_targets(
            Rule="rule",
            Targets=[
                {"Id": "machine", "Arn": state_machine_arn},
                {
                    "Id": "function",
                    "Arn": function_arn,
                    "InputTransformer": {
                        "InputPathsMap": {"kind": "$.detail.kind"},
                        "InputTemplate": '{"k": "<kind>"}',
                    },
                },
                {"Id": "queue", "Arn": queue_arn},
            ],
        )
        events.put_events(
            Entries=[
                {"Source": "test", "DetailType": "t", "Detail": json.dumps({"kind": "b"})},  # matches no rule
                {"Source": "test", "DetailType": "t", "Detail": json.dumps({"kind": "a"})},
            ]
        )
        eventually(lambda: emulator.started and emulator.invoked, what="both delivered")
        [queued] = sqs.receive_message(QueueUrl=queue_url)["Messages"]

    [(started_arn, event)] = emulator.started
    assert started_arn == state_machine_arn
    assert event["detail"] == {"kind": "a"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", event["time"])  # ISO 8601, as AWS sends it
    assert "ingestion-time" not in event
    assert emulator.invoked == [(function_arn, {"k": "a"})]
    assert json.loads(queued["Body"])["detail"] == {"kind": "a"}  # moto's own targets still served


def test_a_function_runs_in_process_with_its_environment(
    patched: Any, emulator: StandaloneEmulator, tmp_path: Any
) -> None:
    (tmp_path / "app.py").write_text(
        "import os\n"
        "def handler(event, context):\n"
        "    if event.get('fail'):\n"
        "        raise ValueError('asked to fail')\n"
        "    return {'greeting': os.environ['GREETING'], 'event': event, 'name': context.function_name}\n"
    )
    emulator.lambdas.register(LocalFunction(name="greeter", code_dir=tmp_path, handler="app.handler"))
    with patched(IN_PROCESS_LAMBDA.name) as session:
        role_arn = session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"][
            "Arn"
        ]
        functions = session.client("lambda")
        functions.create_function(
            FunctionName="greeter",
            Runtime="python3.13",
            Role=role_arn,
            Handler="app.handler",
            Code={"ZipFile": b"placeholder"},
            Environment={"Variables": {"GREETING": "hello"}},
        )
        answered = functions.invoke(FunctionName="greeter", Payload=json.dumps({"n": 1}))
        failed = functions.invoke(FunctionName="greeter", Payload=json.dumps({"fail": True}))

    assert json.loads(answered["Payload"].read()) == {
        "greeting": "hello",
        "event": {"n": 1},
        "name": "greeter",
    }
    assert "FunctionError" in failed
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"
    assert [(name, errored) for name, _, errored in emulator.lambdas.invocations] == [
        ("greeter", False),
        ("greeter", True),
    ]
