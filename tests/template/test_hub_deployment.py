"""template.yaml's two deployment modes (issue #17), as ManagementRoleArn chooses.

- empty (single account, in the management account): no hub resource, no management role policy on any
  function, the Organizations rules following this account's events;
- a role ARN (hub deployment, management-role.yaml's output): ManagementRoleAccessPolicy (sts:AssumeRole on
  that role, nothing else) on exactly the functions whose code acts in the management account (read from
  the code with ast), the default bus admitting the management account's Organizations events alone, and
  the Organizations rules following that account only;
- the mode reaches every function (ORGVEND_MANAGEMENT_ROLE_ARN) and the outputs.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from template_support import (
    ACCOUNT_ID,
    HUB_ON,
    IDENTITY_CENTER_ON,
    MANAGEMENT_ACCOUNT_ID,
    Intrinsics,
    handler_source,
    inline_statements,
    last_name,
    orgvend_modules_of,
    resources_of_type,
    role_of_function,
    statement_actions,
)
from test_management_role import ASSUME_ROLE, MANAGEMENT_PREFIXES, MANAGEMENT_SERVICES, management_side

POLICY_ID = "ManagementRoleAccessPolicy"
BUS_POLICY_ID = "OrganizationEventsFromManagementAccount"
HUB_RESOURCES = {POLICY_ID, BUS_POLICY_ID}
ROLE_ARN = HUB_ON["ManagementRoleArn"]

# -- which functions act in the management account ----------------------------------------------------------

# The code acts in the management account through clients of its services (orgvend.aws.client and
# identity_center_client, the mode's routing, which ORGVEND_MANAGEMENT_ROLE_ARN sets), through the helpers
# named after it (aws.management_role_sts, aws.management_account_id), and in member accounts whose access
# role still trusts only the management account (assume_access_role, access_role_exists: role chaining).
CLIENT_FACTORIES = {"client", "identity_center_client"}
MANAGEMENT_HELPERS = {
    "management_role_sts",
    "management_account_id",
    "assume_access_role",
    "access_role_exists",
}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

# Functions whose code builds a management client but never calls it: no grant in a single-account
# deployment either, so none in a hub: orgvend.aws.ManagementRoleClient assumes the role at a client's
# first call, not when it is built (tests/unit/test_aws_management_role.py).
BUILDS_BUT_NEVER_CALLS = {
    # default_onboardings builds the onboarding workflow's Scope (an Organizations client) for the API's
    # adoptions; an event may only ask for a new account (accountId and ou refused before any call).
    "StartRequestedOnboardingFunction",
}


def management_uses(node: ast.AST) -> Iterator[str]:
    """The management-account clients built and helpers called in ``node``."""
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        name, arguments = last_name(call.func), call.args
        if name == "partial" and arguments and last_name(arguments[0]) in CLIENT_FACTORIES:
            name, arguments = last_name(arguments[0]), arguments[1:]  # partial(aws.client, "billing")
        if name in CLIENT_FACTORIES and arguments and isinstance(arguments[0], ast.Constant):
            if arguments[0].value in MANAGEMENT_SERVICES:
                yield f"{name}({arguments[0].value!r})"
        elif name in MANAGEMENT_HELPERS:
            yield name


def reachable_management_uses(handler: Path) -> set[str]:
    """What a function's code may do in the management account: the handler's module, the module-level code
    of every orgvend module it imports, and every definition those name (by name: an over-approximation,
    never an omission), followed until nothing new is named."""
    trees = [ast.parse(path.read_text()) for path in orgvend_modules_of(handler).values()]
    definitions: dict[str, list[ast.AST]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, DEFINITIONS):
                definitions.setdefault(node.name, []).append(node)
    pending: list[ast.AST] = [ast.parse(handler.read_text())]
    pending += [
        statement for tree in trees for statement in tree.body if not isinstance(statement, DEFINITIONS)
    ]
    seen: set[int] = set()
    found: set[str] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.update(management_uses(node))
        for named in ast.walk(node):
            if isinstance(named, ast.Name | ast.Attribute):
                pending.extend(definitions.get(last_name(named) or "", []))
    return found


@pytest.fixture(scope="session")
def management_functions(sam_template, lambda_functions) -> dict[str, set[str]]:
    """Function → what its code does in the management account, for the functions that do something there."""
    found = {}
    for function_id in lambda_functions:
        uses = reachable_management_uses(handler_source(sam_template, lambda_functions, function_id))
        if uses:
            found[function_id] = uses
    return found


def granted_in_the_management_account(
    cfn: dict[str, Any], function_id: str, intrinsics: Intrinsics
) -> set[str]:
    """A function role's own grants (single account) on the management services and the access roles."""
    return {
        action
        for statement in inline_statements(cfn["Resources"][role_of_function(cfn, function_id)], intrinsics)
        for action in statement_actions(statement)
        if action == ASSUME_ROLE
        or (
            action.split(":", 1)[0] in MANAGEMENT_PREFIXES
            and (not action.startswith("iam:") or management_side("iam", action.split(":", 1)[1]))
        )
    }


def attached_functions(cfn: dict[str, Any], lambda_functions, intrinsics: Intrinsics) -> set[str]:
    """The functions whose role carries ManagementRoleAccessPolicy with these parameters."""
    policy = intrinsics.ref(POLICY_ID) if intrinsics.enabled(POLICY_ID) else None
    return {
        function_id
        for function_id in lambda_functions
        if policy is not None
        and policy
        in intrinsics.resolve(
            cfn["Resources"][role_of_function(cfn, function_id)]["Properties"].get("ManagedPolicyArns", [])
        )
    }


