"""orgvend's managed scope: the OU subtree under ClientsParentOuId, decided with Organizations' own answers."""

import pytest

from orgvend.errors import OutOfScope
from orgvend.organizations import Scope

from .support import record_calls


@pytest.fixture
def nested(setup_client, organization):
    """Clients > Acme > Web (two levels below the scope's OU), and Security > Audit beside it."""
    organizations = setup_client("organizations")

    def ou(parent: str, name: str) -> str:
        return organizations.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"][
            "Id"
        ]

    acme = ou(organization.clients_ou_id, "Acme")
    return {
        "acme": acme,
        "web": ou(acme, "Web"),
        "audit": ou(organization.security_ou_id, "Audit"),
    }


def test_the_scope_is_an_ou_never_the_root(organizations, organization):
    for value in ("", organization.root_id, "not-an-ou"):
        with pytest.raises(ValueError, match="CLIENTS_PARENT_OU_ID must be an OU ID"):
            Scope(organizations, value)


def test_accounts_anywhere_in_the_subtree_are_inside(scope, create_member, nested, organization):
    for parent in (organization.clients_ou_id, nested["acme"], nested["web"]):
        account_id = create_member(f"{parent}@example.com", parent=parent)
        assert scope.contains_account(account_id)
        assert scope.require_account(account_id) == parent


@pytest.mark.parametrize("where", ["root", "security", "audit"])
def test_accounts_elsewhere_are_outside_and_named_with_where_they_are(
    scope, create_member, nested, organization, where
):
    parent = {
        "root": organization.root_id,
        "security": organization.security_ou_id,
        "audit": nested["audit"],
    }[where]
    account_id = create_member("outside@example.com", parent=parent)
    assert not scope.contains_account(account_id)
    with pytest.raises(OutOfScope) as raised:
        scope.require_account(account_id)
    assert raised.value.field == "accountId"
    assert account_id in str(raised.value) and parent in str(raised.value)
    assert organization.clients_ou_id in str(raised.value)


def test_the_management_account_is_never_inside_even_placed_in_the_scope(scope, organization, setup_client):
    setup_client("organizations").move_account(
        AccountId=organization.management_account_id,
        SourceParentId=organization.root_id,
        DestinationParentId=organization.clients_ou_id,
    )
    assert not scope.contains_account(organization.management_account_id)
    with pytest.raises(OutOfScope, match="the management account"):
        scope.require_account(organization.management_account_id)


def test_an_account_that_left_is_not_a_member_and_passes_only_refuse_member_outside(scope):
    with pytest.raises(OutOfScope, match="not a member of this organization"):
        scope.require_account("999999999999")
    scope.refuse_member_outside("999999999999")  # nothing of it left to protect


def test_ous_inside_and_outside(scope, nested, organization):
    for ou in (organization.clients_ou_id, nested["acme"], nested["web"]):
        scope.require_ou(ou)
    for ou in (organization.security_ou_id, nested["audit"], organization.root_id):
        with pytest.raises(OutOfScope) as raised:
            scope.require_ou(ou)
        assert raised.value.field == "ou"


def test_deciding_costs_one_listparents_per_level_and_nothing_else(
    scope, create_member, nested, organizations
):
    account_id = create_member("deep@example.com", parent=nested["web"])
    calls = record_calls(organizations)
    assert scope.contains_account(account_id)
    # web, then acme, then the scope's OU: three parents; plus the management account, once.
    assert calls.operations() == ["DescribeOrganization", "ListParents", "ListParents", "ListParents"]
    scope.contains_account(account_id)
    assert calls.operations().count("ListParents") == 3  # remembered within the invocation


def test_the_walk_lists_the_subtree_only(scope, create_member, nested, organization, organizations):
    inside = {
        create_member("a@example.com", parent=organization.clients_ou_id): organization.clients_ou_id,
        create_member("b@example.com", parent=nested["acme"]): nested["acme"],
        create_member("c@example.com", parent=nested["web"]): nested["web"],
    }
    outside = {
        create_member("d@example.com", parent=organization.security_ou_id),
        create_member("e@example.com", parent=nested["audit"]),
        create_member("f@example.com", parent=organization.root_id),
    }
    calls = record_calls(organizations)

    found = {account["Id"]: ou for account, ou in scope.accounts()}

    assert found == inside
    assert not outside & set(found)
    parents = {call.params["ParentId"] for call in calls.made if "ParentId" in call.params}
    assert parents == {organization.clients_ou_id, nested["acme"], nested["web"]}
    assert {"ListAccounts", "ListParents", "DescribeAccount"}.isdisjoint(calls.operations())


def test_the_hub_account_is_never_inside_even_placed_in_the_scope(organizations, create_member, organization):
    """A hub deployment: the account orgvend runs in is out of scope wherever it sits."""
    hub = create_member("hub@example.com", parent=organization.clients_ou_id)
    scope = Scope(organizations, organization.clients_ou_id, hub_account_id=hub)
    assert not scope.contains_account(hub)
    with pytest.raises(OutOfScope, match="the hub account orgvend runs in"):
        scope.require_account(hub)
    with pytest.raises(OutOfScope, match="the hub account"):
        scope.refuse_member_outside(hub)
    assert Scope(organizations, organization.clients_ou_id).contains_account(hub)  # single account: its place
