"""No line a handler writes holds an onboarding's email address, only its masked form.

The embedded runtime saves each invocation's output (Powertools' JSON lines, and
what the Lambda runtime prints for an exception that escapes a handler) in the
embedded CloudWatch Logs, under /aws/lambda/<function name>: read back here as an
operator would, with the Logs API.
"""

from typing import Any
from urllib.parse import quote

import pytest

from .conftest import Harness
from .test_api import call, finished, onboard

pytestmark = pytest.mark.e2e


def lambda_log_lines(embedded: Harness) -> dict[str, list[str]]:
    """Every line of every function's log group, by function name."""
    logs = embedded.client("logs")
    groups = [
        group["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/")
        for group in page["logGroups"]
    ]
    return {
        group.removeprefix("/aws/lambda/"): [
            event["message"]
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            for event in page["events"]
        ]
        for group in groups
    }


def test_handlers_never_write_an_onboardings_email(embedded: Harness, unique: str) -> None:
    # The stack admits example.com only (AllowedEmailDomains); the local part is this test's own.
    email = f"zed.{unique}@example.com"
    masked = "z***@example.com"
    request: dict[str, Any] = {"client": f"c{unique}", "project": "web", "email": email}

    # An onboarding through the API, to the end.
    onboarding_id = onboard(embedded, request)
    assert finished(embedded, onboarding_id)["status"] == "SUCCEEDED"
    # The same email again through the API: refused before anything starts.
    status, body = call(embedded, "POST", "/accounts", {**request, "project": "again"})
    assert status == 409, body
    # And started as the AWS CLI or an event would: the workflow's guard fails it, naming the email.
    failing_arn = embedded.start({**request, "project": "direct"})
    failing_id = failing_arn.rsplit(":", 1)[1]
    failed = embedded.wait(failing_arn)
    assert failed["status"] == "FAILED" and failed["error"] == "EmailAlreadyRegistered"
    embedded.operator_message_about(failing_id)  # ReportOnboardingFailure has run (and logged)

    lines = lambda_log_lines(embedded)
    everything = [(function, line) for function, function_lines in lines.items() for line in function_lines]
    assert everything
    spellings = {email.lower(), quote(email, safe="").lower(), email.replace("@", "\\u0040").lower()}
    leaks = [(function, line) for function, line in everything if any(s in line.lower() for s in spellings)]
    assert leaks == []

    # The masking is what kept it out: the masked address and both onboardings are there.
    api = lines[embedded.function_name("ApiFunction")]
    assert any(masked in line and onboarding_id in line for line in api), api[-5:]
    record_request = lines[embedded.function_name("RecordRequestFunction")]
    refused = [line for line in record_request if "EmailAlreadyRegistered" in line and masked in line]
    assert refused and all(onboarding_id in line for line in refused), record_request[-5:]
    create_account = lines[embedded.function_name("CreateAccountFunction")]
    assert any(f'"correlation_id":"{onboarding_id}"' in line for line in create_account)
    report = lines[embedded.function_name("ReportOnboardingFailureFunction")]
    assert any(f'"correlation_id":"{failing_id}"' in line for line in report)
    # What Step Functions recorded as the cause (from the function's error) is masked too.
    assert masked in failed["cause"] and email not in failed["cause"]
