"""Access rules (orgvend.access.rules): parsing the AccessRules parameter and resolving an account's assignments.

A rule's reach follows from its placeholders: none (every account), ``{client}`` (the client's
accounts), ``{client}-{project}`` (the project's account). A request may add assignments of its own,
but only with a permission set orgvend keeps: the model refuses any other, naming the field.
"""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from orgvend import rules
from orgvend.access.rules import (
    REQUESTED,
    AccessRule,
    DesiredAssignment,
    InvalidAccessRules,
    desired_assignments,
    parse_access_rules,
)
from orgvend.errors import InvalidOnboardingRequest
from orgvend.models import AccessRequest, ExecutionContext, OnboardRequest
from orgvend.organizations import Scope
from orgvend.registry import Registry
from orgvend.settings import Settings
from orgvend.steps.onboarding.record_request import RecordRequestInput, record_request

ADMIN = rules.ADMINISTRATOR_MINUS_BILLING
READ_ONLY = rules.READ_ONLY_ACCESS
REQUEST = {"client": "acme", "project": "web", "email": "ops@example.com"}


def resolve(
    entries: tuple[str, ...], requested: list[AccessRequest] | None = None
) -> list[DesiredAssignment]:
    return desired_assignments(parse_access_rules(entries), "acme", "web", requested or [])


# -- parsing -------------------------------------------------------------------------------------


def test_rules_parse_in_order_with_their_reach() -> None:
    parsed = parse_access_rules(
        (
            "agency-ops=AdministratorMinusBilling",
            " {client}-developers = AdministratorMinusBilling ",
            "{client}-{project}-readonly=ReadOnlyAccess",
        )
    )
    assert parsed == (
        AccessRule("agency-ops", ADMIN),
        AccessRule("{client}-developers", ADMIN),
        AccessRule("{client}-{project}-readonly", READ_ONLY),
    )
    assert [rule.reach for rule in parsed] == ["every account", "client", "project"]
    assert str(parsed[1]) == "{client}-developers=AdministratorMinusBilling"


