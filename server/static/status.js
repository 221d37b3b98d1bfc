// Status letters, their names and colours: one vocabulary, jobmon/status.py, served at
// /api/v1/statuses and read once before the first page shows (the CLI prints the same names
// and colours). A name is the enum name in sentence case: ERROR_FATAL is "Error fatal".

import { get } from "./api.js";
import { h, percent, plural } from "./dom.js";

export const MACHINES = { task: {}, workflow: {}, instance: {}, run: {} };  // letter: [label, colour]
export const TASK_ORDER = [];  // the order of the segments of a progress bar
export const TASK_FILTERS = [];  // [letters, label] of the task list's filter chips
export const WORKFLOW_LIVE = new Set();
export const RUN_LIVE = new Set();
export const TASK_LIVE = new Set();

export async function loadStatuses() {
  const answer = await get("/statuses");
  for (const [machine, statuses] of Object.entries(answer.machines)) {
    MACHINES[machine] = Object.fromEntries(Object.entries(statuses).map(
      ([letter, status]) => [letter, [status.label, status.colour, status.name]]));
  }
  TASK_ORDER.splice(0, TASK_ORDER.length, ...answer.task_order);
  TASK_FILTERS.splice(0, TASK_FILTERS.length, ...answer.task_filters);
  for (const [set, machine] of [[WORKFLOW_LIVE, "workflow"], [RUN_LIVE, "run"],
                                [TASK_LIVE, "task"]]) {
    set.clear();
    for (const letter of answer.live[machine]) set.add(letter);
  }
}

export function statusName(letter, machine = "task") {
  const known = (MACHINES[machine] || {})[letter];
  return known ? known[0] : letter || "–";
}

export function statusColour(letter, machine = "task") {
  const known = (MACHINES[machine] || {})[letter];
  return known ? known[1] : "slate";
}

export function pill(letter, machine = "task") {
  return h("span", { class: `pill c-${statusColour(letter, machine)}`,
                     title: `${statusName(letter, machine)} (${letter})`,
                     dataset: { status: letter } },
           h("span", { class: "pill-letter" }, letter || "?"), statusName(letter, machine));
}

export function progressBar(counts, total, { large = false } = {}) {
  const bar = h("div", { class: large ? "bar bar-large" : "bar", role: "img",
                         "aria-label": barLabel(counts, total) });
  for (const letter of TASK_ORDER) {
    const count = counts[letter] || 0;
    if (!count) continue;
    bar.append(h("span", {
      class: `seg c-${statusColour(letter)}`,
      style: { width: `${(100 * count) / Math.max(total, 1)}%` },
      title: `${statusName(letter)}: ${count.toLocaleString()} (${percent(count, total)})`,
    }));
  }
  return bar;
}

function barLabel(counts, total) {
  const done = counts.D || 0;
  return `${done} of ${plural(total, "task")} done`;
}

export function legend(counts, total) {
  return h("ul", { class: "legend" }, TASK_ORDER.filter((letter) => counts[letter]).map(
    (letter) => h("li", { dataset: { status: letter } },
                  h("span", { class: `dot c-${statusColour(letter)}` }),
                  h("span", { class: "legend-name" }, statusName(letter)),
                  h("b", { class: "legend-count" }, (counts[letter] || 0).toLocaleString()),
                  h("span", { class: "muted" }, percent(counts[letter] || 0, total)))));
}

export function finished(counts) {
  return (counts.D || 0) + (counts.F || 0);
}
