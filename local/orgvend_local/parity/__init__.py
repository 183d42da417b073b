"""Where moto differs from AWS in ways orgvend depends on, the embedded AWS is taught AWS's behaviour.

One module per emulated service or behaviour; each holds its patches as ``Patch`` records: the words
(what AWS does, the AWS page that says so, what moto does instead, how it is closed) come from a table
of ``patches.toml``, which the module binds by name (``declared``) to the function that applies the
patch and a canary that fails once stock moto behaves like AWS. ``registry.PATCHES`` lists them all,
in the order ``apply_all`` applies them: it is the complete list of the emulator's departures from
stock moto, and README.md's parity table is generated from it.

The product code is never bent to fit moto. Fault injection (``orgvend_local.faults``) is not here:
it hooks botocore on orgvend's own session and changes nothing of moto.
"""

from orgvend_local.parity.eventbridge import EventBridgeBridge
from orgvend_local.parity.lambda_runtime import InProcessLambda, LocalFunction
from orgvend_local.parity.organization_events import cloudtrail_timestamp, organizations_service_event
from orgvend_local.parity.organizations import OrganizationsBehaviour
from orgvend_local.parity.patch import Emulator, Kind, Patch, PatchNoLongerNeeded
from orgvend_local.parity.registry import PATCHES, applied, applied_names, apply_all, markdown, undo_all

__all__ = [
    "PATCHES",
    "Emulator",
    "EventBridgeBridge",
    "InProcessLambda",
    "Kind",
    "LocalFunction",
    "OrganizationsBehaviour",
    "Patch",
    "PatchNoLongerNeeded",
    "applied",
    "applied_names",
    "apply_all",
    "cloudtrail_timestamp",
    "markdown",
    "organizations_service_event",
    "undo_all",
]
