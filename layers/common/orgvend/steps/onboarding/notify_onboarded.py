"""NotifyOnboarded: tell people the account is ready, and tell downstream automation too."""

from typing import TYPE_CHECKING

from pydantic import Field

from orgvend.models import AccountRecord, Model, Notification
from orgvend.notifications import ONBOARDED_DETAIL_TYPE, onboarded_message, publish, put_event
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sns import SNSClient


class NotifyOnboardedInput(Model):
    account: AccountRecord
    trust_findings: list[str] = Field(default_factory=list)


def notify_onboarded(
    step_input: NotifyOnboardedInput, sns: "SNSClient", events: "EventBridgeClient", settings: Settings
) -> Notification:
    account = step_input.account
    subject, body = onboarded_message(account, step_input.trust_findings)
    message_id = publish(sns, settings.operator_topic_arn, "onboarded", subject, body)
    put_event(
        events, settings.event_bus_name, settings.event_source, ONBOARDED_DETAIL_TYPE, account.to_json()
    )
    return Notification(message_id=message_id, event_detail_type=ONBOARDED_DETAIL_TYPE)
