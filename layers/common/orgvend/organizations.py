"""Everything orgvend asks of AWS Organizations that more than one step needs: its errors as orgvend's,
an account's tags, and orgvend's managed scope (the accounts it may touch).

orgvend's managed scope: the accounts in the OU subtree under ``ClientsParentOuId``, and nothing else.

A real organization holds far more than client accounts (the management account,
security and log-archive accounts, other teams'). orgvend adopts, tags, moves,
baselines, assumes into, offboards and closes only the accounts inside its scope.
This module decides the scope with Organizations' own answers:

- whether one account or OU is inside: ``ListParents`` up the tree until the
  scope's OU (inside) or the root (outside): at most one call per level (OUs nest
  five deep at most), never a call about any other account;
- everything inside: a walk down the subtree (``ListOrganizationalUnitsForParent``,
  ``ListAccountsForParent``, pages of 20), never a call per account outside.

Code is one of two guards. The other is IAM: every grant that changes an account
is held to accounts carrying orgvend's ``managed-by`` tag, to the scope's OUs, or
(AssumeRole) to ``aws:ResourceOrgPaths`` under the scope's OU (template.yaml).
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from orgvend import aws, rules
from orgvend.aws import error_code, error_reason
from orgvend.errors import OrganizationsBusy, OrganizationsRejected, OutOfScope
from orgvend.observability import metrics
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import AccountTypeDef, TagTypeDef

# Errors that mean "not now": the state machine retries them with backoff.
BUSY_ERRORS = frozenset(
    {"TooManyRequestsException", "ConcurrentModificationException", "FinalizingOrganizationException"}
)
BUSY_CONSTRAINTS = frozenset({"ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"})


def raise_for_organizations_error(error: ClientError, action: str) -> NoReturn:
    """Translate an Organizations error into ours: busy ones are retried, the rest are terminal."""
    code, reason = error_code(error), error_reason(error)
    if code in BUSY_ERRORS or (code == "ConstraintViolationException" and reason in BUSY_CONSTRAINTS):
        metrics.add_metric(name="OrganizationsBusy", unit="Count", value=1)  # one retry of the workflow
        raise OrganizationsBusy(f"{action}: {code} {reason}".strip()) from None
    raise OrganizationsRejected(f"{action}: {code} {reason}: {error}".strip()) from None


def account_tags(organizations: "OrganizationsClient", account_id: str) -> dict[str, str]:
    paginator = organizations.get_paginator("list_tags_for_resource")
    return {
        tag["Key"]: tag["Value"] for page in paginator.paginate(ResourceId=account_id) for tag in page["Tags"]
    }


# -- the managed scope ----------------------------------------------------------------------

# The tag orgvend writes on every account (and client OU) it manages, and that IAM holds its grants to.
MANAGED_TAG_KEY = rules.MANAGED_TAG_KEY
MANAGED_TAG_VALUE = "orgvend"
# OUs nest at most five levels below the root in AWS Organizations.
MAX_OU_DEPTH = 5
# ListAccountsForParent / ListOrganizationalUnitsForParent answer at most 20 a page.
PAGE_SIZE = 20


@dataclass
class Scope:
    """The OU subtree orgvend manages, seen through an Organizations client of the management account."""

    organizations: "OrganizationsClient"
    ou_id: str
    # The hub account orgvend runs in (a hub deployment): never in scope either, even if placed in the OU.
    hub_account_id: str | None = None
    # Parents already looked up in this invocation (OUs do not move under us within one).
    _parents: dict[str, str | None] = field(default_factory=dict, repr=False)
    _management_account_id: str | None = field(default=None, repr=False)

    @property
    def management_account_id(self) -> str:
        """Never in scope, wherever it sits (the management account can be placed in an OU)."""
        if self._management_account_id is None:
            organization = self.organizations.describe_organization()["Organization"]
            self._management_account_id = str(organization["MasterAccountId"])
        return self._management_account_id

    def __post_init__(self) -> None:
        if not rules.OU_ID_PATTERN.fullmatch(self.ou_id) or not self.ou_id.startswith("ou-"):
            raise ValueError(
                f"CLIENTS_PARENT_OU_ID must be an OU ID (ou-...), not {self.ou_id!r}: "
                "orgvend's managed scope is one OU subtree, never the whole organization"
            )

    def _parent(self, child_id: str) -> str | None:
        """The parent of an account or OU; None for an account that is not a member."""
        if child_id not in self._parents:
            try:
                parents = self.organizations.list_parents(ChildId=child_id)["Parents"]
            except ClientError as error:
                if error_code(error) in ("AccountNotFoundException", "ChildNotFoundException"):
                    self._parents[child_id] = None
                    return None
                raise
            self._parents[child_id] = str(parents[0]["Id"]) if parents else None
        return self._parents[child_id]

    def path_to_scope(self, child_id: str) -> tuple[bool, str | None]:
        """(inside, parent): whether ``child_id`` lies in the subtree, and its direct parent."""
        parent = self._parent(child_id)
        current = parent
        for _ in range(MAX_OU_DEPTH + 1):
            if current is None or current.startswith("r-"):
                return False, parent
            if current == self.ou_id:
                return True, parent
            current = self._parent(current)
        return False, parent

    def contains_ou(self, ou_id: str) -> bool:
        return ou_id == self.ou_id or (ou_id.startswith("ou-") and self.path_to_scope(ou_id)[0])

    def _never_in_scope(self, account_id: str) -> str | None:
        """Why the account is out of scope wherever it sits (None: its place decides)."""
        if account_id == self.hub_account_id:
            return "it is the hub account orgvend runs in"
        if account_id == self.management_account_id:
            return "it is the management account"
        return None

    def contains_account(self, account_id: str) -> bool:
        if self._never_in_scope(account_id):
            return False
        return self.path_to_scope(account_id)[0]

    def require_account(self, account_id: str, field: str | None = "accountId") -> str:
        """The account's parent OU; raises OutOfScope naming the account and where it is."""
        never = self._never_in_scope(account_id)
        if never:
            raise OutOfScope(f"account {account_id}", never, field)
        inside, parent = self.path_to_scope(account_id)
        if parent is None:
            raise OutOfScope(f"account {account_id}", "it is not a member of this organization", field)
        if not inside:
            raise OutOfScope(
                f"account {account_id}",
                f"it is in {parent}, which is not under orgvend's OU {self.ou_id}",
                field,
            )
        return parent

    def refuse_member_outside(self, account_id: str, field: str | None = "accountId") -> None:
        """Like ``require_account``, but an account that already left the organization passes: there is
        nothing of it left to protect, and an offboarding of it only brings the registry up to date."""
        if not self._never_in_scope(account_id) and self.path_to_scope(account_id)[1] is None:
            return
        self.require_account(account_id, field)

    def require_ou(self, ou_id: str, field: str | None = "ou") -> None:
        if not self.contains_ou(ou_id):
            raise OutOfScope(f"OU {ou_id}", f"it is not {self.ou_id} nor inside it", field)

    # -- the walk --------------------------------------------------------------

    def organizational_units(self) -> Iterator[str]:
        """The scope's OU and every OU below it (breadth first)."""
        pending = [self.ou_id]
        while pending:
            parent = pending.pop(0)
            yield parent
            paginator = self.organizations.get_paginator("list_organizational_units_for_parent")
            for page in paginator.paginate(ParentId=parent, PaginationConfig={"PageSize": PAGE_SIZE}):
                pending.extend(str(unit["Id"]) for unit in page["OrganizationalUnits"])

    def accounts(self) -> Iterator[tuple["AccountTypeDef", str]]:
        """Every member account in the subtree with its parent OU: (ListAccountsForParent item, OU ID)."""
        paginator = self.organizations.get_paginator("list_accounts_for_parent")
        for ou_id in self.organizational_units():
            for page in paginator.paginate(ParentId=ou_id, PaginationConfig={"PageSize": PAGE_SIZE}):
                for account in page["Accounts"]:
                    self._parents[str(account["Id"])] = ou_id
                    if account["Id"] != self.management_account_id:
                        yield account, ou_id


def managed_tag() -> "TagTypeDef":
    return {"Key": MANAGED_TAG_KEY, "Value": MANAGED_TAG_VALUE}


def default_scope(settings: Settings) -> Scope:
    """The function's scope (CLIENTS_PARENT_OU_ID), through its Organizations client; in a hub deployment
    the hub (the function's own account) is kept out of it too."""
    hub = aws.own_account_id() if aws.management_role_arn() else None
    return Scope(aws.client("organizations"), settings.clients_parent_ou_id, hub_account_id=hub)


def id_named(pages: Iterable[Mapping[str, Any]], items_key: str, name: str) -> str | None:
    """The ``Id`` of the first item called ``name`` in a paginated listing (OUs, policies), if any."""
    for page in pages:
        for item in page[items_key]:
            if item["Name"] == name:
                return str(item["Id"])
    return None
