import { describe, expect, it } from "vitest";
import { convertGeminiEmbedUsage } from "../../../src/providers/gemini/convert-gemini-embed-usage.js";
import { loadFixture } from "../../fake-provider/fake-provider.js";

describe("convertGeminiEmbedUsage", () => {
  it("embed-content-basic.json (the Gemini API) reports no tokens: null, the caller estimates", () => {
    expect(convertGeminiEmbedUsage(loadFixture("gemini/embed-content-basic") as never, "gemini-embedding-001")).toBeNull();
  });

  it("Vertex AI's statistics.tokenCount are summed over the embeddings (shape of @google/genai's EmbedContentResponse)", () => {
    const response = { embeddings: [{ values: [0.1], statistics: { tokenCount: 3, truncated: false } }, { values: [0.2], statistics: { tokenCount: 4, truncated: false } }] };
    expect(convertGeminiEmbedUsage(response, "text-embedding-005")).toEqual({
      usage: { model: "text-embedding-005", prompt_tokens: 7, completion_tokens: 0, total_tokens: 7, cached_tokens: 0, reasoning_tokens: 0 },
      usageReported: true,
    });
  });

  it("no response at all: null", () => {
    expect(convertGeminiEmbedUsage(undefined, "m")).toBeNull();
  });
});
