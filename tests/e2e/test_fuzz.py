"""Schema-driven fuzzing of the HTTP API (schemathesis against its own /openapi.json).

Every operation gets generated requests, valid (positive) and invalid (negative);
no answer may be a 5xx, and every answer must match the documented status codes,
content types and schemas. `make fuzz` runs the same with many more examples.

(schemathesis' pytest plugin does not support pytest 9 yet, so the operations are
driven with Hypothesis directly, through schemathesis' public strategies.)
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orgvend.registry.settings_profiles import DEFAULT_PROFILE_NAME, profile_key

from .conftest import Harness

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("ORGVEND_FUZZ_EXAMPLES", "10"))
CHECKS = [status_code_conformance, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def api_schema(embedded: Harness) -> Any:
    return schemathesis.openapi.from_url(f"{embedded.outputs['ApiUrl']}/openapi.json")


@pytest.fixture(scope="module", autouse=True)
def default_settings_profile_kept(embedded: Harness) -> Iterator[None]:
    """PUT /settings-profiles/{name} is fuzzed too: a ``default`` it wrote would be every later
    onboarding's profile in this session, so the built-in one is put back, once the settings runs the
    fuzzed ``POST /settings/apply`` started (applying it, maybe) have ended."""
    yield
    sfn = embedded.client("stepfunctions")
    arn = embedded.outputs["KeepSettingsStateMachineArn"]
    embedded.eventually(
        lambda: not sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"],
        timeout=300,
        what="the fuzzed settings runs to end",
    )
    embedded.client("dynamodb").delete_item(
        TableName=embedded.outputs["RegistryTableName"], Key=profile_key(DEFAULT_PROFILE_NAME)
    )


def operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_5xx_and_answers_match_the_documented_schema(api_schema: Any, mode: GenerationMode) -> None:
    tried = []
    for operation in operations(api_schema):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def exercise(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                response.status_code,
                response.text,
            )
            case.validate_response(response, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:
            # Nothing about this operation can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        tried.append(operation.label)
    assert len(tried) >= (7 if mode is GenerationMode.POSITIVE else 5), tried
