"""The account's alternate contacts (billing, operations, security), set from the management account.

Account Management changes a member's contacts from the management account (``AccountId``), with
trusted access for account.amazonaws.com enabled in the organization; the access role's own
policy denies ``account:PutAlternateContact`` (orgvend.baseline_policy), so the member cannot.
"""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.account_settings.drift import converge, differences
from orgvend.account_settings.models import AlternateContact, AlternateContacts, SettingResult
from orgvend.aws import error_code
from orgvend.models import Setting, SettingDrift

if TYPE_CHECKING:
    from mypy_boto3_account import AccountClient
    from mypy_boto3_account.literals import AlternateContactTypeType


def _wanted(contacts: AlternateContacts) -> dict["AlternateContactTypeType", AlternateContact]:
    named: dict[AlternateContactTypeType, AlternateContact | None] = {
        "BILLING": contacts.billing,
        "OPERATIONS": contacts.operations,
        "SECURITY": contacts.security,
    }
    return {kind: contact for kind, contact in named.items() if contact is not None}


def current_contact(
    account: "AccountClient", account_id: str, kind: "AlternateContactTypeType"
) -> dict[str, Any]:
    """The account's contact of this kind in the profile's JSON form; empty when it has none."""
    try:
        contact = account.get_alternate_contact(AccountId=account_id, AlternateContactType=kind)[
            "AlternateContact"
        ]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return {}
        raise
    return {
        "name": contact.get("Name"),
        "title": contact.get("Title"),
        "email": contact.get("EmailAddress"),
        "phone": contact.get("PhoneNumber"),
    }


def _kind_drift(
    account: "AccountClient", account_id: str, kind: "AlternateContactTypeType", contact: AlternateContact
) -> list[SettingDrift]:
    drifts = differences(
        Setting.ALTERNATE_CONTACTS, contact.to_json(), current_contact(account, account_id, kind)
    )
    # Named as the profile names them: billing.email.
    return [drift.model_copy(update={"field": f"{kind.lower()}.{drift.field}"}) for drift in drifts]


def alternate_contacts_drift(
    account: "AccountClient", account_id: str, wanted: AlternateContacts
) -> list[SettingDrift]:
    return [
        drift
        for kind, contact in _wanted(wanted).items()
        for drift in _kind_drift(account, account_id, kind, contact)
    ]


def apply_alternate_contacts(
    account: "AccountClient", account_id: str, wanted: AlternateContacts
) -> SettingResult:
    def change(drifts: list[SettingDrift]) -> None:
        differing = {drift.field.split(".", 1)[0].upper() for drift in drifts}
        for kind, contact in _wanted(wanted).items():
            if kind in differing:
                account.put_alternate_contact(
                    AccountId=account_id,
                    AlternateContactType=kind,
                    Name=contact.name,
                    Title=contact.title,
                    EmailAddress=contact.email,
                    PhoneNumber=contact.phone,
                )

    return converge(
        Setting.ALTERNATE_CONTACTS, lambda: alternate_contacts_drift(account, account_id, wanted), change
    )
