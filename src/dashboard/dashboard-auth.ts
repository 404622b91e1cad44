// Who may read the dashboard: with a token, only requests that carry it (as a
// Bearer header or as the cookie a `?token=` visit sets); without one, only
// requests addressed to a loopback name (the server then listens on loopback only).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** The cookie a `?token=` visit sets. */
export const COOKIE_NAME = "llm_tracker_dashboard";
/** How long that cookie lasts: a week, then the token link is needed again. */
const COOKIE_MAX_AGE_SECONDS = 7 * 24 * 3600;

export type AccessDecision =
  | { kind: "allow" }
  /** A `?token=` visit with the right token: set the cookie and go to the same URL without it. */
  | { kind: "redirect"; location: string; setCookie: string }
  /** 401: missing or wrong credentials (the answer says no more than that). */
  | { kind: "unauthorized" }
  /** 403: no token configured, and the Host header names something other than loopback (DNS rebinding). */
  | { kind: "forbidden-host" };

export interface AccessGuard {
  /** Whether the server was given a token. */
  readonly tokenRequired: boolean;
  decide(request: IncomingMessage, url: URL): AccessDecision;
}

/** The guard for `token` (undefined: loopback-only mode). */
export function createAccessGuard(token: string | undefined): AccessGuard {
  if (token === undefined) {
    return {
      tokenRequired: false,
      decide: (request) => (isLoopbackHostHeader(request.headers.host) ? { kind: "allow" } : { kind: "forbidden-host" }),
    };
  }
  const tokenDigest = digest(token);
  // The cookie holds a value derived from the token, not the token itself.
  const cookieValue = createHmac("sha256", token).update("llm-tracker dashboard cookie v1").digest("base64url");
  const cookieDigest = digest(cookieValue);
  return {
    tokenRequired: true,
    decide(request, url) {
      const offered = url.searchParams.getAll("token");
      if (offered.length > 0) {
        if (offered.length > 1 || !sameDigest(digest(offered[0]!), tokenDigest)) return { kind: "unauthorized" };
        const rest = new URLSearchParams(url.searchParams);
        rest.delete("token");
        const query = rest.toString();
        const secure = isSecureRequest(request) ? "; Secure" : "";
        return {
          kind: "redirect",
          location: `${url.pathname}${query ? `?${query}` : ""}`,
          setCookie: `${COOKIE_NAME}=${cookieValue}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_SECONDS}${secure}`,
        };
      }
      const authorization = request.headers.authorization;
      if (authorization !== undefined) {
        const match = /^Bearer +(\S+) *$/i.exec(authorization);
        return match && sameDigest(digest(match[1]!), tokenDigest) ? { kind: "allow" } : { kind: "unauthorized" };
      }
      const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
      return cookie !== undefined && sameDigest(digest(cookie), cookieDigest) ? { kind: "allow" } : { kind: "unauthorized" };
    },
  };
}

/** Whether `host` (a --host value) is a loopback interface: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^(0{0,4}:){5}ffff:127\./.test(bare) || /^::ffff:127\./.test(bare);
  return false;
}

/** A Host header (`name[:port]`, `[v6][:port]`) naming a loopback address. */
function isLoopbackHostHeader(header: string | undefined): boolean {
  if (!header) return false;
  const name = header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.replace(/:\d*$/, "");
  return isLoopbackAddress(name);
}

function isSecureRequest(request: IncomingMessage): boolean {
  // Behind a TLS-terminating proxy the socket is plain HTTP; the proxy says so.
  const forwarded = request.headers["x-forwarded-proto"];
  const proto = Array.isArray(forwarded) ? forwarded[0] : forwarded;
  return (request.socket as { encrypted?: boolean }).encrypted === true || proto?.split(",")[0]?.trim().toLowerCase() === "https";
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const separator = part.indexOf("=");
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** Fixed-length digests, so comparing them takes the same time whatever was offered. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

function sameDigest(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}
