// The history lists: every status change of a task (its own and its instances') or of a
// workflow (its own, its runs', and the operator actions on it), with who made it and why.

import { clockTime, fill, fullTime, h } from "./dom.js";
import { pill } from "./status.js";

const MACHINE = { task: "task", instance: "instance", workflow: "workflow", run: "run" };
const SHOWN = 200;  // the newest this many; the CLI and the API give all

function contextText(context) {
  return Object.entries(context || {}).map(([key, value]) =>
    `${key} ${Array.isArray(value) ? value.join(",") : value}`).join(" · ");
}

function what(row) {
  if (row.kind === "instance") return `instance ${row.task_instance_id}`;
  if (row.kind === "run") return `run ${row.workflow_run_id}`;
  return row.kind;
}

// rows: {time, kind, from_status, status, source, user, action, context, ...}, oldest first
export function historyList(rows) {
  if (!rows.length) return h("p", { class: "muted" }, "No changes recorded.");
  const newest = rows.slice(-SHOWN).reverse();
  return h("div", {},
    h("ol", { class: "history" }, newest.map((row) => {
      const machine = MACHINE[row.kind] || "task";
      const changed = row.from_status !== row.status;
      return h("li", { class: "history-row", dataset: { kind: row.kind, source: row.source } },
        h("time", { datetime: row.time, title: fullTime(row.time) }, clockTime(row.time)),
        h("span", { class: "history-what muted" }, what(row)),
        h("span", { class: "history-move" },
          changed && row.from_status ? [pill(row.from_status, machine), " → "] : null,
          pill(row.status, machine)),
        h("span", { class: "history-who" },
          row.action ? h("b", {}, row.action.replace("_", " ")) : null,
          row.action ? " · " : null, row.source, row.user ? ` · ${row.user}` : ""),
        h("span", { class: "history-context muted small" }, contextText(row.context)));
    })),
    rows.length > SHOWN
      ? h("p", { class: "muted small" },
          `the newest ${SHOWN} of ${rows.length}; \`jobmon task status\` shows them all`)
      : null);
}

// A task's rows (TaskHistory: array-like rows) as objects.
export function taskRows(answer) {
  return answer.rows.map(([time, instance, status, source, kind, from, user, context]) => ({
    time, task_instance_id: instance, status, source, kind, from_status: from, user, context,
  }));
}

export function fillHistory(element, rows) {
  fill(element, historyList(rows));
}
