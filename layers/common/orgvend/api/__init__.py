"""The HTTP API's domain: what each route does, in plain functions taking their clients."""
