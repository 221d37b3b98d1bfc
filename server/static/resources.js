// Resources, as a picture: per task template, each finished instance's max RSS and runtime
// against what it asked for (log scales; the diagonal is the request, the dotted line a fifth
// of it). Marked: instances killed for memory or for time, and those that used under a fifth
// of their request. The green line is the suggested request: what `jobmon
// create_resource_yaml` writes, sent by the server (one rule, jobmon/usage_rules.py).

import { get } from "./api.js";
import { bytes, fill, h, hms, plural, s } from "./dom.js";
import { statusColour, statusName } from "./status.js";

const W = 500;
const H = 250;
const M = { left: 80, right: 14, top: 12, bottom: 40 };
const MIB = 1024 * 1024;
const MEASURES = {
  memory: { title: "Memory: max RSS against the request", used: "maxrss",
            asked: "memory_request", format: bytes, killed: "memory" },
  runtime: { title: "Runtime against the request", used: "wallclock",
             asked: "runtime_request", format: hms, killed: "runtime" },
};

// "1536M" or "2G" (format_memory's text) in bytes
function memoryBytes(text) {
  const match = /^(\d+(?:\.\d+)?)([MG])$/.exec(String(text || ""));
  if (!match) return null;
  return Number(match[1]) * (match[2] === "G" ? 1024 * MIB : MIB);
}

export function suggestionText(suggested) {
  const parts = [];
  if (suggested.memory !== undefined) parts.push(`memory ${bytes(memoryBytes(suggested.memory))}`);
  if (suggested.runtime !== undefined) parts.push(`runtime ${hms(suggested.runtime)}`);
  if (suggested.cores !== undefined) parts.push(`cores ${suggested.cores}`);
  if (suggested.queue) parts.push(`queue ${suggested.queue}`);
  return parts.join(" · ");
}

function ticks(low, high, measure) {
  // memory: powers of 2 from 1 MiB; runtime: 1-2-5 steps of seconds, then of minutes, hours
  const steps = measure === "memory"
    ? Array.from({ length: 24 }, (_, i) => MIB * 2 ** i)
    : [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 18000,
       36000, 86400, 172800, 432000];
  const inside = steps.filter((value) => value >= low && value <= high);
  const every = Math.ceil(inside.length / 6);  // at most six labels an axis
  return inside.filter((_, i) => i % every === 0);
}

// a small, fixed offset per instance: points with the same request spread into a strip
function jitter(id) {
  return (((id * 2654435761) % 1000) / 1000 - 0.5) * 14;
}

function panel(template, measure) {
  const spec = MEASURES[measure];
  const points = template.points;
  const index = points.task_instance_id.map((_, i) => i)
    .filter((i) => points[spec.used][i] > 0);
  const requested = index.map((i) => points[spec.asked][i]).filter((value) => value > 0);
  const suggested = measure === "memory" ? memoryBytes(template.suggested.memory)
    : template.suggested.runtime ?? null;
  const values = [...index.map((i) => points[spec.used][i]), ...requested,
                  ...(suggested ? [suggested] : [])];
  const svg = s("svg", { class: "res-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
                         "aria-label": `${template.template_name}: ${spec.title}` });
  const box = h("figure", { class: "res-panel", dataset: { measure } },
                h("figcaption", {}, spec.title), svg);
  if (!values.length) {
    svg.append(s("text", { x: W / 2, y: H / 2, class: "res-empty" }, "nothing measured"));
    return box;
  }
  const low = Math.min(...values) / 1.6;
  const high = Math.max(...values) * 1.6;
  const [x0, x1, y0, y1] = [M.left, W - M.right, H - M.bottom, M.top];
  const scale = (value, a, b) => a + ((Math.log(value) - Math.log(low))
    / (Math.log(high) - Math.log(low))) * (b - a);
  const x = (value) => scale(value, x0, x1);
  const y = (value) => scale(value, y0, y1);
  svg.append(s("rect", { class: "res-frame", x: x0, y: y1, width: x1 - x0, height: y0 - y1 }));
  for (const value of ticks(low, high, measure)) {
    svg.append(
      s("line", { class: "res-grid", x1: x(value), x2: x(value), y1, y2: y0 }),
      s("line", { class: "res-grid", x1: x0, x2: x1, y1: y(value), y2: y(value) }),
      s("text", { class: "res-tick", x: x(value), y: y0 + 14, "text-anchor": "middle" },
        spec.format(value)),
      s("text", { class: "res-tick", x: x0 - 6, y: y(value) + 4, "text-anchor": "end" },
        spec.format(value)));
  }
  svg.append(
    s("text", { class: "res-axis", x: (x0 + x1) / 2, y: H - 6, "text-anchor": "middle" },
      "requested"),
    s("text", { class: "res-axis", x: 12, y: (y0 + y1) / 2, "text-anchor": "middle",
                transform: `rotate(-90 12 ${(y0 + y1) / 2})` }, "used"),
    // used = requested, and a fifth of it: above the first is over, below the second waste
    s("line", { class: "res-diagonal", x1: x(low), y1: y(low), x2: x(high), y2: y(high) },
      s("title", {}, "used = requested")));
  if (low * 5 < high) {
    svg.append(s("line", { class: "res-fifth", x1: x(low * 5), y1: y(low), x2: x(high),
                           y2: y(high / 5) }, s("title", {}, "used = a fifth of the request")));
  }
  if (suggested) {
    svg.append(s("g", { class: "res-suggested" },
      s("line", { x1: x0, x2: x1, y1: y(suggested), y2: y(suggested) }),
      s("text", { x: x0 + 6, y: y(suggested) - 5 }, `suggested ${spec.format(suggested)}`)));
  }
  const dots = s("g", { class: "res-points" });
  for (const i of index) {
    const used = points[spec.used][i];
    const asked = points[spec.asked][i];
    const id = points.task_instance_id[i];
    const killed = points.killed_for[i];
    const fifth = asked > 0 && used < asked / 5;
    const [cx, cy] = [asked > 0 ? x(asked) + jitter(id) : x0 + 4, y(used)];
    const classes = ["pt", `c-${statusColour(points.status[i], "instance")}`];
    let mark;
    if (killed) {
      classes.push(`killed-${killed}`);
      // a cross for memory, a triangle for time
      mark = killed === "memory"
        ? s("path", { d: `M${cx - 5},${cy - 5} L${cx + 5},${cy + 5} M${cx - 5},${cy + 5} `
                         + `L${cx + 5},${cy - 5}` })
        : s("path", { d: `M${cx},${cy - 6} L${cx + 6},${cy + 5} L${cx - 6},${cy + 5} Z` });
    } else {
      if (fifth) classes.push("under-fifth");
      mark = s("circle", { cx, cy, r: 3.6 });
    }
    mark.setAttribute("class", classes.join(" "));
    mark.dataset.instanceId = id;
    mark.append(s("title", {}, `Instance ${id} (${statusName(points.status[i], "instance")})`
      + `${killed ? `, killed for ${killed}` : ""}: used ${spec.format(used)}`
      + (asked > 0 ? ` of ${spec.format(asked)}` : ", no request")));
    dots.append(mark);
  }
  svg.append(dots);
  return box;
}

