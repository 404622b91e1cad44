// withTracking: the context of a scope applies to every tracked call inside it, across awaits
// and nested scopes, over the wrapper's defaults, and never leaks into calls made concurrently
// in other scopes. callAndTrack and streamAndTrack honour it too.
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LLMTracker, trackOpenAI, withTracking } from "../../src/index.js";
import { layerContext, resolveTracking } from "../../src/usage/tracking-context.js";
import { loadFixture } from "../fake-provider/fake-provider.js";
import { startHarness, watchUnhandled, type Harness } from "./support/usage-rows-harness.js";

const API_KEY = "sk-with-tracking-key-0123456789";
let h: Harness;
const unhandled = watchUnhandled();
const messages = [{ role: "user" as const, content: "hi" }];

beforeAll(async () => {
  h = await startHarness();
  h.configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: API_KEY, base_url: `${h.fake.url}/v1`, model: "gpt-4.1-mini" }, LLM_MAX_RETRIES: 0 });
});
afterEach(async () => {
  await new Promise((resolve) => setImmediate(resolve));
  expect(unhandled.list).toEqual([]);
});
afterAll(async () => {
  unhandled.stop();
  await h?.close();
});

const client = () => trackOpenAI(new OpenAI({ apiKey: API_KEY, baseURL: `${h.fake.url}/v1`, maxRetries: 0 }), { nodeName: "wt-default", state: { source_type: "api", metadata: { region: "eu", tier: "free" } } });
const FIXTURE_BODY = loadFixture("openai/chat-completion-basic");
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("layering (pure)", () => {
  it("inner nodeName and state keys win, metadata merges key by key, undefined keys do not erase", () => {
    const outer = { nodeName: "a", state: { user_id: "u1", source_type: "api", metadata: { x: 1, y: 1 } } };
    const inner = { state: { source_type: undefined, source_path: "/p", metadata: { y: 2 } } };
    expect(layerContext(outer, inner)).toEqual({ nodeName: "a", state: { user_id: "u1", source_type: "api", source_path: "/p", metadata: { x: 1, y: 2 } } });
    expect(resolveTracking({ nodeName: "d" })).toEqual({ nodeName: "d" });
  });
});

describe("with a wrapped client", () => {
  it("applies the scope over the defaults, across awaits and nested scopes", async () => {
    const openai = client();
    await withTracking({ nodeName: "wt-outer", state: { user_id: "u-outer", metadata: { tier: "paid" } } }, async () => {
      await tick();
      await withTracking({ nodeName: "wt-inner", state: { source_task_id: "task-1" } }, async () => {
        await tick();
        await openai.chat.completions.create({ model: "gpt-4.1-mini", messages });
      });
      await tick();
      await openai.chat.completions.create({ model: "gpt-4.1-mini", messages });
    });
    await openai.chat.completions.create({ model: "gpt-4.1-mini", messages });

    const inner = await h.rowOf("wt-inner");
    expect(inner.user_id).toBe("u-outer");
    expect(inner.metadata).toEqual({ node_name: "wt-inner", source_type: "api", source_task_id: "task-1", region: "eu", tier: "paid" });
    const outer = await h.rowOf("wt-outer");
    expect(outer.user_id).toBe("u-outer");
    expect(outer.metadata).toEqual({ node_name: "wt-outer", source_type: "api", region: "eu", tier: "paid" });
    const outside = await h.rowOf("wt-default");
    expect(outside.user_id).toBeNull();
    expect(outside.metadata).toEqual({ node_name: "wt-default", source_type: "api", region: "eu", tier: "free" });
  });

  it("keeps interleaved concurrent requests apart: each row carries its own scope's user", async () => {
    const openai = client();
    const users = Array.from({ length: 24 }, (_, i) => `wt-user-${i}`);
    // The fake answers in a scrambled order, so the calls' continuations interleave.
    h.fake.enqueue(...users.map((_, i) => ({ body: JSON.parse(JSON.stringify(FIXTURE_BODY)), delayMs: (i * 7) % 25 })));
    await Promise.all(
      users.map((user, i) =>
        withTracking({ nodeName: "wt-concurrent", state: { user_id: user, metadata: { request: i } } }, async () => {
          await new Promise((resolve) => setTimeout(resolve, (i * 5) % 11));
          await openai.chat.completions.create({ model: "gpt-4.1-mini", messages });
          await tick();
          // A second call after more awaits, in a nested scope: still this request's user.
          await withTracking({ nodeName: "wt-concurrent-2" }, () => openai.chat.completions.create({ model: "gpt-4.1-mini", messages }));
        }),
      ),
    );
    for (const node of ["wt-concurrent", "wt-concurrent-2"]) {
      const rows = await h.rowsOf(node, users.length);
      expect(rows.map((row) => row.user_id).sort()).toEqual([...users].sort());
      for (const row of rows) expect(row.metadata.request).toBe(Number(String(row.user_id).slice("wt-user-".length)));
    }
  });
});

describe("with LLMTracker's own calls", () => {
  it("callAndTrack and streamAndTrack take the scope; their own nodeName/state win over it", async () => {
    await withTracking({ nodeName: "wt-own-scope", state: { user_id: "u-scope", source_type: "job" } }, async () => {
      await tick();
      await LLMTracker.callAndTrack({ messages });
      await LLMTracker.callAndTrack({ messages, nodeName: "wt-own-explicit", state: { user_id: "u-explicit" } });
      const stream = await LLMTracker.streamAndTrack({ messages, nodeName: "wt-own-stream" });
      for await (const _ of stream);
    });
    const scoped = await h.rowOf("wt-own-scope");
    expect(scoped).toMatchObject({ user_id: "u-scope" });
    expect(scoped.metadata.source_type).toBe("job");
    const explicit = await h.rowOf("wt-own-explicit");
    expect(explicit).toMatchObject({ user_id: "u-explicit" });
    expect(explicit.metadata.source_type).toBe("job");
    const streamed = await h.rowOf("wt-own-stream");
    expect(streamed).toMatchObject({ user_id: "u-scope", streamed: true, success: true });
  });
});
