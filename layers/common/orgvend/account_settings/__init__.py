"""Account settings: every client account set up the agency's way on day one, and kept that way.

A ``SettingsProfile`` (models.py) says what each account should have; one module per setting
(a verb for a name) reads the account, changes only what differs and reads it back, or only
reports the drift; ``apply_settings.py`` runs them in a fixed order.
"""
