"""Tasks from a Python function (IHME Jobmon's task generator).

``@task_generator(...)`` turns a function with annotated parameters into a
:class:`TaskGenerator`. ``create_task``/``create_tasks`` write each argument as text into a
command line, and that command, run on the node, imports the function's module, turns the
text back into values and calls the function::

    worker_node_entry_point task_generator --module_name M --func_name F a=1 'b=[x,y]'

Types that travel without help: str, int, float, bool; list, tuple and set of them
(``list[int]``); ``Optional`` of any of these. Other types need a pair of functions in
``serializers={Type: (to_text, from_text)}``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import importlib
import importlib.util
import inspect
import json
import logging
import shlex
import shutil
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.client.workflow import Workflow

__all__ = [
    "TASK_RUNNER_NAME",
    "TASK_RUNNER_SUB_COMMAND",
    "TaskGenerator",
    "get_tasks_by_node_args",
    "main",
    "task_generator",
]

log = logging.getLogger(__name__)

TASK_RUNNER_NAME = "worker_node_entry_point"
TASK_RUNNER_SUB_COMMAND = "task_generator"

SIMPLE_TYPES: frozenset[type] = frozenset({str, int, float, bool})
COLLECTIONS: frozenset[type] = frozenset({list, tuple, set})
NONE_TEXT = "None"

Serializers = Mapping[Any, tuple[Callable[[Any], str], Callable[[str], Any]]]
NameFunc = Callable[[str, dict[str, str]], str]


# ---------------------------------------------------------------- annotations


def _optional_inner(annotation: Any) -> Any | None:
    """X for Optional[X] or X | None; None when the annotation is not optional."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    members = [member for member in typing.get_args(annotation) if member is not type(None)]
    if len(members) != 1:
        return None
    return members[0]


def _collection(annotation: Any) -> tuple[type, tuple[Any, ...]] | None:
    """(list, (int,)) for list[int]; (list, ()) for a bare list; None otherwise."""
    if annotation in COLLECTIONS:
        return annotation, ()
    origin = typing.get_origin(annotation)
    if origin in COLLECTIONS:
        return origin, typing.get_args(annotation)
    return None


def _item_types(annotation: Any, count: int) -> list[Any]:
    """The type of each of ``count`` items of a collection annotation."""
    found = _collection(annotation)
    assert found is not None
    _, args = found
    if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis):
        return [args[0]] * count
    if len(args) != count:
        raise TypeError(f"{annotation} holds {len(args)} items; got {count}")
    return list(args)


def _is_a(value: object, simple: type) -> bool:
    """isinstance, where a bool is no int and an int is a float (as a type checker says)."""
    if isinstance(value, bool):
        return simple is bool
    if simple is float:
        return isinstance(value, (int, float))
    return isinstance(value, simple)


def _type_name(annotation: Any) -> str:
    """int for int; list[list[int]] (not list) for a generic."""
    if typing.get_origin(annotation) is None and hasattr(annotation, "__name__"):
        return str(annotation.__name__)
    return str(annotation).replace("typing.", "")


# ---------------------------------------------------------------- generator


