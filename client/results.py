"""Declared parameters and results of a workflow, the finished runs it takes as input, and
reading a workflow's results and chain back (for ``jobmon workflow results`` / ``chain``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from jobmon import endpoints, results
from jobmon import wire_results as wr
from jobmon.client.boundary import run_sync
from jobmon.client.chain import FinishedWorkflow, finished_workflow, get_chain
from jobmon.client.connection import open_requester
from jobmon.requester import Requester
from jobmon.settings import Settings


@dataclass
class Declarations:
    """What a Workflow declares besides its tasks; checked before bind, stored after."""

    parameters: list[wr.Parameter] = field(default_factory=list)
    given: dict[str, Any] = field(default_factory=dict)
    results: list[wr.ResultSpec] = field(default_factory=list)
    input_runs: list[int] = field(default_factory=list)

    def add_parameter(self, name: str, kind: type | str, default: Any = None, help: str = "",
                      required: bool = False) -> None:
        type_name = kind if isinstance(kind, str) else results.TYPE_NAMES.get(kind, "")
        if type_name not in results.TYPE_NAMES.values():
            raise ValueError(f"parameter {name!r}: the type must be one of "
                             f"{', '.join(results.TYPE_NAMES.values())}, not {kind!r}")
        if any(parameter.name == name for parameter in self.parameters):
            raise ValueError(f"parameter {name!r} is declared twice")
        parameter = _convert(wr.Parameter, {"name": name, "type": type_name,
                                            "default": default, "help": help,
                                            "required": required}, f"parameter {name!r}")
        if not required:
            results.check_parameters([parameter], {})  # its default fits its type
        self.parameters.append(parameter)

    def add_result(self, name: str, task: str, key: str = "", file: bool = False,
                   help: str = "") -> None:
        if any(spec.name == name for spec in self.results):
            raise ValueError(f"result {name!r} is declared twice")
        self.results.append(_convert(wr.ResultSpec, {"name": name, "task": task, "key": key,
                                                     "file": file, "help": help},
                                     f"result {name!r}"))

    def values(self) -> dict[str, Any]:
        """The parameters' values; ValueError naming every problem."""
        return {p.name: p.value for p in results.check_parameters(self.parameters, self.given)}

    def declared(self) -> bool:
        return bool(self.parameters or self.results or self.input_runs)

    async def store(self, requester: Requester, workflow_id: int) -> None:
        await requester.call(
            endpoints.DECLARE,
            wr.Declarations(parameters=results.check_parameters(self.parameters, self.given),
                            results=self.results, input_runs=self.input_runs),
            workflow_id=workflow_id)


class Declaring:
    """Workflow's methods to declare parameters, results and input runs."""

    declarations: Declarations

    def add_parameter(self, name: str, type: type | str = str, default: Any = None,
                      help: str = "", required: bool = False) -> None:
        """Declare a typed parameter (int, float, str, bool, list, dict); its value is
        given with ``set_parameters`` (else its default) and checked before bind."""
        self.declarations.add_parameter(name, type, default, help, required)

    def set_parameters(self, **values: Any) -> None:
        self.declarations.given.update(values)

    @property
    def parameters(self) -> dict[str, Any]:
        """The parameters' values; ValueError naming every problem."""
        return self.declarations.values()

    def add_result(self, name: str, task: str, key: str = "", file: bool = False,
                   help: str = "") -> None:
        """Promise a result: the output of task ``task`` (at the dotted ``key``), or with
        ``file`` the path of the file named ``key`` among the files its output named."""
        self.declarations.add_result(name, task, key, file, help)

    def add_runs(self, workflow_ids: Iterable[int]) -> list[FinishedWorkflow]:
        """Take finished (DONE) workflows as input: returns their outputs and results, to
        build this workflow's tasks from; recorded with this workflow when it binds."""
        ids = [int(workflow_id) for workflow_id in workflow_ids]
        found = run_sync(finished_runs, settings=None, workflow_ids=ids)
        self.declarations.input_runs += [i for i in ids if i not in self.declarations.input_runs]
        return found



def _convert(kind: type[Any], values: Mapping[str, Any], what: str) -> Any:
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as error:
        raise ValueError(f"{what}: {error}") from None


async def finished_runs(settings: Settings | None,
                        workflow_ids: Sequence[int]) -> list[FinishedWorkflow]:
    """The results and outputs of finished (DONE) workflows; ValueError for others."""
    found = []
    async with open_requester(settings) as requester:
        for workflow_id in workflow_ids:
            info = await requester.call(endpoints.WORKFLOW, workflow_id=int(workflow_id))
            if info.status != "D":
                raise ValueError(f"workflow {workflow_id} is {info.status}, not DONE: only "
                                 "finished workflows can be taken as input")
            found.append(await finished_workflow(requester, int(workflow_id)))
    return found


@dataclass(frozen=True)
class WorkflowResults:
    specs: list[wr.ResultSpec]
    values: dict[str, Any]
    missing: dict[str, str]
    parameters: dict[str, Any]
    input_runs: list[int]


async def read_workflow_results(settings: Settings, workflow_id: int) -> WorkflowResults:
    async with open_requester(settings) as requester:
        finished = await finished_workflow(requester, workflow_id)
        declared = await requester.call(endpoints.DECLARATIONS, workflow_id=workflow_id)
    values, missing = results.read_results(declared.results, finished.outputs)
    return WorkflowResults(declared.results, values, missing, finished.parameters,
                           declared.input_runs)


async def read_chain(settings: Settings, workflow_id: int) -> wr.Chain:
    async with open_requester(settings) as requester:
        return await get_chain(requester, workflow_id)
