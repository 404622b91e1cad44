import { describe, expect, it } from "vitest";
import { convertEmbeddingsUsage, type OpenAIEmbeddingsUsage } from "../../../src/providers/openai/convert-embeddings-usage.js";
import { loadFixture } from "../../fake-provider/fake-provider.js";

describe("convertEmbeddingsUsage", () => {
  const rows: [name: string, usage: OpenAIEmbeddingsUsage | null | undefined, prompt: number | null][] = [
    ["embeddings-basic.json (prompt_tokens and total_tokens only)", (loadFixture("openai/embeddings-basic") as { usage: OpenAIEmbeddingsUsage }).usage, 8],
    ["total_tokens alone", { total_tokens: 5 }, 5],
    ["no usage", undefined, null],
    ["usage null", null, null],
  ];

  it.each(rows)("%s", (_name, usage, prompt) => {
    const converted = convertEmbeddingsUsage(usage, "text-embedding-3-small");
    expect(converted).toEqual({
      usage: { model: "text-embedding-3-small", prompt_tokens: prompt ?? 0, completion_tokens: 0, total_tokens: prompt ?? 0, cached_tokens: 0, reasoning_tokens: 0 },
      usageReported: prompt !== null,
    });
  });
});
