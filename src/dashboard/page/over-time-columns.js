// The page asks /api/over-time with `format=columns` (each figure one array per
// series: a field name travels once per series, not once per entry) and turns
// the answer back into getStatsOverTime's entries, which the rest of the page uses.

/**
 * `columns` (`{ bucket_start: [...], series: [{ <key>, <figure>: [...] }] }`) as
 * entries, bucket-major: each bucket's series in the answer's order, each entry
 * `bucket_start`, then the series' key (the one field that is not an array), then
 * its figures, in the order the series lists them — as `format=entries` answers.
 */
export function entriesFromColumns(columns) {
  const series = columns.series.map((one) => Object.entries(one));
  const entries = [];
  columns.bucket_start.forEach((bucketStart, b) => {
    for (const fields of series) {
      const entry = { bucket_start: bucketStart };
      for (const [name, value] of fields) entry[name] = Array.isArray(value) ? value[b] : value;
      entries.push(entry);
    }
  });
  return entries;
}
