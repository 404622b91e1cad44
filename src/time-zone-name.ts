// Which time-zone names the library accepts, for the stats' options and the
// budgets' setting alike: IANA names that Intl and Postgres read the same way.
// Postgres reads strings like "UTC+8" or "+08:00" as POSIX zones with the sign
// inverted, so those do not pass.

/** True for an IANA time-zone name such as UTC or Asia/Shanghai. */
export function isTimeZoneName(value: unknown): value is string {
  if (typeof value !== "string" || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
