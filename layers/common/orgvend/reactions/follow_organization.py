"""FollowOrganization: keep the registry true from Organizations' own events, inside orgvend's scope.

- CreateAccountResult for a creation orgvend requested (its request ID is in the
  registry), succeeded or failed: it is no longer in progress, so its creation slot
  is released at once (and handed to the next onboarding in line) instead of at the
  onboarding's next poll; the onboarding does the rest.
- Every other event about an account first decides the scope (``ListParents`` up
  the tree, orgvend.organizations):
  - outside the scope: nothing changes (one log line), except that an account
    orgvend manages, moved out, becomes OUT_OF_SCOPE (kept, nothing more done to it);
  - inside, not managed (created or invited outside orgvend, moved in, or back in
    after it was moved out): adopted, if its access role exists; else registered
    NEEDS_ROLE with what to create;
  - inside and managed: its entry is synced (OU, tags, client/project, status); when its client or
    project changed, people's access through IAM Identity Center follows (orgvend.account_access:
    the new client's assignments made, the old ones orgvend made removed).
New accounts are created at the root, outside the scope: an account made outside
orgvend is adopted when an operator moves it into the scope (MoveAccount), not before.
"""

import json
from typing import TYPE_CHECKING, Literal

from orgvend.account_access import AccessUpkeep, keep_entry_access
from orgvend.account_sync import FINAL_STATUSES, IN_FLIGHT, gone, out_of_scope, sync_account
from orgvend.adoption import access_role_exists, adopt_account, adoption_request
from orgvend.clock import now
from orgvend.models import ADOPTABLE_STATUSES, AccountRecord, AccountStatus, Model
from orgvend.notifications import publish
from orgvend.observability import logger, metrics
from orgvend.organization_events import CloudTrailDetail, subject_account
from orgvend.organizations import Scope, account_tags
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore
from orgvend.settings import Settings
from orgvend.workflows.onboardings import Onboardings

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts import STSClient

FOLLOWED_EVENTS = frozenset(
    {
        "CreateAccountResult",
        "AcceptHandshake",
        "MoveAccount",
        "TagResource",
        "UntagResource",
        "RemoveAccountFromOrganization",
        "LeaveOrganization",
        "CloseAccount",
        "CloseAccountResult",
    }
)
REQUESTED_BY = "orgvend:organizations-event"


class Reaction(Model):
    event_name: str
    account_id: str | None = None
    action: Literal[
        "ignored",
        "own-creation",
        "adoption",
        "needs-role",
        "synced",
        "unchanged",
        "outside-scope",
        "out-of-scope",
        "left",
    ]
    detail: str = ""


