// Tune on your data: upload a dataset zip (or pick one on the server) and see its class counts as a
// long-tail chart; start an LMPT job with defaults or hand-set hyper-parameters; watch it run.

import { byId, h, mountResponsive, replace } from "./dom.js";
import { get, post, upload } from "./api.js";
import { showError, showNotice, clear } from "./messages.js";
import { classCountChart } from "./charts.js";
import { integer, percent, timestamp } from "./format.js";
import { watchJob, watchedJobID, STATUS_TEXT, TERMINAL } from "./job-watch.js";

let datasets = [];
let selected = null;
const jobEndListeners = [];

export function onJobEnd(listener) { jobEndListeners.push(listener); }

export function startTuneView() {
  byId("dataset-form").addEventListener("submit", (event) => { event.preventDefault(); uploadDataset(); });
  byId("dataset-select").addEventListener("change", (event) => {
    const dataset = datasets.find((d) => d.id === event.target.value);
    showDataset(dataset ?? null);
  });
  byId("job-form").addEventListener("submit", (event) => { event.preventDefault(); startJob(); });
  byId("job-method").addEventListener("change", showMethodDefaults);
  loadHyperparameterFields();
  refreshDatasets();
  refreshModels();
  refreshJobs({ followRunning: true });
}

// Called when the view is shown.
export function showTuneView() {
  refreshDatasets();
  refreshJobs();
}

// The hyper-parameters as the server's table describes them (OpenAPI's HyperparametersRequest):
// name, title, help, kind and range, each method's default (x-defaults), the methods that use it.
let parameterTable = [];

async function loadHyperparameterFields() {
  try {
    const schema = (await get("/openapi.json")).components.schemas.HyperparametersRequest;
    parameterTable = schema["x-order"].map((name) => ({ name, ...schema.properties[name] }));
  } catch (error) {
    showError(byId("job-messages"), error, "Reading the hyper-parameters");
    return;
  }
  // Epochs has its own field above; the rest go in the advanced section.
  replace(byId("hp-fields"), parameterTable.filter((p) => p.name !== "epochs").map(hyperparameterField));
  showMethodDefaults();
}

function hyperparameterField(parameter) {
  const value = parameter.anyOf[0];
  const id = `hp-${parameter.name}`;
  const common = { id, "data-hp": parameter.name, title: parameter.description };
  const input = value.enum
    ? h("select", { ...common, "data-kind": "text" }, h("option", { value: "" }, "auto"), value.enum.map((o) => h("option", { value: o }, o)))
    : value.type === "string"
      ? h("input", { ...common, "data-kind": "text", type: "text", maxlength: value.maxLength, autocomplete: "off" })
      : h("input", { ...common, "data-kind": value.type, type: "number", step: value.type === "integer" ? "1" : "any",
          min: value.minimum ?? value.exclusiveMinimum, max: value.maximum ?? value.exclusiveMaximum,
          inputmode: value.type === "integer" ? "numeric" : "decimal" });
  return h("div", { class: "field" }, h("label", { for: id }, parameter.title), input,
    h("span", { class: "hint", id: `${id}-unused`, hidden: true }));
}

// Each field shows the chosen method's default; fields the method does not use are disabled.
function showMethodDefaults() {
  const method = byId("job-method").value;
  for (const parameter of parameterTable) {
    const input = document.getElementById(parameter.name === "epochs" ? "job-epochs" : `hp-${parameter.name}`);
    if (!input) continue;
    const fallback = parameter["x-defaults"]?.[method];
    const text = fallback === null || fallback === undefined ? "auto" : `auto (${fallback})`;
    if (input.tagName === "SELECT") input.options[0].textContent = text;
    else input.placeholder = text;
    const unused = !(parameter["x-methods"] ?? []).includes(method);
    input.disabled = unused;
    const note = document.getElementById(`hp-${parameter.name}-unused`);
    if (note) { note.hidden = !unused; note.textContent = unused ? `not used by ${method}` : ""; }
  }
}

async function refreshModels() {
  const select = byId("job-model");
  try {
    const models = (await get("/v1/models"))?.data ?? [];
    const usable = models.filter((m) => !m.error);
    usable.sort((a, b) => Number(b.default) - Number(a.default));
    replace(select, usable.map((m) => h("option", { value: m.id }, `${m.id}${m.default ? " (default)" : ""}`)));
    if (!usable.length) replace(select, h("option", { value: "" }, "no model on the server"));
  } catch (error) {
    showError(byId("job-messages"), error, "Listing models");
  }
}

