"""Start and follow settings runs: executions of the keep-settings workflow (orgvend.account_settings.runs).

A run is started only once what it names is known to be there: an account (ACTIVE: the only accounts
a run keeps) and a settings profile. Its ID is its execution's name, a new UUID. Following it joins
three sources: the execution (status, output once finished), the run's registry item (each account's
outcome, added as it finishes) and, while it runs, the Distributed Map's item counts (DescribeMapRun,
on the map run its execution history names).
"""

import json
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.account_settings.runs import (
    AccountOutcome,
    SettingsRun,
    SettingsRunMode,
    SettingsRunRequest,
    SettingsSelection,
)
from orgvend.errors import InvalidSettingsProfile
from orgvend.models import AccountStatus, ExecutionStatus
from orgvend.refusals import Conflict, NotFound, Unprocessable, public_cause
from orgvend.registry import Registry, default_registry
from orgvend.settings import Settings
from orgvend.workflows.executions import Executions
from orgvend.workflows.models import (
    SettingsRunAccepted,
    SettingsRunProgress,
    SettingsRunTally,
    SettingsRunView,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

MAP_RUN_STARTED = "MapRunStarted"
# A map run's items that ended without succeeding (the workflow's own Catch records an account's
# failure and succeeds: these are items whose recording failed too).
MAP_ITEMS_FAILED = ("failed", "timedOut", "aborted")


def status_path(run_id: str) -> str:
    return f"/settings/runs/{run_id}"


class SettingsRuns:
    """The keep-settings workflow as the API sees it."""

    def __init__(self, stepfunctions: "SFNClient", registry: Registry, state_machine_arn: str) -> None:
        self._sfn = stepfunctions
        self._executions = Executions(stepfunctions, state_machine_arn, "settings run")
        self._registry = registry

    # -- starting --------------------------------------------------------------------------

    def refuse_unless_kept(self, account_id: str) -> None:
        """404 for an account the registry does not know, 409 for one that is not ACTIVE."""
        record = self._registry.get_account(account_id)
        if record is None:
            raise NotFound(f"account {account_id}", "accountId")
        if record.status != AccountStatus.ACTIVE:
            raise Conflict(
                "AccountNotActive",
                f"account {account_id} is {record.status}: only an ACTIVE account's settings are kept",
                "accountId",
            )

    def refuse_unknown_profile(self, name: str | None) -> None:
        """422 naming ``settingsProfile`` when there is no such profile (as the workflow would fail)."""
        if name is None:
            return
        try:
            self._registry.resolve_settings_profile(name)
        except InvalidSettingsProfile as error:
            raise Unprocessable("InvalidSettings", str(error), next(iter(error.problems))) from None

    def start(
        self,
        mode: SettingsRunMode,
        selection: SettingsSelection,
        settings_profile: str | None,
        requested_by: str,
    ) -> SettingsRunAccepted:
        """Check what the run names, then start it; nothing is started when a check refuses."""
        if selection.account_id is not None:
            self.refuse_unless_kept(selection.account_id)
        self.refuse_unknown_profile(settings_profile)
        request = SettingsRunRequest(
            mode=mode, selection=selection, settings_profile=settings_profile, requested_by=requested_by
        )
        run_id = str(uuid.uuid4())
        self._executions.start(run_id, request.to_json())
        return SettingsRunAccepted(
            run_id=run_id, execution_arn=self._executions.arn(run_id), status_url=status_path(run_id)
        )

    # -- following -------------------------------------------------------------------------

    def _execution(self, run_id: str) -> dict[str, Any] | None:
        try:
            return self._executions.describe(run_id)
        except NotFound:
            return None

    def describe(self, run_id: str) -> SettingsRunView:
        execution = self._execution(run_id)
        run = self._registry.get_settings_run(run_id)
        if execution is None:
            if run is None:
                raise NotFound(f"settings run {run_id}", "runId")
            # Step Functions no longer keeps the execution (90 days after it ended): the registry's item.
            finished = run.finished_at is not None
            return SettingsRunView(
                run_id=run_id,
                status=ExecutionStatus.SUCCEEDED if finished else ExecutionStatus.RUNNING,
                started_at=run.started_at,
                stopped_at=run.finished_at,
                run=run,
                progress=progress_of(run, None),
                summary=tally(run, notified=False) if finished else None,
            )
        status = execution["status"]
        output = _json(execution.get("output"))
        if run is None and isinstance(output, dict) and isinstance(output.get("run"), dict):
            run = SettingsRun.model_validate(output["run"])
        failed = status != ExecutionStatus.SUCCEEDED and bool(execution.get("error"))
        map_counts = (
            self._map_counts(execution["executionArn"]) if status == ExecutionStatus.RUNNING else None
        )
        summary = None
        if status == ExecutionStatus.SUCCEEDED and run is not None:
            notified = isinstance(output, dict) and bool(output.get("messageId"))
            summary = tally(run, notified=notified)
        return SettingsRunView(
            run_id=run_id,
            status=status,
            started_at=execution["startDate"],
            stopped_at=execution.get("stopDate"),
            error=execution["error"] if failed else None,
            cause=public_cause(execution.get("cause")) if failed else None,
            request=_request(execution.get("input")),
            run=run,
            progress=progress_of(run, map_counts, running=status == ExecutionStatus.RUNNING),
            summary=summary,
        )

    def _map_counts(self, execution_arn: str) -> dict[str, int] | None:
        """The Distributed Map's item counts, once its map run started (the history names it); None
        before, or when it cannot be read (the registry's counts are the progress then)."""
        map_run_arn = next(
            (
                event.get("mapRunStartedEventDetails", {}).get("mapRunArn")
                for event in self._executions.history(execution_arn)
                if event["type"] == MAP_RUN_STARTED
            ),
            None,
        )
        if not map_run_arn:
            return None
        try:
            counts = self._sfn.describe_map_run(mapRunArn=map_run_arn)["itemCounts"]
        except ClientError:
            return None
        return {
            "total": counts["total"],
            "running": counts["running"],
            "succeeded": counts["succeeded"],
            "failed": counts["failed"],
            "timedOut": counts["timedOut"],
            "aborted": counts["aborted"],
        }


def tally(run: SettingsRun, *, notified: bool) -> SettingsRunTally:
    """How many accounts had each outcome (every outcome named, 0 included)."""
    counts = {outcome: len(run.outcomes.get(outcome, [])) for outcome in AccountOutcome}
    return SettingsRunTally(counts=counts, operators_notified=notified)


def progress_of(
    run: SettingsRun | None, map_counts: dict[str, int] | None, *, running: bool = False
) -> SettingsRunProgress:
    """A run's progress in accounts. The run's item is the truth about what ended (each outcome is added
    before the account's map item ends); the map run adds which items are running. Either may be ahead
    of the other for a moment: the numbers are kept consistent (done + running + pending = total)."""
    recorded_done = run.done if run else 0
    recorded_failed = len(run.outcomes.get(AccountOutcome.FAILED, [])) if run else 0
    items = map_counts or {}
    map_failed = sum(items.get(name, 0) for name in MAP_ITEMS_FAILED)
    map_done = items.get("succeeded", 0) + map_failed
    total = run.accounts if run else items.get("total") if map_counts else None
    failed = recorded_failed + map_failed
    done = max(recorded_done, map_done, failed)
    if total is not None:
        done = min(done, total)
        failed = min(failed, done)
    in_flight = items.get("running", 0) if running else 0
    if total is None:
        return SettingsRunProgress(
            total=None, done=done, succeeded=done - failed, failed=failed, running=in_flight
        )
    in_flight = max(0, min(in_flight, total - done))
    return SettingsRunProgress(
        total=total,
        done=done,
        succeeded=done - failed,
        failed=failed,
        running=in_flight,
        pending=total - done - in_flight,
    )


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _request(text: str | None) -> SettingsRunRequest | None:
    data = _json(text)
    if not isinstance(data, dict):
        return None
    try:
        return SettingsRunRequest.model_validate(data)
    except ValueError:  # pydantic's ValidationError: an execution started by hand with other input
        return None


def default_settings_runs(settings: Settings) -> SettingsRuns:
    """The function's keep-settings workflow (KEEP_SETTINGS_STATE_MACHINE_ARN)."""
    return SettingsRuns(
        aws.client("stepfunctions"),
        default_registry(settings),
        settings.required(settings.keep_settings_state_machine_arn, "keep_settings_state_machine_arn"),
    )
