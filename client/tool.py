"""Tool: the project a set of task templates and workflows belongs to (IHME Jobmon's Tool)."""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from jobmon import clusters
from jobmon.client import limits, resource_files
from jobmon.client.defaults import ClusterDefaults
from jobmon.client.task_template import TaskTemplate, arg_list
from jobmon.client.workflow import Workflow
from jobmon.errors import InvalidToolError, InvalidToolVersionError, MissingResourceKey

__all__ = ["InvalidToolError", "InvalidToolVersionError", "Tool"]

log = logging.getLogger(__name__)
DEFAULT_TOOL_NAME = f"unknown-{getpass.getuser()}"


class Tool(ClusterDefaults):
    """A tool and its current version; defaults here apply to everything it creates.

    Nothing is sent to the server until a workflow binds.
    """

    def __init__(self, name: str = DEFAULT_TOOL_NAME,
                 active_tool_version_id: str | int = "latest", *,
                 tool_name: str | None = None) -> None:
        if tool_name is not None:  # the spelling of Jobmon's create_tasks example
            name = tool_name
        self.name = limits.check_text("the tool name", name, limits.TOOL_NAME)
        if active_tool_version_id != "latest":
            raise InvalidToolVersionError(
                f"active_tool_version_id={active_tool_version_id!r}: this Jobmon keeps one "
                "version per tool, bound with the workflow; use 'latest'")
        self.default_cluster_name = ""
        self.default_compute_resources_set: dict[str, dict[str, Any]] = {}
        self.default_resource_scales_set: dict[str, dict[str, Any]] = {}
        self.default_max_attempts: int | None = None
        # every version of each template; the active one is what get_task_template gave last
        self._versions: dict[str, list[TaskTemplate]] = {}
        self._active: dict[str, TaskTemplate] = {}

    # ------------------------------------------------------------------ defaults

    @property
    def active_task_templates(self) -> dict[str, TaskTemplate]:
        """The template of each name, as get_task_template last gave it."""
        return dict(self._active)

    def set_default_cluster_name(self, cluster_name: str) -> None:
        clusters.check_cluster(cluster_name)
        self.default_cluster_name = cluster_name

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = limits.check_count("max_attempts", value,
                                                       limits.MAX_ATTEMPTS)

    def _cluster_named(self, cluster_name: str, replaced: bool) -> None:
        """Defaults for a cluster make it the tool's default cluster when it has none."""
        clusters.check_cluster(cluster_name)
        if not self.default_cluster_name:
            self.default_cluster_name = cluster_name

    def _from_yaml(self, default_cluster_name: str, yaml_file: str | os.PathLike[str],
                   set_task_templates: bool, ignore_missing_keys: bool, scales: bool) -> None:
        clusters.check_cluster(default_cluster_name)
        content = resource_files.read(yaml_file)
        tool_key, template_key = (
            (resource_files.TOOL_SCALES, resource_files.TEMPLATE_SCALES) if scales
            else (resource_files.TOOL_RESOURCES, resource_files.TEMPLATE_RESOURCES))
        set_tool = (self.set_default_resource_scales_from_dict if scales
                    else self.set_default_compute_resources_from_dict)
        try:
            set_tool(default_cluster_name, resource_files.tool_section(
                content, yaml_file, tool_key, default_cluster_name))
        except MissingResourceKey as missing:
            if not ignore_missing_keys:
                raise
            log.info("%s (ignored)", missing)
        self.default_cluster_name = default_cluster_name
        if not set_task_templates:
            return
        if not self._active:
            raise ValueError(
                f"tool {self.name!r} has no task templates yet: get them with "
                "get_task_template() before setting their defaults from a file")
        for template in self._active.values():
            try:
                section = resource_files.template_section(
                    content, yaml_file, template_key, template.template_name,
                    default_cluster_name)
            except MissingResourceKey as missing:
                if not ignore_missing_keys:
                    raise
                log.info("%s (ignored)", missing)
                continue
            if scales:
                template.set_default_resource_scales_from_dict(default_cluster_name, section)
            else:
                template.set_default_compute_resources_from_dict(default_cluster_name, section)

    def set_default_compute_resources_from_yaml(
        self,
        default_cluster_name: str,
        yaml_file: str | os.PathLike[str],
        set_task_templates: bool = False,
        ignore_missing_keys: bool = False,
    ) -> None:
        """Defaults from tool_resources -> cluster (and, with ``set_task_templates``, each
        template's from task_template_resources); the cluster becomes the default."""
        self._from_yaml(default_cluster_name, yaml_file, set_task_templates,
                        ignore_missing_keys, scales=False)

    def set_default_resource_scales_from_yaml(
        self,
        default_cluster_name: str,
        yaml_file: str | os.PathLike[str],
        set_task_templates: bool = False,
        ignore_missing_keys: bool = False,
    ) -> None:
        """Scales from tool_scales -> cluster (and task_template_scales for the templates)."""
        self._from_yaml(default_cluster_name, yaml_file, set_task_templates,
                        ignore_missing_keys, scales=True)

    # ------------------------------------------------------------------ templates

    def get_task_template(
        self,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] | None = None,
        task_args: Sequence[str] | None = None,
        op_args: Sequence[str] | None = None,
        default_cluster_name: str | None = "",
        default_compute_resources: Mapping[str, Any] | None = None,
        default_resource_scales: Mapping[str, Any] | None = None,
        yaml_file: str | os.PathLike[str] | None = None,
        max_attempts: int | None = None,
        *,
        default_max_attempts: int | None = None,
    ) -> TaskTemplate:
        """The template of this name: the same object for the same command and args, a new
        version when they change. Defaults given here are applied to it."""
        what = f"template {template_name!r}"
        signature = (command_template, arg_list(what, "node_args", node_args),
                     arg_list(what, "task_args", task_args), arg_list(what, "op_args", op_args))
        template = next(
            (version for version in self._versions.get(template_name, [])
             if (version.command_template, version.node_args, version.task_args,
                 version.op_args) == signature),
            None,
        )
        if template is None:
            template = TaskTemplate(self, template_name, *signature)
            self._versions.setdefault(template_name, []).append(template)
        cluster = default_cluster_name or ""
        if (default_compute_resources is not None or default_resource_scales is not None
                or yaml_file) and not cluster:
            cluster = template.default_cluster_name or self.default_cluster_name
            if not cluster:
                raise ValueError(
                    f"template {template_name!r}: give default_cluster_name with "
                    "default_compute_resources, default_resource_scales or yaml_file")
        if cluster:
            template.set_default_cluster_name(cluster)
        if yaml_file:
            content = resource_files.read(yaml_file)
            if default_compute_resources is None:
                default_compute_resources = resource_files.template_section(
                    content, yaml_file, resource_files.TEMPLATE_RESOURCES, template_name,
                    cluster)
            if default_resource_scales is None:
                # a file may hold resources only: then the scales stay as they are
                with contextlib.suppress(MissingResourceKey):
                    default_resource_scales = resource_files.template_section(
                        content, yaml_file, resource_files.TEMPLATE_SCALES, template_name,
                        cluster)
        if default_compute_resources:
            template.set_default_compute_resources_from_dict(cluster, default_compute_resources)
        if default_resource_scales:
            template.set_default_resource_scales_from_dict(cluster, default_resource_scales)
        attempts = max_attempts if max_attempts is not None else default_max_attempts
        if attempts is not None:
            template.set_default_max_attempts(attempts)
        self._active[template_name] = template
        return template

    # ------------------------------------------------------------------ workflows

    def create_workflow(
        self,
        workflow_args: str = "",
        name: str = "",
        description: str = "",
        workflow_attributes: list[str] | dict[str, Any] | None = None,
        max_concurrently_running: int | None = None,
        chunk_size: int = 500,
        default_cluster_name: str = "",
        default_compute_resources_set: Mapping[str, Mapping[str, Any]] | None = None,
        default_resource_scales_set: Mapping[str, Mapping[str, Any]] | None = None,
        default_max_attempts: int | None = None,
    ) -> Workflow:
        """A workflow of this tool; what it does not set comes from the tool's defaults."""
        return Workflow(
            self,
            workflow_args,
            name,
            description,
            workflow_attributes,
            max_concurrently_running,
            chunk_size,
            default_cluster_name=default_cluster_name,
            default_compute_resources_set=default_compute_resources_set,
            default_resource_scales_set=default_resource_scales_set,
            default_max_attempts=default_max_attempts,
        )

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"
