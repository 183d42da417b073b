"""SummarizeSettingsRun: what a settings run did, told once to the operators (topic and bus).

The counts come from the run's registry item (every account's outcome, added as it finished), never
from the map's output. An ``apply`` run always reports; a ``check`` run reports only when it found
drift, repaired something or failed somewhere, so a quiet day sends nothing. ``SettingsDrifted`` (the
accounts found drifted, repaired or not) is the metric an alarm can watch.
"""

from orgvend.account_settings.runs import AccountOutcome, SettingsRun, SettingsRunMode
from orgvend.errors import InvalidSettingsRun
from orgvend.models import Model, readable_failure
from orgvend.notifications import SETTINGS_RUN_DETAIL_TYPE, Announcer
from orgvend.observability import logger, metrics
from orgvend.registry import Registry


class SummarizeSettingsRunInput(Model):
    run_id: str


class SettingsRunSummary(Model):
    """The run's output: the run as recorded, and whether the operators were told."""

    run: SettingsRun
    message_id: str | None = None


def settings_run_message(run: SettingsRun) -> tuple[str, str]:
    """What a settings run did (orgvend.account_settings.runs), account by account where it matters."""
    counts = {outcome: len(run.outcomes.get(outcome, [])) for outcome in AccountOutcome}
    said = ", ".join(f"{count} {outcome}" for outcome, count in counts.items() if count) or "no accounts"
    verb = "Settings applied to" if run.mode == "apply" else "Settings checked on"
    subject = f"orgvend: {verb.lower()} {run.selection.describe()}: {said}"
    profile = f"profile {run.settings_profile}" if run.settings_profile else "each account's own profile"
    lines = [
        f"{verb} {run.selection.describe()} ({run.accounts} active accounts, {profile}).",
        f"Run {run.run_id}, started {run.started_at.isoformat()}"
        + (f" by {run.requested_by}" if run.requested_by else "")
        + ".",
        "",
        *(f"  {outcome}: {count}" for outcome, count in counts.items() if count),
    ]
    for outcome, heading in (
        (
            AccountOutcome.DRIFTED,
            "Drifted from their profile (reported, not repaired: the profile says repair: false):",
        ),
        (AccountOutcome.REPAIRED, "Drifted, and repaired (the profile says repair: true):"),
    ):
        if run.outcomes.get(outcome):
            lines += ["", heading, *(f"  {account}" for account in run.outcomes[outcome])]
            lines.append("  What differs: GET /accounts/{accountId} (settingsDrift) or orgvend show ACCOUNT.")
    if run.failures:
        lines += ["", "Not done (nothing else was changed in these accounts after the failing setting):"]
        lines += [f"  {account}: {readable_failure(why)}" for account, why in sorted(run.failures.items())]
    return subject, "\n".join(lines)


def summarize_settings_run(
    step_input: SummarizeSettingsRunInput, registry: Registry, announcer: Announcer
) -> SettingsRunSummary:
    run = registry.finish_settings_run(step_input.run_id)
    if run is None:
        raise InvalidSettingsRun(f"no settings run {step_input.run_id!r} in the registry")
    counts = run.counts()
    drifted = counts[AccountOutcome.DRIFTED] + counts[AccountOutcome.REPAIRED]
    metrics.add_metric(name="SettingsDrifted", unit="Count", value=drifted)
    metrics.add_metric(name="SettingsRunFailures", unit="Count", value=counts[AccountOutcome.FAILED])
    logger.info("Settings run finished", extra={"runId": run.run_id, "mode": str(run.mode), **counts})
    quiet = run.mode == SettingsRunMode.CHECK and not drifted and not counts[AccountOutcome.FAILED]
    if quiet:
        return SettingsRunSummary(run=run)
    message_id = announcer.announce(
        "settings-run",
        settings_run_message(run),
        SETTINGS_RUN_DETAIL_TYPE,
        {
            "runId": run.run_id,
            "mode": str(run.mode),
            "selection": run.selection.to_json(),
            "accounts": run.accounts,
            "counts": counts,
        },
    )
    return SettingsRunSummary(run=run, message_id=message_id)
