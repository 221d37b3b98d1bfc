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

// What the cards of one workflow page share: the workflow's URL, the one-off requests the
// poller runs next (each in a tick of its own), how to ask for one at once (poke), and
// how to carry out an action (act).
function sharedState(workflowId) {
  const page = {
    workflowId,
    base: `/workflows/${workflowId}`,
    jobs: [],
    poller: null,  // set once the page's poller exists
    want(job) { if (!page.jobs.includes(job)) page.jobs.push(job); },
    poke() { page.poller.poke(); },
    async act(action) {
      try {
        await action();
      } catch (error) {
        toast(error.message, "error");
      }
      page.jobs.push(page.loadHistory);  // the action is in the history now, with its user
      page.poke();
    },
    loadHistory: null,  // set by the history card
  };
  return page;
}

function headCard() {
  const element = h("section", { class: "page-head wf-head" }, h("h1", {}, "Loading…"));
  function render(summary) {
    fill(element,
      h("div", {},
        h("div", { class: "title-row" }, h("h1", { id: "workflow-name" }, summary.name),
          pill(summary.status, "workflow")),
        h("p", { class: "muted" },
          `Workflow #${summary.workflow_id} · ${summary.user} · created `,
          timeAgo(summary.created_at), " · updated ", timeAgo(summary.status_date))));
  }
  return { element, render };
}

