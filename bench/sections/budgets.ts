// Budgets: what the check adds on the call path (the synchronous check every tracked
// call makes, warm, against the same call site with no budget configured, in the same
// run), what a cold check costs (one Redis round trip), how long a committed call takes
// to reach the spend the check reads (producer → queue → worker → Redis), and the
// overshoot actually seen when calls keep coming past a limit.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { BudgetExceededError } from "../../src/errors/budget-exceeded-error.js";
import { getBudgetGuard, closeBudgetGuard } from "../../src/budgets/default-guard.js";
import { periodAt } from "../../src/budgets/budget-periods.js";
import { periodHashKey, spendKeyBase } from "../../src/budgets/spend-keys.js";
import { configure, resetConfiguration, type Budget, type BudgetInput } from "../../src/config/settings.js";
import { createLogger } from "../../src/logger.js";
import { flush, shutdown } from "../../src/usage/default-producer.js";
import { LLMTracker } from "../../src/usage/tracker.js";
import { loadFixture, startFakeProvider } from "../../test/fake-provider/fake-provider.js";
import { TEST_REDIS_URL } from "../../test/support/services.js";
import { createTestDatabase } from "../../test/support/test-database.js";
import { obliterateQueue, testQueueName } from "../../test/support/test-queue.js";
import { startUsageWorker } from "../../workers/usage-worker.js";
import { fmt, percentile, sortedCopy, verdict, type Row } from "../support/figures.js";
import type { BenchSection } from "../support/section.js";

const BUDGETS: BudgetInput[] = [
  { scope: "global", period: "month", limit_usd: 1_000_000 },
  { scope: "user", period: "day", limit_usd: 1_000 },
  { scope: "node", key: "bench", period: "day", limit_usd: 1_000 },
];
/** Checks per timed sample: one check is ~the timer's resolution, so p50 comes from batches. */
const BATCH = 100;

/** ns per check: `samples` batches of BATCH checks, and `singles` single checks for the tail. */
function timeChecks(check: (i: number) => void, samples: number): { perCheckNs: number[]; singleNs: number[] } {
  const perCheckNs: number[] = [];
  const singleNs: number[] = [];
  for (let s = 0; s < samples; s += 1) {
    const start = performance.now();
    for (let i = 0; i < BATCH; i += 1) check(i);
    perCheckNs.push(((performance.now() - start) * 1e6) / BATCH);
    const one = performance.now();
    check(s);
    singleNs.push((performance.now() - one) * 1e6);
  }
  return { perCheckNs, singleNs };
}

interface OvershootRun {
  limitCalls: number;
  concurrency: number;
  made: number;
  rate: number;
  lagLoadMs: number;
  bound: number;
  spent: number;
}

