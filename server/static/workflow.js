// A workflow: counts by status, the DAG by template, failed tasks grouped by error,
// its tasks, its runs, the chain it is in (if any), and the stop and concurrency actions
// (the CLI's own endpoints).

import { get, post } from "./api.js";
import { dagView } from "./dag.js";
import { fill, h, lastLine, percent, plural, timeAgo } from "./dom.js";
import { fillHistory } from "./history.js";
import { templateLimits } from "./limits.js";
import { crumbs, notFound, Poller, toast } from "./live.js";
import { resourcesCard } from "./resources.js";
import {
  finished, legend, pill, progressBar, RUN_LIVE, statusName, TASK_FILTERS, WORKFLOW_LIVE,
} from "./status.js";
import { timelineCard } from "./timeline.js";

const TASK_PAGE = 50;
const TASKS_EVERY = 5;  // the task table refreshes every this many ticks

export function workflowPage(root, workflowId, params) {
  const base = `/workflows/${workflowId}`;
  crumbs({ text: "Workflows", href: "#/" }, { text: `Workflow ${workflowId}` });
  const head = h("section", { class: "page-head wf-head" }, h("h1", {}, "Loading…"));
  const actions = h("div", { class: "actions" });
  const overall = h("section", { class: "card", id: "progress" });
  const dag = h("div", { class: "dag-scroll" });
  const errors = h("div", { class: "error-groups" });
  const tasks = h("div", { class: "task-table" });
  const runs = h("div", { class: "runs" });
  const history = h("div", {});
  const chain = h("section", { class: "card", id: "chain", hidden: true });
  const taskFilter = { status: params.get("status") || "", after: [0] };
  const timeline = timelineCard(workflowId, params);
  const resources = resourcesCard(workflowId);
  const limits = templateLimits(workflowId, (action) => act(action));

  fill(root, head, chain,
    h("div", { class: "grid-2" },
      overall,
      h("section", { class: "card", id: "actions" }, h("h2", {}, "Control"), actions)),
    h("section", { class: "card", id: "dag" }, h("h2", {}, "Task templates"), dag),
    timeline.element,
    resources.element,
    h("section", { class: "card", id: "errors" }, h("h2", {}, "Failed tasks by error"), errors),
    h("section", { class: "card", id: "tasks" }, h("h2", {}, "Tasks"), filterChips(), tasks),
    h("section", { class: "card", id: "runs" }, h("h2", {}, "Runs"), runs),
    h("section", { class: "card", id: "history" }, h("h2", {}, "History"), history));

  let templateEdges = [];
  let latestRun;
  let latestCounts;
  let timelineStale = false;
  let resourcesStale = false;
  let ticks = 0;
  let workflow = null;
  const jobs = [];  // one-off requests, each in a tick of its own
  const want = (job) => { if (!jobs.includes(job)) jobs.push(job); };

  function filterChips() {
    const choices = [["", "All"], ...TASK_FILTERS];
    const bar = h("div", { class: "chips", role: "group", "aria-label": "Filter tasks" });
    for (const [value, label] of choices) {
      bar.append(h("button", {
        type: "button", class: "chip", "aria-pressed": String(taskFilter.status === value),
        dataset: { filter: value },
        onclick: () => {
          taskFilter.status = value;
          taskFilter.after = [0];
          for (const chip of bar.children) {
            chip.setAttribute("aria-pressed", String(chip.dataset.filter === value));
          }
          jobs.push(loadTasks);
          poller.poke();
        },
      }, label));
    }
    return bar;
  }

  async function loadOverview() {
    let answer;
    try {
      answer = await get(`${base}/overview`);
    } catch (error) {
      if (error.status !== 404) throw error;
      poller.stop();
      notFound(root, error.message);
      return null;
    }
    workflow = answer.summary;
    renderHead(answer.summary);
    renderProgress(answer.summary);
    fill(dag, answer.arrays.length ? dagView(answer.arrays, templateEdges, dag.clientWidth)
      : h("p", { class: "muted" }, "No tasks."));
    renderErrors(answer.errors);
    limits.render(answer.arrays);
    timeline.tick();
    // the tables and pictures follow when something they show changed
    const run = `${answer.summary.latest_run_id}:${answer.summary.latest_run_status}`;
    if (latestRun !== undefined && run !== latestRun) jobs.push(loadRuns);
    latestRun = run;
    const counts = JSON.stringify(answer.summary.counts);
    if (latestCounts !== undefined && counts !== latestCounts) {
      want(loadTasks);
      timelineStale = true;  // instances started or ended
      if (finished(JSON.parse(counts)) !== finished(JSON.parse(latestCounts))) {
        resourcesStale = true;
      }
    }
    latestCounts = counts;
    if (timelineStale && timeline.due()) {
      timelineStale = false;
      want(timeline.load);
    }
    if (resourcesStale && resources.due()) {
      resourcesStale = false;
      want(resources.load);
    }
    return answer.summary;
  }

  async function loadTasks() {
    const after = taskFilter.after[taskFilter.after.length - 1];
    const page = await get(`${base}/task_states`, { status: taskFilter.status, after_id: after,
                                                    limit: TASK_PAGE });
    renderTasks(page);
  }

  async function loadHistory() {
    fillHistory(history, (await get(`${base}/history`)).rows);
  }

  async function loadChain() {
    const answer = await get(`${base}/chain`);
    // a workflow alone (no linker, no follow-on) is no chain: the card stays hidden
    if (answer.links.length < 2 && !(answer.links[0] && answer.links[0].linker)) return;
    chain.hidden = false;
    fill(chain,
      h("h2", {}, "Chain"),
      h("p", { class: "chain-state" }, h("b", { id: "chain-state" }, answer.state), " · ",
        answer.message),
      h("ol", { class: "chain-links" }, answer.links.map((link) => h("li", {
        class: link.workflow_id === Number(workflowId) ? "chain-link current" : "chain-link",
        dataset: { workflowId: link.workflow_id },
      },
        h("a", { href: `#/workflows/${link.workflow_id}` }, `#${link.workflow_id} ${link.name}`),
        pill(link.status, "workflow"),
        link.linker ? h("span", { class: "muted mono" }, ` → ${link.linker}`) : null,
        link.error ? h("pre", { class: "error-line" }, link.error) : null))));
  }

  async function loadRuns() {
    jobs.push(loadHistory);  // the history changes with the runs, and with actions
    await loadChain();
    const answer = await get(`${base}/runs`);
    fill(runs, answer.runs.length ? h("ol", { class: "run-list" }, answer.runs.slice().reverse()
      .map((run) => h("li", {},
        h("span", { class: "run-id" }, `Workflow run id ${run.workflow_run_id}`),
        pill(run.status, "run"),
        h("span", { class: "muted" }, `${run.user} · started `, timeAgo(run.created_at),
          run.message ? ` · ${run.message}` : ""))))
      : h("p", { class: "muted" }, "Never run."));
  }

  function renderHead(summary) {
    fill(head,
      h("div", {},
        h("div", { class: "title-row" }, h("h1", { id: "workflow-name" }, summary.name),
          pill(summary.status, "workflow")),
        h("p", { class: "muted" },
          `Workflow #${summary.workflow_id} · ${summary.user} · created `,
          timeAgo(summary.created_at), " · updated ", timeAgo(summary.status_date))));
    if (!actions.childElementCount) renderActions();
    const live = summary.latest_run_status && RUN_LIVE.has(summary.latest_run_status);
    actions.querySelector("#stop").disabled = !live;
    actions.querySelector("#stop-hint").textContent = live
      ? `Workflow run id ${summary.latest_run_id} is ${statusName(summary.latest_run_status, "run")
        .toLowerCase()}.`
      : "No run is live.";
    const limit = actions.querySelector("#limit");
    if (document.activeElement !== limit) limit.value = summary.max_concurrently_running;
  }

  function renderActions() {
    const limit = h("input", { id: "limit", type: "number", min: 1, step: 1, required: true,
                               inputmode: "numeric", "aria-label": "Tasks running at once" });
    const stop = h("button", { id: "stop", type: "button", class: "button danger" },
                   "Stop workflow");
    const confirmBox = h("div", { class: "confirm", hidden: true },
      h("span", {}, "Kill every running task of this workflow?"),
      h("button", { type: "button", class: "button danger", id: "stop-confirm",
                    onclick: () => act(async () => {
                      const answer = await post(`${base}/stop`);
                      toast(answer.workflow_run_id
                        ? `Stopped workflow run id ${answer.workflow_run_id}; ${plural(answer.killed,
                          "instance")} to kill.` : "No live run to stop.");
                      confirmBox.hidden = true;
                      stop.hidden = false;
                    }) }, "Yes, stop"),
      h("button", { type: "button", class: "button ghost",
                    onclick: () => { confirmBox.hidden = true; stop.hidden = false; } },
        "Cancel"));
    stop.addEventListener("click", () => { stop.hidden = true; confirmBox.hidden = false; });
    fill(actions,
      h("form", { class: "limit-form", onsubmit: (event) => {
        event.preventDefault();
        const value = Number(limit.value);
        if (!Number.isInteger(value) || value < 1) {
          toast("The limit is a whole number of at least 1.", "error");
          return;
        }
        act(async () => {
          const answer = await post(`${base}/concurrency`, { max_concurrently_running: value });
          toast(`At most ${plural(answer.max_concurrently_running, "task")} run at once now.`);
        });
      } },
        h("label", { for: "limit" }, "Tasks running at once"),
        h("div", { class: "inline" }, limit,
          h("button", { type: "submit", class: "button" }, "Apply"))),
      limits.element,
      h("div", { class: "stop-box" }, stop, confirmBox,
        h("p", { class: "muted small", id: "stop-hint" })));
  }

  async function act(action) {
    try {
      await action();
    } catch (error) {
      toast(error.message, "error");
    }
    jobs.push(loadHistory);  // the action is in the history now, with its user
    poller.poke();
  }

  function renderProgress(summary) {
    const total = summary.num_tasks;
    fill(overall,
      h("h2", {}, "Progress"),
      h("div", { class: "big-numbers" },
        h("div", {}, h("b", { id: "finished-count" },
                       `${finished(summary.counts).toLocaleString()} / ${total.toLocaleString()}`),
          h("span", { class: "muted" }, "finished")),
        h("div", {}, h("b", {}, percent(summary.counts.D || 0, total)),
          h("span", { class: "muted" }, "done")),
        h("div", {}, h("b", {}, summary.retries.toLocaleString()),
          h("span", { class: "muted" }, "retries"))),
      progressBar(summary.counts, total, { large: true }),
      legend(summary.counts, total));
  }

  function renderErrors(groups) {
    if (!groups.length) {
      fill(errors, h("p", { class: "muted" }, "No failed tasks."));
      return;
    }
    fill(errors, groups.map((group) => h("article", { class: "error-group" },
      h("header", {},
        h("span", { class: "error-count" }, plural(group.tasks, "task")),
        group.exit_code !== null ? h("span", { class: "tag" }, `exit ${group.exit_code}`) : null,
        group.instance_status ? pill(group.instance_status, "instance") : null),
      h("pre", { class: "error-line" }, group.message || "(no stderr, no message)"),
      h("div", { class: "examples" },
        group.task_ids.map((id, index) => h("a", { href: `#/tasks/${id}`, class: "task-link" },
                                           group.task_names[index])),
        group.tasks > group.task_ids.length
          ? h("span", { class: "muted" }, `and ${group.tasks - group.task_ids.length} more`)
          : null))));
  }

  function renderTasks(page) {
    const pager = h("div", { class: "pager" },
      h("button", { type: "button", class: "button ghost", disabled: taskFilter.after.length < 2,
                    onclick: () => { taskFilter.after.pop(); jobs.push(loadTasks); poller.poke(); } },
        "← Previous"),
      h("button", { type: "button", class: "button ghost", disabled: page.next_after_id === null,
                    onclick: () => {
                      taskFilter.after.push(page.next_after_id);
                      jobs.push(loadTasks);
                      poller.poke();
                    } }, "Next →"));
    if (!page.task_id.length) {
      fill(tasks, h("p", { class: "muted" }, "No tasks in this status."), pager);
      return;
    }
    fill(tasks, h("div", { class: "table-scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "ID"), h("th", {}, "Name"), h("th", {}, "Status"),
                       h("th", { class: "num" }, "Tries"), h("th", {}, "Latest error"))),
      h("tbody", {}, page.task_id.map((id, index) => h("tr", { dataset: { taskId: id } },
        h("td", { class: "mono" }, id),
        h("td", {}, h("a", { href: `#/tasks/${id}` }, page.name[index])),
        h("td", {}, pill(page.status[index])),
        h("td", { class: "num" }, `${page.num_attempts[index]} / ${page.max_attempts[index]}`),
        h("td", { class: "error-cell" }, page.status[index] === "D" ? ""
          : lastLine(page.stderr_tail[index]) || page.error_message[index] || "")))))), pager);
  }

  const poller = new Poller(async () => {
    ticks += 1;
    if (jobs.length) {
      const job = jobs.shift();
      while (jobs[0] === job) jobs.shift();  // asked twice: once is enough
      await job();
    } else if (ticks % TASKS_EVERY === 0 && workflow && WORKFLOW_LIVE.has(workflow.status)) {
      // errors and attempts change without the counts changing
      await loadTasks();
    } else {
      await loadOverview();
    }
    return jobs.length > 0 || Boolean(workflow && (WORKFLOW_LIVE.has(workflow.status)
      || (workflow.latest_run_status && RUN_LIVE.has(workflow.latest_run_status))));
  });

  // The first view needs four answers at once; the poller then asks one thing a second.
  Promise.all([get(`${base}/template_edges`), loadTasks(), loadRuns(), timeline.load(),
               resources.load()])
    .then(([answer]) => { templateEdges = answer.edges; })
    .catch((error) => { if (error.status !== 404) toast(error.message, "error"); })
    .finally(() => poller.start());
  return { stop: () => poller.stop() };
}
