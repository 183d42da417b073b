"""ReconcileRegistry: compare orgvend's scope with the registry and repair the drift.

Events can be missed; this is the safety net (daily by default). It lists the
scope by walking its OU subtree (``ListOrganizationalUnitsForParent``,
``ListAccountsForParent``, pages of 20), never by calling anything per account
outside it. What lies outside is only counted (``ListAccounts`` pages). A
per-account call is made only for drift: an account in the scope orgvend does not
manage yet (adopted), an entry whose account is no longer in the walk (left the
organization, or moved out of the scope: ``ListParents`` tells which). Every repair
re-reads the entry when it writes (``Registry.update_account``).

People's access (IAM Identity Center, when the stack has an instance): every ACTIVE managed account's
assignments are kept what the access rules say (orgvend.account_access: two ListAccountAssignments
per account, one per kept permission set); an assignment of orgvend's removed by hand is made again
(a repair, "access restored"); one orgvend did not make is reported (``unexpected``), never removed.

Budgets (orgvend.budgets): every budget orgvend keeps is read with DescribeBudgets, one call per page of
1,000 budgets (never one per account). An ACTIVE account (that no offboarding holds) without its budget
gets it made again with the limit its entry records (a repair, "budget made again"); one whose entry
records no limit (onboarded before orgvend kept budgets) gets its client's default, else the stack's, and
the entry records it ("budget created"). A budget whose limit differs from the entry's is reported
(``budgetDrift``, metric ``BudgetLimitDrift``), never changed: someone may have raised it on purpose, and
``orgvend budget set`` settles it either way.
"""

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from orgvend.account_access import AccessUpkeep, entry_unexpected_access, keep_entry_access
from orgvend.account_sync import CLOSURE_STATUSES, FINAL_STATUSES, IN_FLIGHT, gone, out_of_scope
from orgvend.adoption import access_role_exists, adopt_account
from orgvend.budgets import BudgetUpkeep, budget_limit, budget_limits, ensure_budget
from orgvend.errors import BudgetFailed, BudgetsBusy
from orgvend.models import (
    ADOPTABLE_STATUSES,
    AccountRecord,
    AccountStatus,
    Model,
    MonthlyBudgetUsd,
    UsdAmount,
    usd,
)
from orgvend.notifications import publish
from orgvend.observability import logger, metrics
from orgvend.organizations import PAGE_SIZE, Scope
from orgvend.registry import Registry
from orgvend.workflows.onboardings import Onboardings

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import AccountTypeDef
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts import STSClient

REQUESTED_BY = "orgvend:reconciliation"


class Repair(Model):
    account_id: str
    action: str


class UnexpectedAccess(Model):
    """Assignments on orgvend's permission sets that orgvend did not make: reported, not removed."""

    account_id: str
    assignments: list[str]  # "<group> (<permission set>)"


class BudgetDrift(Model):
    """A budget whose limit is not the one the account's entry records: reported, not changed."""

    account_id: str
    registry_usd: MonthlyBudgetUsd
    budget_usd: UsdAmount


class Drift(Model):
    members: int  # accounts in the scope
    registered: int
    outside: int  # member accounts outside the scope: counted, never looked at one by one
    repairs: list[Repair]
    unexpected_access: list[UnexpectedAccess] = []
    budget_drift: list[BudgetDrift] = []
    # Budgets that could not be made again (Budgets refused or stayed busy): the reason, per account.
    budget_failures: list[Repair] = []

    @property
    def summary(self) -> dict[str, int]:
        return dict(Counter(repair.action for repair in self.repairs))


def organization_size(organizations: "OrganizationsClient") -> int:
    """How many accounts the organization has (ListAccounts pages: one call per 20 accounts)."""
    paginator = organizations.get_paginator("list_accounts")
    return sum(len(page["Accounts"]) for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}))


