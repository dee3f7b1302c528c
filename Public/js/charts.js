// The page's charts, drawn as SVG at the width they are shown: label scores against thresholds,
// a dataset's class counts (the long tail), a job's loss and validation mAP, and per-class AP
// beside zero-shot AP. Colours come from the stylesheet (classes), and every chart has a text
// summary for screen readers (role="img" with aria-label, and <title> on its marks).

import { s } from "./dom.js";

const GROUPS = ["head", "medium", "tail"];
const GROUP_NAMES = { head: "Head", medium: "Medium", tail: "Tail" };

// Round tick values from 0 to at least `max`.
export function niceTicks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough);
  const ticks = [];
  for (let value = 0; value < max + step * 0.999; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

function svgRoot(width, height, label, extraClass) {
  return s("svg", {
    class: `chart ${extraClass}`, width, height, viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": label, xmlns: "http://www.w3.org/2000/svg",
  });
}

// Shortens a label to about `maxChars` characters (the full name stays in the mark's <title>).
function clip(text, maxChars) {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(1, maxChars - 1))}…`;
}

// ---------------------------------------------------------------------------------------------
// Label scores: one row per label, a bar of its score (0…1) and a tick at its threshold.

export function labelScoreChart(labels, width) {
  const rowHeight = 26;
  const top = 22;
  const labelWidth = Math.min(150, Math.round(width * 0.36));
  const valueWidth = 74;
  const barLeft = labelWidth + 6;
  const barWidth = Math.max(60, width - barLeft - valueWidth);
  const height = top + labels.length * rowHeight + 4;
  const present = labels.filter((label) => label.present).map((label) => label.label);
  const summary = labels.length === 0 ? "no labels"
    : `${labels.length} labels; present: ${present.length ? present.join(", ") : "none"}. `
      + labels.map((l) => `${l.label} ${l.score.toFixed(2)} (threshold ${l.threshold.toFixed(2)})`).join("; ");
  const svg = svgRoot(width, height, summary, "label-chart");
  const x = (value) => barLeft + Math.max(0, Math.min(1, value)) * barWidth;

  // Scale: 0, 0.5, 1 along the top.
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s("line", { class: "grid", x1: x(tick), x2: x(tick), y1: top - 4, y2: height - 4 }));
    if (tick % 0.5 === 0) {
      svg.append(s("text", { class: "axis-label", x: x(tick), y: top - 8, "text-anchor": "middle" }, String(tick)));
    }
  }
  labels.forEach((label, index) => {
    const y = top + index * rowHeight;
    const mid = y + rowHeight / 2;
    const state = label.present ? "present" : "absent";
    const row = s("g", { class: `label-row ${state}`, "data-label": label.label },
      s("title", {}, `${label.label}: score ${label.score.toFixed(3)}, threshold ${label.threshold.toFixed(3)}, ${label.present ? "present" : "not present"}`));
    row.append(s("text", { class: "row-label", x: labelWidth, y: mid + 4, "text-anchor": "end" },
      `${label.present ? "✓ " : ""}${clip(label.label, Math.floor(labelWidth / 7.5))}`));
    row.append(s("rect", { class: "track", x: barLeft, y: y + 5, width: barWidth, height: rowHeight - 10, rx: 3 }));
    row.append(s("rect", {
      class: `bar score-bar ${state}`, x: barLeft, y: y + 5, width: Math.max(1, x(label.score) - barLeft),
      height: rowHeight - 10, rx: 3, "data-score": label.score,
    }));
    row.append(s("line", { class: "threshold", x1: x(label.threshold), x2: x(label.threshold), y1: y + 2, y2: y + rowHeight - 2 }));
    row.append(s("text", { class: `row-value ${state}`, x: barLeft + barWidth + 6, y: mid + 4 },
      `${label.score.toFixed(2)}${label.present ? " ✓" : ""}`));
    svg.append(row);
  });
  return svg;
}

// ---------------------------------------------------------------------------------------------
// Class counts: one bar per class, most images first, coloured by head / medium / tail, with the
// group bounds as dashed lines.

export function classCountChart(classes, bounds, width) {
  const sorted = [...classes].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const longest = Math.max(4, ...sorted.map((c) => Math.min(18, c.name.length)));
  const left = 46;
  const right = 10;
  const top = 34;
  const bottom = Math.round(longest * 5.4 + 18);
  const plotWidth = Math.max(40, width - left - right);
  const plotHeight = 200;
  const height = top + plotHeight + bottom;
  const max = Math.max(1, ...sorted.map((c) => c.count));
  const ticks = niceTicks(max, 4);
  const yMax = ticks[ticks.length - 1];
  const y = (value) => top + plotHeight - (value / yMax) * plotHeight;
  const slot = plotWidth / Math.max(1, sorted.length);
  const barWidth = Math.max(2, Math.min(48, slot * 0.78));

  const groupCounts = GROUPS.map((g) => `${sorted.filter((c) => c.group === g).length} ${g}`).join(", ");
  const svg = svgRoot(width, height,
    `Images per class, ${sorted.length} classes (${groupCounts}): `
      + sorted.map((c) => `${c.name} ${c.count} (${c.group})`).join(", "),
    "count-chart");

  legend(svg, left, 14, GROUPS.map((g) => ({ cls: `group-${g}`, text: `${GROUP_NAMES[g]} (${sorted.filter((c) => c.group === g).length})` })));
  for (const tick of ticks) {
    svg.append(s("line", { class: "grid", x1: left, x2: left + plotWidth, y1: y(tick), y2: y(tick) }));
    svg.append(s("text", { class: "axis-label", x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, String(tick)));
  }
  svg.append(s("text", { class: "axis-title", x: 12, y: top + plotHeight / 2, transform: `rotate(-90 12 ${top + plotHeight / 2})`,
    "text-anchor": "middle" }, "images"));
  for (const [key, name] of [["head_minimum", "head"], ["medium_minimum", "medium"]]) {
    const value = bounds?.[key];
    if (!value || value > yMax) continue;
    svg.append(s("line", { class: "bound", x1: left, x2: left + plotWidth, y1: y(value), y2: y(value) }));
    svg.append(s("text", { class: "bound-label", x: left + plotWidth - 2, y: y(value) - 4, "text-anchor": "end" }, `${name} ≥ ${value}`));
  }
  sorted.forEach((entry, index) => {
    const cx = left + slot * (index + 0.5);
    const barTop = Math.min(y(entry.count), top + plotHeight - 2);
    const g = s("g", { class: "count-column", "data-class": entry.name },
      s("title", {}, `${entry.name}: ${entry.count} images (${entry.group})`),
      s("rect", { class: `bar count-bar group-${entry.group}`, x: cx - barWidth / 2, y: barTop, width: barWidth,
        height: top + plotHeight - barTop, "data-count": entry.count }));
    if (slot >= 20) {
      g.append(s("text", { class: "bar-value", x: cx, y: barTop - 4, "text-anchor": "middle" }, String(entry.count)));
    }
    const labelY = top + plotHeight + 10;
    g.append(s("text", { class: "axis-label class-label", x: cx, y: labelY, "text-anchor": "end",
      transform: `rotate(-55 ${cx} ${labelY})` }, clip(entry.name, 18)));
    svg.append(g);
  });
  svg.append(s("line", { class: "axis", x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight }));
  return svg;
}

function legend(svg, x, y, items) {
  let offset = x;
  for (const item of items) {
    svg.append(s("rect", { class: `legend-swatch ${item.cls}`, x: offset, y: y - 9, width: 12, height: 12, rx: 2 }));
    svg.append(s("text", { class: "legend-text", x: offset + 17, y: y + 1 }, item.text));
    offset += 17 + item.text.length * 7 + 16;
  }
}

// ---------------------------------------------------------------------------------------------
// Training: loss per step (left axis) and validation mAP per epoch (right axis, percent).

export function trainingChart({ losses, maps, totalSteps }, width) {
  const left = 48;
  const right = 46;
  const top = 30;
  const bottom = 34;
  const plotWidth = Math.max(60, width - left - right);
  const plotHeight = 190;
  const height = top + plotHeight + bottom;
  const lastStep = Math.max(1, totalSteps || 0, ...losses.map((p) => p.step), ...maps.map((p) => p.step));
  const lossTicks = losses.length ? niceTicks(Math.max(1e-6, ...losses.map((p) => p.loss)) * 1.05, 4) : [0, 0.5, 1];
  const lossMax = lossTicks[lossTicks.length - 1];
  const x = (step) => left + (step / lastStep) * plotWidth;
  const yLoss = (loss) => top + plotHeight - (loss / lossMax) * plotHeight;
  const yMap = (map) => top + plotHeight - (map / 100) * plotHeight;

  const lastLoss = losses.at(-1);
  const bestMap = maps.length ? Math.max(...maps.map((p) => p.map)) : null;
  const summary = `Training: ${losses.length} loss points`
    + (lastLoss ? `, latest loss ${lastLoss.loss.toFixed(4)} at step ${lastLoss.step} of ${lastStep}` : "")
    + (maps.length ? `; validation mAP after ${maps.length} epochs, latest ${maps.at(-1).map.toFixed(1)}, best ${bestMap.toFixed(1)}` : "; no validation mAP yet");
  const svg = svgRoot(width, height, summary, "training-chart");
  legend(svg, left, 14, [{ cls: "loss-swatch", text: "loss" }, { cls: "map-swatch", text: "validation mAP (%)" }]);

  for (const tick of lossTicks) {
    svg.append(s("line", { class: "grid", x1: left, x2: left + plotWidth, y1: yLoss(tick), y2: yLoss(tick) }));
    svg.append(s("text", { class: "axis-label loss-axis", x: left - 6, y: yLoss(tick) + 4, "text-anchor": "end" }, formatTick(tick)));
  }
  for (const tick of [0, 25, 50, 75, 100]) {
    svg.append(s("text", { class: "axis-label map-axis", x: left + plotWidth + 6, y: yMap(tick) + 4 }, String(tick)));
  }
  for (const tick of niceTicks(lastStep, 5)) {
    if (tick > lastStep || !Number.isInteger(tick) || (lastStep === 1 && !totalSteps)) continue;
    svg.append(s("text", { class: "axis-label", x: x(tick), y: top + plotHeight + 16, "text-anchor": "middle" }, String(tick)));
  }
  svg.append(s("text", { class: "axis-title", x: left + plotWidth / 2, y: height - 2, "text-anchor": "middle" }, "step"));
  svg.append(s("line", { class: "axis", x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight }));

  if (losses.length) {
    svg.append(s("polyline", { class: "loss-line", points: losses.map((p) => `${x(p.step).toFixed(1)},${yLoss(p.loss).toFixed(1)}`).join(" ") }));
    // Points too, while there are few of them (a line of one point is invisible).
    for (const point of losses.length <= 40 ? losses : [losses.at(-1)]) {
      svg.append(s("circle", { class: "loss-point", cx: x(point.step), cy: yLoss(point.loss), r: 2.5 },
        s("title", {}, `step ${point.step}: loss ${point.loss.toFixed(4)}`)));
    }
  }
  if (maps.length) {
    svg.append(s("polyline", { class: "map-line", points: maps.map((p) => `${x(p.step).toFixed(1)},${yMap(p.map).toFixed(1)}`).join(" ") }));
    for (const point of maps) {
      svg.append(s("circle", { class: "map-point", cx: x(point.step), cy: yMap(point.map), r: 3.5 },
        s("title", {}, `epoch ${point.epoch}: validation mAP ${point.map.toFixed(2)}`)));
    }
  }
  if (!losses.length && !maps.length) {
    svg.append(s("text", { class: "empty-note", x: left + plotWidth / 2, y: top + plotHeight / 2, "text-anchor": "middle" },
      "waiting for the first training step…"));
  }
  return svg;
}

function formatTick(value) {
  return value >= 10 || value === 0 ? String(value) : value.toPrecision(2);
}

// ---------------------------------------------------------------------------------------------
// Per-class AP: classes grouped head / medium / tail, each with its tuned AP bar and, below it,
// the zero-shot AP of the same class (both in percent). A class without a validation positive has
// no AP and says so instead of a bar.

export function apChart(rows, width, { hasZeroShot }) {
  const labelWidth = Math.min(150, Math.round(width * 0.34));
  const valueWidth = 46;
  const barLeft = labelWidth + 8;
  const barWidth = Math.max(60, width - barLeft - valueWidth);
  const barHeight = 11;
  const classHeight = hasZeroShot ? 2 * barHeight + 12 : barHeight + 12;
  const headerHeight = 28;
  const top = 40;
  const groups = GROUPS.map((group) => ({ group, classes: rows.filter((r) => r.group === group) })).filter((g) => g.classes.length);
  const height = top + groups.reduce((sum, g) => sum + headerHeight + g.classes.length * classHeight, 0) + 8;
  const x = (ap) => barLeft + (Math.max(0, Math.min(100, ap)) / 100) * barWidth;

  const summary = `Average precision per class, tuned${hasZeroShot ? " and zero-shot" : ""}: `
    + rows.map((r) => `${r.name} (${r.group}) ${r.ap === null ? "no validation positive" : r.ap.toFixed(1)}`
      + (hasZeroShot && r.zeroShotAp !== null ? ` vs ${r.zeroShotAp.toFixed(1)} zero-shot` : "")).join("; ");
  const svg = svgRoot(width, height, summary, "ap-chart");
  // The tuned bars take their group's colour: the legend's swatch shows the three.
  GROUPS.forEach((group, i) => svg.append(s("rect", { class: `legend-swatch group-${group}`, x: barLeft + i * 4, y: 5, width: 4, height: 12 })));
  svg.append(s("text", { class: "legend-text", x: barLeft + 17, y: 15 }, "tuned"));
  if (hasZeroShot) {
    svg.append(s("rect", { class: "legend-swatch zero-shot-swatch", x: barLeft + 70, y: 5, width: 12, height: 12, rx: 2 }));
    svg.append(s("text", { class: "legend-text", x: barLeft + 87, y: 15 }, "zero-shot (frozen model)"));
  }
  for (const tick of [0, 25, 50, 75, 100]) {
    svg.append(s("line", { class: "grid", x1: x(tick), x2: x(tick), y1: top - 6, y2: height - 6 }));
    svg.append(s("text", { class: "axis-label", x: x(tick), y: top - 10, "text-anchor": "middle" }, String(tick)));
  }

  let y = top;
  for (const { group, classes } of groups) {
    const header = s("g", { class: `group-header group-${group}`, "data-group": group });
    header.append(s("rect", { class: `legend-swatch group-${group}`, x: 0, y: y + 9, width: 12, height: 12, rx: 2 }));
    header.append(s("text", { class: "group-title", x: 18, y: y + 20 }, `${GROUP_NAMES[group]} (${classes.length})`));
    svg.append(header);
    y += headerHeight;
    for (const row of classes) {
      const g = s("g", { class: "ap-row", "data-class": row.name },
        s("title", {}, `${row.name} (${row.group}, ${row.count ?? "?"} training images): AP ${row.ap === null ? "—" : row.ap.toFixed(2)}`
          + (hasZeroShot ? `, zero-shot AP ${row.zeroShotAp === null ? "—" : row.zeroShotAp.toFixed(2)}` : "")));
      g.append(s("text", { class: "row-label", x: labelWidth, y: y + barHeight + 1, "text-anchor": "end" },
        clip(row.name, Math.floor(labelWidth / 7.5))));
      const bars = [{ value: row.ap, cls: `tuned group-${row.group}`, offset: 0 }];
      if (hasZeroShot && (row.ap !== null || row.zeroShotAp !== null)) bars.push({ value: row.zeroShotAp, cls: "zero-shot", offset: barHeight + 2 });
      for (const bar of bars) {
        if (bar.value === null || bar.value === undefined) {
          g.append(s("text", { class: "no-value", x: barLeft + 4, y: y + bar.offset + barHeight - 1 }, "no validation positive"));
          continue;
        }
        g.append(s("rect", { class: `bar ap-bar ${bar.cls}`, x: barLeft, y: y + bar.offset, width: Math.max(1, x(bar.value) - barLeft),
          height: barHeight, rx: 2, "data-ap": bar.value }));
        g.append(s("text", { class: "row-value", x: x(bar.value) + 4, y: y + bar.offset + barHeight - 1 }, bar.value.toFixed(1)));
      }
      svg.append(g);
      y += classHeight;
    }
  }
  return svg;
}
