// The page's "other models" series: what each bucket's totals hold beyond the
// top models the API sent (src/dashboard/page/over-time-series.js, plain ESM
// the browser loads; here run as it is).
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the page, without type declarations.
import { OTHER, withOtherModels } from "../../src/dashboard/page/over-time-series.js";

const figures = (calls: number, ok: number, prompt: number, completion: number, cost: number) => ({
  total_calls: calls,
  successful_calls: ok,
  failed_calls: calls - ok,
  total_prompt_tokens: prompt,
  total_completion_tokens: completion,
  total_tokens: prompt + completion,
  total_cost_usd: cost,
});

describe("withOtherModels", () => {
  it("adds after each bucket's top models the rest of its totals, and nothing where the top models made every call", () => {
    const top = [
      { bucket_start: "2026-03-01T00:00:00Z", model: "a", ...figures(5, 4, 500, 50, 0.3) },
      { bucket_start: "2026-03-01T00:00:00Z", model: "b", ...figures(2, 2, 100, 10, 0.1) },
      { bucket_start: "2026-03-01T01:00:00Z", model: "a", ...figures(1, 1, 10, 1, 0.01) },
      { bucket_start: "2026-03-01T01:00:00Z", model: "b", ...figures(0, 0, 0, 0, 0) },
    ];
    const totals = [
      { bucket_start: "2026-03-01T00:00:00Z", ...figures(10, 7, 900, 90, 0.7) },
      { bucket_start: "2026-03-01T01:00:00Z", ...figures(1, 1, 10, 1, 0.01) },
    ];
    const entries = withOtherModels(top, totals);
    expect(entries.map((entry: { model: string }) => entry.model)).toEqual(["a", "b", OTHER, "a", "b"]);
    // 0.7 − 0.3 − 0.1 is 0.29999999999999993 in floating point: rounded at the rollup's scale (10 digits).
    expect(entries[2]).toEqual({ bucket_start: "2026-03-01T00:00:00Z", model: OTHER, ...figures(3, 1, 300, 30, 0.3) });
  });

  it("keeps buckets in the totals' order and gives a bucket without top-model entries all of its totals", () => {
    const totals = [{ bucket_start: "2026-03-02T00:00:00+05:30", ...figures(4, 3, 40, 4, 0.02) }];
    expect(withOtherModels([], totals)).toEqual([{ bucket_start: "2026-03-02T00:00:00+05:30", model: OTHER, ...figures(4, 3, 40, 4, 0.02) }]);
  });
});
