// The DAG by task template: templates (arrays) as nodes with their counts, edges between
// them from the task edges. Layered left to right by longest path from the sources.

import { percent, plural, s } from "./dom.js";
import { statusColour, statusName, TASK_ORDER } from "./status.js";

const NODE_W = 236;
const NODE_H = 78;
const GAP_X = 84;
const GAP_Y = 22;
const PAD = 16;

export function layout(nodes, edges) {
  const ids = nodes.map((node) => node.array_id);
  const incoming = new Map(ids.map((id) => [id, []]));
  const outgoing = new Map(ids.map((id) => [id, []]));
  for (const edge of edges) {
    if (edge.upstream_array_id === edge.downstream_array_id) continue;
    if (!incoming.has(edge.downstream_array_id) || !outgoing.has(edge.upstream_array_id)) continue;
    incoming.get(edge.downstream_array_id).push(edge.upstream_array_id);
    outgoing.get(edge.upstream_array_id).push(edge.downstream_array_id);
  }
  // Kahn's order; templates can form a cycle (A tasks -> B tasks -> other A tasks), so
  // whatever is left is placed after what it depends on as far as that is known.
  const layer = new Map();
  const waiting = new Map(ids.map((id) => [id, incoming.get(id).length]));
  let ready = ids.filter((id) => waiting.get(id) === 0);
  const placed = new Set();
  while (placed.size < ids.length) {
    if (!ready.length) {
      const rest = ids.filter((id) => !placed.has(id));
      ready = [rest[0]];
    }
    const next = [];
    for (const id of ready) {
      if (placed.has(id)) continue;
      placed.add(id);
      const depth = Math.max(-1, ...incoming.get(id).filter((u) => layer.has(u))
        .map((u) => layer.get(u))) + 1;
      layer.set(id, depth);
      for (const down of outgoing.get(id)) {
        waiting.set(down, waiting.get(down) - 1);
        if (waiting.get(down) === 0) next.push(down);
      }
    }
    ready = next;
  }
  const columns = [];
  for (const id of ids) {
    const depth = layer.get(id);
    (columns[depth] = columns[depth] || []).push(id);
  }
  // order each column by where its upstreams sit, to untangle the edges
  const row = new Map();
  columns.forEach((column, depth) => {
    if (depth) {
      const centre = (id) => {
        const ups = incoming.get(id).filter((u) => row.has(u));
        return ups.length ? ups.reduce((sum, u) => sum + row.get(u), 0) / ups.length : 0;
      };
      column.sort((a, b) => centre(a) - centre(b));
    }
    column.forEach((id, index) => row.set(id, index));
  });
  return { columns, incoming };
}

// Left to right, or top to bottom.
export function place(nodes, edges, vertical) {
  const { columns } = layout(nodes, edges);
  const across = vertical ? NODE_W : NODE_H;  // a node's size across its layer
  const along = vertical ? NODE_H : NODE_W;
  const gapAcross = vertical ? 16 : GAP_Y;
  const gapAlong = vertical ? 56 : GAP_X;
  const widest = Math.max(1, ...columns.map((column) => (column ? column.length : 0)));
  const span = widest * across + (widest - 1) * gapAcross;
  const position = new Map();
  columns.forEach((column, depth) => {
    const length = column.length * across + (column.length - 1) * gapAcross;
    const start = PAD + (span - length) / 2;
    column.forEach((id, index) => {
      const a = start + index * (across + gapAcross);
      const b = PAD + depth * (along + gapAlong);
      position.set(id, vertical ? { x: a, y: b } : { x: b, y: a });
    });
  });
  const depthSize = PAD * 2 + columns.length * along + Math.max(0, columns.length - 1) * gapAlong;
  const spanSize = PAD * 2 + span;
  return vertical ? { position, width: spanSize, height: depthSize }
    : { position, width: depthSize, height: spanSize };
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

// Drawn to fit the card's width (``available`` pixels): left to right, shrunk to fit when it
// is somewhat wider; top to bottom when it would shrink too far or the screen is narrow.
export function dagView(arrays, edges, available) {
  const across = place(arrays, edges, false);
  const vertical = available < 640 || across.width > available * 1.6;
  const { position, width, height } = vertical ? place(arrays, edges, true) : across;
  const svg = s("svg", { class: vertical ? "dag dag-vertical" : "dag",
                         viewBox: `0 0 ${width} ${height}`,
                         role: "img", "aria-label": "Task templates and their dependencies" });
  svg.style.maxWidth = `${width}px`;  // shrinks to fit, never grows
  svg.append(s("defs", {}, s("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7",
    markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z",
                                                                    class: "dag-arrow" }))));
  for (const edge of edges) {
    const from = position.get(edge.upstream_array_id);
    const to = position.get(edge.downstream_array_id);
    if (!from || !to || edge.upstream_array_id === edge.downstream_array_id) continue;
    let path;
    if (vertical) {
      const [x1, y1, x2, y2] = [from.x + NODE_W / 2, from.y + NODE_H, to.x + NODE_W / 2, to.y - 2];
      const bend = Math.max(24, Math.abs(y2 - y1) / 2);
      path = y2 > y1 ? `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`
        : `M${x1},${y1} C${x1 + 90},${y1 + 60} ${x2 + 90},${y2 - 60} ${x2},${y2}`;
    } else {
      const [x1, y1, x2, y2] = [from.x + NODE_W, from.y + NODE_H / 2, to.x - 2, to.y + NODE_H / 2];
      const bend = Math.max(40, Math.abs(x2 - x1) / 2);
      path = x2 > x1 ? `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`
        : `M${x1},${y1} C${x1 + 80},${y1 - 90} ${x2 - 80},${y2 - 90} ${x2},${y2}`;  // backwards
    }
    svg.append(s("path", { d: path, class: "dag-edge", "marker-end": "url(#arrow)" },
                 s("title", {}, `${plural(edge.edges, "task edge")}`)));
  }
  for (const array of arrays) {
    const at = position.get(array.array_id);
    const total = Math.max(array.num_tasks, 1);
    const group = s("g", { class: "dag-node", transform: `translate(${at.x},${at.y})`,
                           dataset: { arrayId: array.array_id } },
      s("title", {}, `${array.template_name}: ${plural(array.num_tasks, "task")}`),
      s("rect", { class: "dag-box", width: NODE_W, height: NODE_H, rx: 10 }),
      s("text", { class: "dag-name", x: 14, y: 24 }, clip(array.template_name, 26)),
      s("text", { class: "dag-sub", x: 14, y: 44 },
        `${plural(array.num_tasks, "task")} · ${percent(array.counts.D || 0, array.num_tasks)} done`,
        array.counts.F ? s("tspan", { class: "dag-failed" },
                           ` · ${array.counts.F.toLocaleString()} failed`) : null));
    let x = 14;
    const barWidth = NODE_W - 28;
    group.append(s("rect", { class: "dag-track", x: 14, y: 56, width: barWidth, height: 8,
                             rx: 4 }));
    for (const letter of TASK_ORDER) {
      const count = array.counts[letter] || 0;
      if (!count) continue;
      const part = (barWidth * count) / total;
      group.append(s("rect", { class: `dag-seg c-${statusColour(letter)}`, x, y: 56,
                               width: Math.max(part, 1.5), height: 8 },
                     s("title", {}, `${statusName(letter)}: ${count.toLocaleString()}`)));
      x += part;
    }
    svg.append(group);
  }
  return svg;
}