def reconcile_registry(
    scope: Scope,
    *,
    organizations: "OrganizationsClient",
    sts: "STSClient",
    registry: Registry,
    onboardings: Onboardings,
    access_role_name: str,
    access: AccessUpkeep | None = None,
    budgets: BudgetUpkeep | None = None,
    through: "STSClient | None" = None,
) -> Drift:
    """``through``: the management role's STS when orgvend runs in a hub (``orgvend.access_role``)."""
    members = {str(account["Id"]): (account, ou_id) for account, ou_id in scope.accounts()}
    records = {record.account_id: record for record in registry.all_accounts()}
    repairs: list[Repair] = []
    for account_id, (member, ou_id) in members.items():
        record = records.get(account_id)
        if record is None or record.status in ADOPTABLE_STATUSES:
            repairs.extend(
                _take_in(
                    member,
                    record,
                    organizations=organizations,
                    sts=sts,
                    through=through,
                    registry=registry,
                    onboardings=onboardings,
                    access_role_name=access_role_name,
                )
            )
        else:
            repairs.extend(_member_drift(record, member, ou_id, registry))
    unexpected: list[UnexpectedAccess] = []
    if access is not None:
        for account_id, (member, _) in members.items():
            record = records.get(account_id)
            if (
                record is None
                or record.status is not AccountStatus.ACTIVE
                or record.offboarding_id is not None  # an offboarding holds it: RemoveAccess may have run
                or member.get("Status") != "ACTIVE"
            ):
                continue
            access_repairs, found = _access_drift(access, registry, record)
            repairs.extend(access_repairs)
            if found:
                unexpected.append(UnexpectedAccess(account_id=account_id, assignments=found))
    budget_drift: list[BudgetDrift] = []
    budget_failures: list[Repair] = []
    if budgets is not None:
        made, budget_drift, budget_failures = _budgets_drift(budgets, registry, members, records)
        repairs.extend(made)
    for account_id, record in records.items():
        if account_id not in members:
            repairs.extend(_entry_outside_the_walk(record, scope, registry))
    outside = max(0, organization_size(organizations) - len(members) - 1)  # the management account
    drift = Drift(
        members=len(members),
        registered=len(records),
        outside=outside,
        repairs=repairs,
        unexpected_access=unexpected,
        budget_drift=budget_drift,
        budget_failures=budget_failures,
    )
    metrics.add_metric(name="DriftFixed", unit="Count", value=len(repairs))
    if budgets is not None:
        metrics.add_metric(name="BudgetLimitDrift", unit="Count", value=len(budget_drift))
    if access is not None:
        metrics.add_metric(
            name="UnexpectedAccessAssignments",
            unit="Count",
            value=sum(len(each.assignments) for each in unexpected),
        )
    logger.info(
        "Reconciliation done",
        extra={
            "members": drift.members,
            "registered": drift.registered,
            "outsideScope": drift.outside,
            "unexpectedAccess": len(drift.unexpected_access),
            "budgetDrift": len(drift.budget_drift),
            "budgetFailures": len(drift.budget_failures),
            **drift.summary,
        },
    )
    return drift


def _take_in(
    member: "AccountTypeDef",
    record: AccountRecord | None,
    *,
    organizations: "OrganizationsClient",
    sts: "STSClient",
    through: "STSClient | None",
    registry: Registry,
    onboardings: Onboardings,
    access_role_name: str,
) -> list[Repair]:
    """An account in the scope orgvend does not manage (yet, or again): adopt it once its role exists."""
    account_id = str(member["Id"])
    if record is not None and not access_role_exists(sts, account_id, record.role_name, through):
        if record.status is AccountStatus.OUT_OF_SCOPE:
            return _repair(registry, record, _needs_role(record.role_name), "marked NEEDS_ROLE")
        return []  # still no role: the operators were told what to create
    if member.get("Status") != "ACTIVE":
        return []
    adoption = adopt_account(member, organizations, registry, onboardings, REQUESTED_BY)
    return [Repair(account_id=account_id, action="adopted")] if adoption.outcome == "started" else []


