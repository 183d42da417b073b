"""The onboarding workflow's steps (statemachines/onboard_account.asl.json): one module per Task state, named after it."""
