// Which time-zone names the library accepts, for the stats' options and the
// budgets' setting alike: IANA names that Intl and Postgres read the same way.
// Postgres reads strings like "UTC+8" or "+08:00" as POSIX zones with the sign
// inverted, so those do not pass.

/**
 * Names Intl has accepted, lower-cased (it reads them regardless of case).
 * Building a DateTimeFormat to ask costs ~0.25 ms, and every stats call asks;
 * only accepted names are kept, and those are the IANA names and aliases (a
 * few hundred), so the set stays small whatever callers pass.
 */
const accepted = new Set<string>();

/** True for an IANA time-zone name such as UTC or Asia/Shanghai. */
export function isTimeZoneName(value: unknown): value is string {
  if (typeof value !== "string" || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(value)) return false;
  const key = value.toLowerCase();
  if (accepted.has(key)) return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch {
    return false;
  }
  accepted.add(key);
  return true;
}
