"""A bad config, reported as one sentence that names the field and what was expected, with no traceback.

Two gaps of the CDK's entrypoint (7.39) that YAML cannot close:
- its spec check reports only jsonschema's text (`'APAC' is not one of ['US', 'EU']`), never the field's name;
- a config error raised during `discover` or `read` goes to the uncaught-exception hook, which logs it FATAL with
  the traceback and emits a TRACE carrying the stack trace.
The console script ends any error the connector words itself (a failed sync too) with `error_line`.
"""

import time
from collections.abc import Mapping
from typing import Any

import orjson
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from jsonschema import Draft7Validator, ValidationError
from jsonschema.exceptions import best_match


def spec_violation(config: Mapping[str, Any], spec_schema: Mapping[str, Any]) -> str | None:
    """The first way `config` breaks the connector's spec, as a sentence naming the field; None if it conforms.

    A secret field's value (`airbyte_secret`) is never quoted back.
    """
    error = best_match(Draft7Validator(spec_schema).iter_errors(config))
    if error is None:
        return None
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        return f"Config field '{missing}' is required."
    field = ".".join(str(part) for part in error.absolute_path)
    got = "" if error.schema.get("airbyte_secret") else f"; got {error.instance!r}"
    return f"Config field '{field}' {_expectation(error)}{got}."


def _expectation(error: ValidationError) -> str:
    expected: Any = error.validator_value  # the schema keyword's value: a list for enum, a number for minimum, ...
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    match error.validator:
        case "enum":
            return "must be one of " + ", ".join(str(value) for value in expected)
        case "type":
            kinds = expected if isinstance(expected, list) else [expected]
            return "must be " + " or ".join(f"{'an' if kind == 'integer' else 'a'} {kind}" for kind in kinds)
        case "minLength" if expected == 1:
            return "must not be empty"
        case "minimum":
            return f"must be at least {expected}"
        case "maximum":
            return f"must be at most {expected}"
        case "pattern":
            return f"must look like {schema.get('pattern_descriptor', expected)}"
        case _:
            return f"is not valid ({error.message})"


def config_error(message: str) -> AirbyteTracedException:
    """A config error: `check` reports it as a failed connection status, `discover`/`read` as a config_error trace."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def error_line(error: AirbyteTracedException) -> str:
    """The TRACE ERROR line for an error the connector explains itself (a config error, a failed sync): its
    message and failure type, secrets masked, and no stack trace."""
    message = filter_secrets(error.message or error.internal_message or type(error).__name__)
    internal = filter_secrets(error.internal_message or message)
    trace = AirbyteTraceMessage(
        type=TraceType.ERROR,
        emitted_at=time.time_ns() // 1_000_000,
        error=AirbyteErrorTraceMessage(
            message=message, internal_message=internal, failure_type=error.failure_type or FailureType.system_error
        ),
    )
    return orjson.dumps(AirbyteMessageSerializer.dump(AirbyteMessage(type=Type.TRACE, trace=trace))).decode()
