// The page's entry point: starts each part and shows one view at a time from the address
// (#tag, #tune, #results or #results/<job id>), so views can be linked and the back button works.

import { byId } from "./dom.js";
import { startStatusStrip, refresh as refreshStatus } from "./status-strip.js";
import { startApiKeyField } from "./api-key.js";
import { startTagView, refreshPromptSets } from "./tag-view.js";
import { startTuneView, showTuneView, onJobEnd } from "./tune-view.js";
import { startResultsView, showResultsView } from "./results-view.js";

const VIEWS = ["tag", "tune", "results"];

function route({ focus }) {
  const [name, ...rest] = location.hash.replace(/^#/, "").split("/");
  const view = VIEWS.includes(name) ? name : "tag";
  for (const candidate of VIEWS) byId(`view-${candidate}`).hidden = candidate !== view;
  for (const link of document.querySelectorAll(".tabs a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view === "tag") refreshPromptSets();
  if (view === "tune") showTuneView();
  if (view === "results") showResultsView(rest.length ? decodeURIComponent(rest.join("/")) : undefined);
  // Moving between views moves the keyboard focus to the new view's heading.
  if (focus) byId(`${view}-title`).focus();
}

startStatusStrip();
startApiKeyField();
startTagView();
startTuneView();
startResultsView({ onPromptSetChanged: () => { refreshStatus(); refreshPromptSets(); } });
onJobEnd(() => { refreshStatus(); refreshPromptSets(); });
window.addEventListener("hashchange", () => route({ focus: true }));
route({ focus: false });