class TaskGenerator:
    """A function that Jobmon runs as tasks: its parameters become the template's node args.

    The template (named after the function) is made on first use, for the tool named
    ``tool_name``; nothing happens at import, so the node can import the module freely.
    """

    def __init__(
        self,
        task_function: Callable[..., Any],
        serializers: Serializers | None = None,
        tool_name: str = "",
        naming_args: Sequence[str] | None = None,
        max_attempts: int | None = None,
        module_source_path: str | None = None,
        name_func: NameFunc | None = None,
        default_cluster_name: str = "",
        default_compute_resources: Mapping[str, Any] | None = None,
        default_resource_scales: Mapping[str, Any] | None = None,
        yaml_file: str | None = None,
    ) -> None:
        if not callable(task_function):
            raise TypeError(f"task_generator wraps a function, not {task_function!r}")
        self.task_function = task_function
        self.serializers: dict[Any, tuple[Callable[[Any], str], Callable[[str], Any]]] = (
            dict(serializers or {}))
        for kind, pair in self.serializers.items():
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(map(callable, pair))):
                raise TypeError(f"serializers[{_type_name(kind)}] must be a pair of functions "
                                f"(to_text, from_text), not {pair!r}")
        self.tool_name = tool_name
        self.max_attempts = max_attempts
        self.name: str = task_function.__name__
        self.module_source_path, self.mod_name = _where(task_function, module_source_path)
        self.full_path = f"{self.mod_name}:{self.name}"
        signature = inspect.signature(task_function)
        hints = typing.get_type_hints(task_function)
        self.params: dict[str, Any] = {}
        self._defaults: dict[str, Any] = {}
        unannotated = []
        for name, parameter in signature.parameters.items():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise TypeError(f"{self.name}: *{name} cannot be a task argument; name each one")
            if name not in hints:
                unannotated.append(name)
                continue
            self.params[name] = hints[name]
            if parameter.default is not parameter.empty:
                self._defaults[name] = parameter.default
        if unannotated:
            raise TypeError(
                f"Can't generate a task template for {self.name}: these parameters have no "
                f"type annotation: {', '.join(unannotated)}")
        for name, annotation in self.params.items():
            self._check_annotation(name, annotation)
        if naming_args is None:
            log.warning(
                "task_generator %s: no naming_args, so every argument goes into the task "
                "name; name only the arguments that differ between tasks", self.name)
            naming_args = list(self.params)
        unknown = [arg for arg in naming_args if arg not in self.params]
        if unknown:
            raise ValueError(f"naming_args {unknown} are not parameters of {self.name} "
                             f"(it has {list(self.params)})")
        self._naming_args = list(naming_args)
        self.name_func = name_func
        self._default_cluster_name = default_cluster_name
        self._default_compute_resources = default_compute_resources
        self._default_resource_scales = default_resource_scales
        self._yaml_file = yaml_file
        self._task_template: TaskTemplate | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The function itself, for a call in the same process."""
        return self.task_function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<TaskGenerator {self.full_path}>"

    # ------------------------------------------------------------ types

    def _check_annotation(self, name: str, annotation: Any) -> None:
        if not self._known(annotation, top=True):
            raise TypeError(
                f"Unknown annotation on task_function {self.name!r} for parameter "
                f"{name}: {_type_name(annotation)}. Give serializers={{Type: (to_text, "
                "from_text)} for it, or use str, int, float, bool, a list, tuple or set of "
                "those (with its item type, as list[int]), or Optional of any of them.")

    def _known(self, annotation: Any, top: bool = False) -> bool:
        if annotation in SIMPLE_TYPES or annotation in self.serializers:
            return True
        inner = _optional_inner(annotation)
        if inner is not None:
            return self._known(inner, top)
        found = _collection(annotation)
        if found is None or not top:  # collections of collections cannot be written
            return False
        _, args = found
        return bool(args) and all(arg is Ellipsis or self._known(arg) for arg in args)

    def serialize(self, obj: Any, expected_type: Any) -> str:
        """``obj`` as the text that ``deserialize(text, expected_type)`` turns back into it."""
        if expected_type in self.serializers:
            text = self.serializers[expected_type][0](obj)
            if not isinstance(text, str):
                raise TypeError(f"the serializer of {_type_name(expected_type)} returned "
                                f"{type(text).__name__}, not str")
            return text
        inner = _optional_inner(expected_type)
        if inner is not None:
            return NONE_TEXT if obj is None else self.serialize(obj, inner)
        if expected_type in SIMPLE_TYPES:
            if not _is_a(obj, expected_type):
                raise TypeError(f"expected {expected_type.__name__}, got {obj!r} "
                                f"({type(obj).__name__})")
            return str(obj)
        found = _collection(expected_type)
        if found is not None:
            _, args = found
            if not args:
                raise TypeError(f"{_type_name(expected_type)} has no item type: annotate it "
                                "as list[int], tuple[str, ...] and so on")
            if not isinstance(obj, (list, tuple, set, frozenset)):
                raise TypeError(f"expected {_type_name(expected_type)}, got {obj!r}")
            items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else list(obj)
            texts = [self.serialize(item, item_type)
                     for item, item_type in zip(items, _item_types(expected_type, len(items)),
                                                strict=True)]
            if any(not text or text != text.strip() or any(char in text for char in ',[]"')
                   for text in texts):
                return json.dumps(texts)  # items that the plain form would read wrongly
            return "[" + ",".join(texts) + "]"
        raise TypeError(f"cannot serialize {_type_name(expected_type)}: give serializers="
                        f"{{{_type_name(expected_type)}: (to_text, from_text)}}")

    def deserialize(self, obj: str, obj_type: Any) -> Any:
        """The value that ``serialize`` wrote as ``obj``."""
        if not isinstance(obj, str):
            raise TypeError(f"expected text to deserialize, got {type(obj).__name__}")
        inner = _optional_inner(obj_type)
        if inner is not None:
            return None if obj == NONE_TEXT else self.deserialize(obj, inner)
        if obj_type in self.serializers:
            return self.serializers[obj_type][1](obj)
        if obj_type is bool:
            if obj not in ("True", "False"):
                raise ValueError(f"{obj!r} is not True or False")
            return obj == "True"
        if obj_type in SIMPLE_TYPES:
            return obj_type(obj)
        found = _collection(obj_type)
        if found is not None:
            kind, args = found
            if not args:
                raise TypeError(f"{_type_name(obj_type)} has no item type: annotate it as "
                                "list[int], tuple[str, ...] and so on")
            texts = _split_items(obj)
            values = [self.deserialize(text, item_type)
                      for text, item_type in zip(texts, _item_types(obj_type, len(texts)),
                                                 strict=True)]
            return kind(values)
        raise TypeError(f"cannot deserialize {_type_name(obj_type)}: give serializers="
                        f"{{{_type_name(obj_type)}: (to_text, from_text)}}")

    def serialize_array(self, obj: Any, expected_type: Any) -> list[str]:
        """Each value of an array argument (a list of values), or the one value."""
        if isinstance(obj, list) and not (
                _collection(expected_type) is not None and obj
                and not isinstance(obj[0], (list, tuple, set, frozenset))):
            return [self.serialize(item, expected_type) for item in obj]
        return [self.serialize(obj, expected_type)]

    # ------------------------------------------------------------ tasks

    @property
    def task_template(self) -> TaskTemplate:
        if self._task_template is None:
            source = (f" --module_source_path {shlex.quote(self.module_source_path)}"
                      if self.module_source_path else "")
            arguments = "".join(f" {name}={{{name}}}" for name in self.params)
            command = (f"{{executable}} {TASK_RUNNER_SUB_COMMAND} --module_name "
                       f"{shlex.quote(self.mod_name)} --func_name {self.name}{source}{arguments}")
            self._task_template = Tool(self.tool_name or self.name).get_task_template(
                template_name=self.name,
                command_template=command,
                node_args=list(self.params),
                op_args=["executable"],
                default_cluster_name=self._default_cluster_name,
                default_compute_resources=self._default_compute_resources,
                default_resource_scales=self._default_resource_scales,
                yaml_file=self._yaml_file,
            )
        return self._task_template

    def _arguments(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(kwargs) - set(self.params))
        if unknown:
            raise TypeError(f"{self.name}() has no parameters {unknown}; "
                            f"it takes {list(self.params)}")
        missing = [name for name in self.params if name not in kwargs
                   and name not in self._defaults]
        if missing:
            raise TypeError(f"{self.name}() needs a value for {missing}")
        return {name: kwargs[name] if name in kwargs else self._defaults[name]
                for name in self.params}

    def task_name(self, serialized: Mapping[str, str]) -> str:
        """``function:arg=value`` for each naming arg, or what ``name_func`` makes of them."""
        for_name = {name: serialized[name] for name in self._naming_args}
        if self.name_func is not None:
            return self.name_func(self.name, dict(for_name))
        return self.name + "".join(f":{name}={_name_part(text)}"
                                   for name, text in for_name.items())

    def create_task(
        self,
        cluster_name: str | Workflow = "",
        compute_resources: Mapping[str, Any] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        upstream_tasks: Iterable[Task] | None = None,
        task_attributes: list[str] | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """One task that calls the function with ``kwargs``.

        Jobmon's page passes the workflow as the first argument; that is taken as no cluster
        name (the workflow's default cluster applies).
        """
        cluster_name = _cluster_name(cluster_name)
        _check_resources(compute_resources)
        values = self._arguments(kwargs)
        serialized = {name: self.serialize(value, self.params[name])
                      for name, value in values.items()}
        node_args: dict[str, Any] = {name: shlex.quote(text)
                                     for name, text in serialized.items()}
        return self.task_template.create_task(
            name=self.task_name(serialized),
            cluster_name=cluster_name or self._default_cluster_name,
            compute_resources=compute_resources,
            resource_scales=resource_scales,
            max_attempts=self.max_attempts,
            upstream_tasks=upstream_tasks,
            task_attributes=task_attributes,
            executable=_runner(),
            **node_args,
        )

    def create_tasks(
        self,
        cluster_name: str | Workflow = "",
        compute_resources: Mapping[str, Any] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        upstream_tasks: Iterable[Task] | None = None,
        **kwargs: Any,
    ) -> list[Task]:
        """A task for each combination of the values given (a list per argument)."""
        cluster_name = _cluster_name(cluster_name)
        _check_resources(compute_resources)
        values = self._arguments(kwargs)
        serialized: dict[str, Any] = {
            name: [shlex.quote(text) for text in self.serialize_array(value, self.params[name])]
            for name, value in values.items()}
        return self.task_template.create_tasks(
            cluster_name=cluster_name or self._default_cluster_name,
            compute_resources=compute_resources,
            resource_scales=resource_scales,
            max_attempts=self.max_attempts,
            upstream_tasks=upstream_tasks,
            executable=_runner(),
            **serialized,
        )

    # ------------------------------------------------------------ on the node

    def run(self, args: Sequence[str]) -> Any:
        """Call the function with ``name=text`` arguments, as the task's command gives them."""
        given: dict[str, str] = {}
        for arg in args:
            name, sep, text = arg.partition("=")
            if not sep:
                raise ValueError(f"{self.name}: argument {arg!r} is not name=value")
            if name in given:
                raise ValueError(f"{self.name}: argument {name!r} is given twice")
            given[name] = text
        if set(given) != set(self.params):
            missing = sorted(set(self.params) - set(given))
            extra = sorted(set(given) - set(self.params))
            raise ValueError(f"{self.name}: arguments missing {missing}, unknown {extra}")
        values = {}
        for name, text in given.items():
            try:
                values[name] = self.deserialize(text, self.params[name])
            except Exception as error:
                raise ValueError(f"{self.name}: could not read argument {name}={text!r} as "
                                 f"{_type_name(self.params[name])}: {error}") from error
        return self.task_function(**values)

    def help(self) -> str:
        """What the command line takes, from the signature and the docstring."""
        doc = inspect.getdoc(self.task_function) or ""
        lines = [f"Command Line Documentation for {self.full_path}"]
        if doc:
            lines.append("\n" + doc.splitlines()[0])
        for name, annotation in self.params.items():
            lines.append(f"\t--{name} [{_type_name(annotation)}]: ")
        return "\n".join(lines)


def task_generator(
    serializers: Serializers | None = None,
    tool_name: str = "",
    naming_args: Sequence[str] | None = None,
    max_attempts: int | None = None,
    module_source_path: str | None = None,
    name_func: NameFunc | None = None,
    default_cluster_name: str = "",
    default_compute_resources: Mapping[str, Any] | None = None,
    default_resource_scales: Mapping[str, Any] | None = None,
    yaml_file: str | None = None,
    *,
    custom_naming: NameFunc | None = None,
) -> Callable[[Callable[..., Any]], TaskGenerator]:
    """Decorator: the function becomes a :class:`TaskGenerator` (``custom_naming`` is the
    documentation's spelling of ``name_func``)."""

    def wrap(task_function: Callable[..., Any]) -> TaskGenerator:
        return TaskGenerator(
            task_function, serializers, tool_name, naming_args, max_attempts,
            module_source_path, name_func or custom_naming, default_cluster_name,
            default_compute_resources, default_resource_scales, yaml_file)

    return wrap


def get_tasks_by_node_args(workflow: Workflow, task_generator: TaskGenerator,
                           node_args_dict: Mapping[str, Any],
                           error_on_empty: bool = True) -> list[Task]:
    """The generator's tasks in ``workflow`` whose arguments have these values."""
    unknown = sorted(set(node_args_dict) - set(task_generator.params))
    if unknown:
        raise ValueError(f"{task_generator.name} has no parameters {unknown}")
    written = {name: shlex.quote(task_generator.serialize(value, task_generator.params[name]))
               for name, value in node_args_dict.items()}
    try:
        found = workflow.get_tasks_by_node_args(task_generator.name, **written)
    except ValueError:
        if error_on_empty:
            raise
        return []
    if not found and error_on_empty:
        raise ValueError(f"no task of {task_generator.name} in the workflow has "
                         f"{dict(node_args_dict)}")
    return found


# ---------------------------------------------------------------- helpers


def _where(function: Callable[..., Any], source_path: str | None) -> tuple[str | None, str]:
    """(source path or None, module name) from which the node imports the function.

    A function defined in the script being run (module ``__main__``) is imported on the node
    from the script's file, under the script's name, so its ``if __name__ == "__main__"``
    part does not run there.
    """
    module = function.__module__
    if module != "__main__":
        return (str(Path(source_path).resolve()) if source_path else None), module
    path = source_path or inspect.getsourcefile(function)
    if path is None:
        raise TypeError(f"{function.__name__} is defined in __main__ without a source file: "
                        "give module_source_path")
    resolved = Path(path).resolve()
    return str(resolved), resolved.stem


def _name_part(text: str) -> str:
    """A value as a task name shows it: a list's items joined by commas, no quotes,
    slashes or spaces."""
    if text.startswith('["'):
        with contextlib.suppress(ValueError):
            text = "[" + ",".join(json.loads(text)) + "]"
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        text = text[1:-1]
    for char in "/\\\"' ":
        text = text.replace(char, "_")
    return text


def _split_items(text: str) -> list[str]:
    """The item texts of a collection: JSON, Jobmon's ``[a,b]``, or one bare item."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [item if isinstance(item, str) else json.dumps(item) for item in items]
    if len(text) >= 2 and text[0] in "[(" and text[-1] in "])":
        inner = text[1:-1].strip()
        return [] if not inner else [item.strip() for item in inner.split(",")]
    try:  # a Python literal tuple, as Jobmon also reads
        literal = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return [text]
    if isinstance(literal, (list, tuple, set)):
        return [str(item) for item in literal]
    return [text]


def _cluster_name(cluster_name: object) -> str:
    if isinstance(cluster_name, Workflow):
        return ""
    if not isinstance(cluster_name, str):
        raise TypeError(f"cluster_name must be a str, not {type(cluster_name).__name__}")
    return cluster_name


def _check_resources(compute_resources: object) -> None:
    if compute_resources is not None and not isinstance(compute_resources, Mapping):
        raise TypeError(f"compute_resources must be a dict, not "
                        f"{type(compute_resources).__name__}")


@functools.cache  # one look per process, not one per task
def _runner() -> str:
    """The command that runs a generated task on the node: ``worker_node_entry_point`` of
    this installation (beside this interpreter), else the one on PATH."""
    beside = Path(sys.executable).parent / TASK_RUNNER_NAME
    if beside.exists():
        return shlex.quote(str(beside))
    found = shutil.which(TASK_RUNNER_NAME)
    if found is None:
        raise FileNotFoundError(
            f"{TASK_RUNNER_NAME} is not installed beside {sys.executable} nor on PATH: "
            "install jobmon in the environment that runs the workflow")
    return shlex.quote(found)


def _load(module_name: str, source_path: str | None) -> types.ModuleType:
    if source_path is None:
        return importlib.import_module(module_name)
    spec = importlib.util.spec_from_file_location(module_name, source_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {module_name} from {source_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: Sequence[str] | None = None) -> int:
    """``worker_node_entry_point task_generator --module_name M --func_name F name=value...``"""
    parser = argparse.ArgumentParser(
        prog=TASK_RUNNER_NAME, description="Run a task made by a Jobmon task generator.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(TASK_RUNNER_SUB_COMMAND, help="call a task generator's function")
    run.add_argument("--module_name", required=True)
    run.add_argument("--func_name", required=True)
    run.add_argument("--module_source_path", default=None)
    run.add_argument("arguments", nargs="*", metavar="name=value")
    options = parser.parse_args(argv)
    if options.module_source_path and not Path(options.module_source_path).is_file():
        parser.error(f"--module_source_path {options.module_source_path}: no such file")
    module = _load(options.module_name, options.module_source_path)
    generator = getattr(module, options.func_name, None)
    if not isinstance(generator, TaskGenerator):
        parser.error(f"{options.module_name}.{options.func_name} is not a task generator "
                     f"(found {type(generator).__name__})")
    generator.run(options.arguments)
    return 0
