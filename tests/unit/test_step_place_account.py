"""Step PlaceAccount: each client's accounts live in the client's own OU, inside orgvend's scope."""

import pytest

from orgvend.errors import OrganizationsBusy, OutOfScope
from orgvend.steps.onboarding.place_account import PlaceAccountInput, place_account

from .support import error_response, failing, record_calls


@pytest.fixture
def new_account(create_member, organization):
    """An account as CreateAccount leaves it: at the organization's root, outside the scope."""

    def create(email: str = "a@example.com") -> str:
        return create_member(email, parent=organization.root_id)

    return create


@pytest.fixture
def place(organizations, scope, make_onboarding):
    """PlaceAccount of an account for a client (a new account, unless ``mode`` says adopt)."""

    def place_(account: str, client: str = "acme", project: str = "web", **changes):
        onboarding = make_onboarding(client=client, project=project, **changes)
        return place_account(
            PlaceAccountInput(onboarding=onboarding, account_id=account), organizations, scope
        )

    return place_


def child_ous(setup_client, parent_id: str) -> dict[str, str]:
    """Name → ID of the OUs under a parent (two OUs of one name fail the test)."""
    units = setup_client("organizations").list_organizational_units_for_parent(ParentId=parent_id)
    names = [unit["Name"] for unit in units["OrganizationalUnits"]]
    assert len(names) == len(set(names)), names
    return {unit["Name"]: unit["Id"] for unit in units["OrganizationalUnits"]}


def parent_of(setup_client, account_id: str) -> str:
    return setup_client("organizations").list_parents(ChildId=account_id)["Parents"][0]["Id"]


def tags_of(setup_client, resource_id: str) -> dict[str, str]:
    tags = setup_client("organizations").list_tags_for_resource(ResourceId=resource_id)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def test_the_first_account_of_a_client_gets_the_clients_ou_under_the_scope(
    place, organization, new_account, setup_client
):
    account_id = new_account()

    placement = place(account_id, "acme")

    assert child_ous(setup_client, organization.clients_ou_id) == {"acme": placement.ou_id}
    assert "acme" not in child_ous(setup_client, organization.root_id)
    assert tags_of(setup_client, placement.ou_id) == {"managed-by": "orgvend"}
    assert placement.ou_name == "acme"
    assert placement.moved is True
    assert parent_of(setup_client, account_id) == placement.ou_id


def test_the_next_account_of_the_same_client_reuses_its_ou(
    place, organizations, organization, new_account, setup_client
):
    first = place(new_account("a@example.com"), "acme")
    calls = record_calls(organizations)
    second_account = new_account("b@example.com")

    second = place(second_account, "acme", project="api")

    assert second.ou_id == first.ou_id
    assert "CreateOrganizationalUnit" not in calls.operations()
    assert child_ous(setup_client, organization.clients_ou_id) == {"acme": first.ou_id}
    assert parent_of(setup_client, second_account) == first.ou_id


def test_another_client_gets_its_own_ou(place, organization, new_account, setup_client):
    acme = place(new_account("a@example.com"), "acme")
    globex = place(new_account("g@example.com"), "globex")

    assert acme.ou_id != globex.ou_id
    assert child_ous(setup_client, organization.clients_ou_id) == {"acme": acme.ou_id, "globex": globex.ou_id}


def test_a_requested_ou_inside_the_scope_is_used(place, organization, new_account, setup_client):
    nested = setup_client("organizations").create_organizational_unit(
        ParentId=organization.clients_ou_id, Name="projects"
    )["OrganizationalUnit"]["Id"]
    account_id = new_account()

    placement = place(account_id, "acme", ou=nested)

    assert placement.ou_id == nested
    assert placement.ou_name == "projects"
    assert parent_of(setup_client, account_id) == nested


def test_a_requested_ou_outside_the_scope_is_refused_and_nothing_moves(
    place, organization, new_account, setup_client, organizations
):
    account_id = new_account()
    calls = record_calls(organizations)

    with pytest.raises(OutOfScope) as raised:
        place(account_id, "acme", ou=organization.security_ou_id)

    assert raised.value.field == "ou"
    assert organization.security_ou_id in str(raised.value)
    assert "MoveAccount" not in calls.operations()
    assert parent_of(setup_client, account_id) == organization.root_id


def test_an_adopted_account_keeps_its_ou(place, create_member, organization, setup_client, organizations):
    nested = setup_client("organizations").create_organizational_unit(
        ParentId=organization.clients_ou_id, Name="legacy"
    )["OrganizationalUnit"]["Id"]
    account_id = create_member("a@example.com", parent=nested)
    calls = record_calls(organizations)

    placement = place(account_id, "acme", mode="adopt", account_id=account_id, keep_ou=True)

    assert placement.ou_id == nested
    assert placement.moved is False
    assert "MoveAccount" not in calls.operations()


def test_an_adopted_account_outside_the_scope_is_refused(place, create_member, organization, setup_client):
    account_id = create_member("a@example.com", parent=organization.security_ou_id)

    with pytest.raises(OutOfScope, match=account_id):
        place(account_id, "acme", mode="adopt", account_id=account_id)

    assert parent_of(setup_client, account_id) == organization.security_ou_id
    assert "acme" not in child_ous(setup_client, organization.clients_ou_id)


def test_placing_again_moves_nothing(organizations, scope, new_account, make_onboarding):
    step_input = PlaceAccountInput(onboarding=make_onboarding(client="acme"), account_id=new_account())
    first = place_account(step_input, organizations, scope)
    calls = record_calls(organizations)

    again = place_account(step_input, organizations, scope)  # the same onboarding, retried

    assert again.ou_id == first.ou_id
    assert again.moved is False
    assert not [name for name in calls.operations() if name in ("MoveAccount", "CreateOrganizationalUnit")]


def test_an_ou_created_by_a_concurrent_onboarding_is_used(
    place, organization, new_account, setup_client, organizations
):
    """Between our lookup and our CreateOrganizationalUnit, another onboarding of the client made the OU."""
    account_id = new_account()

    def someone_else_creates_it(**_):
        setup_client("organizations").create_organizational_unit(
            ParentId=organization.clients_ou_id, Name="acme"
        )
        # What AWS answers then (moto would make a second OU of the same name).
        return error_response(
            "DuplicateOrganizationalUnitException", "An OU with the same name already exists."
        )

    organizations.meta.events.register(
        "before-call.organizations.CreateOrganizationalUnit", someone_else_creates_it
    )

    placement = place(account_id, "acme")

    assert child_ous(setup_client, organization.clients_ou_id) == {"acme": placement.ou_id}
    assert parent_of(setup_client, account_id) == placement.ou_id


def test_organizations_being_busy_is_retryable(place, organizations, new_account):
    account_id = new_account()
    organizations.meta.events.register(
        "before-call.organizations.MoveAccount", failing("ConcurrentModificationException", "busy")
    )
    with pytest.raises(OrganizationsBusy, match="PlaceAccount: ConcurrentModificationException"):
        place(account_id)