class OrganizationFollower:
    def __init__(
        self,
        *,
        organizations: "OrganizationsClient",
        sts: "STSClient",
        sns: "SNSClient",
        registry: Registry,
        onboardings: Onboardings,
        creation_slots: Semaphore,
        settings: Settings,
        scope: Scope,
        access: AccessUpkeep | None = None,
        through: "STSClient | None" = None,
    ) -> None:
        """``through``: the management role's STS when orgvend runs in a hub (``orgvend.access_role``)."""
        self.organizations = organizations
        self.sts = sts
        self.through = through
        self.sns = sns
        self.registry = registry
        self.onboardings = onboardings
        self.creation_slots = creation_slots
        self.settings = settings
        self.scope = scope
        self.access = access

    def react(self, detail: CloudTrailDetail) -> Reaction:
        name = detail.eventName
        if name not in FOLLOWED_EVENTS:
            return Reaction(event_name=name, action="ignored", detail="not an event orgvend follows")
        if name == "CreateAccountResult":
            own = self.own_creation(detail)
            if own:
                return own
        account_id = subject_account(detail)
        if account_id is None:
            return Reaction(event_name=name, action="ignored", detail="the event names no member account")
        return self.follow(name, account_id)

    def own_creation(self, detail: CloudTrailDetail) -> Reaction | None:
        status = (detail.serviceEventDetails or {}).get("createAccountStatus", {})
        onboarding_id = self.registry.onboarding_of_create_request(str(status.get("id")))
        if not onboarding_id:
            return None
        # Ours: the creation has ended, however it ended. Free its slot now; the onboarding's
        # own poll reads the outcome (and its release then finds nothing to free).
        self.creation_slots.release(onboarding_id)
        metrics.add_metric(name="CreationSlotsReleasedByEvent", unit="Count", value=1)
        return Reaction(
            event_name=detail.eventName,
            account_id=subject_account(detail),
            action="own-creation",
            detail=f"{onboarding_id} {status.get('state')}: creation slot released",
        )

    def follow(self, event_name: str, account_id: str) -> Reaction:
        record = self.registry.get_account(account_id)
        if record is not None and record.status in IN_FLIGHT:
            # The onboarding workflow owns it (a new account sits at the root until PlaceAccount).
            return Reaction(
                event_name=event_name, account_id=account_id, action="unchanged", detail="in flight"
            )
        if account_id == self.scope.management_account_id:
            return self.outside(event_name, account_id, record, "the management account")
        inside, parent = self.scope.path_to_scope(account_id)
        if parent is None:
            if record is None:
                return Reaction(
                    event_name=event_name, account_id=account_id, action="ignored", detail="not a member"
                )
            written = self.registry.update_account(account_id, gone)
            return Reaction(
                event_name=event_name,
                account_id=account_id,
                action="left" if written and written.status != record.status else "unchanged",
            )
        if not inside:
            return self.outside(event_name, account_id, record, f"in {parent}")
        if record is None or record.status in ADOPTABLE_STATUSES:
            return self.entered(event_name, account_id, record)
        return self.sync(event_name, record, parent)

    def outside(self, event_name: str, account_id: str, record: AccountRecord | None, where: str) -> Reaction:
        if record is not None and record.status not in FINAL_STATUSES:
            written = self.registry.update_account(account_id, out_of_scope)
            if (
                written
                and written.status is AccountStatus.OUT_OF_SCOPE
                and record.status is not written.status
            ):
                logger.warning(
                    "Account moved out of orgvend's scope: marked OUT_OF_SCOPE, nothing more is done to it",
                    extra={"accountId": account_id, "where": where},
                )
                return Reaction(
                    event_name=event_name, account_id=account_id, action="out-of-scope", detail=where
                )
        logger.info(
            "Event about an account outside orgvend's scope: nothing changed",
            extra={"accountId": account_id, "eventName": event_name, "where": where},
        )
        return Reaction(event_name=event_name, account_id=account_id, action="outside-scope", detail=where)

    def entered(self, event_name: str, account_id: str, record: AccountRecord | None) -> Reaction:
        """An account in the scope that orgvend does not manage (yet, or again): adopt it, or ask for its role."""
        role_name = record.role_name if record else self.settings.default_role_name
        if not access_role_exists(self.sts, account_id, role_name, self.through):
            if record is not None and record.status is AccountStatus.NEEDS_ROLE:
                return Reaction(
                    event_name=event_name, account_id=account_id, action="needs-role", detail=role_name
                )
            return self.needs_role(event_name, account_id, role_name, record)
        member = self.organizations.describe_account(AccountId=account_id)["Account"]
        adoption = adopt_account(member, self.organizations, self.registry, self.onboardings, REQUESTED_BY)
        metrics.add_metric(
            name="AccountsAdopted", unit="Count", value=1 if adoption.outcome == "started" else 0
        )
        return Reaction(
            event_name=event_name,
            account_id=account_id,
            action="adoption",
            detail=f"{adoption.outcome} {adoption.onboarding_id or ''}".strip(),
        )

    def needs_role(
        self, event_name: str, account_id: str, role_name: str, known: AccountRecord | None
    ) -> Reaction:
        """An account in the scope without an access role orgvend can assume: register it, say what to create."""
        caller = (
            self.through or self.sts
        ).get_caller_identity()  # the role must trust the management account
        management_account_id, partition = caller["Account"], caller["Arn"].split(":")[1]
        member = self.organizations.describe_account(AccountId=account_id)["Account"]
        request = adoption_request(member, account_tags(self.organizations, account_id), REQUESTED_BY)
        client = known.client if known else request.client
        project = known.project if known else request.project
        stamp = now()
        record = AccountRecord(
            account_id=account_id,
            account_name=known.account_name
            if known
            else request.account_name or str(member.get("Name", account_id)),
            email=member["Email"],
            client=client,
            project=project,
            role_name=role_name,
            status=AccountStatus.NEEDS_ROLE,
            ou_id=self.organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"],
            tags=known.tags if known else request.tags,
            failure=f"no {role_name} role that the management account can assume",
            requested_by=REQUESTED_BY,
            created_at=known.created_at if known else stamp,
            updated_at=stamp,
        )
        if known is None:
            self.registry.save_account(record)
        else:
            # Known (back in the scope): keep its entry, and the onboarding that registered it.
            self.registry.update_account(
                account_id,
                lambda current: current.model_copy(
                    update={
                        "status": record.status,
                        "failure": record.failure,
                        "ou_id": record.ou_id,
                        "updated_at": stamp,
                    }
                ),
            )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{management_account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        body = "\n".join(
            [
                f"Account {account_id} ({record.account_name}) is in orgvend's scope but has no {role_name}",
                "role the management account can assume, so orgvend cannot baseline it yet. It is registered",
                "as NEEDS_ROLE.",
                "",
                f"In account {account_id}, signed in as an administrator, create the role:",
                f"  aws iam create-role --role-name {role_name} --assume-role-policy-document '{json.dumps(trust)}'",
                f"  aws iam attach-role-policy --role-name {role_name} "
                f"--policy-arn arn:{partition}:iam::aws:policy/AdministratorAccess",
                "",
                "orgvend then adopts it at the next reconciliation (or run the reconciliation now), replacing",
                "AdministratorAccess with administrator-minus-billing and narrowing the role's trust to",
                "orgvend's functions and the operators' roles.",
            ]
        )
        publish(
            self.sns,
            self.settings.operator_topic_arn,
            "needs-role",
            f"orgvend: account {account_id} needs the {role_name} role",
            body,
        )
        metrics.add_metric(name="AccountsNeedingRole", unit="Count", value=1)
        return Reaction(event_name=event_name, account_id=account_id, action="needs-role", detail=role_name)

    def sync(self, event_name: str, record: AccountRecord, parent_id: str) -> Reaction:
        changed = sync_account(record, self.organizations, self.registry, parent_id)
        if changed:
            logger.info(
                "Registry updated from Organizations",
                extra={"accountId": record.account_id, "changed": changed},
            )
        details = [", ".join(changed)] if changed else []
        if self.access is not None and {"client", "project"} & set(changed):
            current = self.registry.get_account(record.account_id)
            if (
                current is not None
                and current.status is AccountStatus.ACTIVE
                and current.offboarding_id is None  # an offboarding holds it: RemoveAccess may have run
            ):
                details.append(keep_entry_access(self.access, self.registry, current).describe())
        return Reaction(
            event_name=event_name,
            account_id=record.account_id,
            action="synced" if changed else "unchanged",
            detail="; ".join(details),
        )
