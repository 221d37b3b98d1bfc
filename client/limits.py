"""What the server accepts, read once from the wire schema, checked where a value enters."""

from __future__ import annotations

import operator
from typing import Any

import msgspec.inspect

from jobmon import wire


def _field(struct: type[msgspec.Struct], name: str) -> Any:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    kind: Any = next(field.type for field in info.fields if field.name == name)
    while isinstance(kind, msgspec.inspect.ListType):
        kind = kind.item_type
    return kind


TOOL_NAME = _field(wire.ToolRequest, "name").max_length
TEMPLATE_NAME = _field(wire.TemplateSpec, "name").max_length
ARG_NAME = _field(wire.TemplateSpec, "node_args").max_length
COMMAND_TEMPLATE = _field(wire.TemplateSpec, "command_template").max_length
WORKFLOW_NAME = _field(wire.WorkflowRequest, "name").max_length
WORKFLOW_ARGS = _field(wire.WorkflowRequest, "workflow_args").max_length
DESCRIPTION = _field(wire.WorkflowRequest, "description").max_length
TASK_NAME = _field(wire.TasksChunk, "name").max_length
COMMAND = _field(wire.TasksChunk, "command").max_length
CLUSTER_NAME = _field(wire.TaskConfig, "cluster_name").max_length
QUEUE_NAME = _field(wire.TaskConfig, "fallback_queues").max_length
MAX_ATTEMPTS = _field(wire.TaskConfig, "max_attempts").le
MAX_CONCURRENTLY_RUNNING = _field(wire.WorkflowRequest, "max_concurrently_running").le


def check_text(what: str, value: object, limit: int, *, empty_ok: bool = False) -> str:
    """``value`` if it is a string the server takes; a clear ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {type(value).__name__}")
    if not empty_ok and not value.strip():
        raise ValueError(f"{what} must not be empty")
    if len(value) > limit:
        raise ValueError(
            f"{what} is {len(value):,} characters long; the limit is {limit:,} "
            f"(it starts {value[:40]!r})"
        )
    return value


def check_count(what: str, value: object, limit: int) -> int:
    """A whole number from 1 to ``limit`` (numpy's integers are whole numbers too)."""
    try:
        count = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        count = 0
    if isinstance(value, bool) or not 1 <= count <= limit:
        raise ValueError(f"{what}={value!r}: must be a whole number from 1 to {limit:,}")
    return count
