"""Defaults by cluster on a tool, a template and a workflow, and how they layer (Jobmon's
precedence: task, then template, then workflow, then tool)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jobmon import clusters
from jobmon import resources as resource_rules
from jobmon.errors import InvalidResources

if TYPE_CHECKING:
    from jobmon.client.task_template import TaskTemplate
    from jobmon.client.workflow import Workflow

Layers = list[Mapping[str, Any] | None]


def checked_resources(compute_resources: object, where: str = "") -> dict[str, Any]:
    """A copy of resources as given, after checking that each value can be read."""
    if not isinstance(compute_resources, Mapping):
        raise InvalidResources(
            f"{where}compute resources must be a dict such as {{'memory': '2G'}}, not "
            f"{type(compute_resources).__name__}")
    try:
        resource_rules.normalize(compute_resources)
    except InvalidResources as error:
        raise type(error)(f"{where}{error}") from None
    return dict(compute_resources)


class ClusterDefaults:
    """Compute resources and resource scales by cluster, kept as given, checked on entry."""

    default_compute_resources_set: dict[str, dict[str, Any]]
    default_resource_scales_set: dict[str, dict[str, Any]]

    def _cluster_named(self, cluster_name: str, replaced: bool) -> None:
        """A cluster's defaults are set (``replaced``) or updated."""
        clusters.check_cluster(cluster_name)

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, compute_resources: Mapping[str, Any]
    ) -> None:
        """Default resources on ``cluster_name``."""
        self._cluster_named(cluster_name, replaced=True)
        self.default_compute_resources_set[cluster_name] = checked_resources(compute_resources)

    def set_default_resource_scales_from_dict(
        self, cluster_name: str, resource_scales: Mapping[str, Any]
    ) -> None:
        """Default resource scales on ``cluster_name``."""
        self._cluster_named(cluster_name, replaced=True)
        self.default_resource_scales_set[cluster_name] = resource_rules.prepare_scales(
            resource_scales)

    def update_default_compute_resources(self, cluster_name: str, **kwargs: Any) -> None:
        """Change only the given resources of the defaults on ``cluster_name``."""
        self._cluster_named(cluster_name, replaced=False)
        current = self.default_compute_resources_set.get(cluster_name, {})
        self.default_compute_resources_set[cluster_name] = checked_resources(
            {**current, **kwargs})

    def update_default_resource_scales(self, cluster_name: str, **kwargs: Any) -> None:
        """Change only the given scales of the defaults on ``cluster_name``."""
        self._cluster_named(cluster_name, replaced=False)
        current = self.default_resource_scales_set.get(cluster_name, {})
        self.default_resource_scales_set[cluster_name] = resource_rules.prepare_scales(
            {**current, **kwargs})


def resolved_cluster(own: str | None, template: TaskTemplate, workflow: Workflow | None) -> str:
    """The cluster given, else the template's, the workflow's or the tool's default."""
    return (
        own
        or template.default_cluster_name
        or (workflow.default_cluster_name if workflow is not None else None)
        or template.tool.default_cluster_name
        or ""
    )


def default_layers(template: TaskTemplate, workflow: Workflow | None, cluster: str, *,
                   scales: bool = False) -> Layers:
    """The tool's, the workflow's own and the template's defaults on ``cluster``, the lowest
    first: resources, or with ``scales`` the resource scales."""
    tool = template.tool
    if scales:
        return [tool.default_resource_scales_set.get(cluster),
                workflow.own_resource_scales_set.get(cluster) if workflow is not None else None,
                template.default_resource_scales_set.get(cluster)]
    return [tool.default_compute_resources_set.get(cluster),
            workflow.own_compute_resources_set.get(cluster) if workflow is not None else None,
            template.default_compute_resources_set.get(cluster)]
