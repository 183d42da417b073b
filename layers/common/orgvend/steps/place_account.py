"""PlaceAccount: move the account into its client's OU, creating the OU when missing."""

from typing import Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.models import Model, Onboarding, Placement
from orgvend.steps.create_account import raise_for_organizations_error


class PlaceAccountInput(Model):
    onboarding: Onboarding
    account_id: str


def root_id(organizations: Any) -> str:
    return str(organizations.list_roots()["Roots"][0]["Id"])


def find_child_ou(organizations: Any, parent_id: str, name: str) -> str | None:
    paginator = organizations.get_paginator("list_organizational_units_for_parent")
    for page in paginator.paginate(ParentId=parent_id):
        for unit in page["OrganizationalUnits"]:
            if unit["Name"] == name:
                return str(unit["Id"])
    return None


def ensure_client_ou(organizations: Any, parent_id: str, name: str) -> str:
    existing = find_child_ou(organizations, parent_id, name)
    if existing:
        return existing
    try:
        return str(
            organizations.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"][
                "Id"
            ]
        )
    except ClientError as error:
        if error_code(error) != "DuplicateOrganizationalUnitException":
            raise
    # Another onboarding of the same client created it a moment ago.
    return str(find_child_ou(organizations, parent_id, name))


def place_account(step_input: PlaceAccountInput, organizations: Any, clients_parent_ou_id: str) -> Placement:
    onboarding = step_input.onboarding
    try:
        if onboarding.keep_ou:  # adoption of an account that already has its place
            ou_id = organizations.list_parents(ChildId=step_input.account_id)["Parents"][0]["Id"]
            return Placement(ou_id=ou_id, ou_name="(kept)", moved=False)
        if onboarding.ou:  # the request named its OU
            ou_id = onboarding.ou
            ou_name = organizations.describe_organizational_unit(OrganizationalUnitId=ou_id)[
                "OrganizationalUnit"
            ]["Name"]
        else:
            ou_name = onboarding.client
            ou_id = ensure_client_ou(organizations, clients_parent_ou_id or root_id(organizations), ou_name)
        current_parent = organizations.list_parents(ChildId=step_input.account_id)["Parents"][0]["Id"]
        moved = current_parent != ou_id
        if moved:
            organizations.move_account(
                AccountId=step_input.account_id, SourceParentId=current_parent, DestinationParentId=ou_id
            )
    except ClientError as error:
        raise_for_organizations_error(error, "PlaceAccount")
    return Placement(ou_id=ou_id, ou_name=ou_name, moved=moved)
