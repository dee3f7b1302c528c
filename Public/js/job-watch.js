// Watching a tuning job: polls the job and its events (newest first, paged with `after`) about
// once a second until it ends, and shows its status, epoch, step, ETA, a live chart of loss and
// validation mAP, the latest log lines, a cancel button, and a link to its results.

import { h, mountResponsive, replace } from "./dom.js";
import { get, post } from "./api.js";
import { showError, clear } from "./messages.js";
import { trainingChart } from "./charts.js";
import { duration, percent, timestamp } from "./format.js";

export const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 1000;
const PAGE = 100;
const MAX_PAGES = 50;
const LOG_LINES = 8;

export const STATUS_TEXT = {
  validating_files: "checking files", queued: "queued", running: "running",
  succeeded: "succeeded", failed: "failed", cancelled: "cancelled",
};

let current = null;

// Starts watching `jobID` in `container`, stopping any earlier watch. `onEnd(job)` runs once when it ends.
export function watchJob(container, jobID, { onEnd } = {}) {
  if (current) current.stop();
  const watch = new JobWatch(container, jobID, onEnd);
  current = watch;
  watch.start();
  return watch;
}

export function watchedJobID() { return current?.jobID ?? null; }

class JobWatch {
  constructor(container, jobID, onEnd) {
    Object.assign(this, { container, jobID, onEnd });
    this.events = [];
    this.known = new Set();
    this.stopped = false;
    this.timer = null;
    this.job = null;
    this.build();
  }

  build() {
    this.header = h("div", { class: "job-header" });
    this.progress = h("div", { class: "job-progress" });
    this.chart = h("div", { class: "chart-box", id: "training-chart" });
    this.log = h("ol", { class: "event-log", role: "log", "aria-label": "Job log" });
    this.messages = h("div", {});
    this.cancelButton = h("button", { type: "button", class: "danger", id: "job-cancel", onclick: () => this.cancel() }, "Cancel job");
    this.actions = h("div", { class: "row job-actions" }, this.cancelButton);
    replace(this.container, this.header, this.progress, this.actions, this.messages, this.chart,
      h("h4", {}, "Log"), this.log);
  }