def _budgets_drift(
    budgets: BudgetUpkeep,
    registry: Registry,
    members: dict[str, tuple["AccountTypeDef", str]],
    records: dict[str, AccountRecord],
) -> tuple[list[Repair], list[BudgetDrift], list[Repair]]:
    """The budgets of the ACTIVE accounts that no offboarding holds: those missing made again (repairs),
    those whose limit differs from the entry's (drift, reported), those Budgets would not make (failures)."""
    limits = budget_limits(budgets.target)  # one DescribeBudgets call per page
    repairs: list[Repair] = []
    drift: list[BudgetDrift] = []
    failures: list[Repair] = []
    for account_id, (member, _) in members.items():
        record = records.get(account_id)
        if (
            record is None
            or record.status is not AccountStatus.ACTIVE
            or record.offboarding_id is not None  # an offboarding holds it: DeleteBudget may have run
            or member.get("Status") != "ACTIVE"
        ):
            continue
        found = limits.get(account_id)
        if found is None:
            try:
                repairs.append(_budget_made_again(budgets, registry, record))
            except (BudgetFailed, BudgetsBusy) as error:
                failures.append(Repair(account_id=account_id, action=str(error)))
        elif record.monthly_budget_usd is not None and found != record.monthly_budget_usd:
            drift.append(
                BudgetDrift(account_id=account_id, registry_usd=record.monthly_budget_usd, budget_usd=found)
            )
    return repairs, drift, failures


def _budget_made_again(budgets: BudgetUpkeep, registry: Registry, record: AccountRecord) -> Repair:
    """An ACTIVE account without its budget: made again with the limit its entry records; an entry that
    records none (onboarded before orgvend kept budgets) gets its client's default, else the stack's."""
    limit, source = budget_limit(
        registry,
        record.client,
        requested=None,
        recorded=record.monthly_budget_usd,
        stack_default=budgets.stack_default,
    )
    ensure_budget(
        budgets.target, record.account_id, limit, record.budget_alert_email or record.email, exists=False
    )
    if source == "account":
        return Repair(account_id=record.account_id, action=f"budget made again ({usd(limit)} USD)")

    def recorded(current: AccountRecord) -> AccountRecord | None:
        return None if current.monthly_budget_usd is not None else current.changed(monthly_budget_usd=limit)

    registry.update_account(record.account_id, recorded)
    return Repair(
        account_id=record.account_id, action=f"budget created ({limit} USD, the {source}'s default)"
    )


def _access_drift(
    access: AccessUpkeep, registry: Registry, record: AccountRecord
) -> tuple[list[Repair], list[str]]:
    """An ACTIVE account's assignments kept true (repairs), and those orgvend did not make (reported)."""
    kept = keep_entry_access(access, registry, record)
    repairs: list[Repair] = []
    if kept.created:
        repairs.append(Repair(account_id=record.account_id, action="access restored"))
    if kept.removed:
        repairs.append(Repair(account_id=record.account_id, action="access withdrawn"))
    return repairs, entry_unexpected_access(
        access, record if kept.access is None else record.changed(access=kept.access)
    )


def _member_drift(
    record: AccountRecord, member: "AccountTypeDef", ou_id: str, registry: Registry
) -> list[Repair]:
    """An account orgvend manages, as the walk found it: its closure, its OU."""
    if record.status in IN_FLIGHT:
        return []
    expected = CLOSURE_STATUSES.get(str(member.get("Status")))
    if expected and record.status is not expected:
        return _repair(registry, record, _status(expected), f"marked {expected.value}")
    if record.ou_id != ou_id and record.status not in FINAL_STATUSES:
        return _repair(registry, record, _ou(ou_id), f"moved to {ou_id}")
    return []


def _entry_outside_the_walk(record: AccountRecord, scope: Scope, registry: Registry) -> list[Repair]:
    """Registered, but not in the scope: it left the organization, or was moved out of the scope."""
    if (
        record.status in FINAL_STATUSES
        or record.status in IN_FLIGHT
        or record.status is AccountStatus.OUT_OF_SCOPE
    ):
        return []  # final, the workflow's, or known to be outside: nothing more is done to it
    inside, parent = scope.path_to_scope(record.account_id)
    if parent is None:
        return _repair(registry, record, gone, "left the organization")
    if not inside:
        return _repair(registry, record, out_of_scope, "marked OUT_OF_SCOPE")
    return []


