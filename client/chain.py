"""Chained workflows: when a workflow is DONE, its linker makes the follow-on from its
outputs, and the follow-on runs; and so on until a linker returns None.

The server keeps each link (the linker's "module:function" reference, the follow-on's
id, or why it could not be made), so that the CLI and the dashboard show the chain and
``jobmon workflow resume`` can go on from where it stopped.

A follow-on has the identity of any workflow (tool, workflow_args, owner): if the linker
returns one that exists, re-binding finds it and it is resumed (its DONE tasks are
skipped; a DONE follow-on is passed and its own linker runs). A follow-on that is already
before it in the chain is refused: a chain cannot loop.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from jobmon import endpoints, errors, results
from jobmon import wire_results as wr
from jobmon.client.swarm.result import WorkflowRunResult
from jobmon.requester import Requester

if TYPE_CHECKING:
    from jobmon.client.resume import ResumeOptions
    from jobmon.client.workflow import Workflow
    from jobmon.settings import Settings

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class FinishedWorkflow:
    """What a linker gets: the DONE workflow, its outputs by task name (as JOBMON_INPUTS
    names them), and its declared results ({} when it declares none)."""

    workflow_id: int
    name: str
    workflow_args: str
    default_cluster_name: str
    outputs: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


Linker = Callable[[FinishedWorkflow], Union["Workflow", None]]


def linker_reference(linker: Linker | str) -> str:
    """The "module:function" a linker is found by again (by ``jobmon workflow resume``)."""
    if isinstance(linker, str):
        if not _REFERENCE.match(linker):
            raise ValueError(f"a linker reference is 'module:function', not {linker!r}")
        return linker
    if not callable(linker):
        raise TypeError(f"a linker is a function or 'module:function', not {linker!r}")
    module = getattr(linker, "__module__", None) or "?"
    qualname = getattr(linker, "__qualname__", None) or type(linker).__qualname__
    return f"{module}:{qualname}"


def resolve_linker(reference: str) -> Linker:
    """Import the linker a reference names (the current folder is on the path, as for
    ``python -m``); ChainLinkError saying why not."""
    module_name, _, qualname = reference.partition(":")
    if module_name == "__main__" or "<" in qualname:
        raise errors.ChainLinkError(
            f"the linker {reference} was defined in a script (or inside a function), so it "
            "cannot be imported here: run that script again with resume=True, or put the "
            "linker in a module")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise errors.ChainLinkError(f"cannot import the linker {reference}: {error}") from None
    if not callable(found):
        raise errors.ChainLinkError(f"the linker {reference} is not a function")
    linker: Linker = found
    return linker


async def record_link(requester: Requester, workflow_id: int, linker: str,
                      next_workflow_id: int | None = None, error: str | None = None,
                      ended: bool = False) -> wr.Chain:
    return await requester.call(
        endpoints.LINK,
        wr.LinkRequest(linker=linker, next_workflow_id=next_workflow_id,
                       error=error[:wr.LINK_ERROR_TEXT] if error is not None else None,
                       ended=ended),
        workflow_id=workflow_id)


async def get_chain(requester: Requester, workflow_id: int) -> wr.Chain:
    return await requester.call(endpoints.CHAIN, workflow_id=workflow_id)


async def finished_workflow(requester: Requester, workflow_id: int) -> FinishedWorkflow:
    """A DONE workflow as its linker sees it: outputs by task name, declared results."""
    info = await requester.call(endpoints.WORKFLOW, workflow_id=workflow_id)
    rows: list[tuple[int, str, Any]] = []
    async for page in requester.pages(endpoints.OUTPUTS, {"limit": 10_000},
                                      workflow_id=workflow_id):
        rows += zip(page.task_id, page.name, page.output, strict=True)
    outputs = results.named_outputs(rows)
    declared = await requester.call(endpoints.DECLARATIONS, workflow_id=workflow_id)
    values, _ = results.read_results(declared.results, outputs)
    return FinishedWorkflow(
        workflow_id=workflow_id, name=info.name, workflow_args=info.workflow_args,
        default_cluster_name=info.default_cluster_name, outputs=outputs, results=values,
        parameters={p.name: p.value for p in declared.parameters})


async def call_linker(requester: Requester, workflow_id: int, reference: str,
                      linker: Linker) -> Workflow | None:
    """The follow-on the linker of a DONE workflow makes (not bound yet), or None: the
    chain ends. A failing linker is recorded, then raises ChainLinkError."""
    from jobmon.client.workflow import Workflow

    finished = await finished_workflow(requester, workflow_id)
    try:
        made = linker(finished)
        if made is not None and not isinstance(made, Workflow):
            raise TypeError(f"it returned {type(made).__name__}, not a Workflow or None")
    except Exception as error:
        raise await _link_failed(requester, workflow_id, reference, error) from error
    if made is None:
        log.info("workflow %d: its linker made no follow-on; the chain ends", workflow_id)
        await record_link(requester, workflow_id, reference, ended=True)
    return made


async def _link_failed(requester: Requester, workflow_id: int, reference: str,
                       error: BaseException) -> errors.ChainLinkError:
    reason = error.message if isinstance(error, errors.ServerError) else \
        f"{type(error).__name__}: {error}"
    await record_link(requester, workflow_id, reference, error=reason)
    return errors.ChainLinkError(
        f"the follow-on of workflow {workflow_id} (by its linker {reference}) could not be "
        f"made, so the chain stops there: {reason}")


RunOne = Callable[["Workflow", bool], Awaitable[WorkflowRunResult]]


def _already_done(workflow: Workflow) -> WorkflowRunResult:
    return WorkflowRunResult("D", task_final_statuses={}, elapsed_time=0.0,
                             num_previously_complete=len(workflow.tasks),
                             workflow_id=workflow.workflow_id or 0, workflow_run_id=0,
                             message="already DONE: passed on to its follow-on")


async def run_chain(requester: Requester, first: Workflow, resume: bool, run_one: RunOne,
                    previous: tuple[int, str] | None = None) -> WorkflowRunResult:
    """Run ``first``, then each follow-on its linker makes, until one is not DONE or a
    linker returns None; returns the last run's result. ``previous``: the DONE workflow
    (id, linker reference) whose follow-on ``first`` is."""
    current, resume_this = first, resume
    while True:
        reference = current.linker_reference

        async def bound(workflow_id: int, before: tuple[int, str] | None = previous,
                        reference: str | None = reference) -> None:
            if before is not None:  # the server refuses a loop, or another owner's
                try:
                    await record_link(requester, before[0], before[1], workflow_id)
                except errors.ServerError as error:
                    raise await _link_failed(requester, before[0], before[1],
                                             error) from None
            if reference is not None:  # named early: the chain shows what comes next
                await record_link(requester, workflow_id, reference)

        current.on_bound = bound
        try:
            result = await run_one(current, resume_this)
        except errors.WorkflowAlreadyComplete:
            if not resume_this:
                raise
            result = _already_done(current)
        except errors.ChainLinkError:
            raise
        except Exception as error:
            if previous is None or current.workflow_id is not None:
                raise
            # the follow-on could not be bound (or linked): the chain stops at its maker
            raise await _link_failed(requester, previous[0], previous[1], error) from error
        finally:
            current.on_bound = None
        if result.final_status != "D" or reference is None:
            return result
        assert current.workflow_id is not None and current.linker is not None
        made = await call_linker(requester, current.workflow_id, reference, current.linker)
        if made is None:
            return result
        previous, current, resume_this = (current.workflow_id, reference), made, True


async def resume_chain(settings: Settings, workflow_id: int, options: ResumeOptions,
                       resume_one: Callable[[int], Awaitable[WorkflowRunResult]]
                       ) -> WorkflowRunResult:
    """Resume the chain ``workflow_id`` is in where it stopped: the link that is not DONE
    is resumed (``resume_one``), then each linker (imported by its reference) makes the
    next, to the end. A workflow in no chain is simply resumed."""
    from jobmon.client.connection import open_requester

    async with open_requester(settings) as requester:
        chain = await get_chain(requester, workflow_id)
    if len(chain.links) == 1 and chain.links[0].linker is None:
        return await resume_one(workflow_id)
    if chain.resume_workflow_id is None:
        raise errors.WorkflowAlreadyComplete(
            f"every workflow of the chain of workflow {workflow_id} is DONE "
            f"({len(chain.links)} links)")
    start = next(link for link in chain.links if link.workflow_id == chain.resume_workflow_id)
    if start.status != "D":
        outcome = await resume_one(start.workflow_id)
        if outcome.final_status != "D" or start.linker is None:
            return outcome
    else:
        outcome = WorkflowRunResult("D", task_final_statuses={}, elapsed_time=0.0,
                                    num_previously_complete=0,
                                    workflow_id=start.workflow_id, workflow_run_id=0,
                                    message="already DONE: passed on to its follow-on")
    assert start.linker is not None
    linker = resolve_linker(start.linker)
    async with open_requester(settings) as requester:
        made = await call_linker(requester, start.workflow_id, start.linker, linker)
        if made is None:
            return outcome
        return await run_chain(
            requester, made, True,
            lambda workflow, resume: workflow._run_one(
                False, options.seconds_until_timeout, resume, options.cold, settings,
                options.show_progress),
            previous=(start.workflow_id, start.linker))
