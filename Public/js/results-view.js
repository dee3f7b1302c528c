// Results of a finished job: mAP overall and per head / medium / tail group beside zero-shot,
// per-class AP bars grouped by head / medium / tail beside the zero-shot AP of the same classes,
// the thresholds (editable, saved with PATCH) and a button making the prompt set the default.

import { byId, h, mountResponsive, replace } from "./dom.js";
import { get, patch } from "./api.js";
import { showError, showNotice, clear } from "./messages.js";
import { apChart } from "./charts.js";
import { percent, timestamp } from "./format.js";
import { readResults } from "./results-data.js";

let loaded = null;
let promptSetChanged = () => {};

export function startResultsView({ onPromptSetChanged }) {
  byId("results-job").addEventListener("change", (event) => {
    if (event.target.value) location.hash = `#results/${encodeURIComponent(event.target.value)}`;
  });
  promptSetChanged = onPromptSetChanged;
}

// Shows the view; `jobID` from the address (#results/<id>), else the newest finished job.
export async function showResultsView(jobID) {
  let jobs = [];
  try {
    jobs = ((await get("/v1/tuning/jobs?limit=100"))?.data ?? []).filter((job) => job.status === "succeeded");
  } catch (error) {
    showError(byId("results-messages"), error, "Listing jobs");
  }
  const select = byId("results-job");
  replace(select, jobs.length
    ? jobs.map((job) => h("option", { value: job.id }, `${job.id} · ${job.prompt_set ?? ""} · ${timestamp(job.finished_at)}`))
    : h("option", { value: "" }, "no finished job yet"));
  const chosen = jobID ?? jobs[0]?.id;
  if (!chosen) {
    replace(byId("results-body"), h("p", { class: "hint" }, "When a tuning job succeeds, what it learned shows here."));
    return;
  }
  if (!jobs.some((job) => job.id === chosen)) select.append(h("option", { value: chosen }, chosen));
  select.value = chosen;
  await load(chosen);
}

async function load(jobID) {
  const messages = byId("results-messages");
  const body = byId("results-body");
  clear(messages);
  replace(body, h("p", { class: "hint" }, "Loading…"));
  try {
    const job = await get(`/v1/tuning/jobs/${encodeURIComponent(jobID)}`);
    if (job.status !== "succeeded" || !job.prompt_set) {
      replace(body, h("p", {}, `Job ${job.id} is ${job.status}; results exist once it has succeeded.`));
      return;
    }
    const promptSet = await get(`/v1/prompt-sets/${encodeURIComponent(job.prompt_set)}`);
    loaded = { job, promptSet };
    render();
  } catch (error) {
    replace(body);
    showError(messages, error, "Loading the results");
  }
}

function render() {
  const { job, promptSet } = loaded;
  const results = readResults(job, promptSet);
  const chart = h("div", { class: "chart-box", id: "ap-chart" });
  const body = byId("results-body");
  replace(body,
    h("div", { class: "panel" },
      h("h3", {}, "Prompt set ", h("code", {}, promptSet.id)),
      h("p", { class: "hint" }, `${promptSet.method?.toUpperCase() ?? ""}, ${promptSet.classes.length} classes, `
        + `${promptSet.n_ctx ?? "?"} context vectors ${promptSet.class_specific ? "per class" : "shared"}, for model ${promptSet.model ?? "?"} · `
        + `made by ${job.id} on ${timestamp(job.finished_at)}`),
      mapTiles(results),
      h("p", { class: "hint" }, results.images ? `Measured on ${results.images} validation images. ` : "",
        "AP and mAP in percent; classes without a positive among the validation images have no AP.")),
    h("div", { class: "panel" },
      h("h3", {}, "Average precision per class"),
      results.hasPerClass
        ? chart
        : h("p", { class: "alert info", id: "ap-missing" }, "This server does not report per-class AP for this prompt set."),
      results.hasPerClass && !results.hasZeroShot
        ? h("p", { class: "hint", id: "zero-shot-missing" }, "No zero-shot AP was reported for these classes.") : null),
    thresholdEditor(promptSet));
  if (results.hasPerClass) {
    mountResponsive(chart, (width) => apChart(results.rows, width, { hasZeroShot: results.hasZeroShot }));
  }
}

