// LLM_TRACKER_BUDGETS: parsed once, from configure() or JSON text in the environment; a bad entry names its field.
import { afterEach, describe, expect, it } from "vitest";
import { configure, getTrackerSettings, resetConfiguration } from "../../src/config/settings.js";
import { ConfigError } from "../../src/errors/config-error.js";

afterEach(() => resetConfiguration());

describe("LLM_TRACKER_BUDGETS", () => {
  it("is empty by default and parses JSON text, defaulting time_zone to UTC and key to every user / node", () => {
    expect(getTrackerSettings().budgets).toEqual([]);
    configure({ LLM_TRACKER_BUDGETS: '[{"scope":"user","period":"day","limit_usd":5},{"scope":"global","key":"ignored","period":"month","limit_usd":100,"time_zone":"Asia/Shanghai"}]' });
    expect(getTrackerSettings().budgets).toEqual([
      { scope: "user", key: null, period: "day", limitUsd: 5, timeZone: "UTC" },
      { scope: "global", key: null, period: "month", limitUsd: 100, timeZone: "Asia/Shanghai" },
    ]);
    expect(getTrackerSettings().budgetCacheMs).toBe(250);
  });

  it.each([
    ['[{"scope":"team","period":"day","limit_usd":1}]', "LLM_TRACKER_BUDGETS.0.scope"],
    ['[{"scope":"user","period":"week","limit_usd":1}]', "LLM_TRACKER_BUDGETS.0.period"],
    ['[{"scope":"user","period":"day","limit_usd":-1}]', "LLM_TRACKER_BUDGETS.0.limit_usd"],
    ['[{"scope":"user","period":"day","limit_usd":1,"time_zone":"UTC+8"}]', "LLM_TRACKER_BUDGETS.0.time_zone"],
    ['[{"scope":"user","period":"day","limit_usd":1,"limit":2}]', "LLM_TRACKER_BUDGETS.0"],
    ["{not json", "LLM_TRACKER_BUDGETS"],
  ])("refuses %s, naming %s", (text, key) => {
    configure({ LLM_TRACKER_BUDGETS: text });
    expect(() => getTrackerSettings()).toThrow(ConfigError);
    try {
      getTrackerSettings();
    } catch (error) {
      expect((error as ConfigError).key).toBe(key);
    }
  });
});
