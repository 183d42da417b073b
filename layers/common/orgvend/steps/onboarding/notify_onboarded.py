"""NotifyOnboarded: tell people the account is ready, and tell downstream automation too."""

from pydantic import Field

from orgvend.models import AccountRecord, Model, Notification
from orgvend.notifications import ONBOARDED_DETAIL_TYPE, Announcer, onboarded_message


class NotifyOnboardedInput(Model):
    account: AccountRecord
    trust_findings: list[str] = Field(default_factory=list)


def notify_onboarded(step_input: NotifyOnboardedInput, announcer: Announcer) -> Notification:
    account = step_input.account
    message = onboarded_message(account, step_input.trust_findings)
    message_id = announcer.announce("onboarded", message, ONBOARDED_DETAIL_TYPE, account.to_json())
    return Notification(message_id=message_id, event_detail_type=ONBOARDED_DETAIL_TYPE)