function controlCard(page, limits) {
  const { base } = page;
  const actions = h("div", { class: "actions" });
  const element = h("section", { class: "card", id: "actions" }, h("h2", {}, "Control"), actions);

  function renderActions() {
    const limit = h("input", { id: "limit", type: "number", min: 1, step: 1, required: true,
                               inputmode: "numeric", "aria-label": "Tasks running at once" });
    const stop = h("button", { id: "stop", type: "button", class: "button danger" },
                   "Stop workflow");
    const confirmBox = h("div", { class: "confirm", hidden: true },
      h("span", {}, "Kill every running task of this workflow?"),
      h("button", { type: "button", class: "button danger", id: "stop-confirm",
                    onclick: () => page.act(async () => {
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
        page.act(async () => {
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

  function render(summary) {
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
  return { element, render };
}

function progressCard() {
  const element = h("section", { class: "card", id: "progress" });
  function render(summary) {
    const total = summary.num_tasks;
    fill(element,
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
  return { element, render };
}

function dagCard() {
  const dag = h("div", { class: "dag-scroll" });
  const element = h("section", { class: "card", id: "dag" }, h("h2", {}, "Task templates"), dag);
  let templateEdges = [];
  return {
    element,
    setEdges(edges) { templateEdges = edges; },
    render(arrays) {
      fill(dag, arrays.length ? dagView(arrays, templateEdges, dag.clientWidth)
        : h("p", { class: "muted" }, "No tasks."));
    },
  };
}

function errorsCard() {
  const errors = h("div", { class: "error-groups" });
  const element = h("section", { class: "card", id: "errors" },
                    h("h2", {}, "Failed tasks by error"), errors);
  function render(groups) {
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
  return { element, render };
}

function tasksCard(page, params) {
  const tasks = h("div", { class: "task-table" });
  const taskFilter = { status: params.get("status") || "", after: [0] };

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
          page.jobs.push(load);
          page.poke();
        },
      }, label));
    }
    return bar;
  }

  async function load() {
    const after = taskFilter.after[taskFilter.after.length - 1];
    const answer = await get(`${page.base}/task_states`, { status: taskFilter.status,
                                                           after_id: after, limit: TASK_PAGE });
    render(answer);
  }

  function render(answer) {
    const pager = h("div", { class: "pager" },
      h("button", { type: "button", class: "button ghost", disabled: taskFilter.after.length < 2,
                    onclick: () => { taskFilter.after.pop(); page.jobs.push(load); page.poke(); } },
        "← Previous"),
      h("button", { type: "button", class: "button ghost", disabled: answer.next_after_id === null,
                    onclick: () => {
                      taskFilter.after.push(answer.next_after_id);
                      page.jobs.push(load);
                      page.poke();
                    } }, "Next →"));
    if (!answer.task_id.length) {
      fill(tasks, h("p", { class: "muted" }, "No tasks in this status."), pager);
      return;
    }
    fill(tasks, h("div", { class: "table-scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "ID"), h("th", {}, "Name"), h("th", {}, "Status"),
                       h("th", { class: "num" }, "Tries"), h("th", {}, "Latest error"))),
      h("tbody", {}, answer.task_id.map((id, index) => h("tr", { dataset: { taskId: id } },
        h("td", { class: "mono" }, id),
        h("td", {}, h("a", { href: `#/tasks/${id}` }, answer.name[index])),
        h("td", {}, pill(answer.status[index])),
        h("td", { class: "num" }, `${answer.num_attempts[index]} / ${answer.max_attempts[index]}`),
        h("td", { class: "error-cell" }, answer.status[index] === "D" ? ""
          : lastLine(answer.stderr_tail[index]) || answer.error_message[index] || "")))))),
      pager);
  }

  const element = h("section", { class: "card", id: "tasks" }, h("h2", {}, "Tasks"),
                    filterChips(), tasks);
  return { element, load };
}

function chainCard(page) {
  const element = h("section", { class: "card", id: "chain", hidden: true });
  async function load() {
    const answer = await get(`${page.base}/chain`);
    // a workflow alone (no linker, no follow-on) is no chain: the card stays hidden
    if (answer.links.length < 2 && !(answer.links[0] && answer.links[0].linker)) return;
    element.hidden = false;
    fill(element,
      h("h2", {}, "Chain"),
      h("p", { class: "chain-state" }, h("b", { id: "chain-state" }, answer.state), " · ",
        answer.message),
      h("ol", { class: "chain-links" }, answer.links.map((link) => h("li", {
        class: link.workflow_id === Number(page.workflowId) ? "chain-link current" : "chain-link",
        dataset: { workflowId: link.workflow_id },
      },
        h("a", { href: `#/workflows/${link.workflow_id}` }, `#${link.workflow_id} ${link.name}`),
        pill(link.status, "workflow"),
        link.linker ? h("span", { class: "muted mono" }, ` → ${link.linker}`) : null,
        link.error ? h("pre", { class: "error-line" }, link.error) : null))));
  }
  return { element, load };
}

function historyCard(page) {
  const history = h("div", {});
  const element = h("section", { class: "card", id: "history" }, h("h2", {}, "History"), history);
  async function load() {
    fillHistory(history, (await get(`${page.base}/history`)).rows);
  }
  return { element, load };
}

function runsCard(page, chain, history) {
  const runs = h("div", { class: "runs" });
  const element = h("section", { class: "card", id: "runs" }, h("h2", {}, "Runs"), runs);
  async function load() {
    page.jobs.push(history.load);  // the history changes with the runs, and with actions
    await chain.load();
    const answer = await get(`${page.base}/runs`);
    fill(runs, answer.runs.length ? h("ol", { class: "run-list" }, answer.runs.slice().reverse()
      .map((run) => h("li", {},
        h("span", { class: "run-id" }, `Workflow run id ${run.workflow_run_id}`),
        pill(run.status, "run"),
        h("span", { class: "muted" }, `${run.user} · started `, timeAgo(run.created_at),
          run.message ? ` · ${run.message}` : ""))))
      : h("p", { class: "muted" }, "Never run."));
  }
  return { element, load };
}

export function workflowPage(root, workflowId, params) {
  crumbs({ text: "Workflows", href: "#/" }, { text: `Workflow ${workflowId}` });
  const page = sharedState(workflowId);
  const head = headCard();
  const limits = templateLimits(workflowId, (action) => page.act(action));
  const control = controlCard(page, limits);
  const progress = progressCard();
  const dag = dagCard();
  const errors = errorsCard();
  const tasks = tasksCard(page, params);
  const chain = chainCard(page);
  const history = historyCard(page);
  const runs = runsCard(page, chain, history);
  const timeline = timelineCard(workflowId, params);
  const resources = resourcesCard(workflowId);
  page.loadHistory = history.load;

  fill(root, head.element, chain.element,
    h("div", { class: "grid-2" }, progress.element, control.element),
    dag.element,
    timeline.element,
    resources.element,
    errors.element,
    tasks.element,
    runs.element,
    history.element);

  // what the last overview showed, to load the tables and pictures only when it changed
  let latestRun;
  let latestCounts;
  let timelineStale = false;
  let resourcesStale = false;
  let ticks = 0;
  let workflow = null;

  async function loadOverview() {
    let answer;
    try {
      answer = await get(`${page.base}/overview`);
    } catch (error) {
      if (error.status !== 404) throw error;
      poller.stop();
      notFound(root, error.message);
      return null;
    }
    workflow = answer.summary;
    head.render(answer.summary);
    control.render(answer.summary);
    progress.render(answer.summary);
    dag.render(answer.arrays);
    errors.render(answer.errors);
    limits.render(answer.arrays);
    timeline.tick();
    // the tables and pictures follow when something they show changed
    const run = `${answer.summary.latest_run_id}:${answer.summary.latest_run_status}`;
    if (latestRun !== undefined && run !== latestRun) page.jobs.push(runs.load);
    latestRun = run;
    const counts = JSON.stringify(answer.summary.counts);
    if (latestCounts !== undefined && counts !== latestCounts) {
      page.want(tasks.load);
      timelineStale = true;  // instances started or ended
      if (finished(JSON.parse(counts)) !== finished(JSON.parse(latestCounts))) {
        resourcesStale = true;
      }
    }
    latestCounts = counts;
    if (timelineStale && timeline.due()) {
      timelineStale = false;
      page.want(timeline.load);
    }
    if (resourcesStale && resources.due()) {
      resourcesStale = false;
      page.want(resources.load);
    }
    return answer.summary;
  }

  const { jobs } = page;
  const poller = new Poller(async () => {
    ticks += 1;
    if (jobs.length) {
      const job = jobs.shift();
      while (jobs[0] === job) jobs.shift();  // asked twice: once is enough
      await job();
    } else if (ticks % TASKS_EVERY === 0 && workflow && WORKFLOW_LIVE.has(workflow.status)) {
      // errors and attempts change without the counts changing
      await tasks.load();
    } else {
      await loadOverview();
    }
    return jobs.length > 0 || Boolean(workflow && (WORKFLOW_LIVE.has(workflow.status)
      || (workflow.latest_run_status && RUN_LIVE.has(workflow.latest_run_status))));
  });
  page.poller = poller;

  // The first view needs four answers at once; the poller then asks one thing a second.
  Promise.all([get(`${page.base}/template_edges`), tasks.load(), runs.load(), timeline.load(),
               resources.load()])
    .then(([answer]) => { dag.setEdges(answer.edges); })
    .catch((error) => { if (error.status !== 404) toast(error.message, "error"); })
    .finally(() => poller.start());
  return { stop: () => poller.stop() };
}