def test_no_rules_is_no_assignment() -> None:
    assert parse_access_rules(()) == ()
    assert resolve(()) == []


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("agency-ops", "write it as <group>=<permission set>"),
        ("=ReadOnlyAccess", "write it as <group>=<permission set>"),
        ("   =ReadOnlyAccess", "write it as <group>=<permission set>"),
        ("agency-ops=PowerUserAccess", "must be one of the permission sets orgvend keeps"),
        ("agency-ops=", "must be one of the permission sets orgvend keeps"),
        ("{team}-ops=ReadOnlyAccess", "a group may name only {client} and {project}"),
        ("{client}-{Project}=ReadOnlyAccess", "a group may name only {client} and {project}"),
        ("{client-ops=ReadOnlyAccess", "a group may name only {client} and {project}"),
        ("ops}=ReadOnlyAccess", "a group may name only {client} and {project}"),
        ("ops\tteam=ReadOnlyAccess", "control characters"),
        ("x" * (rules.GROUP_NAME_MAX_LENGTH + 1) + "=ReadOnlyAccess", "1 to 1024 characters"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(entry: str, words: str) -> None:
    with pytest.raises(InvalidAccessRules) as raised:
        parse_access_rules(("agency-ops=ReadOnlyAccess", entry))
    message = str(raised.value)
    assert words in message
    assert repr(entry) in message


def test_a_group_too_long_for_the_longest_client_and_project_is_refused() -> None:
    # 1,019 characters as written, 1,004 with one-letter slugs, 1,050 with the longest slugs (24 each).
    entry = "x" * 1000 + "-{client}-{project}=ReadOnlyAccess"
    with pytest.raises(InvalidAccessRules, match="1 to 1024 characters"):
        parse_access_rules((entry,))
    longest = "a" * rules.SLUG_MAX_LENGTH
    fits = "x" * (rules.GROUP_NAME_MAX_LENGTH - 2 * rules.SLUG_MAX_LENGTH - 1) + "-{client}{project}"
    (rule,) = parse_access_rules((fits + "=ReadOnlyAccess",))
    assert len(rule.group_for(longest, longest)) == rules.GROUP_NAME_MAX_LENGTH
    assert rules.group_name_problem(rule.group_for(longest, longest)) is None


def test_the_first_bad_rule_is_the_one_named() -> None:
    with pytest.raises(InvalidAccessRules, match="'first'"):
        parse_access_rules(("first", "second=Nope"))


def test_the_same_rule_twice_is_refused_naming_both() -> None:
    with pytest.raises(InvalidAccessRules) as raised:
        parse_access_rules(
            (
                "{client}-developers=ReadOnlyAccess",
                "agency-ops=ReadOnlyAccess",
                " {client}-developers=ReadOnlyAccess",
            )
        )
    message = str(raised.value)
    assert "conflict" in message
    assert "'{client}-developers=ReadOnlyAccess'" in message
    assert "' {client}-developers=ReadOnlyAccess'" in message


def test_one_group_with_both_permission_sets_is_two_rules() -> None:
    parsed = parse_access_rules(("agency-ops=AdministratorMinusBilling", "agency-ops=ReadOnlyAccess"))
    assert len(parsed) == 2


# -- resolution ----------------------------------------------------------------------------------


def test_every_account_rule_reaches_any_client_and_project() -> None:
    parsed = parse_access_rules(("agency-ops=AdministratorMinusBilling",))
    for client, project in (("acme", "web"), ("globex", "data")):
        assert desired_assignments(parsed, client, project, []) == [
            DesiredAssignment("agency-ops", ADMIN, "agency-ops=AdministratorMinusBilling")
        ]


def test_client_rule_names_the_clients_group() -> None:
    parsed = parse_access_rules(("{client}-developers=AdministratorMinusBilling",))
    assert desired_assignments(parsed, "acme", "web", []) == [
        DesiredAssignment("acme-developers", ADMIN, "{client}-developers=AdministratorMinusBilling")
    ]
    assert desired_assignments(parsed, "globex", "web", [])[0].group == "globex-developers"
    assert desired_assignments(parsed, "acme", "data", [])[0].group == "acme-developers"


def test_project_rule_names_the_projects_group() -> None:
    parsed = parse_access_rules(("{client}-{project}-readonly=ReadOnlyAccess",))
    assert desired_assignments(parsed, "acme", "web", []) == [
        DesiredAssignment("acme-web-readonly", READ_ONLY, "{client}-{project}-readonly=ReadOnlyAccess")
    ]
    assert desired_assignments(parsed, "acme", "data", [])[0].group == "acme-data-readonly"


def test_two_rules_reaching_the_same_assignment_make_one_credited_to_the_first() -> None:
    # For client "acme": "{client}-ops" and "acme-ops" are the same group.
    desired = resolve(("{client}-ops=ReadOnlyAccess", "agency=ReadOnlyAccess", "acme-ops=ReadOnlyAccess"))
    assert desired == [
        DesiredAssignment("acme-ops", READ_ONLY, "{client}-ops=ReadOnlyAccess"),
        DesiredAssignment("agency", READ_ONLY, "agency=ReadOnlyAccess"),
    ]
    # Another client: the two rules are two assignments.
    other = desired_assignments(
        parse_access_rules(("{client}-ops=ReadOnlyAccess", "acme-ops=ReadOnlyAccess")), "globex", "web", []
    )
    assert [(each.group, each.rule) for each in other] == [
        ("globex-ops", "{client}-ops=ReadOnlyAccess"),
        ("acme-ops", "acme-ops=ReadOnlyAccess"),
    ]


def test_requested_assignments_come_after_the_rules_deduplicated_and_credited_to_the_request() -> None:
    requested = [
        AccessRequest(group="auditors", permission_set=READ_ONLY),
        AccessRequest(group="acme-developers", permission_set=ADMIN),  # a rule already gives it
        AccessRequest(group="auditors", permission_set=READ_ONLY),  # twice in the request
        AccessRequest(group="acme-developers", permission_set=READ_ONLY),  # another permission set
    ]
    desired = resolve(("{client}-developers=AdministratorMinusBilling",), requested)
    assert desired == [
        # Credited to the request, so that it stays with the account when its client changes.
        DesiredAssignment("acme-developers", ADMIN, REQUESTED),
        DesiredAssignment("auditors", READ_ONLY, REQUESTED),
        DesiredAssignment("acme-developers", READ_ONLY, REQUESTED),
    ]


def test_a_requested_group_is_not_substituted() -> None:
    desired = resolve((), [AccessRequest(group="{client}-ops", permission_set=READ_ONLY)])
    assert desired == [DesiredAssignment("{client}-ops", READ_ONLY, REQUESTED)]


# -- a request's own assignments -----------------------------------------------------------------


def test_a_request_may_add_assignments_by_their_api_names() -> None:
    request = OnboardRequest.model_validate(
        {**REQUEST, "access": [{"group": "auditors", "permissionSet": "ReadOnlyAccess"}]}
    )
    assert request.access == [AccessRequest(group="auditors", permission_set=READ_ONLY)]


@pytest.mark.parametrize(
    ("access", "location", "words"),
    [
        (
            [{"group": "x", "permissionSet": "Nope"}],
            ("access", 0, "permissionSet"),
            "permission sets orgvend keeps",
        ),
        (
            [
                {"group": "x", "permissionSet": "ReadOnlyAccess"},
                {"group": "y", "permissionSet": "AdministratorAccess"},
            ],
            ("access", 1, "permissionSet"),
            "permission sets orgvend keeps",
        ),
        ([{"group": "", "permissionSet": "ReadOnlyAccess"}], ("access", 0, "group"), "1 to 1024 characters"),
        ([{"group": " x", "permissionSet": "ReadOnlyAccess"}], ("access", 0, "group"), "whitespace"),
        ([{"group": "x"}], ("access", 0, "permissionSet"), "Field required"),
        (
            [{"group": "x", "permissionSet": "ReadOnlyAccess", "scope": "all"}],
            ("access", 0, "scope"),
            "Extra inputs",
        ),
        (
            [{"group": f"g{n}", "permissionSet": "ReadOnlyAccess"} for n in range(21)],
            ("access",),
            "at most 20",
        ),
    ],
)
def test_a_bad_requested_assignment_is_refused_naming_the_field(
    access: list[dict[str, Any]], location: tuple[str | int, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        OnboardRequest.model_validate({**REQUEST, "access": access})
    errors = raised.value.errors()
    assert [error["loc"] for error in errors] == [location]
    assert words in errors[0]["msg"]


def test_record_request_refuses_an_unknown_permission_set_naming_access_0_permission_set(
    registry: Registry, scope: Scope, settings_for: Any, execution_arn: Any
) -> None:
    settings: Settings = settings_for("RecordRequestFunction")
    step_input = RecordRequestInput(
        request={**REQUEST, "access": [{"group": "x", "permissionSet": "Nope"}]},
        execution=ExecutionContext(
            id=execution_arn("onb-0001"), name="onb-0001", start_time=datetime(2026, 1, 2, tzinfo=UTC)
        ),
    )
    with pytest.raises(InvalidOnboardingRequest) as raised:
        record_request(
            step_input, registry, scope, settings.access_role_names or (), settings.allowed_email_domains
        )
    message = str(raised.value)
    assert message.startswith("access.0.permissionSet")
    assert "AdministratorMinusBilling, ReadOnlyAccess" in message
    assert registry.get_onboarding("onb-0001") is None
