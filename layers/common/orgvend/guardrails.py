"""The guardrail service control policy orgvend keeps on its scope's OU.

The baseline policy caps what the access role's holders may do, but a policy inside
an account is only as strong as the account's own IAM. The guardrail sits outside
every account of the scope (an SCP on the scope's OU applies to every principal of
every account below it, whatever their own policies say):

- nobody leaves the organization (``organizations:LeaveOrganization``);
- nobody but orgvend changes the access role (its policies, trust, boundary, tags)
  or the baseline policy's versions;
- nobody but orgvend writes or removes orgvend's ``managed-by`` tag.

"orgvend" is the access role itself in a session whose name is ``orgvend-*``:
both must hold (two deny statements each), and the role's trust lets only orgvend's
functions open such sessions (``access_role_trust``). SCPs never apply to the
management account, where orgvend runs.

``keep_guardrail`` is idempotent: it enables the SCP policy type on the root when it
is not, creates the policy or brings its content up to date, and attaches it to the
scope's OU. It runs when the stack is deployed (a custom resource) and with every
reconciliation, so a detached or edited guardrail comes back.
"""

import json
from typing import TYPE_CHECKING, Any, Final

from orgvend.baseline_policy import (
    ORGVEND_SESSION_USERID,
    POLICY_CHANGE_ACTIONS,
    ROLE_CHANGE_ACTIONS,
    compact,
)
from orgvend.models import Model
from orgvend.organizations import MANAGED_TAG_KEY, id_named, managed_tag

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

SERVICE_CONTROL_POLICY: Final = "SERVICE_CONTROL_POLICY"
# Organizations' limit for a service control policy document.
MAX_SCP_CHARACTERS = 5120


class Guardrail(Model):
    policy_id: str
    created: bool
    updated: bool
    attached: bool
    policy_type_enabled: bool
    detached_from: list[str]

    @property
    def changed(self) -> bool:
        return (
            self.created
            or self.updated
            or self.attached
            or self.policy_type_enabled
            or bool(self.detached_from)
        )


def guardrail_policy(
    *, partition: str = "aws", access_role_names: tuple[str, ...], baseline_policy_name: str
) -> dict[str, Any]:
    role_arns = [f"arn:{partition}:iam::*:role/{name}" for name in access_role_names]
    not_the_access_role = {"ArnNotLike": {"aws:PrincipalArn": role_arns}}
    not_an_orgvend_session = {"StringNotLike": {"aws:userid": ORGVEND_SESSION_USERID}}
    protected: list[tuple[str, list[str], list[str] | str, dict[str, Any] | None]] = [
        ("AccessRole", list(ROLE_CHANGE_ACTIONS), role_arns, None),
        (
            "BaselinePolicy",
            list(POLICY_CHANGE_ACTIONS),
            f"arn:{partition}:iam::*:policy/{baseline_policy_name}",
            None,
        ),
        (
            "ManagedTag",
            ["*"],
            "*",
            {"ForAnyValue:StringEquals": {"aws:TagKeys": [MANAGED_TAG_KEY]}},
        ),
    ]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyLeavingTheOrganization",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        }
    ]
    for name, actions, resources, extra in protected:
        for suffix, exemption in (
            ("ExceptTheAccessRole", not_the_access_role),
            ("ExceptOrgvend", not_an_orgvend_session),
        ):
            statements.append(
                {
                    "Sid": f"Protect{name}{suffix}",
                    "Effect": "Deny",
                    "Action": actions,
                    "Resource": resources,
                    "Condition": {**exemption, **(extra or {})},
                }
            )
    return {"Version": "2012-10-17", "Statement": statements}


def _policy_type_enabled(organizations: "OrganizationsClient") -> tuple[str, bool]:
    """The root's ID, and whether the SCP policy type was off (and is now enabled)."""
    root = organizations.list_roots()["Roots"][0]
    enabled = any(
        policy_type["Type"] == SERVICE_CONTROL_POLICY and policy_type["Status"] == "ENABLED"
        for policy_type in root.get("PolicyTypes", [])
    )
    if not enabled:
        organizations.enable_policy_type(RootId=root["Id"], PolicyType=SERVICE_CONTROL_POLICY)
    return str(root["Id"]), not enabled


def find_policy(organizations: "OrganizationsClient", name: str) -> str | None:
    pages = organizations.get_paginator("list_policies").paginate(Filter=SERVICE_CONTROL_POLICY)
    return id_named(pages, "Policies", name)


def keep_guardrail(
    organizations: "OrganizationsClient", scope_ou_id: str, name: str, document: dict[str, Any]
) -> Guardrail:
    """The guardrail, created or brought up to date, attached to the scope's OU."""
    content = compact(document)
    if len(content) > MAX_SCP_CHARACTERS:
        raise ValueError(f"the guardrail is {len(content)} characters; SCPs may have {MAX_SCP_CHARACTERS}")
    _, type_enabled = _policy_type_enabled(organizations)
    policy_id = find_policy(organizations, name)
    created = updated = False
    if policy_id is None:
        policy_id = str(
            organizations.create_policy(
                Name=name,
                Type=SERVICE_CONTROL_POLICY,
                Description="orgvend's guardrail: no leaving, no changes to the access role or orgvend's tag",
                Content=content,
                Tags=[managed_tag()],
            )["Policy"]["PolicySummary"]["Id"]
        )
        created = True
    else:
        current = organizations.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
        if json.loads(current) != json.loads(content):
            organizations.update_policy(PolicyId=policy_id, Content=content)
            updated = True
    targets = {
        target["TargetId"]
        for page in organizations.get_paginator("list_targets_for_policy").paginate(PolicyId=policy_id)
        for target in page["Targets"]
    }
    attached = scope_ou_id not in targets
    if attached:
        organizations.attach_policy(PolicyId=policy_id, TargetId=scope_ou_id)
    # Wherever else orgvend's own policy is attached: an earlier scope (ClientsParentOuId changed).
    stale = sorted(targets - {scope_ou_id})
    for target in stale:
        organizations.detach_policy(PolicyId=policy_id, TargetId=target)
    return Guardrail(
        policy_id=policy_id,
        created=created,
        updated=updated,
        attached=attached,
        policy_type_enabled=type_enabled,
        detached_from=stale,
    )


def remove_guardrail(organizations: "OrganizationsClient", name: str) -> bool:
    """Detach the guardrail from wherever orgvend attached it and delete it (the stack is deleted)."""
    policy_id = find_policy(organizations, name)
    if policy_id is None:
        return False
    for page in organizations.get_paginator("list_targets_for_policy").paginate(PolicyId=policy_id):
        for target in page["Targets"]:
            organizations.detach_policy(PolicyId=policy_id, TargetId=target["TargetId"])
    organizations.delete_policy(PolicyId=policy_id)
    return True
