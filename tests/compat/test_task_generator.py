"""IHME Jobmon 3.6's task generator (jobmon.core.task_generator), as its documentation page
(docsource/advanced/task_generator.rst) and its client tests
(tests/integration/client/test_task_generator.py) show it: names, commands, the round trip
of each argument type through the command line, and the errors a user meets.

The whole page, run end to end on local and sequential, is in test_doc_programs.py.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobmon.client.api import Tool
from jobmon.core import task_generator
from jobmon.core.task_generator import TaskGenerator, get_tasks_by_node_args


class Year:
    """A custom type, with its serializer pair, as the page's TestYear."""

    def __init__(self, year: int) -> None:
        self.year = year

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Year) and other.year == self.year

    def __hash__(self) -> int:
        return self.year


YEARS = {Year: (lambda year: str(year.year), lambda text: Year(int(text)))}


def generator(function: Any, **options: Any) -> TaskGenerator:
    options.setdefault("serializers", {})
    options.setdefault("tool_name", "tg_tool")
    options.setdefault("default_cluster_name", "sequential")
    return task_generator.task_generator(**options)(function)


def arguments_of(command: str) -> dict[str, str]:
    """name=value words of a command, as the shell hands them to the node."""
    words = shlex.split(command)
    assert words[1:3] == ["task_generator", "--module_name"]
    return dict(word.split("=", 1) for word in words if "=" in word and not
                word.startswith("--"))


def test_simple_task_name_and_command() -> None:
    """test_simple_task: the name is function:arg=value; the command carries each value."""
    def simple_function(foo: int, bar: str) -> None:
        """Simple task_function."""

    made = generator(simple_function)
    task = made.create_task(compute_resources={}, foo=1, bar="b a z")
    assert task.name == "simple_function:foo=1:bar=b_a_z"
    words = shlex.split(task.command)
    assert Path(words[0]).name == "worker_node_entry_point"
    assert words[1:7] == ["task_generator", "--module_name", __name__, "--func_name",
                          "simple_function", "foo=1"]
    assert words[7:] == ["bar=b a z"]


def test_list_args_and_their_names() -> None:
    """test_list_args: lists travel as one word; the name joins their items."""
    def list_function(foo: list[str], bar: list[str]) -> None:
        """Example task_function."""

    made = generator(list_function)
    task = made.create_task(foo=["a", "b b"], bar=['c"'])
    assert task.name == "list_function:foo=a,b_b:bar=c_"
    given_args = arguments_of(task.command)
    assert made.deserialize(given_args["foo"], list[str]) == ["a", "b b"]
    assert made.deserialize(given_args["bar"], list[str]) == ['c"']


@pytest.mark.parametrize(("naming_args", "expected"), [
    (None, "f:foo=1:bar=2"), (["foo"], "f:foo=1"), (["bar"], "f:bar=2"), ([], "f")])
def test_naming_args(naming_args: list[str] | None, expected: str) -> None:
    """test_naming_args: the name has the naming args only; [] names the function alone."""
    def f(foo: int, bar: int) -> None:
        pass

    assert generator(f, naming_args=naming_args).create_task(foo=1, bar=2).name == expected


def test_naming_function_either_spelling() -> None:
    """test_name_func / the page's custom_naming: a function of (prefix, kwargs_for_name)."""
    def simple_function(foo: int) -> None:
        pass

    def lala(prefix: str, kwargs_for_name: dict[str, Any]) -> str:
        return f"Lala_{kwargs_for_name['foo']}_{prefix}"

    assert generator(simple_function, name_func=lala).create_task(foo=1).name == \
        "Lala_1_simple_function"
    assert generator(simple_function, custom_naming=lala).create_task(foo=2).name == \
        "Lala_2_simple_function"


def test_max_attempts_defaults_and_upstreams() -> None:
    """test_max_attempts, test_upstream_task, test_task_attributes."""
    def f(foo: int, bar: int = 5) -> None:
        pass

    made = generator(f, max_attempts=2, default_compute_resources={"queue": "null.q"})
    first = made.create_task(foo=1, task_attributes={"kind": "first"})
    second = made.create_task(foo=2, upstream_tasks=[first])
    assert first.max_attempts == 2
    assert second.upstream_tasks == {first}
    assert first.task_attributes == {"kind": "first"}
    assert arguments_of(first.command) == {"foo": "1", "bar": "5"}  # the default, written
    assert made.task_template.default_cluster_name == "sequential"