/** Callers keep calling as one user until each is refused; how far past the limit did the spend go? */
async function measureOvershoot(o: {
  fakeUrl: string;
  enqueue: (reply: { delayMs: number; body: unknown }) => void;
  redis: Redis;
  dayHash: string;
  cost: number;
  cacheMs: number;
  common: Record<string, unknown>;
  user: string;
}): Promise<OvershootRun> {
  const limitCalls = 20;
  const concurrency = 8;
  const providerMs = 20;
  await shutdown();
  resetConfiguration();
  configure({
    ...o.common,
    LLM_PROVIDER: "openai",
    OPENAI_CONFIG: { api_key: "sk-bench-not-a-secret", base_url: `${o.fakeUrl}/v1`, model: "gpt-4.1-mini" },
    LLM_TRACKER_BUDGETS: [{ scope: "user", period: "day", limit_usd: o.cost * limitCalls }],
    LLM_TRACKER_BUDGET_CACHE_MS: o.cacheMs,
  });
  const reply = { delayMs: providerMs, body: loadFixture("openai/chat-completion-basic") };
  let made = 0;
  const ends: number[] = [];
  const limitUnits = Math.round(o.cost * limitCalls * 1e10);
  const spentUnits = async () => Number((await o.redis.hget(o.dayHash, `u:${o.user}`)) ?? "0");
  // When the spend the check reads first shows the limit reached (polled every 2 ms).
  let visibleAt = 0;
  let polling = true;
  const poller = (async () => {
    while (polling && visibleAt === 0) {
      if ((await spentUnits()) >= limitUnits) visibleAt = performance.now();
      else await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        o.enqueue(reply);
        try {
          await LLMTracker.callAndTrack({ messages: [{ role: "user", content: "hi" }], nodeName: "bench", state: { user_id: o.user } });
          made += 1;
          ends.push(performance.now());
        } catch (error) {
          if (!(error instanceof BudgetExceededError)) throw error;
          return;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  polling = false;
  await poller;
  // From the end of the call that reached the limit to the check's source showing it: the lag under this load.
  const lagLoadMs = visibleAt > 0 ? visibleAt - ends[limitCalls - 1]! : Number.NaN;
  await flush();
  // Once every call made has reached the spend: the overshoot in USD.
  while ((await spentUnits()) < Math.round(o.cost * made * 1e10) - 10) await new Promise((resolve) => setTimeout(resolve, 5));
  const rate = made / seconds;
  return { limitCalls, concurrency, made, rate, lagLoadMs, bound: concurrency + rate * ((lagLoadMs + o.cacheMs) / 1_000), spent: (await spentUnits()) / 1e10 };
}

const budgetsSection: BenchSection = {
  title: "budgets",
  async run({ quick }) {
    const rows: Row[] = [];
    const queueName = testQueueName();
    const spoolDir = await mkdtemp(join(tmpdir(), "llmt-bench-budget-spool-"));
    const redis = new Redis(TEST_REDIS_URL);
    const base = spendKeyBase("bull", queueName);
    const common = { REDIS_URL: TEST_REDIS_URL, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_SPOOL_DIR: spoolDir, LLM_TRACKER_HANDLE_SIGNALS: false, LLM_TRACKER_LOG_LEVEL: "warn" };
    const users = Array.from({ length: 64 }, (_, i) => `bench-user-${i}`);
    try {
      // ---- 1. the synchronous check, warm, vs no budgets (same call site, same run) ----
      const samples = quick ? 2_000 : 20_000;
      resetConfiguration();
      configure({ ...common, LLM_TRACKER_BUDGETS: BUDGETS });
      const guard = getBudgetGuard()!;
      for (const user of users) await guard.checkBeforeCall(user, "bench"); // warm: one read each
      const withBudgets = (i: number) => getBudgetGuard()?.check(users[i % users.length]!, "bench");
      resetConfiguration();
      configure({ ...common });
      const without = (i: number) => getBudgetGuard()?.check(users[i % users.length]!, "bench");
      // Interleave the two in rounds so drift (GC, frequency) lands on both alike.
      const on: { perCheckNs: number[]; singleNs: number[] } = { perCheckNs: [], singleNs: [] };
      const off: { perCheckNs: number[]; singleNs: number[] } = { perCheckNs: [], singleNs: [] };
      for (let round = 0; round < 10; round += 1) {
        resetConfiguration();
        configure({ ...common, LLM_TRACKER_BUDGETS: BUDGETS });
        for (const user of users) await getBudgetGuard()!.checkBeforeCall(user, "bench");
        const a = timeChecks(withBudgets, samples / 10);
        resetConfiguration();
        configure({ ...common });
        const b = timeChecks(without, samples / 10);
        on.perCheckNs.push(...a.perCheckNs);
        on.singleNs.push(...a.singleNs);
        off.perCheckNs.push(...b.perCheckNs);
        off.singleNs.push(...b.singleNs);
      }
      const p = (values: number[], q: number) => percentile(sortedCopy(values), q);
      const addedP50Us = (p(on.perCheckNs, 50) - p(off.perCheckNs, 50)) / 1_000;
      const addedP99Us = (p(on.singleNs, 99) - p(off.singleNs, 99)) / 1_000;
      console.log(
        `check (3 budgets, 64 users, warm): with budgets p50 ${(p(on.perCheckNs, 50) / 1_000).toFixed(3)} µs/check (batches of ${BATCH}), single-call p99 ${(p(on.singleNs, 99) / 1_000).toFixed(2)} µs; ` +
          `without p50 ${(p(off.perCheckNs, 50) / 1_000).toFixed(3)} µs, p99 ${(p(off.singleNs, 99) / 1_000).toFixed(2)} µs`,
      );
      rows.push(
        { figure: "budget check added, p50 (warm)", value: fmt.us(addedP50Us), baseline: `${(p(off.perCheckNs, 50) / 1_000).toFixed(3)} µs without budgets`, target: "≤ 5 µs", verdict: verdict(addedP50Us <= 5) },
        { figure: "budget check added, p99 (single calls)", value: fmt.us(addedP99Us), baseline: `${(p(off.singleNs, 99) / 1_000).toFixed(2)} µs without budgets`, target: "info", verdict: "" },
      );

      // ---- 2. a cold check: one Redis round trip ----
      resetConfiguration();
      configure({ ...common, LLM_TRACKER_BUDGETS: BUDGETS });
      await getBudgetGuard()!.checkBeforeCall("warm-the-connection", "bench");
      const coldMicros: number[] = [];
      for (let i = 0; i < (quick ? 200 : 1_000); i += 1) {
        const start = performance.now();
        await getBudgetGuard()!.checkBeforeCall(`cold-${i}`, "bench");
        coldMicros.push((performance.now() - start) * 1_000);
      }
      rows.push({ figure: "budget check, cold (one Redis read), p50", value: fmt.us(p(coldMicros, 50)), baseline: `p99 ${fmt.us(p(coldMicros, 99))}`, target: "info", verdict: "" });
      await shutdown();
      closeBudgetGuard();

      // ---- 3. lag from a call's end to its spend in Redis, and the overshoot seen ----
      const db = await createTestDatabase("llmt_bench");
      const fake = await startFakeProvider({ recordRequests: false });
      const workerBudgets: Budget[] = [{ scope: "user", key: null, period: "day", limitUsd: 1, timeZone: "UTC" }];
      const worker = await startUsageWorker({ redisUrl: TEST_REDIS_URL, databaseUrl: db.url, queueName, logger: createLogger("warn"), budgets: workerBudgets });
      try {
        const dayHash = periodHashKey(base, "day", "UTC", periodAt("day", "UTC", Date.now()).label);
        resetConfiguration();
        configure({ ...common, LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: "sk-bench-not-a-secret", base_url: `${fake.url}/v1`, model: "gpt-4.1-mini" }, LLM_TRACKER_BUDGETS: [{ scope: "user", period: "day", limit_usd: 1 }] });
        const lagMs: number[] = [];
        for (let i = 0; i < (quick ? 20 : 100); i += 1) {
          const user = `lag-${i}`;
          await LLMTracker.callAndTrack({ messages: [{ role: "user", content: "hi" }], nodeName: "bench", state: { user_id: user } });
          const ended = performance.now();
          while ((await redis.hget(dayHash, `u:${user}`)) === null) await new Promise((resolve) => setTimeout(resolve, 1));
          lagMs.push(performance.now() - ended);
        }
        const lagP50 = p(lagMs, 50);
        const lagP99 = p(lagMs, 99);
        rows.push({ figure: "call end → spend in Redis, p50", value: fmt.ms(lagP50), baseline: `p99 ${fmt.ms(lagP99)} (LLM_TRACKER_FLUSH_MS 50)`, target: "info", verdict: "" });

        // Overshoot: 8 concurrent callers of one user, each call 20 ms at the provider, limit = 20 calls' cost,
        // at two cache lifetimes: the lifetime is the part of the bound the library chooses.
        const cost = Number((await redis.hget(dayHash, "u:lag-0")) ?? "0") / 1e10;
        for (const cacheMs of [1_000, 250]) {
          const run = await measureOvershoot({ fakeUrl: fake.url, enqueue: (r) => fake.enqueue(r), redis, dayHash, cost, cacheMs, common, user: `overshoot-${cacheMs}` });
          console.log(
            `overshoot (cache ${cacheMs} ms): limit ${run.limitCalls} calls' cost; ${run.made} calls made by ${run.concurrency} callers at ${run.rate.toFixed(0)} calls/s before all were refused; ` +
              `spent $${run.spent.toFixed(6)} of a $${(cost * run.limitCalls).toFixed(6)} limit; bound = in flight ${run.concurrency} + rate × (lag under this load ${run.lagLoadMs.toFixed(0)} ms + cache ${cacheMs} ms) = ${run.bound.toFixed(0)} calls`,
          );
          rows.push({
            figure: `overshoot past the limit, cache ${cacheMs} ms (8 callers, 20 ms calls)`,
            value: `${run.made - run.limitCalls} calls`,
            baseline: `bound ${Math.ceil(run.bound)} = ${run.concurrency} + ${run.rate.toFixed(0)}/s × (lag ${run.lagLoadMs.toFixed(0)} ms + ${cacheMs} ms)`,
            target: "≤ bound",
            verdict: verdict(run.made - run.limitCalls <= run.bound),
          });
        }
      } finally {
        await shutdown();
        await worker.close();
        await fake.close();
        await db.drop();
      }
    } finally {
      resetConfiguration();
      closeBudgetGuard();
      const keys = await redis.keys(`${base}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await obliterateQueue(queueName);
      await rm(spoolDir, { recursive: true, force: true });
    }
    return rows;
  },
};

export default budgetsSection;