async function refreshDatasets(selectID) {
  try {
    datasets = (await get("/v1/datasets?limit=100"))?.data ?? [];
  } catch (error) {
    showError(byId("dataset-messages"), error, "Listing datasets");
    return;
  }
  const choose = selectID ?? selected?.id ?? "";
  replace(byId("dataset-select"),
    h("option", { value: "" }, datasets.length ? "— choose a dataset —" : "none uploaded yet"),
    datasets.map((d) => h("option", { value: d.id }, `${d.name} (${integer(d.images)} images, ${d.class_count} classes)`)));
  byId("dataset-select").value = datasets.some((d) => d.id === choose) ? choose : "";
  const validation = byId("job-validation");
  const keep = validation.value;
  replace(validation, h("option", { value: "" }, "hold out 10% of the training images"),
    datasets.map((d) => h("option", { value: d.id }, d.name)));
  validation.value = datasets.some((d) => d.id === keep) ? keep : "";
}

async function uploadDataset() {
  const messages = byId("dataset-messages");
  const file = byId("dataset-file").files[0];
  if (!file) {
    showNotice(messages, "Choose a dataset .zip first.", "error");
    byId("dataset-file").focus();
    return;
  }
  const name = byId("dataset-name").value.trim();
  const path = name ? `/v1/datasets?name=${encodeURIComponent(name)}` : `/v1/datasets?name=${encodeURIComponent(file.name.replace(/\.zip$/i, ""))}`;
  const progress = byId("dataset-progress");
  const button = byId("dataset-upload");
  progress.hidden = false;
  progress.value = 0;
  button.disabled = true;
  showNotice(messages, `Uploading ${file.name}; the server checks every line and image before it accepts it…`);
  try {
    const dataset = await upload(path, file, { contentType: "application/zip", onProgress: (f) => { progress.value = f; } });
    showNotice(messages, `Accepted: ${dataset.name} (${dataset.id}).`, "success");
    await refreshDatasets(dataset.id);
    selectDataset(dataset);
  } catch (error) {
    showError(messages, error, "Uploading the dataset");
  } finally {
    progress.hidden = true;
    button.disabled = false;
  }
}

// Lists carry summaries only: the classes and warnings come with the dataset itself.
async function showDataset(summary) {
  if (!summary) { selectDataset(null); return; }
  try {
    selectDataset(await get(`/v1/datasets/${encodeURIComponent(summary.id)}`));
  } catch (error) {
    showError(byId("dataset-messages"), error, "Reading the dataset");
  }
}

function selectDataset(dataset) {
  selected = dataset;
  byId("dataset-select").value = dataset?.id ?? "";
  byId("job-start-hint").textContent = dataset ? `Tunes on ${dataset.name}.` : "Choose or upload a dataset first.";
  const box = byId("dataset-summary");
  if (!dataset) { replace(box); return; }
  const chart = h("div", { class: "chart-box", id: "class-count-chart" });
  replace(box,
    h("h4", {}, dataset.name, " ", h("code", { class: "hint" }, dataset.id)),
    h("dl", { class: "facts-grid" },
      fact("Images", integer(dataset.images)),
      fact("With captions", integer(dataset.captioned_images)),
      fact("Labels", integer(dataset.labels)),
      fact("Classes", `${dataset.classes.length}: ${dataset.groups.head} head, ${dataset.groups.medium} medium, ${dataset.groups.tail} tail`)),
    dataset.warnings?.length ? h("div", { class: "alert warn" }, h("p", { class: "alert-title" }, "Warnings"),
      h("ul", {}, dataset.warnings.map((w) => h("li", {}, [w.file, w.line, w.field].filter(Boolean).join(":") + (w.file ? ": " : "") + w.message)))) : null,
    h("h4", {}, "Images per class"),
    chart);
  mountResponsive(chart, (width) => classCountChart(dataset.classes, dataset.group_bounds, width));
}

function fact(term, value) {
  return h("div", {}, h("dt", {}, term), h("dd", {}, value));
}

// The request body: empty fields are left out, so the server's defaults ("auto") apply.
function jobRequest() {
  const body = { model: byId("job-model").value, dataset: selected?.id ?? "", method: byId("job-method").value };
  const hyperparameters = {};
  for (const input of document.querySelectorAll("[data-hp]")) {
    const raw = input.value.trim();
    if (!raw || input.disabled) continue;
    const kind = input.dataset.kind;
    hyperparameters[input.dataset.hp] = kind === "integer" || kind === "number" ? Number(raw) : kind === "boolean" ? raw === "true" : raw;
  }
  if (Object.keys(hyperparameters).length) body.hyperparameters = hyperparameters;
  const seed = byId("job-seed").value.trim();
  if (seed) body.seed = Number(seed);
  const suffix = byId("job-suffix").value.trim();
  if (suffix) body.suffix = suffix;
  const validation = byId("job-validation").value;
  if (validation) body.validation_dataset = validation;
  return body;
}