def test_array_of_tasks() -> None:
    """test_simple_task_array / test_array_list_arg: one task per value; a list-typed
    argument is given as a list of lists."""
    def f(foo: int, bar: list[str]) -> None:
        pass

    tasks = generator(f).create_tasks(foo=[1, 2, 3], bar=[["a", "b"]])
    assert len(tasks) == 3
    assert sorted(arguments_of(task.command)["foo"] for task in tasks) == ["1", "2", "3"]
    assert {arguments_of(task.command)["bar"] for task in tasks} == {"[a,b]"}


def test_get_tasks_by_node_args() -> None:
    """test_get_tasks_by_node_args_simple/_list/_obj: found by the values, not their text."""
    def f(foo: list[int], year: Year) -> None:
        pass

    made = generator(f, serializers=YEARS)
    workflow = Tool("tg_tool").create_workflow(workflow_args="tg-find")
    first = made.create_task(foo=[1, 2], year=Year(2020))
    workflow.add_tasks([first, made.create_task(foo=[3], year=Year(2021))])
    assert get_tasks_by_node_args(workflow, made, {"foo": [1, 2], "year": Year(2020)}) == [first]
    assert get_tasks_by_node_args(workflow, made, {"foo": [9]}, error_on_empty=False) == []
    with pytest.raises(ValueError, match="no task of f"):
        get_tasks_by_node_args(workflow, made, {"foo": [9]})


# ------------------------------------------------------------------ types, round trip


def round_trip(annotation: Any, value: Any, serializers: Any = None) -> Any:
    def f(arg: annotation) -> None:  # type: ignore[valid-type]
        pass

    f.__annotations__["arg"] = annotation
    made = generator(f, serializers=serializers or {})
    text = arguments_of(made.create_task(arg=value).command)["arg"]
    return made.deserialize(text, annotation)


@pytest.mark.parametrize(("annotation", "value"), [
    (int, 7), (int, -3), (float, 2.5), (float, 3), (bool, True), (bool, False),
    (str, ""), (str, "it's a 'quote'"), (str, "a,b [c] \"d\" $HOME `x`"),
    (Optional[int], None), (Optional[int], 4), (int | None, None),  # noqa: UP045,
    (list[int], [1, 2, 3]), (list[int], []), (tuple[str, ...], ("x", "y z")),
    (tuple[int, str], (1, "a")), (set[int], {3, 1}), (list[str], ["a,b", "[c]", '"']),
    (Optional[list[int]], None), (Optional[list[int]], [5]),  # noqa: UP045
])
def test_each_type_comes_back_as_it_was_given(annotation: Any, value: Any) -> None:
    """test_simple_type, test_serialize_empty_string, test_built_in_collections,
    test_serialize_optional, test_empty_collection, test_optional_collection, and a quote,
    which IHME Jobmon cannot carry."""
    assert round_trip(annotation, value) == value


def test_custom_type_with_its_serializer() -> None:
    """test_serializer_specified_type / test_deserializer_specified_type; the page's
    TestYear, alone and in a list."""
    assert round_trip(Year, Year(2021), YEARS) == Year(2021)
    assert round_trip(list[Year], [Year(1990), Year(2020)], YEARS) == [Year(1990), Year(2020)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]))))
def test_any_text_survives_the_shell(values: list[str]) -> None:
    """Whatever the strings hold, the node gets them back exactly."""
    assert round_trip(list[str], values) == values


def test_node_reads_jobmons_own_list_spellings() -> None:
    """test_deserialize_built_in_collections_in_str: '[a,b]', "'[a,b]'", '(1, 2)'."""
    def f(a: list[str], b: tuple[int, ...]) -> None:
        pass

    made = generator(f)
    assert made.deserialize("[a,b]", list[str]) == ["a", "b"]
    assert made.deserialize("(1, 2)", tuple[int, ...]) == (1, 2)
    assert made.deserialize("[]", list[str]) == []
    assert made.deserialize("x", list[str]) == ["x"]


