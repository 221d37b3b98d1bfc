// The limits of a workflow's task templates (its arrays), changed while it runs: the same
// endpoint as `jobmon workflow concurrency -w ID -t TEMPLATE -m N`.

import { post } from "./api.js";
import { fill, h, plural } from "./dom.js";
import { toast } from "./live.js";

const UNLIMITED = 2 ** 31 - 1;

export function templateLimits(workflowId, act) {
  const element = h("div", { class: "template-limits" });
  let shown = "";

  function row(array) {
    const input = h("input", {
      type: "number", min: 1, step: 1, inputmode: "numeric", class: "template-limit",
      placeholder: "no limit", "aria-label": `Tasks of ${array.template_name} running at once`,
      dataset: { arrayId: array.array_id },
    });
    const form = h("form", { class: "template-limit-form", dataset: { arrayId: array.array_id },
                             onsubmit: (event) => {
      event.preventDefault();
      const value = Number(input.value);
      if (!Number.isInteger(value) || value < 1) {
        toast("The limit is a whole number of at least 1.", "error");
        return;
      }
      act(async () => {
        const answer = await post(`/workflows/${workflowId}/template_concurrency`,
                                  { array_id: array.array_id, max_concurrently_running: value });
        toast(`At most ${plural(answer.max_concurrently_running, "task")} of `
              + `${answer.task_template} run at once now.`);
      });
    } },
      h("label", { class: "template-limit-name", title: array.template_name },
        array.template_name),
      input, h("button", { type: "submit", class: "button ghost" }, "Set"));
    return form;
  }

  function render(arrays) {
    const key = arrays.map((array) => array.array_id).join(",");
    if (key !== shown) {
      shown = key;
      fill(element, arrays.length ? [h("p", { class: "muted small" }, "Per task template")]
        .concat(arrays.map(row)) : []);
    }
    for (const array of arrays) {
      const input = element.querySelector(`input[data-array-id="${array.array_id}"]`);
      if (input && document.activeElement !== input) {
        input.value = array.max_concurrently_running >= UNLIMITED ? ""
          : String(array.max_concurrently_running);
      }
    }
  }
  return { element, render };
}
