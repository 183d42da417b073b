"""Settings runs in the registry: ``SETTINGSRUN#<runId>`` / ``RUN``, one item per run.

The item is written when the run's accounts are chosen (SelectSettingsAccounts) and each account's
outcome is added to it as a string set named after the outcome (``changed``, ``unchanged``, ``drifted``,
``repaired``, ``skipped``, ``failed``; orgvend.account_settings.runs.AccountOutcome), with a failure's
reason under ``failures.<accountId>``. Sets make a retried account count once, and the map's children
return almost nothing, so a run's state stays small whatever the fleet's size: the summary and
``GET /settings/runs/{runId}`` read this one item. The workflow's own Catch writes ``failed`` and
``failures`` too (statemachines/keep_settings.asl.json, RecordSettingsFailure): the names are shared.
"""

from typing import Any

from orgvend.account_settings.runs import AccountOutcome, SettingsRun, failure_reason
from orgvend.clock import now
from orgvend.registry.items import attribute_values, plain
from orgvend.registry.writes import Table

RUN_PREFIX = "SETTINGSRUN#"
FAILURES = "failures"
# A run's item outlives the run long enough to be read back, then DynamoDB's TTL removes it.
RUN_ITEM_DAYS = 90


def run_key(run_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"{RUN_PREFIX}{run_id}"}, "sk": {"S": "RUN"}}


class SettingsRuns(Table):
    """Settings runs: started once, each account's outcome added, read back whole."""

    def start_settings_run(self, run: SettingsRun) -> SettingsRun:
        """Write the run as chosen; a retried SelectSettingsAccounts finds it written and keeps it (the
        outcomes recorded meanwhile stay)."""
        fields = run.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"outcomes"})
        fields[FAILURES] = {}
        fields["expiresAt"] = int(now().timestamp()) + RUN_ITEM_DAYS * 86400
        if not self._conditional(
            lambda: self._dynamodb.put_item(
                TableName=self._table,
                Item={**run_key(run.run_id), **attribute_values(fields)},
                ConditionExpression="attribute_not_exists(pk)",
            )
        ):
            stored = self.get_settings_run(run.run_id)
            assert stored is not None  # the condition failed on it
            return stored
        return run

    def record_settings_outcome(
        self, run_id: str, account_id: str, outcome: AccountOutcome, why: str | None = None
    ) -> None:
        """Add the account to the outcome's set (and the failure's reason)."""
        expression = "ADD #outcome :account"
        names = {"#outcome": str(outcome)}
        values: dict[str, Any] = {":account": {account_id}}
        if why is not None:
            expression += f" SET {FAILURES}.#id = :why"
            names["#id"] = account_id
            values[":why"] = why
        self._dynamodb.update_item(
            TableName=self._table,
            Key=run_key(run_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attribute_values(values),
        )

    def finish_settings_run(self, run_id: str) -> SettingsRun | None:
        """Stamp the run finished (the first time: a retried summary keeps the stamp); the run as stored."""
        started = self._conditional(
            lambda: self._dynamodb.update_item(
                TableName=self._table,
                Key=run_key(run_id),
                UpdateExpression="SET finishedAt = if_not_exists(finishedAt, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=attribute_values({":now": now().isoformat()}),
            )
        )
        return self.get_settings_run(run_id) if started else None

    def fail_settings_run(self, run_id: str, failure: str) -> bool | None:
        """Record that the run itself failed, the first time: True then, False for a duplicate report,
        None when the run has no item (it failed before its accounts were chosen)."""
        if self._conditional(
            lambda: self._dynamodb.update_item(
                TableName=self._table,
                Key=run_key(run_id),
                UpdateExpression="SET failedAt = :now, failure = :failure",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(failedAt)",
                ExpressionAttributeValues=attribute_values({":now": now().isoformat(), ":failure": failure}),
            )
        ):
            return True
        return None if self.get_settings_run(run_id) is None else False

    def get_settings_run(self, run_id: str) -> SettingsRun | None:
        response = self._dynamodb.get_item(TableName=self._table, Key=run_key(run_id), ConsistentRead=True)
        if "Item" not in response:
            return None
        return _run_of(plain(response["Item"]))


def _run_of(item: dict[str, Any]) -> SettingsRun:
    outcomes = {outcome: sorted(item[str(outcome)]) for outcome in AccountOutcome if item.get(str(outcome))}
    fields = {
        name: value
        for name, value in item.items()
        if name not in {"pk", "sk", "expiresAt"} and name not in {str(outcome) for outcome in AccountOutcome}
    }
    failures = {account: failure_reason(str(why)) for account, why in (item.get(FAILURES) or {}).items()}
    return SettingsRun.model_validate({**fields, "outcomes": outcomes, FAILURES: failures})