# ------------------------------------------------------------------ errors


def test_unannotated_and_unknown_types_fail_at_decoration() -> None:
    """test_unknown_type_raises_error, test_multidimensional_collection_raises_error,
    test_no_internal_type_raises_error: at the decorator, with what to do."""
    def untyped(foo, bar: int) -> None:  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(TypeError, match="no type annotation: foo"):
        generator(untyped)

    def custom(year: Year) -> None:
        pass

    with pytest.raises(TypeError, match="Give serializers"):
        generator(custom)

    def nested(grid: list[list[int]]) -> None:
        pass

    with pytest.raises(TypeError, match="list\\[list\\[int\\]\\]"):
        generator(nested)

    def bare(items: list) -> None:  # type: ignore[type-arg]
        pass

    with pytest.raises(TypeError, match="Unknown annotation"):
        generator(bare)

    def fine(foo: int) -> None:
        pass

    with pytest.raises(ValueError, match="naming_args \\['bar'\\] are not parameters"):
        generator(fine, naming_args=["bar"])
    with pytest.raises(TypeError, match="pair of functions"):
        generator(fine, serializers={Year: str})


def test_wrong_values_fail_at_create_task() -> None:
    """A value of the wrong type, a missing or unknown argument: at create_task, named."""
    def f(foo: int, bar: list[str]) -> None:
        pass

    made = generator(f)
    with pytest.raises(TypeError, match="expected int, got 'one'"):
        made.create_task(foo="one", bar=[])
    with pytest.raises(TypeError, match="expected int, got True"):
        made.create_task(foo=True, bar=[])
    with pytest.raises(TypeError, match="needs a value for \\['bar'\\]"):
        made.create_task(foo=1)
    with pytest.raises(TypeError, match="no parameters \\['baz'\\]"):
        made.create_task(foo=1, bar=[], baz=2)
    with pytest.raises(TypeError, match="compute_resources must be a dict"):
        made.create_task(foo=1, bar=[], compute_resources=["queue"])


def test_run_on_the_node_names_the_argument_it_cannot_read() -> None:
    """test_fhs_deserizalizers: run() calls the function; a bad value says which argument."""
    seen: list[Any] = []

    def f(foo: int, flag: bool, years: list[Year]) -> None:
        seen.append((foo, flag, years))

    made = generator(f, serializers=YEARS)
    made.run(["foo=3", "flag=False", "years=[2001,2002]"])
    assert seen == [(3, False, [Year(2001), Year(2002)])]
    with pytest.raises(ValueError, match="could not read argument foo='x' as int"):
        made.run(["foo=x", "flag=True", "years=[]"])
    with pytest.raises(ValueError, match="missing \\['years'\\]"):
        made.run(["foo=1", "flag=True"])
    with pytest.raises(ValueError, match="not True or False"):
        made.run(["foo=1", "flag=yes", "years=[]"])


def test_the_runner_imports_the_module_from_its_path(tmp_path: Path) -> None:
    """worker_node_entry_point task_generator --module_source_path: the command as the node
    runs it, in a fresh process, with a module that is not installed."""
    module = tmp_path / "my_model.py"
    out = tmp_path / "out.txt"
    module.write_text(
        "from typing import List\n"
        "from jobmon.core.task_generator import task_generator\n"
        f"@task_generator(serializers={{}}, tool_name='t', module_source_path={str(module)!r},"
        " naming_args=['location'])\n"
        "def model(location: int, draws: List[float], note: str) -> None:\n"
        f"    open({str(out)!r}, 'w').write(repr((location, draws, note)))\n")
    script = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import my_model; "
              "t = my_model.model.create_task(location=102, draws=[0.5, 1.0], "
              "note=\"it's $HOME\"); print(t.command)")
    command = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, cwd="/").stdout.strip()
    assert "--module_source_path" in command
    subprocess.run(command, shell=True, check=True, cwd="/")
    assert out.read_text() == "(102, [0.5, 1.0], \"it's $HOME\")"

    wrong = subprocess.run(command.replace("--func_name model", "--func_name nothing"),
                           shell=True, capture_output=True, text=True, cwd="/")
    assert wrong.returncode == 2
    assert "my_model.nothing is not a task generator" in wrong.stderr
