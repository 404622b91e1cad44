import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeProvider, loadFixture, startFakeProvider } from "./fake-provider.js";

describe("fake provider", () => {
  let fake: FakeProvider;
  beforeEach(async () => {
    fake = await startFakeProvider();
  });
  afterEach(async () => {
    await fake.close();
  });

  const post = (path: string, body: unknown = {}) =>
    fetch(`${fake.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("serves each route's default reply and records the request", async () => {
    const openai = await post("/v1/chat/completions", { model: "m" });
    expect(await openai.json()).toEqual(loadFixture("openai/chat-completion-basic"));
    const azure = await post("/openai/deployments/my-dep/chat/completions?api-version=2024-10-21");
    expect(await azure.json()).toEqual(loadFixture("azure/chat-completion-basic"));
    const azureV1 = await post("/openai/v1/chat/completions");
    expect(azureV1.status).toBe(200);
    const gemini = await post("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(await gemini.json()).toEqual(loadFixture("gemini/generate-content-basic"));

    expect(fake.requests.map((r) => [r.path, r.search])).toEqual([
      ["/v1/chat/completions", ""],
      ["/openai/deployments/my-dep/chat/completions", "?api-version=2024-10-21"],
      ["/openai/v1/chat/completions", ""],
      ["/v1beta/models/gemini-2.5-flash:generateContent", ""],
    ]);
    expect(fake.requests[0]?.body).toEqual({ model: "m" });
  });

  it("serves queued replies in order before falling back to the default", async () => {
    fake.enqueue({ status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down" } } }, { body: "plain text" });
    const first = await post("/v1/chat/completions");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("1");
    expect(await (await post("/v1/chat/completions")).text()).toBe("plain text");
    expect((await post("/v1/chat/completions")).status).toBe(200);
  });

  it("answers 404 on an unknown route", async () => {
    expect((await post("/v2/unknown")).status).toBe(404);
  });

  it("records nothing when recordRequests is false", async () => {
    const quiet = await startFakeProvider({ recordRequests: false });
    try {
      await fetch(`${quiet.url}/v1/chat/completions`, { method: "POST", body: "{}" });
      expect(quiet.requests).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
