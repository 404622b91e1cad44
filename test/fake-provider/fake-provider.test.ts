import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeProvider, loadFixture, loadSse, sseEvents, startFakeProvider } from "./fake-provider.js";
import { waitFor } from "../support/wait-for.js";

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

  describe("streams", () => {
    const streamBody = { model: "m", stream: true, stream_options: { include_usage: true } };

    it("serves each streaming route's default SSE body, framed as the provider frames it", async () => {
      const openai = await post("/v1/chat/completions", streamBody);
      expect(openai.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(await openai.text()).toBe(loadSse("openai/stream-basic"));
      const azure = await post("/openai/deployments/dep/chat/completions?api-version=2024-10-21", streamBody);
      expect(await azure.text()).toBe(loadSse("azure/stream-prompt-filter"));
      const gemini = await post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
      expect(gemini.headers.get("content-type")).toBe("text/event-stream");
      const text = await gemini.text();
      expect(text).toBe(loadSse("gemini/stream-basic"));
      expect(text).toContain("\r\n\r\n");
    });

    it("answers 400 to a streamed chat completion that does not ask for include_usage (unless told not to check)", async () => {
      const refused = await post("/v1/chat/completions", { model: "m", stream: true });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/stream_options\.include_usage/);
      const lenient = await startFakeProvider({ requireIncludeUsage: false });
      try {
        const served = await fetch(`${lenient.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ stream: true }) });
        expect(served.status).toBe(200);
        await served.text();
      } finally {
        await lenient.close();
      }
    });

    it("splits an SSE body into its events, LF or CRLF framed", () => {
      expect(sseEvents("data: 1\n\ndata: [DONE]\n\n")).toEqual(["data: 1\n\n", "data: [DONE]\n\n"]);
      expect(sseEvents("data: {}\r\n\r\ndata: {}\r\n\r\n")).toEqual(["data: {}\r\n\r\n", "data: {}\r\n\r\n"]);
    });

    it("cut after N events: close ends the response cleanly, drop breaks the connection, stall keeps it open", async () => {
      const sse = loadSse("openai/stream-basic");
      const firstTwo = sseEvents(sse).slice(0, 2).join("");
      fake.enqueue({ stream: { sse, cut: { after: 2, then: "close" } } });
      expect(await (await post("/v1/chat/completions", streamBody)).text()).toBe(firstTwo);

      fake.enqueue({ stream: { sse, cut: { after: 2, then: "drop" }, eventDelayMs: 5 } });
      const dropped = await post("/v1/chat/completions", streamBody);
      await expect(dropped.text()).rejects.toThrow(/terminated/);

      fake.enqueue({ stream: { sse, cut: { after: 2, then: "stall" } } });
      const stalled = await post("/v1/chat/completions", streamBody);
      const reader = stalled.body!.getReader();
      let received = "";
      while (received.length < firstTwo.length) received += new TextDecoder().decode((await reader.read()).value);
      expect(received).toBe(firstTwo);
      expect(fake.openStreams()).toBe(1);
      await reader.cancel();
      await waitFor(() => fake.openStreams() === 0, 5_000, "the stalled stream's connection to close");
    });
  });
});
