// Tag photos: pick, drop or click an example; labels come from a prompt set or from zero-shot
// classes typed by the user; each photo is shown with its labels as score bars against thresholds.

import { byId, h, mountResponsive, replace } from "./dom.js";
import { get, request } from "./api.js";
import { showError, showNotice, clear } from "./messages.js";
import { labelScoreChart } from "./charts.js";
import { milliseconds } from "./format.js";

let examples = [];
let previews = [];

export function startTagView() {
  const files = byId("tag-files");
  files.addEventListener("change", () => {
    if (files.files.length) tag([...files.files]);
    files.value = "";
  });
  const zone = byId("dropzone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const dropped = [...(event.dataTransfer?.files ?? [])];
    if (dropped.length) tag(dropped);
  });
  byId("zero-shot-classes").addEventListener("focus", () => { byId("mode-zero-shot").checked = true; });
  byId("prompt-set-select").addEventListener("change", () => { byId("mode-prompt-set").checked = true; });
  loadExamples();
}

// Fills the prompt-set choice; without any usable prompt set, zero-shot is chosen.
export async function refreshPromptSets() {
  const select = byId("prompt-set-select");
  const previous = select.value;
  let sets = [];
  try {
    sets = (await get("/v1/prompt-sets"))?.data ?? [];
  } catch (error) {
    showError(byId("tag-messages"), error, "Listing prompt sets");
  }
  const usable = sets.filter((set) => !set.error && set.model);
  usable.sort((a, b) => Number(b.default) - Number(a.default) || (b.created_at ?? 0) - (a.created_at ?? 0));
  replace(select, usable.length
    ? usable.map((set) => h("option", { value: set.id },
      `${set.id} (${set.classes.length} classes${set.default ? ", default" : ""})`))
    : h("option", { value: "" }, "none yet: tune one, or use zero-shot"));
  select.disabled = usable.length === 0;
  byId("mode-prompt-set").disabled = usable.length === 0;
  if (usable.some((set) => set.id === previous)) select.value = previous;
  if (!usable.length) byId("mode-zero-shot").checked = true;
}

async function loadExamples() {
  let listing;
  try {
    listing = await get("/examples/examples.json");
  } catch {
    return;   // no examples folder on this server: the block stays hidden
  }
  examples = listing?.examples ?? [];
  if (!examples.length) return;
  byId("examples-source").textContent = listing.from ? `from ${listing.from}` : "";
  replace(byId("example-list"), examples.map((example) => h("li", {},
    h("button", {
      type: "button", class: "example", "data-file": example.file,
      "aria-label": `Tag example ${example.file} (shows ${example.labels.join(", ")})`,
      onclick: () => tagExample(example),
    },
    h("img", { src: `/examples/${encodeURIComponent(example.file)}`, alt: "", width: 80, height: 80, loading: "lazy" }),
    h("span", { class: "example-labels" }, example.labels.join(", "))))));
  byId("examples-block").hidden = false;
  const classes = byId("zero-shot-classes");
  if (!classes.value) {
    classes.value = [...new Set(examples.flatMap((example) => example.labels))].join(", ");
  }
}

async function tagExample(example) {
  let blob;
  try {
    const response = await fetch(`/examples/${encodeURIComponent(example.file)}`);
    if (!response.ok) throw new Error(`the example ${example.file} could not be loaded (HTTP ${response.status})`);
    blob = await response.blob();
  } catch (error) {
    showError(byId("tag-messages"), error, "Loading the example");
    return;
  }
  const file = new File([blob], example.file, { type: blob.type });
  await tag([file], { [example.file]: example });
}

function zeroShotClasses() {
  return byId("zero-shot-classes").value.split(",").map((name) => name.trim()).filter(Boolean);
}

async function tag(files, expectations = {}) {
  const messages = byId("tag-messages");
  const form = new FormData();
  for (const file of files) form.append("image", file, file.name);
  const zeroShot = byId("mode-zero-shot").checked;
  if (zeroShot) {
    const classes = zeroShotClasses();
    if (!classes.length) {
      showNotice(messages, "Type at least one class for zero-shot tagging, separated by commas.", "error");
      byId("zero-shot-classes").focus();
      return;
    }
    form.append("classes", classes.join(","));
  } else {
    form.append("prompt_set", byId("prompt-set-select").value);
  }
  // Files of other types are sent as they are: the server's answer (415) says why, in its words.
  showNotice(messages, `Tagging ${files.length} photo${files.length === 1 ? "" : "s"}…`);
  replace(byId("tag-results"));   // earlier results would read as this request's
  setBusy(true);
  const started = performance.now();
  try {
    const answer = await request("POST", "/v1/tag", { body: form });
    const roundTrip = performance.now() - started;
    clear(messages);
    render(answer, files, expectations, roundTrip);
  } catch (error) {
    showError(messages, error, "Tagging");
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  byId("tag-results").setAttribute("aria-busy", String(busy));
  for (const button of document.querySelectorAll("#example-list button")) button.disabled = busy;
  byId("tag-files").disabled = busy;
}

function render(answer, files, expectations, roundTrip) {
  previews.forEach((url) => URL.revokeObjectURL(url));
  previews = files.map((file) => URL.createObjectURL(file));
  const timings = answer.timings ?? {};
  const source = answer.mode === "zero_shot" ? "zero-shot classes" : `prompt set ${answer.prompt_set}`;
  const summary = h("p", { class: "tag-summary", id: "tag-summary" },
    h("strong", {}, `Server time ${milliseconds(timings.total_ms)}`),
    ` (decoding ${milliseconds(timings.decode_ms)}, queue ${milliseconds(timings.queue_ms)}, inference ${milliseconds(timings.inference_ms)})`,
    ` · round trip ${milliseconds(roundTrip)} · model ${answer.model}, ${source}`);
  const cards = answer.results.map((result) => {
    const file = files[result.index];
    const name = result.filename ?? file?.name ?? `image ${result.index + 1}`;
    const expected = expectations[name]?.labels;
    const present = result.labels.filter((label) => label.present).map((label) => label.label);
    const chart = h("div", { class: "chart-box" });
    const card = h("article", { class: "tag-card", "data-filename": name },
      h("div", { class: "tag-photo" },
        previews[result.index] ? h("img", { src: previews[result.index], alt: `Photo ${name}` }) : null),
      h("div", { class: "tag-body" },
        h("h3", {}, name),
        h("p", { class: "hint" }, `${result.width} × ${result.height} px · inference ${milliseconds(result.timings?.inference_ms)}`
          + ` in a batch of ${result.timings?.batch_size ?? 1}`),
        h("p", { class: "present-labels" }, h("span", { class: "label" }, "Present: "),
          present.length ? present.join(", ") : "none above its threshold"),
        expected ? h("p", { class: "expected-labels" }, h("span", { class: "label" }, "In the picture: "), expected.join(", ")) : null,
        chart));
    return { card, chart, labels: result.labels };
  });
  replace(byId("tag-results"), summary, cards.map((c) => c.card));
  byId("tag-live").textContent = answer.results.map((result) => {
    const present = result.labels.filter((label) => label.present).map((label) => label.label);
    return `${result.filename ?? `image ${result.index + 1}`}: ${present.length ? present.join(", ") : "no label"} present.`;
  }).join(" ");
  for (const { chart, labels } of cards) mountResponsive(chart, (width) => labelScoreChart(labels, width));
}
