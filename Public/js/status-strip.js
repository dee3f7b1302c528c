// The status strip: readiness from /readyz, and the model, limits and version from /info,
// refreshed while the page is visible. Other views read the last /info through `serverInfo()`.

import { byId, h, replace } from "./dom.js";
import { get, ApiError } from "./api.js";
import { bytes, integer, pixels } from "./format.js";

const REFRESH_MS = 10_000;
let info = null;
const listeners = [];

export function serverInfo() { return info; }
export function onServerInfo(listener) { listeners.push(listener); if (info) listener(info); }

export function startStatusStrip() {
  refresh();
  setInterval(() => { if (document.visibilityState === "visible") refresh(); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
}

export async function refresh() {
  const [ready, latest] = await Promise.allSettled([get("/readyz"), get("/info")]);
  const dot = byId("ready-dot");
  const text = byId("ready-text");
  const strip = byId("status-strip");
  let state;
  let words;
  if (ready.status === "fulfilled") {
    [state, words] = ["ok", "Ready"];
  } else {
    const error = ready.reason;
    const unreachable = error instanceof ApiError && error.status === 0;
    [state, words] = unreachable ? ["down", "Server unreachable"] : ["wait", `Not ready: ${error.message.replace(/^not ready: /, "")}`];
  }
  if (text.textContent !== words) {
    dot.className = `dot ${state}`;
    text.textContent = words;
    strip.dataset.ready = String(state === "ok");
  }
  if (latest.status === "fulfilled") {
    info = latest.value;
    renderInfo(info);
    listeners.forEach((listener) => listener(info));
  }
}

let renderedInfo = "";

// The strip is a polite live region: it changes only when what it says changes.
function renderInfo(info) {
  const key = JSON.stringify([info.model, info.limits, info.version, info.build?.configuration, info.auth_required]);
  if (key === renderedInfo) return;
  renderedInfo = key;
  const model = info.model;
  replace(byId("status-model"), model
    ? [h("span", { class: "label" }, "Model "), h("strong", {}, model.id),
      model.dtype ? ` ${model.dtype}` : "", model.image_size ? `, ${model.image_size} px` : "",
      h("span", { class: "label" }, " · prompt set "), model.prompt_set ? h("strong", {}, model.prompt_set) : "none yet"]
    : [h("span", { class: "label" }, "Model "), "none loaded"]);
  const limits = info.limits ?? {};
  const parts = [];
  if (limits.max_images_per_request) parts.push(`${integer(limits.max_images_per_request)} images/request`);
  if (limits.max_body_bytes) parts.push(`${bytes(limits.max_body_bytes)} per request`);
  if (limits.max_image_pixels) parts.push(`${pixels(limits.max_image_pixels)} per image`);
  replace(byId("status-limits"), parts.length ? [h("span", { class: "label" }, "Limits "), parts.join(" · ")] : "");
  replace(byId("status-version"), [h("span", { class: "label" }, "TagTune "), info.version ?? "?",
    info.build?.configuration === "debug" ? " (debug build)" : "",
    info.auth_required ? [h("span", { class: "label" }, " · "), "API key required"] : ""]);
}
