"""ReconcileRegistry: compare the organization with the registry and repair the drift.

Events can be missed; this is the safety net (daily by default). It is cheap at
thousands of accounts: one paginated ListAccounts and one paginated Query of the
registry, and a per-account call only for the accounts that differ.
"""

from collections import Counter
from typing import Any

from orgvend.api.onboardings import Onboardings
from orgvend.models import AccountRecord, AccountStatus, Model
from orgvend.notifications import publish
from orgvend.observability import logger, metrics
from orgvend.reactions.adopt_account import access_role_exists, adopt_account
from orgvend.reactions.sync_account import CLOSURE_STATUSES, FINAL_STATUSES, status_after_leaving
from orgvend.registry import Registry, now

LIST_ACCOUNTS_PAGE_SIZE = 20
# Entries the workflow still owns: the reconciliation leaves them to it.
IN_FLIGHT = frozenset({AccountStatus.CREATING})


class Repair(Model):
    account_id: str
    action: str


class Drift(Model):
    members: int
    registered: int
    repairs: list[Repair]

    @property
    def summary(self) -> dict[str, int]:
        return dict(Counter(repair.action for repair in self.repairs))


def organization_members(organizations: Any, management_account_id: str) -> dict[str, dict[str, Any]]:
    paginator = organizations.get_paginator("list_accounts")
    return {
        account["Id"]: account
        # 20 is ListAccounts' largest page: 5,000 accounts are 250 calls.
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_ACCOUNTS_PAGE_SIZE})
        for account in page["Accounts"]
        if account["Id"] != management_account_id
    }


def reconcile_registry(
    organizations: Any, sts: Any, registry: Registry, onboardings: Onboardings, access_role_name: str
) -> Drift:
    members = organization_members(organizations, sts.get_caller_identity()["Account"])
    records = {record.account_id: record for record in registry.all_accounts()}
    repairs: list[Repair] = []

    for account_id, member in members.items():
        record = records.get(account_id)
        if record is None or record.status is AccountStatus.NEEDS_ROLE:
            waiting = record is not None
            if waiting and not access_role_exists(sts, account_id, access_role_name):
                continue  # still no role: the operators were told what to create
            if member.get("Status") == "ACTIVE":
                adoption = adopt_account(member, organizations, registry, onboardings)
                if adoption.outcome == "started":
                    repairs.append(Repair(account_id=account_id, action="adopted"))
            continue
        expected = CLOSURE_STATUSES.get(str(member.get("Status")))
        if expected and record.status is not expected and record.status not in IN_FLIGHT:
            repairs.append(_set_status(registry, record, expected))

    for account_id, record in records.items():
        if account_id in members or record.status in FINAL_STATUSES or record.status in IN_FLIGHT:
            continue
        repairs.append(_set_status(registry, record, status_after_leaving(record)))

    drift = Drift(members=len(members), registered=len(records), repairs=repairs)
    metrics.add_metric(name="DriftFixed", unit="Count", value=len(repairs))
    logger.info(
        "Reconciliation done",
        extra={"members": drift.members, "registered": drift.registered, **drift.summary},
    )
    return drift


def _set_status(registry: Registry, record: AccountRecord, status: AccountStatus) -> Repair:
    registry.update_account(record.model_copy(update={"status": status, "updated_at": now()}))
    return Repair(account_id=record.account_id, action=f"marked {status.value}")


def report_drift(drift: Drift, sns: Any, topic_arn: str) -> None:
    if not drift.repairs:
        return
    lines = [
        f"orgvend's reconciliation found {len(drift.repairs)} difference(s) between the organization "
        f"({drift.members} member accounts) and the registry ({drift.registered} entries), and repaired them:",
        "",
        *(f"  {repair.account_id}: {repair.action}" for repair in drift.repairs[:200]),
    ]
    if len(drift.repairs) > 200:
        lines.append(f"  ... and {len(drift.repairs) - 200} more")
    publish(
        sns, topic_arn, "drift", f"orgvend: registry drift repaired ({len(drift.repairs)})", "\n".join(lines)
    )
