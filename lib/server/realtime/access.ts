// Who may open /ws/realtime: the API key (API_KEYS, checked by the HTTP routes' checker in
// ../auth.ts, plus the `api_key` query parameter, the only way a browser WebSocket can send one)
// and the browser origin (CORS_ORIGINS).
import type { FastifyRequest } from "fastify";
import { presentedKey as headerKey } from "../auth.js";

export { createKeyChecker } from "../auth.js";

/** The key a client presents: `?api_key=`, else `Authorization: Bearer <key>` or `X-API-Key`. */
export function presentedKey(headers: FastifyRequest["headers"], query: URLSearchParams): string | undefined {
  const fromQuery = query.get("api_key");
  return fromQuery ? fromQuery : headerKey(headers);
}

/** True for requests without an Origin (not a browser), for `"*"`, and for a listed origin. */
export function originAllowed(allowed: readonly string[] | "*", origin: string | undefined): boolean {
  if (origin === undefined || allowed === "*") return true;
  const normalized = origin.trim().toLowerCase().replace(/\/+$/, "");
  return allowed.some((a) => a.toLowerCase() === normalized);
}
