// The API key field: kept in this tab's session storage (gone when the tab closes), sent by api.js
// as `Authorization: Bearer <key>`. Opens itself when the server says keys are required and none is set.

import { byId } from "./dom.js";
import { apiKey } from "./api.js";
import { onServerInfo } from "./status-strip.js";

export function startApiKeyField() {
  const details = byId("api-key");
  const input = byId("api-key-input");
  const state = byId("api-key-state");
  const hint = byId("api-key-hint");

  const show = () => {
    const key = apiKey.get();
    state.textContent = key ? `set (…${key.slice(-4)})` : "none";
    input.value = key;
  };
  show();
  apiKey.onChange(show);

  byId("api-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    apiKey.set(input.value.trim());
    details.open = false;
  });
  byId("api-key-forget").addEventListener("click", () => {
    apiKey.set("");
    input.focus();
  });
  onServerInfo((info) => {
    if (info.auth_required) {
      hint.textContent = "This server requires an API key for tagging, uploads, jobs and changes.";
      if (!apiKey.get() && !details.dataset.prompted) {
        details.dataset.prompted = "true";
        details.open = true;
      }
    } else {
      hint.textContent = "This server accepts requests without a key.";
    }
  });
}
