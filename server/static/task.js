// A task: its instances, each with its status timeline, outcome and stderr tail.

import { get } from "./api.js";
import {
  bytes, clockTime, duration, fill, fullTime, h, hms, resourceText, timeAgo,
} from "./dom.js";
import { crumbs, notFound, Poller } from "./live.js";
import { pill, statusColour, TASK_LIVE } from "./status.js";

export function taskPage(root, taskId) {
  crumbs({ text: "Workflows", href: "#/" }, { text: `Task ${taskId}` });
  const head = h("section", { class: "page-head" }, h("h1", {}, "Loading…"));
  const instances = h("div", { class: "instances" });
  const neighbours = h("div", { class: "neighbours" }, h("p", { class: "muted" }, "Loading…"));
  const output = h("div", {});
  fill(root, head,
    h("section", { class: "card", id: "instances" }, h("h2", {}, "Instances"), instances),
    h("div", { class: "grid-2" },
      h("section", { class: "card", id: "dependencies" }, h("h2", {}, "Dependencies"),
        neighbours),
      h("section", { class: "card", id: "output" }, h("h2", {}, "Output"), output)));

  let shownFor = null;
  let needNeighbours = false;
  let moving = true;
  const poller = new Poller(async () => {
    if (needNeighbours) {  // a tick of its own: one request per tick
      needNeighbours = false;
      renderNeighbours(await get(`/tasks/${taskId}/dependencies`));
      return moving;
    }
    let task;
    try {
      task = await get(`/tasks/${taskId}`);
    } catch (error) {
      if (error.status !== 404) throw error;
      poller.stop();
      notFound(root, error.message);
      return false;
    }
    crumbs({ text: "Workflows", href: "#/" },
           { text: `Workflow ${task.workflow_id}`, href: `#/workflows/${task.workflow_id}` },
           { text: task.name });
    renderHead(task);
    renderInstances(task);
    fill(output, task.output === null || task.output === undefined
      ? h("p", { class: "muted" }, "None (a task leaves one by writing JSON to $JOBMON_OUTPUT).")
      : h("pre", { class: "code" }, JSON.stringify(task.output, null, 2)));
    if (shownFor !== task.status) {  // neighbours matter when this task changes: ask then
      shownFor = task.status;
      needNeighbours = true;
    }
    moving = TASK_LIVE.has(task.status);
    return moving || needNeighbours;  // the neighbours come in the next tick, a second on
  });

  function renderHead(task) {
    fill(head, h("div", { class: "grow" },
      h("div", { class: "title-row" }, h("h1", { id: "task-name" }, task.name),
        pill(task.status)),
      h("p", { class: "muted" },
        `Task #${task.task_id} · template ${task.template_name} · `,
        `attempt ${task.num_attempts} of ${task.max_attempts} · `,
        h("a", { href: `#/workflows/${task.workflow_id}` }, `workflow #${task.workflow_id}`),
        " · updated ", timeAgo(task.status_date)),
      h("pre", { class: "command", title: "The command" }, task.command)));
  }

  function renderInstances(task) {
    if (!task.instances.length) {
      fill(instances, h("p", { class: "muted" }, "Not run yet."));
      return;
    }
    fill(instances, task.instances.slice().reverse().map((instance) => {
      const start = instance.timeline.length ? new Date(instance.timeline[0][0]).getTime() : 0;
      const facts = [
        ["Job id", instance.distributor_id || "–"],
        ["Node", instance.nodename || "–"],
        ["Exit code", instance.exit_code ?? "–"],
        ["Max RSS", bytes(instance.maxrss)],
        ["Wallclock", hms(instance.wallclock)],
        ["Cluster", instance.cluster_name],
        ["Resources", Object.entries(instance.compute_resources || {})
          .map(([key, value]) => `${key} ${resourceText(key, value)}`).join(", ") || "–"],
      ];
      return h("article", { class: "instance", dataset: { instanceId: instance.task_instance_id } },
        h("header", {},
          h("h3", {}, `Instance ${instance.task_instance_id}`),
          h("span", { class: "muted" },
            `try ${instance.attempt} · workflow run id ${instance.workflow_run_id}`),
          pill(instance.status, "instance")),
        h("div", { class: "instance-body" },
          h("ol", { class: "timeline" }, instance.timeline.map(([time, , status, source]) =>
            h("li", { class: `c-${statusColour(status, "instance")}` },
              h("time", { datetime: time, title: fullTime(time) }, clockTime(time)),
              pill(status, "instance"),
              h("span", { class: "muted" }, source),
              h("span", { class: "muted small" },
                start ? `+${duration((new Date(time).getTime() - start) / 1000)}` : "")))),
          h("dl", { class: "facts" }, facts.map(([name, value]) =>
            [h("dt", {}, name), h("dd", { class: "mono" }, String(value))]))),
        instance.error_message ? h("p", { class: "error-message" }, instance.error_message) : null,
        instance.stderr_tail
          ? h("div", { class: "stderr" }, h("div", { class: "stderr-title" }, "stderr (tail)"),
              h("pre", { class: "code stderr-tail" }, instance.stderr_tail))
          : null,
        h("p", { class: "paths muted small" },
          instance.stdout_path ? ["stdout ", h("code", {}, instance.stdout_path)] : null,
          instance.stderr_path ? [" · stderr ", h("code", {}, instance.stderr_path)] : null));
    }));
  }

  function renderNeighbours(answer) {
    const list = (title, refs) => h("div", {}, h("h3", {}, `${title} (${refs.length})`),
      refs.length ? h("ul", { class: "ref-list" }, refs.slice(0, 200).map((ref) => h("li", {},
        h("a", { href: `#/tasks/${ref.task_id}` }, ref.name), pill(ref.status))))
        : h("p", { class: "muted" }, "None."),
      refs.length > 200 ? h("p", { class: "muted" }, `and ${refs.length - 200} more`) : null);
    fill(neighbours, list("Upstream", answer.upstream), list("Downstream", answer.downstream));
  }

  return poller.start();
}
