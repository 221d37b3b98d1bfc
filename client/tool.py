"""Tool: the project a set of task templates and workflows belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobmon import resources as resource_rules
from jobmon.client.task_template import TaskTemplate
from jobmon.client.workflow import Workflow


class Tool:
    """A tool and its current version; defaults here apply to everything it creates.

    Nothing is sent to the server until a workflow binds.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a Tool needs a non-empty name")
        self.name = name
        self.default_cluster_name: str | None = None
        self.default_compute_resources: dict[str, dict[str, Any]] = {}
        self.default_resource_scales: dict[str, Any] | None = None
        self._templates: dict[str, TaskTemplate] = {}

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, compute_resources: Mapping[str, Any]
    ) -> None:
        """Defaults for tasks of this tool that run on ``cluster_name``."""
        self.default_compute_resources[cluster_name] = resource_rules.normalize(compute_resources)

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = cluster_name

    def set_default_resource_scales(self, resource_scales: Mapping[str, Any]) -> None:
        resource_rules.check_scales(resource_scales)
        self.default_resource_scales = dict(resource_scales)

    def get_task_template(
        self,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] = (),
        task_args: Sequence[str] = (),
        op_args: Sequence[str] = (),
        default_cluster_name: str | None = None,
        default_compute_resources: Mapping[str, Any] | None = None,
        default_resource_scales: Mapping[str, Any] | None = None,
        default_max_attempts: int | None = None,
    ) -> TaskTemplate:
        """The template of this name; a different command or arg list makes a new version."""
        existing = self._templates.get(template_name)
        if (
            existing is not None
            and existing.command_template == command_template
            and existing.node_args == list(node_args)
            and existing.task_args == list(task_args)
            and existing.op_args == list(op_args)
        ):
            return existing
        template = TaskTemplate(
            self,
            template_name,
            command_template,
            node_args=node_args,
            task_args=task_args,
            op_args=op_args,
            default_cluster_name=default_cluster_name,
            default_compute_resources=default_compute_resources,
            default_resource_scales=default_resource_scales,
            default_max_attempts=default_max_attempts,
        )
        self._templates[template_name] = template
        return template

    def create_workflow(
        self,
        name: str = "",
        workflow_args: str = "",
        max_concurrently_running: int = 10_000,
        default_cluster_name: str | None = None,
        default_compute_resources_set: Mapping[str, Mapping[str, Any]] | None = None,
        description: str = "",
    ) -> Workflow:
        return Workflow(
            tool=self,
            name=name,
            workflow_args=workflow_args,
            max_concurrently_running=max_concurrently_running,
            default_cluster_name=default_cluster_name,
            default_compute_resources_set=default_compute_resources_set,
            description=description,
        )

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"
