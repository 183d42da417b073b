"""Step PlaceAccount: each client's accounts live in the client's own OU."""

import pytest

from orgvend.errors import OrganizationsBusy
from orgvend.steps.place_account import PlaceAccountInput, place_account

from .support import error_response, failing, record_calls


@pytest.fixture
def clients_parent_ou_id(settings_for) -> str:
    """The stack's ClientsParentOuId as PlaceAccountFunction receives it (empty: the root)."""
    return settings_for("PlaceAccountFunction").clients_parent_ou_id


@pytest.fixture
def place(organizations, make_onboarding):
    """PlaceAccount of an account for a client (under the root unless a parent OU is given)."""

    def place_(account_id: str, client: str = "acme", parent_id: str = "", project: str = "web"):
        onboarding = make_onboarding(client=client, project=project)
        return place_account(
            PlaceAccountInput(onboarding=onboarding, account_id=account_id), organizations, parent_id
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


def test_the_first_account_of_a_client_gets_the_clients_ou_under_the_root(
    place, organization, create_member, setup_client, clients_parent_ou_id
):
    assert clients_parent_ou_id == ""  # template.yaml's default: the root
    account_id = create_member("a@example.com")

    placement = place(account_id, "acme", clients_parent_ou_id)

    assert child_ous(setup_client, organization.root_id) == {"acme": placement.ou_id}
    assert placement.ou_name == "acme"
    assert placement.moved is True
    assert parent_of(setup_client, account_id) == placement.ou_id


def test_the_next_account_of_the_same_client_reuses_its_ou(
    place, organizations, organization, create_member, setup_client
):
    first = place(create_member("a@example.com"), "acme")
    calls = record_calls(organizations)
    second_account = create_member("b@example.com")

    second = place(second_account, "acme", project="api")

    assert second.ou_id == first.ou_id
    assert "CreateOrganizationalUnit" not in calls.operations()
    assert child_ous(setup_client, organization.root_id) == {"acme": first.ou_id}
    assert parent_of(setup_client, second_account) == first.ou_id


def test_another_client_gets_its_own_ou(place, organization, create_member, setup_client):
    acme = place(create_member("a@example.com"), "acme")
    globex = place(create_member("g@example.com"), "globex")

    assert acme.ou_id != globex.ou_id
    assert child_ous(setup_client, organization.root_id) == {"acme": acme.ou_id, "globex": globex.ou_id}


def test_client_ous_go_under_the_configured_parent(place, organization, create_member, setup_client):
    clients = setup_client("organizations").create_organizational_unit(
        ParentId=organization.root_id, Name="Clients"
    )["OrganizationalUnit"]["Id"]
    account_id = create_member("a@example.com")

    placement = place(account_id, "acme", clients)

    assert child_ous(setup_client, clients) == {"acme": placement.ou_id}
    assert "acme" not in child_ous(setup_client, organization.root_id)
    assert parent_of(setup_client, account_id) == placement.ou_id


def test_placing_again_moves_nothing(organizations, create_member, make_onboarding):
    step_input = PlaceAccountInput(
        onboarding=make_onboarding(client="acme"), account_id=create_member("a@example.com")
    )
    first = place_account(step_input, organizations, "")
    calls = record_calls(organizations)

    again = place_account(step_input, organizations, "")  # the same onboarding, retried

    assert again.ou_id == first.ou_id
    assert again.moved is False
    assert not [name for name in calls.operations() if name in ("MoveAccount", "CreateOrganizationalUnit")]


def test_an_ou_created_by_a_concurrent_onboarding_is_used(
    place, organization, create_member, setup_client, organizations
):
    """Between our lookup and our CreateOrganizationalUnit, another onboarding of the client made the OU."""
    account_id = create_member("a@example.com")

    def someone_else_creates_it(**_):
        setup_client("organizations").create_organizational_unit(ParentId=organization.root_id, Name="acme")
        # What AWS answers then (moto would make a second OU of the same name).
        return error_response(
            "DuplicateOrganizationalUnitException", "An OU with the same name already exists."
        )

    organizations.meta.events.register(
        "before-call.organizations.CreateOrganizationalUnit", someone_else_creates_it
    )

    placement = place(account_id, "acme")

    assert child_ous(setup_client, organization.root_id) == {"acme": placement.ou_id}
    assert parent_of(setup_client, account_id) == placement.ou_id


def test_organizations_being_busy_is_retryable(place, organizations, create_member):
    account_id = create_member("a@example.com")
    organizations.meta.events.register(
        "before-call.organizations.MoveAccount", failing("ConcurrentModificationException", "busy")
    )
    with pytest.raises(OrganizationsBusy, match="PlaceAccount: ConcurrentModificationException"):
        place(account_id)
