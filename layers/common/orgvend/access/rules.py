"""Access rules: the agency's convention for who gets into which account, written once in the stack.

A rule is ``<group>=<permission set>``; the group may name the account's client and project:

- ``agency-ops=AdministratorMinusBilling``: no placeholder, every account;
- ``{client}-developers=AdministratorMinusBilling``: that client's accounts;
- ``{client}-{project}-readonly=ReadOnlyAccess``: that project's account.

What a rule reaches follows from the placeholders it uses, so a rule cannot say one thing in its
group and another in a separate scope field. The rules are the stack parameter ``AccessRules``
(comma-separated), not an item the API edits: a grant of access to every client account is
reviewed and deployed like the managed scope is, and a caller of the API cannot widen it
(README, "Access").
"""

from dataclasses import dataclass

from orgvend import rules
from orgvend.models import AccessRequest

REQUESTED = "request"


class InvalidAccessRules(ValueError):
    """The AccessRules parameter breaks a rule: the message names the rule and what is wrong."""


@dataclass(frozen=True)
class AccessRule:
    group_pattern: str
    permission_set: str

    def __str__(self) -> str:
        return f"{self.group_pattern}={self.permission_set}"

    def group_for(self, client: str, project: str) -> str:
        return self.group_pattern.replace("{client}", client).replace("{project}", project)

    @property
    def reach(self) -> str:
        """Which accounts the rule reaches: every account, a client's, or a project's."""
        if "{project}" in self.group_pattern:
            return "project"
        if "{client}" in self.group_pattern:
            return "client"
        return "every account"


@dataclass(frozen=True)
class DesiredAssignment:
    """An assignment an account should have: a group (by display name), a permission set, and why."""

    group: str
    permission_set: str
    rule: str


def parse_access_rules(entries: tuple[str, ...]) -> tuple[AccessRule, ...]:
    """The rules of the AccessRules parameter; InvalidAccessRules names the first bad one.

    The same group pattern with the same permission set twice is refused as a conflict: one of the
    two is a mistake (a typo in the other's intent), and orgvend cannot tell which.
    """
    parsed: list[AccessRule] = []
    seen: dict[tuple[str, str], str] = {}
    for entry in entries:
        group, separator, permission_set = entry.strip().rpartition("=")
        if not separator or not group.strip():
            raise InvalidAccessRules(f"access rule {entry!r}: write it as <group>=<permission set>")
        group, permission_set = group.strip(), permission_set.strip()
        problem = rules.permission_set_problem(permission_set)
        if problem:
            raise InvalidAccessRules(f"access rule {entry!r}: the permission set {problem}")
        leftover = group
        for placeholder in rules.GROUP_PLACEHOLDERS:
            leftover = leftover.replace(placeholder, "")
        if "{" in leftover or "}" in leftover:
            raise InvalidAccessRules(
                f"access rule {entry!r}: a group may name only {' and '.join(rules.GROUP_PLACEHOLDERS)}"
            )
        # The longest group the rule can make: both placeholders filled with the longest slugs.
        longest = "x" * rules.SLUG_MAX_LENGTH
        problem = rules.group_name_problem(group.replace("{client}", longest).replace("{project}", longest))
        if problem:
            raise InvalidAccessRules(f"access rule {entry!r}: {problem}")
        rule = AccessRule(group, permission_set)
        key = (group, permission_set)
        if key in seen:
            raise InvalidAccessRules(
                f"access rules {seen[key]!r} and {entry!r} conflict: the same rule twice"
            )
        seen[key] = entry
        parsed.append(rule)
    return tuple(parsed)


def desired_assignments(
    access_rules: tuple[AccessRule, ...], client: str, project: str, requested: list[AccessRequest]
) -> list[DesiredAssignment]:
    """What the account of ``client`` and ``project`` should have: the rules, then the request's own.

    Two rules that come to the same group and permission set make one assignment, credited to the
    first of them. One the request asks for is credited to the request even when a rule gives it too:
    a request's own assignments stay with the account whatever its client or project becomes later.
    """
    desired: dict[tuple[str, str], DesiredAssignment] = {}
    for rule in access_rules:
        group = rule.group_for(client, project)
        desired.setdefault(
            (group, rule.permission_set), DesiredAssignment(group, rule.permission_set, str(rule))
        )
    for request in requested:
        desired[(request.group, request.permission_set)] = DesiredAssignment(
            request.group, request.permission_set, REQUESTED
        )
    return list(desired.values())
