"""What orgvend tells people (SNS) and machines (EventBridge), in one place."""

import json
import unicodedata
from typing import Any

from orgvend.models import AccountRecord, OnboardingFailure

ONBOARDED_DETAIL_TYPE = "Account Onboarded"
FAILED_DETAIL_TYPE = "Account Onboarding Failed"
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


def onboarded_message(account: AccountRecord) -> tuple[str, str]:
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
            "",
            root_user_section(account),
            "",
            f"Onboarding: {account.onboarding_id}",
        ]
    )
    return clean_subject(subject), body


def failed_message(failure: OnboardingFailure) -> tuple[str, str]:
    who = f"{failure.client}/{failure.project}" if failure.client else "an onboarding request"
    subject = f"orgvend: onboarding of {who} failed ({failure.error})"
    lines = [
        f"The onboarding {failure.onboarding_id} of {who} failed.",
        "",
        f"  Error:  {failure.error}",
        f"  Reason: {failure.message}",
    ]
    if failure.account_id:
        lines += [
            f"  Account {failure.account_id} exists and is kept in the registry.",
            "  Fix the cause, then redrive the execution: it resumes at the failed step",
            "  and never creates another account.",
        ]
    lines += ["", f"Execution: {failure.execution_arn}"]
    return clean_subject(subject), "\n".join(lines)


def clean_subject(subject: str) -> str:
    """A subject SNS accepts: printable characters only, one line, under 100 characters."""
    printable = "".join(
        " " if unicodedata.category(character)[0] == "C" else character for character in subject
    )
    return " ".join(printable.split())[:SNS_SUBJECT_MAX_LENGTH]


def publish(sns: Any, topic_arn: str, kind: str, subject: str, body: str) -> str:
    return str(
        sns.publish(
            TopicArn=topic_arn,
            Subject=clean_subject(subject),
            Message=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )["MessageId"]
    )


def put_event(events: Any, bus: str, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    response = events.put_events(
        Entries=[
            {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}
        ]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the {detail_type} event: {response['Entries']}")
