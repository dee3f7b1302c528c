// Number, size, time and duration formatting for the page.

const numberFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });

export function integer(value) {
  return numberFormat.format(value);
}

export function fixed(value, digits = 2) {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : Number(value).toFixed(digits);
}

// A percentage metric (the server reports mAP and AP in percent already).
export function percent(value, digits = 1) {
  return value === null || value === undefined ? "—" : `${Number(value).toFixed(digits)}`;
}

export function bytes(count) {
  if (count === null || count === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function pixels(count) {
  return count >= 1e6 ? `${(count / 1e6).toFixed(count % 1e6 === 0 ? 0 : 1)} MP` : `${integer(count)} px`;
}

export function milliseconds(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return duration(ms / 1000);
}

// 75 → "1 min 15 s"; 3700 → "1 h 1 min".
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// Unix seconds → local date and time.
export function timestamp(unixSeconds) {
  if (!unixSeconds) return "—";
  return new Date(unixSeconds * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
