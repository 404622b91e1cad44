// A fetch wrapper that stops the openai SDK from sleeping for as long as a 429/5xx's
// `retry-after` asks (openai 6.x honours any value; Azure quota errors say 86400 s).

/**
 * Longest server-requested wait the SDK may sleep before a retry. Above it the call
 * fails fast with the SDK's own error (RateLimitError for a 429, the original status,
 * body and `retry-after` header intact): a caller waiting a day is worse than an error
 * it can schedule around, and an early retry would only be refused again.
 */
export const MAX_HONOURED_RETRY_AFTER_MS = 10_000;

/** The wait a response asks for, in ms, read the way openai's client reads it; undefined when none. */
export function requestedRetryDelayMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && !Number.isNaN(parseFloat(ms))) return parseFloat(ms);
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = parseFloat(value);
  if (!Number.isNaN(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : date - now;
}

/**
 * Wraps `fetch` so a response whose requested retry delay exceeds the bound carries
 * `x-should-retry: false`, which the openai SDK obeys before anything else. Successful
 * responses pass through untouched (no cost on the hot path).
 */
export function refuseLongRetryAfter(inner: typeof fetch = fetch, maxMs = MAX_HONOURED_RETRY_AFTER_MS): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.ok) return response;
    const delay = requestedRetryDelayMs(response.headers);
    if (delay === undefined || delay <= maxMs) return response;
    const headers = new Headers(response.headers);
    headers.set("x-should-retry", "false");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}
