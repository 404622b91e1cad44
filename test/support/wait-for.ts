// Tests wait for a condition instead of sleeping a fixed time.

/** Polls `check` until it returns a truthy value, which it resolves to; throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
