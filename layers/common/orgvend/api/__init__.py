"""The HTTP API: one Powertools Router per resource, the error contract, and what the routes depend on.

``functions/api/app.py`` is the app: it includes these routers, installs ``errors`` and gives each
request its ``dependencies``. The domain (what a route does) is in ``orgvend.workflows``, shared with
the event door.
"""