  start() { this.tick(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async tick() {
    if (this.stopped) return;
    try {
      const job = await get(`/v1/tuning/jobs/${encodeURIComponent(this.jobID)}`);
      await this.fetchNewEvents();
      if (this.stopped) return;
      this.job = job;
      if (this.lastError) clear(this.messages);
      this.lastError = null;
      this.render();
      if (TERMINAL.has(job.status)) {
        this.stop();
        this.onEnd?.(job);
        return;
      }
    } catch (error) {
      if (this.stopped) return;
      // Shown once while the same problem lasts (the box is an alert, read out when it changes).
      if (this.lastError !== error.message) showError(this.messages, error, "Following the job");
      this.lastError = error.message;
      if (error.status === 404) { this.stop(); return; }
    }
    this.timer = setTimeout(() => this.tick(), POLL_MS);
  }

  // Events come newest first; pages go back in time with `after` until a known event is met.
  async fetchNewEvents() {
    const fresh = [];
    let after = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (after) query.set("after", after);
      const answer = await get(`/v1/tuning/jobs/${encodeURIComponent(this.jobID)}/events?${query}`);
      let reachedKnown = false;
      for (const event of answer.data) {
        if (this.known.has(event.id)) { reachedKnown = true; break; }
        fresh.push(event);
      }
      if (reachedKnown || !answer.has_more || !answer.data.length) break;
      after = answer.data.at(-1).id;
    }
    fresh.reverse();
    for (const event of fresh) this.known.add(event.id);
    this.events.push(...fresh);
  }

  series() {
    const losses = [];
    const maps = [];
    for (const event of this.events) {
      const data = event.data;
      if (event.type !== "metrics" || !data) continue;
      // A scored setting of the selection: listed in the log, not a point of the final training.
      if (data.candidate !== null && data.candidate !== undefined) continue;
      if (data.validation_map !== null && data.validation_map !== undefined) {
        maps.push({ step: data.step ?? 0, epoch: data.epoch, map: data.validation_map });
      } else if (data.loss !== null && data.loss !== undefined) {
        losses.push({ step: data.step ?? 0, loss: data.loss });
      }
    }
    return { losses, maps };
  }

  render() {
    const job = this.job;
    const p = job.progress ?? {};
    const finished = TERMINAL.has(job.status);
    replace(this.header,
      h("p", { class: "job-title" },
        h("span", { class: `badge status-${job.status}`, id: "job-status", "data-status": job.status }, STATUS_TEXT[job.status] ?? job.status),
        " ", h("code", {}, job.id)),
      h("p", { class: "hint" }, `${job.method?.toUpperCase?.() ?? ""} on dataset ${job.dataset} with model ${job.model}, seed ${job.seed} · created ${timestamp(job.created_at)}`));

    const stepFraction = p.steps ? p.step / p.steps : 0;
    const elapsed = job.started_at ? (job.finished_at ?? Date.now() / 1000) - job.started_at : null;
    const facts = [
      `epoch ${p.epoch ?? 0} of ${p.epochs ?? "?"}`,
      `step ${p.step ?? 0} of ${p.steps || "?"}`,
      elapsed !== null ? `elapsed ${duration(elapsed)}` : null,
      !finished && p.eta_seconds !== null && p.eta_seconds !== undefined ? `about ${duration(p.eta_seconds)} left` : null,
    ].filter(Boolean);
    const metrics = job.metrics;
    replace(this.progress,
      h("progress", { max: 1, value: finished && job.status === "succeeded" ? 1 : stepFraction, "aria-label": "Job progress" }),
      h("p", { class: "job-facts", id: "job-facts" }, facts.join(" · ")),
      metrics ? h("p", { class: "job-metrics" }, h("strong", {}, `Validation mAP ${percent(metrics.validation_map)}`),
        ` · head ${percent(metrics.validation_head_map)} · medium ${percent(metrics.validation_medium_map)}`
        + ` · tail ${percent(metrics.validation_tail_map)} · CF1 ${percent(metrics.validation_cf1)} · OF1 ${percent(metrics.validation_of1)}`
        + ` on ${metrics.validation_images} images`) : null,
      job.error ? h("div", { class: "alert error", role: "alert" },
        h("p", { class: "alert-title" }, "The job failed"),
        h("p", { class: "server-message" }, h("span", { class: "label" }, "Server: "), job.error.message),
        h("p", { class: "facts" }, "code ", h("code", {}, job.error.code), job.error.param ? [" · field ", h("code", {}, job.error.param)] : "")) : null);

    this.cancelButton.disabled = finished || job.cancel_requested;
    this.cancelButton.textContent = job.cancel_requested && !finished ? "Cancelling…" : "Cancel job";
    this.cancelButton.hidden = finished;
    this.actions.querySelector(".results-link")?.remove();
    if (job.status === "succeeded" && job.prompt_set) {
      this.actions.append(h("a", { class: "button results-link", href: `#results/${encodeURIComponent(job.id)}`, id: "open-results" },
        "Open results"));
    }

    const { losses, maps } = this.series();
    mountResponsive(this.chart, (width) => trainingChart({ losses, maps, totalSteps: p.steps }, width));

    this.renderLog();
  }

  // The log is a live region: new lines are appended (and old ones dropped), never redrawn.
  renderLog() {
    const shown = new Set([...this.log.children].map((li) => li.dataset.event));
    const lines = this.events.filter((event) => event.type === "message" || event.data?.validation_map != null);
    for (const event of lines.slice(-LOG_LINES)) {
      if (shown.has(event.id)) continue;
      const time = new Date(event.created_at * 1000);
      this.log.append(h("li", { class: `level-${event.level}`, "data-event": event.id },
        h("time", { datetime: time.toISOString() }, time.toLocaleTimeString()), " ", event.message));
    }
    while (this.log.children.length > LOG_LINES) this.log.firstElementChild.remove();
  }

  async cancel() {
    this.cancelButton.disabled = true;
    try {
      this.job = await post(`/v1/tuning/jobs/${encodeURIComponent(this.jobID)}/cancel`, {});
      this.render();
    } catch (error) {
      showError(this.messages, error, "Cancelling");
      this.cancelButton.disabled = false;
    }
  }
}
