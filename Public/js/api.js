// Talking to the TagTune server: the API key (kept in this tab's session storage and sent as a
// bearer token), JSON requests, uploads with progress, and the one error shape
// {"error": {"message", "type", "code", "param"}} turned into an ApiError the page can explain.

const KEY_NAME = "tagtune.api_key";

export const apiKey = {
  get() {
    try { return sessionStorage.getItem(KEY_NAME) ?? ""; } catch { return ""; }
  },
  set(value) {
    try {
      if (value) sessionStorage.setItem(KEY_NAME, value);
      else sessionStorage.removeItem(KEY_NAME);
    } catch { /* storage disabled: the key lives until the page is left */ }
    listeners.forEach((listener) => listener(value));
  },
  onChange(listener) { listeners.push(listener); },
};
const listeners = [];

// An error answer of the server (or a failure to reach it: status 0).
export class ApiError extends Error {
  constructor({ status, message, type = null, code = null, param = null, problems = [], totalProblems = 0,
                requestID = null, retryAfter = null, method = "GET", path = "" }) {
    super(message);
    this.name = "ApiError";
    Object.assign(this, { status, type, code, param, problems, totalProblems, requestID, retryAfter, method, path });
  }
}

function headers(extra = {}) {
  const result = { Accept: "application/json", ...extra };
  const key = apiKey.get();
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

// Reads an error answer whatever its body; the server's own message wins when it sent the shape.
function errorFrom(status, text, { requestID, retryAfter, method, path }) {
  let detail = null;
  try { detail = JSON.parse(text)?.error ?? null; } catch { /* not JSON: a proxy's page, say */ }
  return new ApiError({
    status,
    message: detail?.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`),
    type: detail?.type ?? null,
    code: detail?.code ?? null,
    param: detail?.param ?? null,
    problems: Array.isArray(detail?.problems) ? detail.problems : [],
    totalProblems: detail?.total_problems ?? 0,
    requestID, retryAfter, method, path,
  });
}

// request("GET", "/v1/models") → parsed JSON; throws ApiError.
// options: json (a body to send as JSON), body + contentType (anything fetch takes), signal.
export async function request(method, path, options = {}) {
  const extra = {};
  let body = options.body;
  if (options.json !== undefined) {
    extra["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.contentType) {
    extra["Content-Type"] = options.contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers: headers(extra), body, cache: "no-store", signal: options.signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError({ status: 0, message: `the server could not be reached (${error.message})`, method, path });
  }
  const text = await response.text();
  if (!response.ok) {
    throw errorFrom(response.status, text, {
      requestID: response.headers.get("X-Request-ID"), retryAfter: response.headers.get("Retry-After"), method, path,
    });
  }
  if (!text) return null;
  try { return JSON.parse(text); } catch {
    throw new ApiError({ status: response.status, message: "the server's answer is not JSON", method, path });
  }
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, json, options = {}) => request("POST", path, { ...options, json });
export const patch = (path, json, options = {}) => request("PATCH", path, { ...options, json });

// Sends a file as the raw body, reporting progress (fraction 0…1) while it uploads; fetch cannot.
export function upload(path, file, { contentType, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(headers({ "Content-Type": contentType || file.type || "application/octet-stream" }))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      const meta = {
        requestID: xhr.getResponseHeader("X-Request-ID"), retryAfter: xhr.getResponseHeader("Retry-After"),
        method: "POST", path,
      };
      if (xhr.status >= 200 && xhr.status < 300) {
        try { resolve(JSON.parse(xhr.responseText)); } catch {
          reject(new ApiError({ status: xhr.status, message: "the server's answer is not JSON", ...meta }));
        }
      } else {
        reject(errorFrom(xhr.status, xhr.responseText, meta));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError({
      status: 0, message: "the upload was cut off before the server answered (connection closed)", method: "POST", path,
    })));
    xhr.send(file);
  });
}

// What an error means for the person at the page, by status: a title, and what to do.
export function explain(error) {
  if (!(error instanceof ApiError)) {
    return { title: "Something went wrong in the page", advice: String(error?.message ?? error) };
  }
  const retry = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again in a moment.";
  switch (error.status) {
    case 0: return { title: "The server cannot be reached", advice: "Check that tagtune serve is running, then reload the page." };
    case 400: return { title: "The server could not read the request", advice: "" };
    case 401: return { title: "An API key is needed", advice: "Enter a valid key under “API key” at the top of the page." };
    case 403: return { title: "This key may not do that", advice: "" };
    case 404: return { title: "Not found", advice: "It may have been deleted, or the name is misspelt." };
    case 409: return { title: "Not possible right now", advice: "" };
    case 413: return { title: "Too large for this server", advice: "Send fewer or smaller files; the limits are in the status bar above." };
    case 415: return { title: "The server does not accept this kind of file", advice: "Photos must be JPEG or PNG; datasets a .zip." };
    case 422: return { title: "The server refused a value", advice: "" };
    case 429: return { title: "The server is busy", advice: `Too many requests at once.${retry}` };
    case 503: return { title: "The server is not ready", advice: `It may still be loading its model.${retry}` };
    default: return { title: `The server answered ${error.status}`, advice: "" };
  }
}
