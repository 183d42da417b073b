"""FollowOrganization: keep the registry true from Organizations' own events.

- CreateAccountResult (SUCCEEDED) for an account orgvend did not create: adopt it.
  For a creation orgvend requested (its request ID is in the registry), succeeded
  or failed: it is no longer in progress, so its creation slot is released at
  once (and handed to the next onboarding in line) instead of at the
  onboarding's next poll; the onboarding does the rest.
- AcceptHandshake (an invited account joined): adopt it if its access role
  exists; else register it as NEEDS_ROLE and tell the operators what to create.
- MoveAccount, TagResource, UntagResource, RemoveAccountFromOrganization,
  LeaveOrganization, CloseAccount, CloseAccountResult: sync the registry entry.
"""

import json
from typing import Any, Literal

from orgvend.api.onboardings import Onboardings
from orgvend.models import AccountRecord, AccountStatus, Model
from orgvend.notifications import publish
from orgvend.observability import logger, metrics
from orgvend.organization_events import CloudTrailDetail, subject_account
from orgvend.reactions.adopt_account import access_role_exists, adopt_account, adoption_request
from orgvend.reactions.sync_account import member_tags, sync_account
from orgvend.registry import Registry, now
from orgvend.semaphore import Semaphore
from orgvend.settings import Settings
from orgvend.switch_role import display_name, switch_role_url

SYNCED_EVENTS = frozenset(
    {
        "MoveAccount",
        "TagResource",
        "UntagResource",
        "RemoveAccountFromOrganization",
        "LeaveOrganization",
        "CloseAccount",
        "CloseAccountResult",
    }
)


class Reaction(Model):
    event_name: str
    account_id: str | None = None
    action: Literal[
        "ignored", "own-creation", "adoption", "needs-role", "synced", "unchanged", "unknown-account"
    ]
    detail: str = ""


class OrganizationFollower:
    def __init__(
        self,
        *,
        organizations: Any,
        sts: Any,
        sns: Any,
        registry: Registry,
        onboardings: Onboardings,
        creation_slots: Semaphore,
        settings: Settings,
    ) -> None:
        self.organizations = organizations
        self.sts = sts
        self.sns = sns
        self.registry = registry
        self.onboardings = onboardings
        self.creation_slots = creation_slots
        self.settings = settings

    def react(self, detail: CloudTrailDetail) -> Reaction:
        name = detail.eventName
        if name == "CreateAccountResult":
            return self.created(detail)
        account_id = subject_account(detail)
        if account_id is None:
            return Reaction(event_name=name, action="ignored", detail="the event names no member account")
        if name == "AcceptHandshake":
            return self.joined(account_id)
        if name in SYNCED_EVENTS:
            return self.sync(name, account_id)
        return Reaction(
            event_name=name, account_id=account_id, action="ignored", detail="not an event orgvend follows"
        )

    def created(self, detail: CloudTrailDetail) -> Reaction:
        status = (detail.serviceEventDetails or {}).get("createAccountStatus", {})
        account_id = subject_account(detail)
        onboarding_id = self.registry.onboarding_of_create_request(str(status.get("id")))
        if onboarding_id:
            # Ours: the creation has ended, however it ended. Free its slot now; the onboarding's
            # own poll reads the outcome (and its release then finds nothing to free).
            self.creation_slots.release(onboarding_id)
            metrics.add_metric(name="CreationSlotsReleasedByEvent", unit="Count", value=1)
            return Reaction(
                event_name=detail.eventName,
                account_id=account_id,
                action="own-creation",
                detail=f"{onboarding_id} {status.get('state')}: creation slot released",
            )
        if status.get("state") != "SUCCEEDED" or account_id is None:
            return Reaction(
                event_name=detail.eventName,
                account_id=account_id,
                action="ignored",
                detail=str(status.get("state")),
            )
        return self.adopt(detail.eventName, account_id)

    def adopt(self, event_name: str, account_id: str) -> Reaction:
        member = self.organizations.describe_account(AccountId=account_id)["Account"]
        adoption = adopt_account(member, self.organizations, self.registry, self.onboardings)
        if adoption.outcome == "registered":
            return self.sync(event_name, account_id)
        metrics.add_metric(
            name="AccountsAdopted", unit="Count", value=1 if adoption.outcome == "started" else 0
        )
        return Reaction(
            event_name=event_name,
            account_id=account_id,
            action="adoption",
            detail=f"{adoption.outcome} {adoption.onboarding_id or ''}".strip(),
        )

    def joined(self, account_id: str) -> Reaction:
        record = self.registry.get_account(account_id)
        if record and record.status is not AccountStatus.NEEDS_ROLE:
            return self.sync("AcceptHandshake", account_id)
        role_name = self.settings.access_role_names[0]
        if not access_role_exists(self.sts, account_id, role_name):
            return self.needs_role(account_id, role_name)
        return self.adopt("AcceptHandshake", account_id)

    def needs_role(self, account_id: str, role_name: str) -> Reaction:
        """An invited account has no access role unless someone made it: register it, say what to create."""
        caller = self.sts.get_caller_identity()
        management_account_id, partition = caller["Account"], caller["Arn"].split(":")[1]
        member = self.organizations.describe_account(AccountId=account_id)["Account"]
        request = adoption_request(member, member_tags(self.organizations, account_id))
        stamp = now()
        record = AccountRecord(
            account_id=account_id,
            account_name=request.account_name or str(member.get("Name", account_id)),
            email=member["Email"],
            client=request.client,
            project=request.project,
            role_name=role_name,
            status=AccountStatus.NEEDS_ROLE,
            switch_role_url=switch_role_url(
                account_id, role_name, display_name(request.client, request.project)
            ),
            ou_id=self.organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"],
            tags=request.tags,
            failure=f"no {role_name} role that the management account can assume",
            created_at=stamp,
            updated_at=stamp,
        )
        self.registry.save_account(record)
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
                f"Account {account_id} ({record.account_name}) joined the organization by invitation.",
                f"It has no {role_name} role, so orgvend cannot baseline it yet. It is registered as NEEDS_ROLE.",
                "",
                f"In account {account_id}, signed in as an administrator, create the role:",
                f"  aws iam create-role --role-name {role_name} --assume-role-policy-document '{json.dumps(trust)}'",
                f"  aws iam attach-role-policy --role-name {role_name} "
                f"--policy-arn arn:{partition}:iam::aws:policy/AdministratorAccess",
                "",
                "orgvend then adopts it at the next reconciliation (or run the reconciliation now), replacing",
                "AdministratorAccess with administrator-minus-billing.",
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
        return Reaction(
            event_name="AcceptHandshake", account_id=account_id, action="needs-role", detail=role_name
        )

    def sync(self, event_name: str, account_id: str) -> Reaction:
        record = self.registry.get_account(account_id)
        if record is None:
            # Not orgvend's (yet): the reconciliation adopts active members it does not know.
            return Reaction(event_name=event_name, account_id=account_id, action="unknown-account")
        changed = sync_account(record, self.organizations, self.registry)
        if changed:
            logger.info(
                "Registry updated from Organizations", extra={"accountId": account_id, "changed": changed}
            )
        return Reaction(
            event_name=event_name,
            account_id=account_id,
            action="synced" if changed else "unchanged",
            detail=", ".join(changed),
        )
