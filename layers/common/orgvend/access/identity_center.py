"""IAM Identity Center as orgvend uses it: groups by name, the kept permission sets, account assignments.

Every call's failure is turned into orgvend's own error names here, so the workflow's Retry and
Catch never see an SDK spelling: throttling and a conflicting change in progress are
``IdentityCenterBusy`` (retried), an assignment still IN_PROGRESS after the bounded wait is
``AccessNotReady`` (retried: the next attempt finds it or creates nothing twice), a refusal is
``AccessAssignmentFailed``. Inside one call, botocore's standard retry mode already backs off
throttling (orgvend.aws.CLIENT_CONFIG); these names are for what outlasts it.
"""

import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import AccessAssignmentFailed, AccessNotReady, IdentityCenterBusy

if TYPE_CHECKING:
    from mypy_boto3_identitystore import IdentityStoreClient
    from mypy_boto3_sso_admin import SSOAdminClient
    from mypy_boto3_sso_admin.type_defs import CreateAccountAssignmentRequestTypeDef

BUSY_CODES = frozenset({"ThrottlingException", "ConflictException", "TooManyRequestsException"})
# The kept permission sets' ARNs, by instance, for the life of the process (a warm Lambda): finding
# them costs a DescribePermissionSet per permission set of the instance, and they change only when
# one is deleted and made again. A call that no longer finds one forgets them (StalePermissionSets).
_known_permission_sets: dict[str, dict[str, str]] = {}
# How long one step waits for an assignment before handing the wait to the workflow's retry.
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.5


