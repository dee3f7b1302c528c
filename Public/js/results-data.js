// Reads a finished job's results out of the job object and its prompt set, in one place, so the
// views do not depend on where the server keeps each number.
//
// Group mAPs: the prompt set's `metrics` (map, head_map, medium_map, tail_map), else the job's
// `metrics` (validation_map, validation_head_map, …).
// Per-class AP: the prompt set's `metrics.per_class`, the rows of its evaluation report
// ({class, ap, group, count, …}, AP in percent, null without a validation positive).
// Zero-shot: the prompt set's `metrics.zero_shot`, the same report for the frozen model with
// "a photo of a {class}." prompts on the same validation images ({map, head_map, medium_map,
// tail_map, per_class}).

const GROUP_KEYS = ["map", "head_map", "medium_map", "tail_map"];

export function readResults(job, promptSet) {
  const metrics = promptSet.metrics ?? null;
  const jobMetrics = job.metrics ?? {};
  const tuned = {};
  for (const key of GROUP_KEYS) {
    tuned[key] = metrics?.[key] ?? jobMetrics[`validation_${key}`] ?? null;
  }
  const perClass = indexByClass(metrics?.per_class);
  const zero = metrics?.zero_shot ?? null;
  const zeroPerClass = indexByClass(zero?.per_class);
  const zeroShot = zero ? Object.fromEntries(GROUP_KEYS.map((key) => [key, zero[key] ?? null])) : null;

  const rows = promptSet.classes.map((entry) => {
    const row = perClass?.get(entry.name);
    const zeroRow = zeroPerClass?.get(entry.name);
    return {
      name: entry.name,
      group: entry.group ?? row?.group ?? "tail",
      count: entry.training_count ?? row?.count ?? null,
      ap: row?.ap ?? null,
      zeroShotAp: zeroRow?.ap ?? null,
    };
  });
  return {
    tuned,
    zeroShot,
    rows,
    hasPerClass: Boolean(perClass),
    hasZeroShot: Boolean(zeroPerClass),
    images: metrics?.image_count ?? jobMetrics.validation_images ?? null,
  };
}

function indexByClass(rows) {
  if (!Array.isArray(rows)) return null;
  return new Map(rows.map((row) => [row.class ?? row.name, row]));
}
