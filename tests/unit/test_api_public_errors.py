"""What the API may say about an error: no stack trace, ARN, email address or hidden character."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend.refusals import ARN_WITHHELD, Conflict, public_cause, public_text
from orgvend.workflows.onboardings import Onboardings

from .support import lambda_context, load_handler

ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/orgvend-PlaceAccountFunctionRole-1AB2/orgvend-PlaceAccount"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:orgvend-OnboardAccountStateMachine:onb-1"
STACK = 'Traceback (most recent call last):\n  File "/var/task/app.py", line 12, in handler\n    raise'


@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("account 210987654321 is not a member", "account 210987654321 is not a member"),
        (f"User: {ROLE_ARN} is not authorized", f"User: {ARN_WITHHELD} is not authorized"),
        (f"cannot redrive {EXECUTION_ARN}.", f"cannot redrive {ARN_WITHHELD}."),
        (f"boom\n{STACK}", "boom"),
        ("email aws+acme@example.com is taken", "email a***@example.com is taken"),
        ("tags.owner\u202e", "tags.owner\\u202e"),
        ("a\u200d@example.com", "a\\u***@example.com"),  # an address hidden by a zero-width joiner
        ("nul\x00", "nul\\u0000"),
        ("x" * 600, "x" * 499 + "…"),
    ],
)
def test_public_text(text: str, public: str) -> None:
    assert public_text(text) == public


def lambda_error(message: str) -> str:
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": "BaselineFailed",
            "requestId": "5f0e",
            "stackTrace": ['  File "/var/task/app.py", line 1, in handler\n'] * 400,
        }
    )


@pytest.mark.parametrize(
    ("cause", "readable"),
    [
        (lambda_error("baseline of 210987654321 failed"), "baseline of 210987654321 failed"),
        # Step Functions cuts a cause at 32 KiB: the JSON no longer parses, the message is still found.
        (lambda_error("baseline of 210987654321 failed")[:2000], "baseline of 210987654321 failed"),
        (lambda_error(f"denied: {ROLE_ARN}"), f"denied: {ARN_WITHHELD}"),
        (
            lambda_error("email ops@example.com is already registered"),
            "email o***@example.com is already registered",
        ),
        (f"States.Runtime in state X\n{STACK}", "States.Runtime in state X"),
        ("CreateAccount failed: EMAIL_ALREADY_EXISTS", "CreateAccount failed: EMAIL_ALREADY_EXISTS"),
        ("", None),
        (None, None),
    ],
)
def test_public_cause_is_the_readable_message(cause: str | None, readable: str | None) -> None:
    assert public_cause(cause) == readable


def test_a_refused_redrive_names_no_arn() -> None:
    class StepFunctions:
        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            return {"status": "FAILED", "executionArn": executionArn}

        def redrive_execution(self, executionArn: str) -> None:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ExecutionNotRedrivable",
                        "Message": f"Execution {executionArn} cannot be redriven: redrive limit exceeded",
                    }
                },
                "RedriveExecution",
            )

    # Only Step Functions is reached: retrying reads the execution and redrives it.
    onboardings = Onboardings(
        StepFunctions(),
        None,  # the registry: never reached
        EXECUTION_ARN.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0],
        None,  # never reached
        None,  # never reached
    )
    with pytest.raises(Conflict) as raised:
        onboardings.retry("onb-1")
    assert raised.value.code == "NotRetryable"
    assert "arn:" not in raised.value.message and "redrive limit exceeded" in raised.value.message


def test_with_powertools_dev_set_an_unexpected_error_is_still_not_answered_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, template, set_function_environment, moto_aws
) -> None:
    """POWERTOOLS_DEV turns on the resolver's debug mode, which answers 500 with the traceback."""
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    monkeypatch.setenv("CLIENTS_PARENT_OU_ID", "ou-abcd-12345678")  # a scope; no organization is needed here
    set_function_environment("ApiFunction")
    handler = load_handler(template, "ApiFunction")
    event = {
        "resource": "/accounts/{accountId}",
        "path": "/accounts/210987654321",
        "httpMethod": "GET",
        "headers": {"accept": "application/json"},
        "multiValueHeaders": {"accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"accountId": "210987654321"},
        "stageVariables": None,
        "requestContext": {
            "requestId": "r-1",
            "stage": "Prod",
            "resourcePath": "/accounts/{accountId}",
            "httpMethod": "GET",
            "path": "/Prod/accounts/210987654321",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }

    # The registry table does not exist: the function fails, and API Gateway answers its own 502.
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        handler(event, lambda_context(template, "ApiFunction"))