@contextmanager
def identity_center_errors(what: str) -> Iterator[None]:
    """Identity Center's failures under orgvend's names; ``what`` says what was being done."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in BUSY_CODES:
            raise IdentityCenterBusy(f"{what}: Identity Center is busy ({code})") from error
        if code == "ResourceNotFoundException" and _known_permission_sets:
            # Maybe a permission set remembered from an earlier invocation was made again: look
            # them up afresh on the retry.
            _known_permission_sets.clear()
            raise IdentityCenterBusy(f"{what}: {code}; the permission sets are looked up again") from error
        raise AccessAssignmentFailed(f"{what}: {code}: {error}") from error


@dataclass(frozen=True)
class Assignment:
    """An account assignment as Identity Center lists it (a group's; orgvend assigns only groups)."""

    account_id: str
    permission_set_arn: str
    group_id: str


@dataclass
class IdentityCenter:
    """One Identity Center instance and its Identity Store, through the clients given."""

    sso_admin: "SSOAdminClient"
    identity_store: "IdentityStoreClient"
    instance_arn: str
    identity_store_id: str
    sleep: Callable[[float], None] = time.sleep
    wait_seconds: float = WAIT_SECONDS
    _group_ids: dict[str, str | None] = field(default_factory=dict)

    # -- groups ----------------------------------------------------------------------------------

    def group_id(self, display_name: str) -> str | None:
        """The ID of the group with this display name, None when the Identity Store has none."""
        if display_name not in self._group_ids:
            with identity_center_errors(f"looking up group {display_name!r}"):
                groups = self.identity_store.list_groups(
                    IdentityStoreId=self.identity_store_id,
                    Filters=[{"AttributePath": "DisplayName", "AttributeValue": display_name}],
                )["Groups"]
            self._group_ids[display_name] = groups[0]["GroupId"] if groups else None
        return self._group_ids[display_name]

    def create_group(self, display_name: str) -> str:
        with identity_center_errors(f"creating group {display_name!r}"):
            group_id = self.identity_store.create_group(
                IdentityStoreId=self.identity_store_id,
                DisplayName=display_name,
                Description="Created by orgvend for its access rules (CreateMissingGroups)",
            )["GroupId"]
        self._group_ids[display_name] = group_id
        return group_id

    # -- permission sets -------------------------------------------------------------------------

    def permission_sets(self, wanted: Collection[str] | None = None) -> dict[str, str]:
        """The instance's permission sets, ARN by name: every one, or only the ``wanted`` names.

        Names are only in DescribePermissionSet, one call per set: with ``wanted``, the listing stops
        once all of them are found, and what was found is remembered for the process's life.
        """
        known = _known_permission_sets.setdefault(self.instance_arn, {})
        if wanted is not None and all(name in known for name in wanted):
            return {name: known[name] for name in wanted}
        found: dict[str, str] = {}
        with identity_center_errors("listing permission sets"):
            for page in self.sso_admin.get_paginator("list_permission_sets").paginate(
                InstanceArn=self.instance_arn
            ):
                for arn in page["PermissionSets"]:
                    described = self.sso_admin.describe_permission_set(
                        InstanceArn=self.instance_arn, PermissionSetArn=arn
                    )["PermissionSet"]
                    found[described["Name"]] = arn
                    if wanted is not None and all(name in found for name in wanted):
                        known.update(found)
                        return {name: found[name] for name in wanted}
        known.update(found)
        return found

    # -- assignments -----------------------------------------------------------------------------

    def assignments(self, account_id: str, permission_set_arn: str) -> set[Assignment]:
        """The groups assigned to the account with this permission set."""
        found: set[Assignment] = set()
        with identity_center_errors(f"listing the assignments of {account_id}"):
            for page in self.sso_admin.get_paginator("list_account_assignments").paginate(
                InstanceArn=self.instance_arn, AccountId=account_id, PermissionSetArn=permission_set_arn
            ):
                found.update(
                    Assignment(account_id, permission_set_arn, listed["PrincipalId"])
                    for listed in page["AccountAssignments"]
                    if listed.get("PrincipalType") == "GROUP"
                )
        return found

    def assign(self, assignment: Assignment, label: str) -> None:
        """Create the assignment and wait for it; ``label`` names it in errors (group, permission set)."""
        with identity_center_errors(f"assigning {label} to {assignment.account_id}"):
            status = self.sso_admin.create_account_assignment(**self._target(assignment))[
                "AccountAssignmentCreationStatus"
            ]
        self._wait("creation", status, label, assignment)

    def unassign(self, assignment: Assignment, label: str) -> None:
        """Delete the assignment and wait for it."""
        with identity_center_errors(f"removing {label} from {assignment.account_id}"):
            status = self.sso_admin.delete_account_assignment(**self._target(assignment))[
                "AccountAssignmentDeletionStatus"
            ]
        self._wait("deletion", status, label, assignment)

    def _target(self, assignment: Assignment) -> "CreateAccountAssignmentRequestTypeDef":
        """The request naming an assignment: the same for its creation and its deletion."""
        return {
            "InstanceArn": self.instance_arn,
            "TargetId": assignment.account_id,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": assignment.permission_set_arn,
            "PrincipalType": "GROUP",
            "PrincipalId": assignment.group_id,
        }

    def _wait(
        self,
        kind: Literal["creation", "deletion"],
        status: Mapping[str, Any],
        label: str,
        assignment: Assignment,
    ) -> None:
        """Poll the request's status (DescribeAccountAssignment{Creation,Deletion}Status), bounded."""
        state, request_id = status.get("Status", "IN_PROGRESS"), status.get("RequestId", "")
        failure = status.get("FailureReason", "")
        waited = 0.0
        while state == "IN_PROGRESS":
            if waited >= self.wait_seconds:
                raise AccessNotReady(
                    f"the {kind} of {label} on {assignment.account_id} is still in progress ({request_id})"
                )
            self.sleep(POLL_SECONDS)
            waited += POLL_SECONDS
            with identity_center_errors(f"waiting for the {kind} of {label}"):
                if kind == "creation":
                    status = self.sso_admin.describe_account_assignment_creation_status(
                        InstanceArn=self.instance_arn, AccountAssignmentCreationRequestId=request_id
                    )["AccountAssignmentCreationStatus"]
                else:
                    status = self.sso_admin.describe_account_assignment_deletion_status(
                        InstanceArn=self.instance_arn, AccountAssignmentDeletionRequestId=request_id
                    )["AccountAssignmentDeletionStatus"]
            state, failure = status.get("Status", "IN_PROGRESS"), status.get("FailureReason", "")
        if state == "FAILED":
            raise AccessAssignmentFailed(
                f"the {kind} of {label} on {assignment.account_id} failed: {failure or 'no reason given'}"
            )