async function startJob() {
  const messages = byId("job-messages");
  if (!selected) {
    showNotice(messages, "Choose or upload a dataset first.", "error");
    byId("dataset-select").focus();
    return;
  }
  const button = byId("job-start");
  button.disabled = true;
  try {
    const job = await post("/v1/tuning/jobs", jobRequest());
    clear(messages);
    follow(job.id);
    refreshJobs();
  } catch (error) {
    showError(messages, error, "Starting the job");
  } finally {
    button.disabled = false;
  }
}

function follow(jobID) {
  byId("watch-panel").hidden = false;
  watchJob(byId("job-watch"), jobID, {
    onEnd: (job) => {
      refreshJobs();
      jobEndListeners.forEach((listener) => listener(job));
    },
  });
}

// Recent tuning jobs and batch tagging jobs together, newest first; while a batch runs, the list
// refreshes so its progress moves (batches are started over the API: POST /v1/batches).
let batchRefresh = null;

async function refreshJobs({ followRunning = false } = {}) {
  let jobs, batches;
  try {
    [jobs, batches] = await Promise.all([get("/v1/tuning/jobs?limit=10"), get("/v1/batches?limit=10")]);
    jobs = jobs?.data ?? [];
    batches = batches?.data ?? [];
  } catch (error) {
    showError(byId("job-list"), error, "Listing jobs");
    return;
  }
  if (followRunning && !watchedJobID()) {
    const running = jobs.find((job) => !TERMINAL.has(job.status));
    if (running) follow(running.id);
  }
  clearTimeout(batchRefresh);
  if (batches.some((batch) => !TERMINAL.has(batch.status)) && !byId("view-tune").hidden) {
    batchRefresh = setTimeout(() => refreshJobs(), 2000);
  }
  const rows = [...jobs, ...batches].sort((a, b) => b.created_at - a.created_at).slice(0, 10);
  if (!rows.length) {
    replace(byId("job-list"), h("p", { class: "hint" }, "No jobs yet."));
    return;
  }
  const datasetName = (id) => datasets.find((d) => d.id === id)?.name ?? id;
  replace(byId("job-list"), h("div", { class: "table-wrap" }, h("table", { class: "jobs" },
    h("thead", {}, h("tr", {}, ["Job", "Status", "Input", "Created", "Progress", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((job) => job.object === "batch" ? batchRow(job, datasetName) : h("tr", { "data-job": job.id },
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => follow(job.id) }, job.id)),
      h("td", {}, h("span", { class: `badge status-${job.status}` }, STATUS_TEXT[job.status] ?? job.status)),
      h("td", {}, datasetName(job.dataset)),
      h("td", {}, timestamp(job.created_at)),
      h("td", { class: "num" }, job.metrics ? `val. mAP ${percent(job.metrics.validation_map)}` : "—"),
      h("td", {}, job.status === "succeeded" ? h("a", { href: `#results/${encodeURIComponent(job.id)}` }, "results") : "")))))));
}

// A batch: images done of all (with the time left while it runs), and its results to download.
function batchRow(batch, datasetName) {
  const { done, images, eta_seconds: eta } = batch.progress;
  const progress = TERMINAL.has(batch.status) || eta == null
    ? `${integer(done)} / ${integer(images)} images`
    : `${integer(done)} / ${integer(images)} images, ${Math.ceil(eta)} s left`;
  const failed = batch.image_counts?.failed ? `, ${integer(batch.image_counts.failed)} unreadable` : "";
  return h("tr", { "data-job": batch.id, "data-kind": "batch" },
    h("td", {}, h("code", {}, batch.id)),
    h("td", {}, h("span", { class: `badge status-${batch.status}` }, STATUS_TEXT[batch.status] ?? batch.status)),
    h("td", {}, batch.input.dataset ? datasetName(batch.input.dataset) : batch.input.file),
    h("td", {}, timestamp(batch.created_at)),
    h("td", { class: "num batch-progress" }, h("progress", { max: Math.max(images, 1), value: done, "aria-label": `Batch ${batch.id}` }),
      ` ${progress}${failed}`),
    h("td", {}, batch.results ? h("span", {},
      h("a", { href: batch.results.jsonl, download: `${batch.id}.jsonl` }, "JSONL"), " · ",
      h("a", { href: batch.results.csv, download: `${batch.id}.csv` }, "CSV")) : ""));
}
