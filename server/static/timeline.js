// Time, as a picture: a run's timeline. Each instance is a bar from RUNNING to its end,
// coloured by its outcome, in one lane per task template (bars that overlap in time take
// rows of their own). Above a few thousand instances the server sends counts instead: per
// template, how many ran in each slice of the run. Bars still running grow with the clock.

import { get } from "./api.js";
import { clockTime, fill, h, hms, plural, s } from "./dom.js";
import { statusColour, statusName } from "./status.js";

const GUTTER = 168;
const AXIS = 26;
const MAX_HEIGHT = 560;
const LANE_MIN = 36;  // room for a lane's name and count

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

// rows for bars that overlap: each bar goes in the first row free at its start
function pack(starts, ends) {
  const rowEnds = [];
  return starts.map((start, i) => {
    let row = rowEnds.findIndex((end) => end <= start);
    if (row < 0) row = rowEnds.push(0) - 1;
    rowEnds[row] = ends[i];
    return row;
  });
}

function axis(svg, t0, t1, width, top) {
  const span = Math.max(t1 - t0, 1);
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200,
                 86400].map((seconds) => seconds * 1000);
  const step = steps.find((ms) => span / ms <= 8) || steps[steps.length - 1];
  const x = (t) => GUTTER + ((t - t0) / span) * (width - GUTTER - 10);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    svg.append(s("line", { class: "tl-grid", x1: x(t), x2: x(t), y1: top, y2: "100%" }),
               s("text", { class: "tl-tick", x: x(t), y: top - 8, "text-anchor": "middle" },
                 clockTime(new Date(t).toISOString()).slice(0, 8)));
  }
  return x;
}

function barsView(answer, now, width) {
  const bars = answer.bars;
  const t0 = new Date(answer.start).getTime();
  const starts = bars.started.map((text) => new Date(text).getTime());
  const ends = bars.ended.map((text) => (text ? new Date(text).getTime() : now));
  const t1 = Math.max(now, t0 + 1000, ...ends);
  const lanes = new Map();  // array id: indices of its bars
  bars.array_id.forEach((arrayId, i) => {
    if (!lanes.has(arrayId)) lanes.set(arrayId, []);
    lanes.get(arrayId).push(i);
  });
  const rows = new Map();
  let totalRows = 0;
  for (const [arrayId, members] of lanes) {
    const packed = pack(members.map((i) => starts[i]), members.map((i) => ends[i]));
    rows.set(arrayId, { members, packed, count: Math.max(...packed) + 1 });
    totalRows += Math.max(...packed) + 1;
  }
  const rowHeight = Math.max(2, Math.min(12, (MAX_HEIGHT - lanes.size * 44) / totalRows));
  const laneHeightOf = (lane) => Math.max(lane.count * rowHeight + 10, LANE_MIN);
  const height = AXIS + 8 + [...rows.values()].reduce(
    (sum, lane) => sum + laneHeightOf(lane) + 4, 0);
  const svg = s("svg", { class: "tl-chart", viewBox: `0 0 ${width} ${height}`, width, height,
                         role: "img", "aria-label": `Timeline of ${plural(bars.status.length,
                                                                             "instance")}` });
  const x = axis(svg, t0, t1, width, AXIS);
  let top = AXIS + 4;
  for (const [arrayId, lane] of rows) {
    const laneHeight = laneHeightOf(lane);
    const group = s("g", { class: "tl-lane", dataset: { arrayId } },
      s("rect", { class: "tl-band", x: 0, y: top - 2, width, height: laneHeight }),
      s("text", { class: "tl-name", x: 8, y: top + 14 },
        clip(answer.templates[String(arrayId)] || `array ${arrayId}`, 22)),
      s("text", { class: "tl-count", x: 8, y: top + 29 },
        plural(lane.members.length, "instance")));
    lane.members.forEach((i, k) => {
      const live = !bars.ended[i];
      const status = bars.status[i];
      const left = x(starts[i]);
      const bar = s("rect", {
        class: `tl-bar c-${statusColour(status, "instance")}${live ? " tl-live" : ""}`,
        x: left, y: top + 3 + lane.packed[k] * rowHeight,
        width: Math.max(x(ends[i]) - left, 1.5), height: Math.max(rowHeight - 1, 1),
        dataset: { instanceId: bars.task_instance_id[i], taskId: bars.task_id[i], status },
      }, s("title", {}, `Instance ${bars.task_instance_id[i]}: ${statusName(status, "instance")}`
        + `, ${live ? "running for" : "ran"} ${hms((ends[i] - starts[i]) / 1000)}`));
      bar.addEventListener("click", () => {
        window.location.hash = `#/tasks/${bars.task_id[i]}`;
      });
      group.append(bar);
    });
    svg.append(group);
    top += laneHeight + 4;
  }
  return svg;
}

