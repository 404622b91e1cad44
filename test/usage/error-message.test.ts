import { describe, expect, it } from "vitest";
import { describeError, redactSecrets } from "../../src/usage/error-message.js";
import { MAX_ERROR_LENGTH } from "../../src/usage/usage-event.js";

describe("describeError", () => {
  it("names the error class and HTTP status", () => {
    const error = Object.assign(new RangeError("quota"), { status: 429 });
    expect(describeError(error)).toBe("RangeError (status 429): quota");
  });

  it.each([
    ["sk-proj-abcdefghij0123456789", "key sk-proj-abcdefghij0123456789 rejected"],
    ["AIzaSyB-abcdefghijklmnop", "key AIzaSyB-abcdefghijklmnop invalid"],
    ["eyJhbGciOi.payload.sig", "Authorization: Bearer eyJhbGciOi.payload.sig"],
    ["azure-key-value", "api-key: azure-key-value"],
    ["secretvalue", "GET /v1beta/models?key=secretvalue"],
    ["my-configured-key", "echo my-configured-key"],
  ])("redacts %s", (secret, text) => {
    const out = redactSecrets(text, ["my-configured-key"]);
    expect(out).not.toContain(secret);
    expect(out).toContain("[REDACTED]");
  });

  it("cuts long messages to MAX_ERROR_LENGTH after redacting, so a cut never shows half a key", () => {
    const key = "sk-" + "k".repeat(40);
    const text = describeError(new Error(`${"x".repeat(MAX_ERROR_LENGTH - 20)} ${key} ${"y".repeat(100)}`));
    expect(text.length).toBe(MAX_ERROR_LENGTH);
    expect(text).not.toContain("kkkkk");
  });

  it("reads the AI SDK's statusCode as the HTTP status", () => {
    class APICallError extends Error {
      readonly statusCode = 429;
    }
    expect(describeError(new APICallError("Rate limit reached"))).toBe("APICallError (status 429): Rate limit reached");
  });

  it("describes thrown non-errors", () => {
    expect(describeError("boom")).toBe("Non-error thrown: boom");
  });
});
