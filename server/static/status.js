// Status letters as Jobmon names them, and one colour per meaning: the same letter has the
// same colour on every page (and in the CLI: green done, red failed, blue running).

import { h, percent, plural } from "./dom.js";

export const MACHINES = {
  task: {
    G: ["Registering", "slate"], Q: ["Queued", "sky"], I: ["Instantiating", "sky"],
    O: ["Launched", "indigo"], R: ["Running", "blue"], D: ["Done", "green"],
    E: ["Error (recoverable)", "amber"], A: ["Adjusting resources", "amber"],
    F: ["Fatal", "red"],
  },
  workflow: {
    G: ["Registering", "slate"], Q: ["Queued", "slate"], I: ["Instantiating", "sky"],
    O: ["Launched", "indigo"], R: ["Running", "blue"], D: ["Done", "green"],
    H: ["Halted", "purple"], F: ["Failed", "red"], A: ["Aborted", "slate"],
  },
  instance: {
    Q: ["Queued", "sky"], I: ["Instantiated", "sky"], O: ["Launched", "indigo"],
    R: ["Running", "blue"], D: ["Done", "green"], E: ["Error", "red"], F: ["Fatal", "red"],
    K: ["Kill requested", "purple"], T: ["Triaging", "amber"], U: ["Unknown error", "red"],
    W: ["No job id", "red"], X: ["No heartbeat", "red"], Z: ["Resource error", "orange"],
  },
  run: {
    G: ["Registered", "slate"], L: ["Linking", "slate"], B: ["Bound", "slate"],
    I: ["Instantiated", "sky"], O: ["Launched", "indigo"], R: ["Running", "blue"],
    D: ["Done", "green"], S: ["Stopped", "purple"], E: ["Error", "red"],
    C: ["Cold resume", "purple"], H: ["Hot resume", "purple"], T: ["Terminated", "purple"],
    A: ["Aborted", "slate"],
  },
};

// The order of the segments of a progress bar: finished first, waiting last.
export const TASK_ORDER = ["D", "F", "R", "O", "I", "Q", "E", "A", "G"];
export const WORKFLOW_LIVE = new Set(["G", "Q", "I", "O", "R"]);
export const RUN_LIVE = new Set(["G", "L", "B", "I", "O", "R", "C", "H"]);
export const TASK_LIVE = new Set(["Q", "I", "O", "R", "E", "A"]);

export function statusName(letter, machine = "task") {
  const known = MACHINES[machine][letter];
  return known ? known[0] : letter || "–";
}

export function statusColour(letter, machine = "task") {
  const known = MACHINES[machine][letter];
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