function templateView(template, workflowId) {
  const facts = [plural(template.finished, "finished instance")];
  if (template.killed_memory) facts.push(`${template.killed_memory} killed for memory`);
  if (template.killed_runtime) facts.push(`${template.killed_runtime} killed for time`);
  if (template.under_fifth_memory) {
    facts.push(`${template.under_fifth_memory} used under a fifth of their memory`);
  }
  if (template.under_fifth_runtime) {
    facts.push(`${template.under_fifth_runtime} under a fifth of their runtime`);
  }
  const shown = template.points.task_instance_id.length;
  const usage = template.usage;
  return h("article", { class: "res-template", dataset: { arrayId: template.array_id } },
    h("header", {},
      h("h3", {}, template.template_name),
      h("span", { class: "muted res-facts" }, facts.join(" · ")),
      shown < template.finished
        ? h("span", { class: "muted small" }, `(${shown.toLocaleString()} shown)`) : null),
    template.finished ? h("div", { class: "res-panels" },
      panel(template, "memory"), panel(template, "runtime")) : null,
    h("p", { class: "res-suggestion" },
      Object.keys(template.suggested).length
        ? [h("b", {}, "Suggested request: "), h("span", { class: "suggested" },
             suggestionText(template.suggested)),
           h("span", { class: "muted small" },
             ` from ${plural(usage.instances, "finished instance")} in all workflows, as `,
             h("code", {}, `jobmon create_resource_yaml -w ${workflowId}`), " writes it")]
        : h("span", { class: "muted" }, "No finished instance yet: nothing to suggest.")));
}

export function resourcesCard(workflowId) {
  const body = h("div", { class: "res-templates" }, h("p", { class: "muted" }, "Loading…"));
  const legend = h("ul", { class: "legend res-legend" },
    h("li", {}, h("span", { class: "key-dot" }), "an instance (colour: its outcome)"),
    h("li", {}, h("span", { class: "key-hollow" }), "used under a fifth of its request"),
    h("li", {}, h("span", { class: "key-cross" }, "×"), "killed for memory"),
    h("li", {}, h("span", { class: "key-triangle" }, "▲"), "killed for time"),
    h("li", {}, h("span", { class: "key-line" }), "the suggested request"));
  const element = h("section", { class: "card", id: "resources" },
    h("h2", {}, "Resources by task template"), legend, body);

  let fetchedAt = 0;
  let took = 0;

  async function load() {
    const asked = Date.now();
    const answer = await get(`/workflows/${workflowId}/resource_picture`);
    fetchedAt = Date.now();
    took = fetchedAt - asked;
    fill(body, answer.templates.length ? answer.templates.map(
      (template) => templateView(template, workflowId)) : h("p", { class: "muted" }, "No tasks."));
  }
  // as the timeline: no sooner than ten times as long as the last answer took
  const due = () => Date.now() - fetchedAt >= 10 * took;
  return { element, load, due };
}
