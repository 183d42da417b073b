"""The HTTP API as deployed: AWS_IAM on every method, routes in the template = routes in the handler."""

import ast
import re
from pathlib import Path
from typing import Any

from template_support import ROOT, inline_statements, resources_of_type, role_of_function, statement_actions

API_HANDLER = ROOT / "functions/api/app.py"
LAYER = ROOT / "layers/common"
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def included_routers(handler: ast.Module) -> list[Path]:
    """The router modules the app includes: ``app.include_router(<module>.router)``, each module
    imported ``from orgvend.api import <module>``."""
    imported = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in ast.walk(handler)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    modules = []
    for node in ast.walk(handler):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "include_router"
        ):
            [argument] = node.args
            assert isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name), ast.unparse(
                node
            )
            module = imported[argument.value.id]
            modules.append(LAYER / (module.replace(".", "/") + ".py"))
    return modules


def handler_routes() -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every @app.<method>(...) route in the handler and
    @router.<method>(...) route of the routers it includes, read with ast."""
    handler = ast.parse(API_HANDLER.read_text())
    modules = [handler, *(ast.parse(router.read_text()) for router in included_routers(handler))]
    routes = set()
    for node in (node for module in modules for node in ast.walk(module)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in HTTP_METHODS
                and isinstance(decorator.args[0], ast.Constant)
            ):
                path = re.sub(r"<(\w+)>", r"{\1}", decorator.args[0].value)
                routes.add((decorator.func.attr.upper(), path))
    return routes


def template_routes(sam_template: dict[str, Any]) -> set[tuple[str, str]]:
    events = sam_template["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in events
        if event["Type"] == "Api"
    }


def test_every_handler_route_is_declared_in_the_template_and_nothing_else(
    sam_template: dict[str, Any],
) -> None:
    assert handler_routes() == template_routes(sam_template)


def test_every_api_method_requires_aws_iam(cfn: dict[str, Any]) -> None:
    [api] = resources_of_type(cfn, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    methods = [
        (path, method, operation) for path, item in paths.items() for method, operation in item.items()
    ]
    assert len(methods) >= 9
    for path, method, operation in methods:
        assert operation.get("security") == [{"AWS_IAM": []}], (method, path)
    for method_resource in resources_of_type(cfn, "AWS::ApiGateway::Method").values():
        assert method_resource["Properties"].get("AuthorizationType") == "AWS_IAM"


# What the API may do on each workflow: onboardings and offboardings are started, listed, followed and
# redriven; settings runs started and followed (their progress: the Distributed Map's run), never
# listed or redriven. Resource kinds: the state machine itself, its executions, its map runs.
ONBOARD, OFFBOARD, KEEP_SETTINGS = (
    "OnboardAccountStateMachine",
    "OffboardAccountStateMachine",
    "KeepSettingsStateMachine",
)
API_STATES_ACTIONS = {
    "states:StartExecution": ({ONBOARD, OFFBOARD, KEEP_SETTINGS}, "stateMachine"),
    "states:ListExecutions": ({ONBOARD, OFFBOARD}, "stateMachine"),
    "states:DescribeExecution": ({ONBOARD, OFFBOARD, KEEP_SETTINGS}, "execution"),
    "states:GetExecutionHistory": ({ONBOARD, OFFBOARD, KEEP_SETTINGS}, "execution"),
    "states:RedriveExecution": ({ONBOARD, OFFBOARD}, "execution"),
    "states:DescribeMapRun": ({KEEP_SETTINGS}, "mapRun"),
}


def resource_kind(resource: Any) -> str:
    """stateMachine (a !Ref of one), execution or mapRun (an ARN pattern under one)."""
    if isinstance(resource, dict) and set(resource) == {"Ref"}:
        return "stateMachine"
    rendered = repr(resource)
    kinds = [kind for kind in ("execution", "mapRun") if f":{kind}:" in rendered]
    assert len(kinds) == 1, resource
    return kinds[0]


def test_api_function_touches_only_the_workflows_state_machines(cfn: dict[str, Any]) -> None:
    statements = inline_statements(cfn["Resources"][role_of_function(cfn, "ApiFunction")])
    states = [
        statement
        for statement in statements
        if any(a.startswith("states:") for a in statement_actions(statement))
    ]
    machines = set(resources_of_type(cfn, "AWS::StepFunctions::StateMachine"))
    assert machines == {ONBOARD, OFFBOARD, KEEP_SETTINGS}
    granted: dict[str, set[str]] = {}
    for statement in states:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            rendered = repr(resource)
            assert rendered != "'*'"
            owners = {machine for machine in machines if machine in rendered}
            assert len(owners) == 1, resource  # one state machine itself, its executions or map runs
            for action in statement_actions(statement):
                assert action in API_STATES_ACTIONS, f"the API should not have {action}"
                assert resource_kind(resource) == API_STATES_ACTIONS[action][1], (action, resource)
                granted.setdefault(action, set()).update(owners)
    assert granted == {action: machines for action, (machines, _) in API_STATES_ACTIONS.items()}
