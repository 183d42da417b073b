"""What orgvend tells people (SNS) and machines (EventBridge), in one place."""

import json
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orgvend import aws
from orgvend.models import (
    AccountAccess,
    AccountRecord,
    Offboarding,
    OffboardingFailure,
    OnboardingFailure,
    RunFailure,
)
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sns import SNSClient


ONBOARDED_DETAIL_TYPE = "Account Onboarded"
FAILED_DETAIL_TYPE = "Account Onboarding Failed"
OFFBOARDED_DETAIL_TYPE = "Account Offboarded"
OFFBOARDING_FAILED_DETAIL_TYPE = "Account Offboarding Failed"
SETTINGS_RUN_DETAIL_TYPE = "Account Settings Run Finished"
SETTINGS_RUN_FAILED_DETAIL_TYPE = "Account Settings Run Failed"
# SNS: "less than 100 characters", no line breaks or control characters.
SNS_SUBJECT_MAX_LENGTH = 99

ROOT_USER_CHECKLIST = """\
Root user checklist (do this today):
  1. The root user of this account has no password yet. Open
     https://signin.aws.amazon.com/console, choose "Root user", enter {email},
     then "Forgot password?" and follow the email sent to that address.
  2. Enable MFA on the root user at once (IAM > Security credentials > Assign MFA).
     Keep a recovery copy of the MFA secret somewhere safe and offline.
  3. Do not create root access keys. Day-to-day work uses the role below.
  4. Then record it: POST /accounts/{account_id}/root-secured (orgvend accounts --needs-root-mfa lists the rest)."""

ROOT_MANAGED_CENTRALLY = """\
Root user: this organization manages member accounts' root access centrally
(IAM root access management), so the account has no root password or MFA to set up."""


def root_user_section(account: AccountRecord) -> str:
    """The checklist, unless the organization is known to manage root access centrally."""
    if account.root_credentials_management:
        return ROOT_MANAGED_CENTRALLY
    return ROOT_USER_CHECKLIST.format(email=account.email, account_id=account.account_id)


def trust_section(findings: list[str]) -> list[str]:
    """What the access role's trust admitted from outside the organization before orgvend narrowed it."""
    if not findings:
        return []
    return [
        "",
        "The access role's trust admitted principals outside the organization; orgvend replaced it",
        "(now: orgvend's functions and the operators' roles of the management account only). It admitted:",
        *(f"  - {finding}" for finding in findings),
        "Find out who set that up, and whether anything used it (CloudTrail: sts AssumeRole into the role).",
    ]


def access_section(access: AccountAccess | None) -> list[str]:
    """Where people sign in to the account, with which permission sets for which groups, and the groups
    the access rules name that the Identity Store lacks (the operators create them, or fix the rules)."""
    if access is None or not access.configured:
        return []
    lines = [
        "",
        "People sign in through the AWS access portal (IAM Identity Center):",
        f"  {access.portal_url}",
    ]
    for permission_set in access.permission_sets:
        groups = sorted({item.group for item in access.assignments if item.permission_set == permission_set})
        lines.append(f"  {permission_set}: {', '.join(groups)}")
    if not access.assignments:
        lines.append("  No group has access to this account yet: no access rule gave it one.")
    if access.missing_groups:
        lines += [
            "Groups the access rules name that the Identity Store does not have (reported, not created):",
            *(f"  - {group}" for group in access.missing_groups),
            "Create them in the Identity Store, or correct the access rules (stack parameter AccessRules).",
        ]
    return lines


def onboarded_message(account: AccountRecord, trust_findings: list[str] | None = None) -> tuple[str, str]:
    subject = f"orgvend: account {account.account_name} ({account.account_id}) is ready"
    body = "\n".join(
        [
            f"A new AWS account is ready for {account.client} / {account.project}.",
            "",
            f"  Account ID:   {account.account_id}",
            f"  Account name: {account.account_name}",
            f"  Email:        {account.email}",
            f"  Access role:  {account.role_name} (administrator minus billing)",
            f"  OU:           {account.ou_id}",
            f"  Billing:      {account.billing_mode}",
            "",
            "Switch role into it (works in any browser, no five-role history needed):",
            f"  {account.switch_role_url}",
            *access_section(account.access),
            "",
            root_user_section(account),
            *trust_section(trust_findings or []),
            "",
            f"Onboarding: {account.onboarding_id}",
        ]
    )
    return clean_subject(subject), body


def failure_lines(headline: str, failure: RunFailure) -> list[str]:
    return [headline, "", f"  Error:  {failure.error}", f"  Reason: {failure.message}"]


def failed_message(failure: OnboardingFailure) -> tuple[str, str]:
    who = f"{failure.client}/{failure.project}" if failure.client else "an onboarding request"
    subject = f"orgvend: onboarding of {who} failed ({failure.error})"
    lines = failure_lines(f"The onboarding {failure.onboarding_id} of {who} failed.", failure)
    if failure.account_id:
        lines += [
            f"  Account {failure.account_id} exists and is kept in the registry.",
            "  Fix the cause, then redrive the execution: it resumes at the failed step",
            "  and never creates another account.",
        ]
    lines += ["", f"Execution: {failure.execution_arn}"]
    return clean_subject(subject), "\n".join(lines)


