// The `error` text of a failed usage event: error class, HTTP status and the
// provider's message, with anything that looks like a credential redacted, cut
// to MAX_ERROR_LENGTH. It is stored in a table many people can read.
import { MAX_ERROR_LENGTH } from "./usage-event.js";

const REDACTED = "[REDACTED]";

// Ordered: specific key shapes first, then "name: value" pairs whose name says secret.
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bBearer\s+[^\s"',;]+/gi, `Bearer ${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{6,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{10,}/g, REDACTED],
  [/\b((?:x-goog-)?api[-_]?key|key|access[-_]?token|token|password|secret)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi, `$1$2${REDACTED}`],
];

/** Replaces the given secrets and anything shaped like an API key or bearer token. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let result = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; real keys are long.
    if (secret && secret.length >= 6) result = result.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of SECRET_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** Cuts text to `max` characters, marking the cut. */
export function truncate(text: string, max = MAX_ERROR_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * `Name (status 401): message` for an SDK error, `Name: message` otherwise;
 * redacted, then cut (so a cut can not expose half a key).
 */
export function describeError(error: unknown, secrets: readonly (string | undefined)[] = []): string {
  let text: string;
  if (error instanceof Error) {
    const name = error.constructor?.name && error.constructor.name !== "Object" ? error.constructor.name : error.name;
    // `status` on the openai and @google/genai errors, `statusCode` on the AI SDK's APICallError.
    const status = (error as { status?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
    text = `${name}${typeof status === "number" ? ` (status ${status})` : ""}: ${error.message}`;
  } else {
    text = `Non-error thrown: ${typeof error === "string" ? error : safeStringify(error)}`;
  }
  return truncate(redactSecrets(text, secrets));
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