@pytest.fixture(scope="session")
def single(cfn) -> Intrinsics:
    return Intrinsics(cfn, IDENTITY_CENTER_ON)


@pytest.fixture(scope="session")
def hub(cfn) -> Intrinsics:
    return Intrinsics(cfn, {**IDENTITY_CENTER_ON, **HUB_ON})


# -- the parameter and the mode --------------------------------------------------------------------------


def test_the_mode_is_the_first_question(sam_template):
    (first, *_) = sam_template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert first["Parameters"] == ["ManagementRoleArn"]
    parameter = sam_template["Parameters"]["ManagementRoleArn"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    for valid in ("", ROLE_ARN, "arn:aws-us-gov:iam::111122223333:role/path/orgvend-management"):
        assert pattern.fullmatch(valid), valid
    for invalid in ("orgvend-management", "arn:aws:iam::1111:role/x", "arn:aws:iam::111122223333:user/x"):
        assert not pattern.fullmatch(invalid), invalid


def test_the_mode_is_set_on_every_function(lambda_functions):
    missing = {
        function_id
        for function_id, function in lambda_functions.items()
        if function["Properties"]["Environment"]["Variables"].get("ORGVEND_MANAGEMENT_ROLE_ARN")
        != {"Ref": "ManagementRoleArn"}
    }
    assert missing == set()


def test_the_outputs_name_the_mode(cfn, single, hub):
    outputs = cfn["Outputs"]
    assert single.resolve(outputs["DeploymentMode"]["Value"]) == "single-account"
    assert hub.resolve(outputs["DeploymentMode"]["Value"]) == "hub"
    assert outputs["ManagementAccountId"]["Condition"] == "HubDeployment"
    assert hub.resolve(outputs["ManagementAccountId"]["Value"]) == MANAGEMENT_ACCOUNT_ID


# -- single account: nothing of the hub ------------------------------------------------------------------


def test_a_single_account_deployment_has_no_hub_resource(cfn, single, lambda_functions):
    conditional = {logical_id for logical_id in cfn["Resources"] if not single.enabled(logical_id)}
    assert conditional >= HUB_RESOURCES
    assert {cfn["Resources"][logical_id]["Condition"] for logical_id in HUB_RESOURCES} == {"HubDeployment"}
    assert attached_functions(cfn, lambda_functions, single) == set()


# -- hub: the management role, for the functions that act in the management account ----------------------


def test_the_policy_only_assumes_the_management_role(cfn, hub):
    policy = cfn["Resources"][POLICY_ID]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy" and hub.enabled(POLICY_ID)
    statements = hub.resolve(policy["Properties"]["PolicyDocument"])["Statement"]
    assert statements == [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_ARN}]
    assert set(policy["Properties"]) <= {"Description", "PolicyDocument"}, "attached by the functions only"


def test_the_code_analysis_sees_each_way_into_the_management_account(management_functions):
    seen = {use.split("(", 1)[0] for uses in management_functions.values() for use in uses}
    assert {"client", "identity_center_client", "assume_access_role", "access_role_exists"} <= seen


def test_exactly_the_functions_acting_in_the_management_account_carry_the_policy(
    cfn, lambda_functions, hub, management_functions
):
    expected = set(management_functions) - BUILDS_BUT_NEVER_CALLS
    attached = attached_functions(cfn, lambda_functions, hub)
    assert attached == expected, (
        f"attach ManagementRoleAccessPolicy to {sorted(expected - attached)}; "
        f"detach it from {sorted(attached - expected)}"
    )


def test_they_are_the_functions_granted_management_actions_in_a_single_account(
    cfn, lambda_functions, single, management_functions
):
    granted = {
        function_id
        for function_id in lambda_functions
        if granted_in_the_management_account(cfn, function_id, single)
    }
    assert granted == set(management_functions) - BUILDS_BUT_NEVER_CALLS
    # Each exception still builds a management client and is still granted nothing there.
    assert set(management_functions) - granted >= BUILDS_BUT_NEVER_CALLS


# -- hub: Organizations events from the management account -----------------------------------------------


def test_the_bus_admits_the_management_accounts_organizations_events_only(cfn, hub):
    policy = cfn["Resources"][BUS_POLICY_ID]
    assert policy["Type"] == "AWS::Events::EventBusPolicy" and hub.enabled(BUS_POLICY_ID)
    properties = hub.resolve(policy["Properties"])
    assert properties["EventBusName"] == "default"
    assert properties["Statement"] == {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:root"},
        "Action": "events:PutEvents",
        "Resource": f"arn:aws:events:us-east-1:{ACCOUNT_ID}:event-bus/default",
        "Condition": {"ForAllValues:StringEquals": {"events:source": ["aws.organizations"]}},
    }


def organizations_rules(cfn) -> dict[str, dict[str, Any]]:
    return {
        logical_id: rule
        for logical_id, rule in resources_of_type(cfn, "AWS::Events::Rule").items()
        if rule["Properties"].get("EventPattern", {}).get("source") == ["aws.organizations"]
    }


@pytest.mark.parametrize(("mode", "account"), [("single", ACCOUNT_ID), ("hub", MANAGEMENT_ACCOUNT_ID)])
def test_the_organizations_rules_follow_the_management_account_only(cfn, request, mode, account):
    intrinsics = request.getfixturevalue(mode)
    rules = organizations_rules(cfn)
    assert len(rules) == 2, sorted(rules)  # FollowOrganization's API calls and service events
    for logical_id, rule in rules.items():
        assert intrinsics.resolve(rule["Properties"]["EventPattern"]["account"]) == [account], logical_id