# A repair: the entry as it should be, or None when it needs it no more.
Change = Callable[[AccountRecord], AccountRecord | None]


def _status(status: AccountStatus) -> Change:
    def change(current: AccountRecord) -> AccountRecord | None:
        if current.status is status or current.status in IN_FLIGHT:
            return None
        return current.changed(status=status)

    return change


def _ou(ou_id: str) -> Change:
    def change(current: AccountRecord) -> AccountRecord | None:
        if current.ou_id == ou_id:
            return None
        return current.changed(ou_id=ou_id)

    return change


def _needs_role(role_name: str) -> Change:
    def change(current: AccountRecord) -> AccountRecord | None:
        if current.status is not AccountStatus.OUT_OF_SCOPE:
            return None
        return current.changed(
            status=AccountStatus.NEEDS_ROLE,
            failure=f"no {role_name} role that the management account can assume",
        )

    return change


def _repair(
    registry: Registry,
    record: AccountRecord,
    change: Change,
    action: str,
) -> list[Repair]:
    """One repair, applied to the entry as it is when written (it may have changed since the listing):
    none when the fresh entry needs it no more."""
    applied: list[bool] = []

    def tracked(current: AccountRecord) -> AccountRecord | None:
        new = change(current)
        applied[:] = [new is not None]
        return new

    registry.update_account(record.account_id, tracked)
    return [Repair(account_id=record.account_id, action=action)] if any(applied) else []


def report_drift(drift: Drift, sns: "SNSClient", topic_arn: str) -> None:
    if not (drift.repairs or drift.unexpected_access or drift.budget_drift or drift.budget_failures):
        return
    lines = [
        f"orgvend's reconciliation found {len(drift.repairs)} difference(s) between its scope "
        f"({drift.members} member accounts; {drift.outside} more outside it, left alone) and the registry "
        f"({drift.registered} entries)" + (", and repaired them:" if drift.repairs else "."),
        "",
        *(f"  {repair.account_id}: {repair.action}" for repair in drift.repairs[:200]),
    ]
    if len(drift.repairs) > 200:
        lines.append(f"  ... and {len(drift.repairs) - 200} more")
    if drift.unexpected_access:
        lines += [
            "",
            "IAM Identity Center assignments orgvend did not make, on its permission sets (left in place;",
            "remove them with sso-admin delete-account-assignment if nobody should have them):",
            "",
        ]
        for each in drift.unexpected_access[:200]:
            lines += [f"  {each.account_id}: {assignment}" for assignment in each.assignments]
    if drift.budget_drift:
        lines += [
            "",
            "Budget limits that differ from the registry's (left as they are; `orgvend budget set ACCOUNT USD`",
            "sets the budget to a limit and records it):",
            "",
            *(
                f"  {each.account_id}: registry {usd(each.registry_usd)} USD, budget {usd(each.budget_usd)} USD"
                for each in drift.budget_drift[:200]
            ),
        ]
    if drift.budget_failures:
        lines += [
            "",
            "Budgets that could not be made again (the next reconciliation tries again):",
            "",
            *(f"  {each.account_id}: {each.action}" for each in drift.budget_failures[:200]),
        ]
    subject = f"orgvend: registry drift repaired ({len(drift.repairs)})"
    if drift.unexpected_access:
        subject += f", unexpected access in {len(drift.unexpected_access)} account(s)"
    if drift.budget_drift:
        subject += f", budget limits differ in {len(drift.budget_drift)} account(s)"
    if drift.budget_failures:
        subject += f", {len(drift.budget_failures)} budget(s) not made again"
    publish(sns, topic_arn, "drift", subject, "\n".join(lines))