function countsView(answer, width) {
  const t0 = new Date(answer.start).getTime();
  const t1 = Math.max(new Date(answer.end).getTime(), t0 + 1000);
  const laneHeight = 64;
  const height = AXIS + answer.running.length * (laneHeight + 8) + 8;
  const svg = s("svg", { class: "tl-chart", viewBox: `0 0 ${width} ${height}`, width, height,
                         role: "img", "aria-label": "Instances running over time, by template" });
  const x = axis(svg, t0, t1, width, AXIS);
  const slice = (t1 - t0) / answer.buckets;
  let top = AXIS + 4;
  for (const lane of answer.running) {
    const peak = Math.max(1, ...lane.counts);
    const y = (count) => top + laneHeight - (count / peak) * (laneHeight - 6);
    let path = `M${x(t0)},${y(0)}`;
    lane.counts.forEach((count, b) => {
      path += ` L${x(t0 + b * slice)},${y(count)} L${x(t0 + (b + 1) * slice)},${y(count)}`;
    });
    path += ` L${x(t1)},${y(0)} Z`;
    svg.append(s("g", { class: "tl-lane", dataset: { arrayId: lane.array_id } },
      s("rect", { class: "tl-band", x: 0, y: top - 2, width, height: laneHeight + 4 }),
      s("text", { class: "tl-name", x: 8, y: top + 18 },
        clip(answer.templates[String(lane.array_id)] || `array ${lane.array_id}`, 22)),
      s("text", { class: "tl-count", x: 8, y: top + 34 },
        `${plural(lane.instances, "instance")}, at most ${peak.toLocaleString()} at once`),
      s("path", { class: "tl-area", d: path, dataset: { peak, instances: lane.instances } },
        s("title", {}, `at most ${peak} running at once`))));
    top += laneHeight + 8;
  }
  return svg;
}

export function timelineCard(workflowId, params) {
  const body = h("div", { class: "tl-body" }, h("p", { class: "muted" }, "Loading…"));
  const caption = h("p", { class: "muted tl-caption" });
  const element = h("section", { class: "card", id: "timeline" },
    h("h2", {}, "Timeline"), caption, body);
  const query = { max_bars: params.get("max_bars") || undefined };
  let answer = null;
  let fetchedAt = 0;
  let took = 0;

  function render() {
    if (!answer) return;
    if (!answer.instances) {
      fill(caption, answer.workflow_run_id ? `Workflow run id ${answer.workflow_run_id}` : "");
      fill(body, h("p", { class: "muted" }, answer.workflow_run_id
        ? "No instance of this run has started yet." : "Never run."));
      return;
    }
    // the server's clock, moved on by this page's: open bars end now
    const now = new Date(answer.now).getTime() + (Date.now() - fetchedAt);
    const width = Math.max(body.clientWidth || 0, 480);
    const outcomes = answer.bars ? [...new Set(answer.bars.status)] : [];
    fill(caption,
      `Workflow run id ${answer.workflow_run_id} (${statusName(answer.run_status, "run")}): `,
      answer.aggregated
        ? `${plural(answer.instances, "instance")}, too many for a bar each: how many ran `
          + "at once, per template."
        : `${plural(answer.instances, "instance")} that ran, each a bar from running to its end.`,
      outcomes.length ? h("span", { class: "tl-legend" }, outcomes.map((status) =>
        h("span", { class: "tl-key" }, h("span", { class: `dot c-${statusColour(status,
                                                                               "instance")}` }),
          statusName(status, "instance")))) : null);
    fill(body, answer.aggregated ? countsView(answer, width) : barsView(answer, now, width));
  }

  async function load() {
    const asked = Date.now();
    answer = await get(`/workflows/${workflowId}/timeline`, query);
    fetchedAt = Date.now();
    took = fetchedAt - asked;
    render();
  }

  // a big run's timeline costs the server more: ask again no sooner than ten times as long
  // as the last answer took (a small one, every time something moved)
  function due() {
    return Date.now() - fetchedAt >= 10 * took;
  }

  // open bars grow between requests, without asking the server
  function tick() {
    if (answer && answer.bars && answer.bars.ended.some((end) => !end)) render();
  }
  return { element, load, tick, due };
}
