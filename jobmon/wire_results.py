"""Wire schemas of results that flow on: inputs from upstream tasks, chains of workflows,
declared parameters and results, and the finished runs a workflow takes as input."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from jobmon.wire import Id

LINKER_TEXT = 1000  # a "module:function" reference
LINK_ERROR_TEXT = 4000
MAX_INPUT_INSTANCES = 10_000
MAX_INPUT_RUNS = 1000


class InputsRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """The instances whose upstream outputs are wanted (a worker names its own only)."""

    task_instance_ids: Annotated[list[Id], Meta(max_length=MAX_INPUT_INSTANCES)]


class InstanceInputs(Struct, frozen=True):
    task_instance_id: int
    # upstream task name -> its output (JOBMON_INPUTS' content)
    inputs: dict[str, Any]


class InputsResponse(Struct, frozen=True):
    instances: list[InstanceInputs]
    # {workflow id: JOBMON_RUNS' content} of the instances' workflows that take finished
    # runs as input (jobmon.results.runs_file)
    runs: dict[int, dict[str, Any]] = {}


class LinkRequest(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Name the linker of a workflow, record its follow-on, or why it could not be made."""

    linker: Annotated[str, Meta(min_length=1, max_length=LINKER_TEXT)]
    next_workflow_id: Id | None = None
    error: Annotated[str, Meta(max_length=LINK_ERROR_TEXT)] | None = None
    ended: bool = False  # the linker made no follow-on: the chain ends here


class ChainLink(Struct, frozen=True):
    workflow_id: int
    name: str
    workflow_args: str
    status: str  # the workflow's status letter
    linker: str | None  # None: the chain ends here
    next_workflow_id: int | None
    error: str | None  # why the follow-on could not be made
    ended: bool = False  # the linker made no follow-on: the chain ends here


class Chain(Struct, frozen=True):
    """A chain of workflows, first to last, with its state in words (jobmon.chain)."""

    links: list[ChainLink]
    state: str  # DONE, RUNNING, WAITING, STOPPED
    message: str
    # the link where a resume starts (the first not DONE, or DONE without its follow-on)
    resume_workflow_id: int | None


class Parameter(Struct, frozen=True, forbid_unknown_fields=True):
    """A declared parameter of a workflow, with the value it was given."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    type: Annotated[str, Meta(pattern="^(int|float|str|bool|list|dict)$")]
    default: Any = None
    help: Annotated[str, Meta(max_length=2000)] = ""
    required: bool = False
    value: Any = None


class ResultSpec(Struct, frozen=True, forbid_unknown_fields=True):
    """One promised result: read from the output of the task named ``task`` (at ``key``,
    a dotted path in it; the whole output if empty), or (``file``) the path of the file
    named ``key`` among the files that output named."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    task: Annotated[str, Meta(min_length=1, max_length=1000)]
    key: Annotated[str, Meta(max_length=1000)] = ""
    file: bool = False  # ``key`` is a file name among the files the task's output named
    help: Annotated[str, Meta(max_length=2000)] = ""


class Declarations(Struct, frozen=True, forbid_unknown_fields=True):
    """A workflow's parameters, result schema, and the finished runs it takes as input."""

    parameters: Annotated[list[Parameter], Meta(max_length=1000)] = []
    results: Annotated[list[ResultSpec], Meta(max_length=1000)] = []
    input_runs: Annotated[list[Id], Meta(max_length=MAX_INPUT_RUNS)] = []


class DeclarationsResponse(Struct, frozen=True):
    workflow_id: int
    parameters: list[Parameter]
    results: list[ResultSpec]
    input_runs: list[int]