HAND_OVER_CHECKLIST = """\
Hand-over checklist for the new owner of account {account_id}:
  1. Root user: open https://signin.aws.amazon.com/console, choose "Root user", enter
     {email}, then "Forgot password?" (the reset goes to that address). Change the
     account's email to one the owner controls if it is still an agency address.
  2. Enable MFA on the root user at once; never create root access keys.
  3. Payment method and billing contact: the account now receives its own invoices
     (Billing > Payment preferences). Discount sharing (RI / Savings Plans) was turned off.
  4. Support plan: choose one (Basic is free) under Support > Support plans.
  5. Access: the role {role_name} still trusts the agency's management account
     ({management}) and is administrator minus billing. Delete it, or keep it only as long
     as the agency should keep access; its policy {policy} can go with it.
  6. What orgvend no longer manages: the account left the organization; service control
     policies, the OU, organization tags, consolidated billing, the registry's switch-role
     exports and orgvend's notifications no longer apply. The registry keeps its record as
     DETACHED for history."""

CLOSURE_NOTE = """\
Account {account_id} is closed (SUSPENDED). AWS deletes what remains in it after 90 days;
until then AWS Support can reopen it. A final bill may still arrive. Its email address
({email}) can never be used for another AWS account. The registry keeps its record as CLOSED."""


def removed_access_section(account: AccountRecord) -> list[str]:
    """What the offboarding removed of people's access through IAM Identity Center (nothing without it)."""
    access = account.access
    if access is None or not access.configured:
        return []
    if not access.offboarded and access.assignments:
        return [
            "",
            "IAM Identity Center: orgvend's assignments on the account were not removed (it left the "
            "organization before RemoveAccess ran, or a retried offboarding resumed after access was "
            "restored); remove them with sso-admin delete-account-assignment:",
            *(f"  {assignment.group} ({assignment.permission_set})" for assignment in access.assignments),
        ]
    if not access.offboarded:
        return ["", "IAM Identity Center: orgvend had no assignment left to remove on the account."]
    return [
        "",
        f"IAM Identity Center: orgvend removed its {len(access.offboarded)} assignment(s) on the account:",
        *(f"  {assignment.group} ({assignment.permission_set})" for assignment in access.offboarded),
    ]


def offboarded_message(
    account: AccountRecord, offboarding: Offboarding, management_account_id: str
) -> tuple[str, str]:
    if offboarding.mode == "detach":
        subject = f"orgvend: account {account.account_name} ({account.account_id}) handed over"
        intro = (
            f"Account {account.account_id} of {account.client} / {account.project} has left the organization "
            "and now stands alone: it is the client's."
        )
        details = HAND_OVER_CHECKLIST.format(
            account_id=account.account_id,
            email=account.email,
            role_name=account.role_name,
            management=management_account_id,
            policy=account.baseline_policy_arn or "(none recorded)",
        )
    else:
        subject = f"orgvend: account {account.account_name} ({account.account_id}) closed"
        intro = f"Account {account.account_id} of {account.client} / {account.project} has been closed."
        details = CLOSURE_NOTE.format(account_id=account.account_id, email=account.email)
    requested = f" (requested by {offboarding.requested_by})" if offboarding.requested_by else ""
    body = "\n".join(
        [
            intro,
            "",
            details,
            *removed_access_section(account),
            "",
            f"Offboarding: {offboarding.offboarding_id}{requested}",
        ]
    )
    return clean_subject(subject), body


def offboarding_failed_message(failure: OffboardingFailure) -> tuple[str, str]:
    what = f"account {failure.account_id}" if failure.account_id else "an account"
    subject = f"orgvend: offboarding ({failure.mode or '?'}) of {what} failed ({failure.error})"
    headline = (
        f"The offboarding {failure.offboarding_id} ({failure.mode or 'unknown mode'}) of {what} failed."
    )
    lines = [
        *failure_lines(headline, failure),
        "",
        "The account's registry entry is as it was before (a closure AWS accepted stays CLOSING).",
        "Fix the cause, then retry: POST /offboardings/{id}/retry (orgvend offboardings retry ID),",
        "or start a new offboarding.",
        "",
        f"Execution: {failure.execution_arn}",
    ]
    return clean_subject(subject), "\n".join(lines).replace("{id}", failure.offboarding_id)


def clean_subject(subject: str) -> str:
    """A subject SNS accepts: printable characters only, one line, under 100 characters."""
    printable = "".join(
        " " if unicodedata.category(character)[0] == "C" else character for character in subject
    )
    return " ".join(printable.split())[:SNS_SUBJECT_MAX_LENGTH]


def publish(sns: "SNSClient", topic_arn: str, kind: str, subject: str, body: str) -> str:
    return str(
        sns.publish(
            TopicArn=topic_arn,
            Subject=clean_subject(subject),
            Message=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )["MessageId"]
    )


def put_event(
    events: "EventBridgeClient", bus: str, source: str, detail_type: str, detail: dict[str, Any]
) -> None:
    response = events.put_events(
        Entries=[
            {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the {detail_type} event: {response['Entries']}")


@dataclass(frozen=True)
class Announcer:
    """How orgvend tells what happened, once per outcome: a message to the operators' topic and an event
    on the bus for automation, both as the function's settings name them."""

    sns: "SNSClient"
    events: "EventBridgeClient"
    settings: Settings

    def announce(self, kind: str, message: tuple[str, str], detail_type: str, detail: dict[str, Any]) -> str:
        """Publish ``message`` (subject, body) as ``kind``, then the ``detail_type`` event; the message's ID."""
        subject, body = message
        message_id = publish(self.sns, self.settings.operator_topic_arn, kind, subject, body)
        put_event(self.events, self.settings.event_bus_name, self.settings.event_source, detail_type, detail)
        return message_id


def default_announcer(settings: Settings) -> Announcer:
    """The function's operators' topic and event bus (OPERATOR_TOPIC_ARN, EVENT_BUS_NAME, EVENT_SOURCE)."""
    return Announcer(aws.client("sns"), aws.client("events"), settings)
