"""The offboarding workflow's steps (statemachines/offboard_account.asl.json): one module per Task state, named after it."""
