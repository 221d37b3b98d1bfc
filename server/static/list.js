// The workflow list: filters by user, status and name; a progress bar per workflow.

import { get } from "./api.js";
import { fill, h, percent, plural, timeAgo } from "./dom.js";
import { crumbs, Poller } from "./live.js";
import { finished, MACHINES, pill, progressBar, WORKFLOW_LIVE } from "./status.js";

const PAGE = 50;

export function listPage(root, params) {
  crumbs({ text: "Workflows" });
  const filters = {
    user: params.get("user") || "",
    status: params.get("status") || "",
    name: params.get("name") || "",
  };
  let limit = PAGE;

  const userInput = h("input", { type: "search", name: "user", placeholder: "any user",
                                 value: filters.user, autocomplete: "off" });
  const nameInput = h("input", { type: "search", name: "name", placeholder: "part of a name",
                                 value: filters.name, autocomplete: "off" });
  const statusSelect = h("select", { name: "status" },
    h("option", { value: "" }, "any status"),
    h("option", { value: "G,Q,I,O,R" }, "active"),
    Object.entries(MACHINES.workflow).map(([letter, [name]]) =>
      h("option", { value: letter }, `${name} (${letter})`)));
  statusSelect.value = filters.status;
  const summary = h("p", { class: "muted list-summary" }, "Loading…");
  const rows = h("div", { class: "wf-list", role: "list" });
  const more = h("button", { type: "button", class: "button ghost", hidden: true,
                             onclick: () => { limit += PAGE; poller.poke(); } }, "Show more");

  let typing = null;
  const changed = () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      filters.user = userInput.value.trim();
      filters.name = nameInput.value.trim();
      filters.status = statusSelect.value;
      limit = PAGE;
      const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
      // replaceState: the address follows the filters without re-rendering the page
      history.replaceState(null, "", query.toString() ? `#/?${query}` : "#/");
      poller.poke();
    }, 250);
  };
  userInput.addEventListener("input", changed);
  nameInput.addEventListener("input", changed);
  statusSelect.addEventListener("change", changed);

  fill(root,
    h("section", { class: "page-head" },
      h("div", {}, h("h1", {}, "Workflows"),
        h("p", { class: "muted" }, "Every workflow this server knows, newest first.")),
      h("form", { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() },
        h("label", {}, h("span", {}, "User"), userInput),
        h("label", {}, h("span", {}, "Status"), statusSelect),
        h("label", { class: "grow" }, h("span", {}, "Name"), nameInput))),
    h("section", { class: "card list-card" }, summary, rows, more));

  const poller = new Poller(async () => {
    const answer = await get("/workflows", { ...filters, limit });
    render(answer.workflows);
    more.hidden = answer.next_before_id === null;
    return answer.workflows.some((workflow) => WORKFLOW_LIVE.has(workflow.status));
  });

  function render(workflows) {
    const active = workflows.filter((workflow) => WORKFLOW_LIVE.has(workflow.status)).length;
    fill(summary, workflows.length
      ? `${plural(workflows.length, "workflow")}${active ? `, ${active} active` : ""}`
      : "No workflow matches these filters.");
    fill(rows, workflows.map(row));
  }

  return poller.start();
}

function row(workflow) {
  const total = workflow.num_tasks;
  const done = workflow.counts.D || 0;
  const failed = workflow.counts.F || 0;
  const running = workflow.counts.R || 0;
  return h("a", { class: "wf-row", role: "listitem", href: `#/workflows/${workflow.workflow_id}`,
                  dataset: { workflowId: workflow.workflow_id } },
    h("div", { class: "wf-main" },
      h("div", { class: "wf-title" },
        h("span", { class: "wf-name" }, workflow.name),
        h("span", { class: "wf-id muted" }, `#${workflow.workflow_id}`)),
      h("div", { class: "wf-meta muted" },
        h("span", {}, workflow.user), h("span", {}, "·"),
        h("span", {}, "updated ", timeAgo(workflow.status_date)),
        workflow.retries ? [h("span", {}, "·"), h("span", {}, plural(workflow.retries, "retry",
                                                                        "retries"))] : null)),
    h("div", { class: "wf-status" }, pill(workflow.status, "workflow")),
    h("div", { class: "wf-progress" },
      progressBar(workflow.counts, total),
      h("div", { class: "wf-progress-text" },
        h("span", { class: "progress-count" },
          `${finished(workflow.counts).toLocaleString()} / ${total.toLocaleString()} finished`),
        h("span", { class: "muted" },
          [`${percent(done, total)} done`, running ? `${running} running` : null,
           failed ? `${failed} failed` : null].filter(Boolean).join(" · ")))));
}
