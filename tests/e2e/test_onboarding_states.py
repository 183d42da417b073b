"""Every state of the onboarding workflow, and what each one hands the next, on the real state machine.

Moved from the unit tests' in-process ASL interpreter: the same assertions, now on the state machine
of template.yaml run by the embedded AWS (moto's Step Functions interpreter, the real handlers), its
states read from the execution's history and the state data from its output.
"""

import json
import re
from typing import Any

import pytest

from orgvend.semaphore import creation_slots

from .conftest import CREATED_ACCOUNT_STATES, Harness, OrgvendCalls, request_for
from .test_onboarding import catch_events, entered_states, receive_one

pytestmark = pytest.mark.e2e


def snake_case_keys(value: Any, path: str = "$") -> list[str]:
    """Keys with an underscore anywhere in a JSON value (tags, which are data, excepted)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "_" in key:
                found.append(f"{path}.{key}")
            if key != "tags":
                found += snake_case_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += snake_case_keys(item, f"{path}[{index}]")
    return found


def test_snake_case_keys_finds_underscores_outside_tags():
    assert snake_case_keys({"a_b": 1, "tags": {"c_d": 1}, "list": [{"e_f": 2}]}) == ["$.a_b", "$.list[0].e_f"]


def start_named(embedded: Harness, request: dict[str, Any], name: str) -> dict[str, Any]:
    """An onboarding started under a name of the test's choosing, run to its end."""
    execution_arn = embedded.client("stepfunctions").start_execution(
        stateMachineArn=embedded.outputs["OnboardAccountStateMachineArn"],
        name=name,
        input=json.dumps(request),
    )["executionArn"]
    return embedded.wait(execution_arn)


def default_role_name(embedded: Harness) -> str:
    assert embedded.runtime.template is not None
    return embedded.runtime.template.parameters["AccessRoleNames"].split(",")[0]


def test_an_onboarding_runs_through_every_handler(
    embedded: Harness, unique: str, orgvend_calls: OrgvendCalls
) -> None:
    request = request_for(unique, tags={"cost_center": "42"})
    client = request["client"]
    name = f"onb-states-{unique}"
    # Organizations answers the first DescribeCreateAccountStatus with SUCCEEDED: one poll.
    embedded.runtime.organizations_behaviour.script_creation(request["email"], ["SUCCEEDED"])
    onboarded_events = catch_events(embedded, "Account Onboarded", unique)

    execution = start_named(embedded, request, name)

    assert execution["status"] == "SUCCEEDED", execution
    assert entered_states(embedded.history(execution["executionArn"])) == CREATED_ACCOUNT_STATES
    state = json.loads(execution["output"])
    assert snake_case_keys(state) == []

    onboarding = state["onboarding"]
    assert onboarding["onboardingId"] == name
    assert onboarding["executionArn"] == state["execution"]["id"] == execution["executionArn"]
    assert state["execution"]["id"].endswith(f":{name}")
    assert onboarding["mode"] == "create"
    assert onboarding["accountName"] == f"{client}-web"
    assert onboarding["roleName"] == default_role_name(embedded)
    assert onboarding["tags"] == {"cost_center": "42", "client": client, "project": "web"}
    assert onboarding["iamUserAccessToBilling"] == "DENY"
    assert "accountId" not in onboarding

    creation = state["creation"]
    assert creation["state"] == "SUCCEEDED"
    assert creation["polls"] == 1
    assert creation["recovered"] is False
    account_id = creation["accountId"]
    assert re.fullmatch(r"[0-9]{12}", account_id)
    assert [call["Email"] for call in orgvend_calls.of("CreateAccount")] == [request["email"]]

    assert state["placement"]["ouName"] == client
    assert state["placement"]["moved"] is True
    ou_id = state["placement"]["ouId"]
    assert embedded.parent_of(account_id) == ou_id

    assert state["baseline"]["changed"] is True
    assert state["baseline"]["roleArn"] == f"arn:aws:iam::{account_id}:role/{default_role_name(embedded)}"

    account = state["account"]
    assert account["accountId"] == account_id
    assert account["status"] == "ACTIVE"
    assert account["ouId"] == ou_id
    assert account["baselinePolicyArn"] == state["baseline"]["policyArn"]
    assert account["switchRoleUrl"].startswith("https://signin.aws.amazon.com/switchrole?")
    assert account["onboardingId"] == name

    assert state["notification"]["eventDetailType"] == "Account Onboarded"
    message = embedded.operator_message_about(account_id)
    assert [m for m in embedded.operator_messages() if account_id in m["Message"]] == [message]
    assert message["MessageId"] == state["notification"]["messageId"]
    event = embedded.eventually(
        lambda: receive_one(embedded, onboarded_events), what="Account Onboarded event"
    )
    assert event["detail"]["accountId"] == account_id
    assert receive_one(embedded, onboarded_events) is None  # one event

    assert (embedded.onboarding_item(name) or {})["status"] == "SUCCEEDED"
    assert (embedded.account_item(account_id) or {})["status"] == "ACTIVE"
    # CheckAccountCreation released the creation slot, and the onboarding never waited in line.
    slots = creation_slots(embedded.client("dynamodb"), embedded.outputs["RegistryTableName"])
    assert name not in slots.holders()
    assert name not in slots.waiting()


def test_an_adoption_runs_through_verify_member_account(embedded: Harness, unique: str) -> None:
    request = request_for(unique, project="legacy")
    _, account_id = embedded.create_member(request["email"], f"legacy-{unique}")

    execution = embedded.wait(embedded.start({**request, "accountId": account_id}))

    assert execution["status"] == "SUCCEEDED", execution
    visited = entered_states(embedded.history(execution["executionArn"]))
    assert "VerifyMemberAccount" in visited
    assert "CreateAccount" not in visited
    state = json.loads(execution["output"])
    assert state["onboarding"]["mode"] == "adopt"
    assert state["creation"] == {
        "state": "SUCCEEDED",
        "accountId": account_id,
        "polls": 0,
        "recovered": False,
    }
    assert state["account"]["status"] == "ACTIVE"
    assert (embedded.account_item(account_id) or {})["project"] == "legacy"