function mapTiles(results) {
  const tiles = [["All classes", "map"], ["Head", "head_map"], ["Medium", "medium_map"], ["Tail", "tail_map"]];
  return h("dl", { class: "map-tiles", id: "map-tiles" }, tiles.map(([name, key]) => {
    const tuned = results.tuned[key];
    const zero = results.zeroShot?.[key];
    const delta = tuned !== null && tuned !== undefined && zero !== null && zero !== undefined ? tuned - zero : null;
    return h("div", { class: `tile tile-${key}`, "data-metric": key },
      h("dt", {}, `${name} mAP`),
      h("dd", {}, h("span", { class: "tile-value" }, percent(tuned)),
        tuned === null ? h("span", { class: "tile-compare" }, "no class of this group among the validation positives") : null,
        zero !== undefined && results.zeroShot
          ? h("span", { class: "tile-compare" }, `zero-shot ${percent(zero)}`,
            delta !== null ? h("span", { class: delta >= 0 ? "gain" : "drop" }, ` (${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(1)})`) : null)
          : null));
  }));
}

function thresholdEditor(promptSet) {
  const messages = h("div", { id: "threshold-messages" });
  const inputs = [];
  const rows = promptSet.classes.map((entry, index) => {
    const id = `threshold-${index}`;
    const input = h("input", { type: "number", id, min: 0, max: 1, step: 0.01, value: entry.threshold.toFixed(2),
      "data-class": entry.name, "data-original": entry.threshold, inputmode: "decimal" });
    inputs.push(input);
    return h("tr", {},
      h("th", { scope: "row" }, h("label", { for: id }, entry.name)),
      h("td", {}, entry.group ? h("span", { class: `badge group-${entry.group}` }, entry.group) : "—"),
      h("td", { class: "num" }, entry.training_count ?? "—"),
      h("td", {}, input));
  });
  const save = h("button", { type: "submit", id: "thresholds-save" }, "Save thresholds");
  const makeDefault = h("button", { type: "button", id: "make-default", class: "secondary", disabled: promptSet.default },
    promptSet.default ? "This is the default prompt set" : "Make this the default prompt set");
  const form = h("form", { class: "panel", id: "threshold-form", novalidate: true },
    h("h3", {}, "Thresholds"),
    h("p", { class: "hint" }, "A label is present when its score is at or above its threshold. 0.5 is each class's calibrated "
      + "decision point (the best F1 on the validation images); raise it for fewer false alarms, lower it to miss less."),
    h("div", { class: "table-wrap" }, h("table", { class: "thresholds" },
      h("thead", {}, h("tr", {}, ["Class", "Group", "Training images", "Threshold"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))),
    h("div", { class: "row" }, save, makeDefault),
    messages);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = {};
    for (const input of inputs) {
      const value = Number(input.value);
      if (input.value.trim() === "" || Number.isNaN(value)) continue;
      if (Math.abs(value - Number(input.dataset.original)) > 1e-6) changes[input.dataset.class] = value;
    }
    if (!Object.keys(changes).length) {
      showNotice(messages, "No threshold was changed.");
      return;
    }
    save.disabled = true;
    try {
      loaded.promptSet = await patch(`/v1/prompt-sets/${encodeURIComponent(promptSet.id)}`, { thresholds: changes });
      render();
      showNotice(byId("threshold-messages"), `Saved ${Object.keys(changes).length} threshold${Object.keys(changes).length === 1 ? "" : "s"}.`, "success");
    } catch (error) {
      showError(messages, error, "Saving thresholds");
      save.disabled = false;
    }
  });
  makeDefault.addEventListener("click", async () => {
    makeDefault.disabled = true;
    try {
      loaded.promptSet = await patch(`/v1/prompt-sets/${encodeURIComponent(promptSet.id)}`, { default: true });
      render();
      showNotice(byId("threshold-messages"), `${promptSet.id} is now the default prompt set of ${promptSet.model}.`, "success");
      promptSetChanged();
    } catch (error) {
      showError(messages, error, "Making it the default");
      makeDefault.disabled = false;
    }
  });
  return form;
}
