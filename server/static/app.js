// The dashboard: a hash router over three pages.

import { fill } from "./dom.js";
import { listPage } from "./list.js";
import { askForToken, crumbs, notFound } from "./live.js";
import { loadStatuses } from "./status.js";
import { taskPage } from "./task.js";
import { workflowPage } from "./workflow.js";

const ROUTES = [
  [/^#?\/?$/, (root, params) => listPage(root, params)],
  [/^#\/workflows\/(\d+)$/, (root, params, match) => workflowPage(root, Number(match[1]), params)],
  [/^#\/tasks\/(\d+)$/, (root, params, match) => taskPage(root, Number(match[1]))],
];

let current = null;

function route() {
  if (current && current.stop) current.stop();
  const [path, query = ""] = window.location.hash.split("?");
  const params = new URLSearchParams(query);
  const root = document.getElementById("main");
  for (const [pattern, page] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      fill(root);
      current = page(root, params, match);
      window.scrollTo(0, 0);
      return;
    }
  }
  crumbs({ text: "Not found" });
  current = null;
  notFound(root, "This address names no page.");
}

window.addEventListener("hashchange", route);
window.addEventListener("jobmon:unauthorized", (event) => askForToken(event.detail));
// the status names and colours come from the server (the CLI's own); without them the
// pages still work, showing letters
loadStatuses().catch(() => {}).finally(route);
