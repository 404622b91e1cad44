// Token counts for text the provider did not count for us, with gpt-tokenizer (a maintained
// pure-JS port of OpenAI's tiktoken encodings). Loaded on first use only: an encoding costs
// tens of MB and a fraction of a second to load, and only an early-ended stream needs one.
import { createRequire } from "node:module";

interface Encoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

// require(), not import(): an estimate may be needed in the process 'exit' hook, where
// nothing asynchronous runs any more.
const require = createRequire(import.meta.url);
const loaded = new Map<string, Encoding>();

type EncodingName = "o200k_base" | "cl100k_base";

function encoding(name: EncodingName): Encoding {
  let found = loaded.get(name);
  if (!found) {
    found = require(`gpt-tokenizer/encoding/${name}`) as Encoding;
    loaded.set(name, found);
  }
  return found;
}

/**
 * The encoding of an OpenAI model: cl100k_base for gpt-4 (not 4o/4.1/4.5) and gpt-3.5,
 * o200k_base for everything newer. Gemini uses its own (SentencePiece) tokenizer, which no
 * maintained JS library ships: o200k_base stands in for it (see docs/streaming-and-tools.md
 * for how close that comes).
 */
export function encodingNameFor(model: string): EncodingName {
  return /^(gpt-3\.5|gpt-35|gpt-4(?![o.]))/i.test(model) ? "cl100k_base" : "o200k_base";
}

// Special-token text (e.g. "<|endoftext|>") in an answer is counted as ordinary text, not refused.
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** Tokens of `text` in the encoding of `model`. */
export function countTokens(text: string, model: string): number {
  if (text === "") return 0;
  return encoding(encodingNameFor(model)).countTokens(text, AS_TEXT);
}
