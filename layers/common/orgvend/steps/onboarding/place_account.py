"""PlaceAccount: move the account into its client's OU (or the requested one) inside orgvend's scope.

A new account is created at the organization's root, outside the scope, and always
placed; an adopted one keeps its OU unless the request asked to move it. Every
destination is checked to lie in the scope: IAM holds MoveAccount to orgvend's own
(tagged) accounts, but cannot tell a move's destination from its source, so the
destination is held here.
"""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.models import Model, Onboarding, Placement
from orgvend.organizations import Scope, id_named, managed_tag, raise_for_organizations_error

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


class PlaceAccountInput(Model):
    onboarding: Onboarding
    account_id: str


def find_child_ou(organizations: "OrganizationsClient", parent_id: str, name: str) -> str | None:
    pages = organizations.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent_id)
    return id_named(pages, "OrganizationalUnits", name)


def ensure_client_ou(organizations: "OrganizationsClient", parent_id: str, name: str) -> str:
    existing = find_child_ou(organizations, parent_id, name)
    if existing:
        return existing
    try:
        return str(
            organizations.create_organizational_unit(ParentId=parent_id, Name=name, Tags=[managed_tag()])[
                "OrganizationalUnit"
            ]["Id"]
        )
    except ClientError as error:
        if error_code(error) != "DuplicateOrganizationalUnitException":
            raise
    # Another onboarding of the same client created it a moment ago.
    return str(find_child_ou(organizations, parent_id, name))


def place_account(
    step_input: PlaceAccountInput, organizations: "OrganizationsClient", scope: Scope
) -> Placement:
    onboarding, account_id = step_input.onboarding, step_input.account_id
    try:
        if onboarding.mode == "adopt":
            current_parent = scope.require_account(account_id)
            if onboarding.keep_ou:  # adoption: the account keeps its place
                return Placement(ou_id=current_parent, ou_name="(kept)", moved=False)
        else:
            current_parent = organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"]
        if onboarding.ou:  # the request named its OU
            ou_id = onboarding.ou
            scope.require_ou(ou_id)
            ou_name = organizations.describe_organizational_unit(OrganizationalUnitId=ou_id)[
                "OrganizationalUnit"
            ]["Name"]
        else:
            ou_name = onboarding.client
            ou_id = ensure_client_ou(organizations, scope.ou_id, ou_name)
        moved = current_parent != ou_id
        if moved:
            organizations.move_account(
                AccountId=account_id, SourceParentId=current_parent, DestinationParentId=ou_id
            )
    except ClientError as error:
        raise_for_organizations_error(error, "PlaceAccount")
    return Placement(ou_id=ou_id, ou_name=ou_name, moved=moved)
