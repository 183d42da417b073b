"""List, read and check accounts for the API, from the registry (and Organizations for adoption)."""

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import OutOfScope
from orgvend.exports import (
    Export,
    ExportFormat,
    ExportOptions,
    IdentityCenterNotConfigured,
    export_accounts,
)
from orgvend.models import ADOPTABLE_STATUSES, AccountRecord
from orgvend.organizations import Scope
from orgvend.refusals import BadRequest, Conflict, NotFound, Unprocessable, out_of_scope
from orgvend.registry import Registry
from orgvend.workflows.models import AccountPage, AccountView, Links

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("InvalidNextToken", "nextToken is not one this API returned", "nextToken") from None
    if not isinstance(key, dict) or not all(isinstance(value, dict) for value in key.values()):
        raise BadRequest("InvalidNextToken", "nextToken is not one this API returned", "nextToken")
    return key


def account_view(record: AccountRecord) -> AccountView:
    links = Links(
        self=f"/accounts/{record.account_id}",
        execution=f"/onboardings/{record.onboarding_id}" if record.onboarding_id else None,
        offboarding=f"/offboardings/{record.offboarding_id}" if record.offboarding_id else None,
    )
    return AccountView(**record.model_dump(), links=links)


class Accounts:
    def __init__(
        self, registry: Registry, organizations: "OrganizationsClient", scope: Scope | None = None
    ) -> None:
        self._registry = registry
        self._organizations = organizations
        self._scope = scope

    def page(
        self, client: str | None, project: str | None, status: str | None, limit: int, next_token: str | None
    ) -> AccountPage:
        if project and not client:
            raise BadRequest("MissingFilter", "filtering by project needs a client", "project")
        try:
            records, last_key = self._registry.list_accounts(
                client=client, project=project, status=status, limit=limit, start_key=decode_token(next_token)
            )
        except ClientError as error:
            if error_code(error) == "ValidationException" and next_token:
                raise BadRequest(
                    "InvalidNextToken", "nextToken does not fit these filters", "nextToken"
                ) from None
            raise
        return AccountPage(
            items=[account_view(record) for record in records], next_token=encode_token(last_key)
        )

    def get(self, account_id: str) -> AccountView:
        record = self._registry.get_account(account_id)
        if record is None:
            raise NotFound(f"account {account_id}", "accountId")
        return account_view(record)

    def confirm_root_secured(self, account_id: str, who: str) -> AccountView:
        record = self._registry.confirm_root_secured(account_id, who)
        if record is None:
            raise NotFound(f"account {account_id}", "accountId")
        return account_view(record)

    def export(
        self, fmt: ExportFormat, client: str | None, project: str | None, options: ExportOptions
    ) -> Export:
        """Every account the filters select (all pages), in one export format."""
        if project and not client:
            raise BadRequest("MissingFilter", "filtering by project needs a client", "project")
        if client:
            records, start_key = [], None
            while True:
                page, start_key = self._registry.list_accounts(
                    client=client, project=project, limit=1000, start_key=start_key
                )
                records.extend(page)
                if not start_key:
                    break
        else:
            records = list(self._registry.all_accounts())
        try:
            return export_accounts(records, fmt, options)
        except IdentityCenterNotConfigured as error:
            raise Conflict("NoIdentityCenter", str(error), "format") from None

    def adoptable_email(self, account_id: str) -> str:
        """The email of a member account that may be adopted; refuses the management account, strangers
        and accounts outside orgvend's scope."""
        if self._scope is None:
            raise ValueError("adoption needs orgvend's scope")
        if account_id == self._scope.management_account_id:
            raise Unprocessable("NotAdoptable", "the management account is never adopted", "accountId")
        try:
            self._scope.require_account(account_id)
        except OutOfScope as error:
            raise out_of_scope(error) from None
        record = self._registry.get_account(account_id)
        if record and record.status not in ADOPTABLE_STATUSES:
            raise Conflict(
                "AlreadyRegistered",
                f"account {account_id} is already registered as {record.status.value}",
                "accountId",
            )
        try:
            account = self._organizations.describe_account(AccountId=account_id)["Account"]
        except ClientError as error:
            if error_code(error) == "AccountNotFoundException":
                raise Unprocessable(
                    "NotAdoptable",
                    f"account {account_id} is not a member of this organization",
                    "accountId",
                ) from None
            raise
        if account.get("Status") != "ACTIVE":
            raise Unprocessable(
                "NotAdoptable", f"account {account_id} is {account.get('Status')}", "accountId"
            )
        return str(account["Email"])
