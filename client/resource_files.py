"""Resource files: Jobmon's YAML of compute resources and scales per tool and template.

    tool_resources:            {cluster: {resource: value}}
    tool_scales:               {cluster: {resource: scale}}
    task_template_resources:   {template: {cluster: {resource: value}}}
    task_template_scales:      {template: {cluster: {resource: scale}}}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import yaml

from jobmon.errors import MissingResourceKey, ResourceFileError

TOOL_RESOURCES = "tool_resources"
TOOL_SCALES = "tool_scales"
TEMPLATE_RESOURCES = "task_template_resources"
TEMPLATE_SCALES = "task_template_scales"


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's top-level mapping; a clear error naming the file when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as stream:
            content = yaml.safe_load(stream)
    except OSError as error:
        raise ResourceFileError(
            f"cannot read the resource file {os.fspath(path)!r}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ResourceFileError(
            f"the resource file {os.fspath(path)!r} is not valid YAML: {error}") from None
    if content is None:
        return {}
    if not isinstance(content, Mapping):
        raise ResourceFileError(
            f"the resource file {os.fspath(path)!r} must hold a mapping with the keys "
            f"{TOOL_RESOURCES}, {TOOL_SCALES}, {TEMPLATE_RESOURCES} or {TEMPLATE_SCALES}, "
            f"not a {type(content).__name__}"
        )
    return dict(content)


def _section(content: Mapping[str, Any], path: str | os.PathLike[str],
             *keys: str) -> Mapping[str, Any]:
    """content[keys[0]][keys[1]]...; MissingResourceKey naming the path through the file."""
    node: Any = content
    for depth, key in enumerate(keys):
        if not isinstance(node, Mapping) or key not in node:
            where = " -> ".join(keys[: depth + 1])
            raise MissingResourceKey(f"no {where} in the resource file {os.fspath(path)!r}")
        node = node[key]
    if not isinstance(node, Mapping):
        raise ResourceFileError(
            f"{' -> '.join(keys)} in the resource file {os.fspath(path)!r} must be a mapping "
            f"of resource names to values, not {node!r}"
        )
    return node


def tool_section(content: Mapping[str, Any], path: str | os.PathLike[str], key: str,
                 cluster_name: str) -> dict[str, Any]:
    """The tool's resources (or scales) for a cluster."""
    return dict(_section(content, path, key, cluster_name))


def template_section(content: Mapping[str, Any], path: str | os.PathLike[str], key: str,
                     template_name: str, cluster_name: str) -> dict[str, Any]:
    """A template's resources (or scales) for a cluster."""
    return dict(_section(content, path, key, template_name, cluster_name))
