// Error and notice boxes: what went wrong in words, the server's own message, the field at fault,
// a dataset's problems with file and line, and the request id to find it in the server's log.

import { h, replace } from "./dom.js";
import { ApiError, explain } from "./api.js";

const MAX_PROBLEMS = 12;

export function showError(container, error, context = "") {
  const { title, advice } = explain(error);
  const box = h("div", { class: "alert error", role: "alert", "data-status": error?.status ?? "" },
    h("p", { class: "alert-title" }, context ? `${context}: ${title}` : title));
  if (error instanceof ApiError) {
    if (error.status !== 0) {
      box.append(h("p", { class: "server-message" }, h("span", { class: "label" }, "Server: "), error.message));
    } else {
      box.append(h("p", {}, error.message));
    }
    const facts = [];
    if (error.param) facts.push(h("span", {}, "field ", h("code", {}, error.param)));
    if (error.code) facts.push(h("span", {}, "code ", h("code", {}, error.code)));
    if (error.status) facts.push(h("span", {}, `HTTP ${error.status}`));
    if (error.requestID) facts.push(h("span", {}, "request ", h("code", {}, error.requestID)));
    if (facts.length) box.append(h("p", { class: "facts" }, facts.flatMap((fact, i) => (i ? [" · ", fact] : [fact]))));
    if (error.problems.length) {
      const shown = error.problems.slice(0, MAX_PROBLEMS);
      box.append(h("ul", { class: "problems" }, shown.map((problem) => h("li", {}, problemText(problem)))));
      const total = Math.max(error.totalProblems, error.problems.length);
      if (total > shown.length) box.append(h("p", { class: "hint" }, `and ${total - shown.length} more`));
    }
  }
  if (advice) box.append(h("p", { class: "advice" }, advice));
  replace(container, box);
  return box;
}

export function showNotice(container, text, kind = "info") {
  replace(container, h("div", { class: `alert ${kind}`, role: "status" }, h("p", {}, text)));
}

export function clear(container) {
  replace(container);
}

function problemText(problem) {
  let place = problem.file ?? "";
  if (problem.line) place += place ? `:${problem.line}` : `line ${problem.line}`;
  const field = problem.field ? `${problem.field}: ` : "";
  return `${place ? `${place}: ` : ""}${field}${problem.message}`;
}
