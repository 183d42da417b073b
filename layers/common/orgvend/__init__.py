"""orgvend: account vending for AWS Organizations.

The shared package of every Lambda function (shipped as the ``common`` layer):
pydantic models, the registry's data access, and one module per workflow step.
"""

__version__ = "0.1.0"
