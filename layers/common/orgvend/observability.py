"""Powertools Logger, Tracer and Metrics, and the one decorator every step handler wears.

Powertools reads its service name and metrics namespace from the environment
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE`` in template.yaml).
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from orgvend.models import Model

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# Every workflow step's input carries the onboarding (or, for the first step,
# the execution): its ID is the correlation ID of all the onboarding's log lines.
CORRELATION_ID_PATH = "onboarding.onboardingId || execution.name || onboardingId"

InputModel = TypeVar("InputModel", bound=BaseModel)
StepFunction = Callable[[InputModel, LambdaContext], Model]
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def step_handler[InputModel: BaseModel](model: type[InputModel]) -> Callable[[StepFunction], LambdaHandler]:
    """Make ``step(parsed_input, context) -> Model`` a Lambda handler with logging, tracing and metrics."""

    def decorate(step: StepFunction) -> LambdaHandler:
        @logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, clear_state=True)
        @tracer.capture_lambda_handler(capture_response=False)
        @metrics.log_metrics
        @functools.wraps(step)
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return step(parse(event=event, model=model), context).to_json()

        return handler

    return decorate
