// Optional API keys (API_KEYS). When set, every route but the probes needs a key, sent the way
// OpenAI clients send theirs (`Authorization: Bearer <key>`) or as `X-API-Key`. Keys are compared
// as SHA-256 digests with timingSafeEqual, against every configured key, so neither the key nor its
// length leaks through timing. Keys are never logged (the logger redacts both headers).
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "./errors.js";

/**
 * Routes that answer without a key: the liveness and readiness probes, the web pages, and
 * /ws/realtime, which checks the key itself (also as `?api_key=`, all a browser WebSocket can send).
 */
export const OPEN_ROUTES: readonly string[] = Object.freeze(["/health", "/ready", "/", "/realtime", "/ws/realtime"]);
/**
 * Path prefixes open without a key: the web page's static files and the Swagger UI. They hold no
 * data; every API call they make sends the key (the page keeps it in localStorage).
 */
export const OPEN_PREFIXES: readonly string[] = Object.freeze(["/web/", "/docs"]);

/** Request headers that carry a key (lower-case), for log redaction. */
export const KEY_HEADERS = ["authorization", "x-api-key"] as const;

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** A checker for the configured keys: true when `presented` is one of them. No keys: always true. */
export function createKeyChecker(keys: readonly string[]): (presented: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    if (digests.length === 0) return true;
    if (presented === undefined || presented === "") return false;
    const given = digest(presented);
    let match = false;
    for (const d of digests) match = timingSafeEqual(d, given) || match;
    return match;
  };
}

/** The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key`. */
export function presentedKey(headers: FastifyRequest["headers"]): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match) return match[1];
  }
  const header = headers["x-api-key"];
  return typeof header === "string" ? header.trim() : undefined;
}

/** Whether a URL path (the query ignored) is one of {@link OPEN_ROUTES} or under {@link OPEN_PREFIXES}. */
export function isOpenRoute(url: string): boolean {
  const path = url.split("?")[0]!;
  return OPEN_ROUTES.includes(path) || OPEN_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** onRequest hook enforcing API_KEYS; does nothing when no key is configured. */
export function registerAuth(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const check = createKeyChecker(keys);
  app.addHook("onRequest", async (request, reply) => {
    // CORS preflights carry no credentials by design; the real request that follows does.
    if (request.method === "OPTIONS" || isOpenRoute(request.url)) return;
    const key = presentedKey(request.headers);
    if (check(key)) return;
    void reply.header("www-authenticate", 'Bearer realm="tingwu-whisper"');
    throw new HttpError(
      401,
      key === undefined ? "Missing API key: send Authorization: Bearer <key> or X-API-Key: <key>" : "Invalid API key",
      { code: "invalid_api_key" },
    );
  });
}
