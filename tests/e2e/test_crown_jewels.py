"""orgvend touches only what it manages: the management account never, registered accounts only from managed states."""

import json

import pytest
import urllib3

from .conftest import Harness, request_for

pytestmark = pytest.mark.e2e
http = urllib3.PoolManager(retries=False, timeout=30)


def onboarded(embedded: Harness, unique: str) -> tuple[str, str]:
    request = request_for(unique)
    execution = embedded.wait(embedded.start(request))
    assert execution["status"] == "SUCCEEDED"
    return json.loads(execution["output"])["account"]["accountId"], request["email"]


def test_adopting_a_registered_account_is_refused_over_http(embedded: Harness, unique: str) -> None:
    account_id, _ = onboarded(embedded, unique)
    response = http.request(
        "POST",
        embedded.outputs["ApiUrl"] + "/accounts/adopt",
        body=json.dumps({"accountId": account_id, "client": f"c{unique}", "project": "again"}),
        headers={"content-type": "application/json"},
    )
    body = json.loads(response.data)
    assert response.status == 409 and body["error"]["code"] == "AlreadyRegistered", body
    assert body["error"]["field"] == "accountId" and "ACTIVE" in body["error"]["message"]


def test_the_workflow_refuses_an_account_registered_in_an_unmanaged_state(
    embedded: Harness, unique: str
) -> None:
    account_id, email = onboarded(embedded, unique)
    # The account left the organization's management (DETACHED, record kept), then an adoption is attempted.
    table = embedded.outputs["RegistryTableName"]
    embedded.client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "DETACHED"}},
    )
    embedded.client("dynamodb").delete_item(
        TableName=table, Key={"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "EMAIL"}}
    )
    execution = embedded.wait(embedded.start(request_for(unique, project="again", accountId=account_id)))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "AccountNotAdoptable" and "DETACHED" in execution["cause"]
    item = embedded.account_item(account_id)
    assert item["status"] == "DETACHED" and item["project"] == "web"  # untouched
