// Who may open /ws/realtime: the API key (API_KEYS) and the browser origin (CORS_ORIGINS). Kept
// apart from the route so the HTTP routes' key check can share it.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** The key a client presents: `?api_key=`, `Authorization: Bearer <key>`, or `X-API-Key`. */
export function presentedKey(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const fromQuery = query.get("api_key");
  if (fromQuery) return fromQuery;
  const auth = headers.authorization;
  if (typeof auth === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match) return match[1]!.trim();
  }
  const header = headers["x-api-key"];
  if (typeof header === "string" && header !== "") return header.trim();
  return undefined;
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * True when no keys are configured, or `presented` is one of them. Compares SHA-256 digests with
 * timingSafeEqual against every key (no early exit), so the time taken says nothing about the keys.
 */
export function keyAccepted(keys: readonly string[], presented: string | undefined): boolean {
  if (keys.length === 0) return true;
  if (presented === undefined) return false;
  const given = digest(presented);
  let ok = false;
  for (const key of keys) ok = timingSafeEqual(digest(key), given) || ok;
  return ok;
}

/** True for requests without an Origin (not a browser), for `"*"`, and for a listed origin. */
export function originAllowed(allowed: readonly string[] | "*", origin: string | undefined): boolean {
  if (origin === undefined || allowed === "*") return true;
  const normalized = origin.trim().toLowerCase().replace(/\/+$/, "");
  return allowed.some((a) => a.toLowerCase() === normalized);
}
