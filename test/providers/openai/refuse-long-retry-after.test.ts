import { describe, expect, it } from "vitest";
import { MAX_HONOURED_RETRY_AFTER_MS, refuseLongRetryAfter, requestedRetryDelayMs } from "../../../src/providers/openai/refuse-long-retry-after.js";

describe("requestedRetryDelayMs", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it.each([
    [{ "retry-after": "86400" }, 86_400_000],
    [{ "retry-after": "1.5" }, 1_500],
    [{ "retry-after-ms": "250", "retry-after": "86400" }, 250],
    [{ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, 30_000],
    [{ "retry-after": "soon" }, undefined],
    [{}, undefined],
  ])("reads %j as %s ms", (headers, expected) => {
    expect(requestedRetryDelayMs(new Headers(headers), now)).toBe(expected);
  });
});

describe("refuseLongRetryAfter", () => {
  const respond = (status: number, headers: Record<string, string>) => async () => new Response("{}", { status, headers });

  it("marks a response asking for more than the bound as not to be retried, keeping status and headers", async () => {
    const response = await refuseLongRetryAfter(respond(429, { "retry-after": "86400" }))("http://x");
    expect(response.status).toBe(429);
    expect(response.headers.get("x-should-retry")).toBe("false");
    expect(response.headers.get("retry-after")).toBe("86400");
  });

  it("leaves a short retry-after and successful responses alone", async () => {
    const short = await refuseLongRetryAfter(respond(429, { "retry-after": String(MAX_HONOURED_RETRY_AFTER_MS / 1000) }))("http://x");
    expect(short.headers.get("x-should-retry")).toBeNull();
    const ok = await refuseLongRetryAfter(respond(200, { "retry-after": "86400" }))("http://x");
    expect(ok.headers.get("x-should-retry")).toBeNull();
  });
});
