# The functions of docsource/advanced/task_generator.rst, in a module of their own as the
# page's module_source_path=full_script_path has them. Changed: the tool name is
# "doc_generator_tool", and prints say which function ran so the test can read them back.
import html
import os
from typing import Any, Dict, List

from jobmon.core import task_generator

full_script_path = __file__


@task_generator.task_generator(
    serializers={},
    tool_name="doc_generator_tool",
    module_source_path=full_script_path,
    max_attempts=1,
    naming_args=["foo"],
)
def simple_function(foo: int, bar: List[str] = []) -> None:
    """Simple task_function."""
    print(f"simple_function foo: {foo!r}")
    print(f"simple_function bar: {bar!r}")


class TestYear:
    """A fake YearRange class for testing"""
    def __init__(self, year: int) -> None:
        self.year = year

    @staticmethod
    def parse_year(year: str):
        """Parse a year range."""
        return TestYear(int(year))

    def __str__(self) -> str:
        return str(self.year)

    def __eq__(self, other):
        return self.year == other.year


test_year_serializer = {TestYear: (str, TestYear.parse_year)}


@task_generator.task_generator(
    serializers=test_year_serializer,
    tool_name="doc_generator_tool",
    module_source_path=full_script_path,
    max_attempts=1,
    naming_args=["year"],
)
def simple_function_with_serializer(year: TestYear) -> None:
    """Simple task_function."""
    print(f"simple_function_with_serializer year: {type(year).__name__} {year}")


def special_char_encodeing(input: str) -> str:
    """Encode special characters."""
    return html.escape(input)


def special_char_decoding(input: str) -> str:
    """Decode special characters."""
    return html.unescape(input)


@task_generator.task_generator(
    serializers={str: (special_char_encodeing, special_char_decoding)},
    tool_name="doc_generator_tool",
    module_source_path=full_script_path,
    max_attempts=1,
    naming_args=["foo"],
)
def special_chars_function(foo: str) -> None:
    """Simple task_function."""
    print(f"special_chars_function foo: {foo}")


def custom_naming(prefix: str, kwargs_for_name: Dict[str, Any]) -> str:
    return f"Lala_{kwargs_for_name['foo']}"


@task_generator.task_generator(
    serializers={},
    tool_name="doc_generator_tool",
    module_source_path=full_script_path,
    max_attempts=1,
    naming_args=["foo"],
    custom_naming=custom_naming,
)
def custom_named_function(foo: int, bar: List[str] = []) -> None:
    """Simple task_function."""
    print(f"custom_named_function foo: {foo!r} bar: {bar!r}")


# the page's generator with a default cluster name and compute resources (the cluster, queue
# and log folder come from the test's environment)
@task_generator.task_generator(
    default_cluster_name=os.environ.get("DOCS_CLUSTER", "local"),
    default_compute_resources={
        "queue": os.environ.get("DOCS_QUEUE", "null.q"), "project": "proj_scicomp",
        "stdout": os.path.join(os.environ.get("DOCS_DIR", "."), "logs")},
    serializers={},
    tool_name="doc_generator_tool",
    module_source_path=full_script_path,
    max_attempts=1,
    naming_args=["foo"],
)
def defaults_function(foo: int, bar: List[str] = []) -> None:
    """Simple task_function."""
    print(f"defaults_function foo: {foo!r} bar: {bar!r}")
