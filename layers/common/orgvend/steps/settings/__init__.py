"""The steps of statemachines/keep_settings.asl.json: a settings profile re-applied to, or checked against,
the fleet (orgvend.account_settings.runs)."""
