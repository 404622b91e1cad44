// `/api/over-time?format=columns`: getStatsOverTime's entries reshaped into one
// array per figure and series, so a field name travels once per series, not once
// per entry (the page's hourly week by model: 1,183 entries of 12 fields).
import type { OverTimeStats } from "../stats/index.js";
import type { OverTimeKeyField } from "../stats/stats-options.js";

/** One series: its key (under the key field, when grouped), then each figure as one value per bucket. */
export type OverTimeSeriesColumns = Record<string, string | null | number[]>;

export interface OverTimeColumns {
  /** Each bucket's `bucket_start`, ascending. */
  bucket_start: string[];
  /** In the order getStatsOverTime ranks them; exactly one (without a key) when not grouped, none when there are no entries. */
  series: OverTimeSeriesColumns[];
}

/**
 * `entries` (bucket-major: every bucket holds every series, in the same order,
 * as getStatsOverTime lays them out) as columns. The series are those of the
 * first bucket; an entry out of that layout is a broken contract, so it throws
 * rather than answer columns that would rebuild into other entries.
 */
export function overTimeColumns(entries: readonly OverTimeStats[], keyField: OverTimeKeyField | undefined): OverTimeColumns {
  const first = entries[0];
  if (!first) return { bucket_start: [], series: [] };
  let seriesCount = 1;
  if (keyField) while (seriesCount < entries.length && entries[seriesCount]!.bucket_start === first.bucket_start) seriesCount += 1;
  const bucketCount = entries.length / seriesCount;
  if (!Number.isInteger(bucketCount)) throw new Error(`over-time entries: ${entries.length} entries are not ${seriesCount} series per bucket`);

  const figures = Object.keys(first).filter((name) => name !== "bucket_start" && name !== keyField) as (keyof OverTimeStats)[];
  const keys = entries.slice(0, seriesCount).map((entry) => (keyField ? entry[keyField] : undefined));
  const series = keys.map((key) => {
    const columns: OverTimeSeriesColumns = keyField ? { [keyField]: key ?? null } : {};
    for (const figure of figures) columns[figure] = new Array<number>(bucketCount);
    return columns;
  });
  const bucketStart = new Array<string>(bucketCount);
  for (let b = 0; b < bucketCount; b += 1) {
    bucketStart[b] = entries[b * seriesCount]!.bucket_start;
    for (let s = 0; s < seriesCount; s += 1) {
      const entry = entries[b * seriesCount + s]!;
      if (entry.bucket_start !== bucketStart[b] || (keyField && entry[keyField] !== keys[s])) {
        throw new Error(`over-time entry ${b * seriesCount + s} is out of the bucket-major layout (bucket ${b}, series ${s})`);
      }
      const columns = series[s]!;
      for (const figure of figures) (columns[figure] as number[])[b] = entry[figure] as number;
    }
  }
  return { bucket_start: bucketStart, series };
}
