// Fetching a job's URL (and posting webhooks) without opening the network behind the server:
// http/https only, every address a name resolves to is checked at connect time (so DNS rebinding
// can't slip a private address in after a check), redirects are followed by hand and checked the
// same way, and size and time are bounded.
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { LookupFunction } from "node:net";
import { AbortError } from "../errors.js";
import { HttpError } from "../server/errors.js";

/** Redirects followed at most. */
export const MAX_REDIRECTS = 5;

/** Loopback, private, link-local, shared, reserved and multicast ranges (v4, v6, and v4 inside v6). */
const PRIVATE = new net.BlockList();
for (const [prefix, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24],
  ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) PRIVATE.addSubnet(prefix, bits, "ipv4");
for (const [prefix, bits] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2001:db8::", 32]] as const) {
  PRIVATE.addSubnet(prefix, bits, "ipv6");
}

/** True for an address a server must not be made to reach (unless ALLOW_PRIVATE_URLS). */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return PRIVATE.check(address, "ipv4");
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, "ipv4");
  return PRIVATE.check(address, "ipv6");
}

/** A URL that can't or mustn't be fetched: the client's mistake (4xx), not a transient failure. */
export class UrlRefusedError extends HttpError {
  constructor(message: string) {
    super(400, message, { code: "invalid_url", param: "url" });
  }
}

/** Checks a URL's form (scheme, host) before it is queued. Throws UrlRefusedError. */
export function checkUrl(text: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UrlRefusedError(`Expected an http(s) URL but received ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UrlRefusedError(`Only http and https URLs can be fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new UrlRefusedError("URLs with credentials are not accepted");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate && (host === "localhost" || host.endsWith(".localhost") || (net.isIP(host) !== 0 && isPrivateAddress(host)))) {
    throw new UrlRefusedError(`The URL's host ${host} is a private or loopback address (set ALLOW_PRIVATE_URLS=1 to allow)`);
  }
  return url;
}

/** A dns lookup that refuses private addresses, used by the socket itself. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const list = addresses as dns.LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(new UrlRefusedError(`${hostname} resolves to ${bad.address}, a private or loopback address (set ALLOW_PRIVATE_URLS=1 to allow)`), "", 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

export interface GuardedRequestOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Refuse responses larger than this. */
  maxBytes: number;
  /** Whole-request limit in ms. */
  timeoutMs: number;
  allowPrivate: boolean;
  signal?: AbortSignal;
  /** Follow redirects (GET only). Default true. */
  followRedirects?: boolean;
}

export interface GuardedResponse {
  status: number;
  body: Buffer;
  url: string;
}

/** One request with the SSRF guard, size and time limits. Non-2xx answers are returned, not thrown. */
export async function guardedRequest(target: string, options: GuardedRequestOptions): Promise<GuardedResponse> {
  const timer = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
  let url = checkUrl(target, options.allowPrivate);
  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(url, options, signal).catch((error: unknown) => {
      if (timer.aborted && !options.signal?.aborted) throw new HttpError(504, `Fetching ${url.host} took longer than ${options.timeoutMs / 1000} s`, { code: "url_timeout", cause: error });
      if (error instanceof HttpError || error instanceof AbortError) throw error;
      // Network trouble (refused, reset, DNS): worth retrying, and the client may want to know.
      throw new HttpError(502, `Fetching ${url.host} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { code: "url_unreachable", cause: error });
    });
    if (response.location === undefined || options.followRedirects === false) return { status: response.status, body: response.body, url: url.href };
    if (redirects >= MAX_REDIRECTS) throw new UrlRefusedError(`More than ${MAX_REDIRECTS} redirects from ${target}`);
    url = checkUrl(new URL(response.location, url).href, options.allowPrivate);
  }
}

function requestOnce(url: URL, options: GuardedRequestOptions, signal: AbortSignal): Promise<{ status: number; body: Buffer; location?: string }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortError(undefined, { cause: signal.reason }));
    const client = url.protocol === "https:" ? https : http;
    const request = client.request(url, {
      method: options.method ?? "GET",
      headers: { "user-agent": "tingwu-whisper", ...options.headers },
      lookup: guardedLookup(options.allowPrivate),
      signal,
    });
    request.on("error", (error) => reject(signal.aborted ? new AbortError(undefined, { cause: signal.reason }) : error));
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        return resolve({ status, body: Buffer.alloc(0), location: response.headers.location });
      }
      const declared = Number(response.headers["content-length"]);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.destroy();
        return reject(tooLarge(url, options.maxBytes));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          response.destroy();
          reject(tooLarge(url, options.maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      response.on("end", () => resolve({ status, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.end(options.body);
  });
}

function tooLarge(url: URL, maxBytes: number): HttpError {
  return new HttpError(413, `The file at ${url.host} is larger than the limit of ${Number((maxBytes / 1024 / 1024).toFixed(2))} MB (WHISPER_MAX_UPLOAD_MB)`, { code: "file_too_large", param: "url" });
}

/** Downloads a job's audio. 4xx answers and refused URLs are the client's mistake; 5xx and network errors are transient. */
export async function fetchAudio(url: string, options: { maxBytes: number; allowPrivate: boolean; timeoutMs?: number; signal?: AbortSignal }): Promise<Buffer> {
  const response = await guardedRequest(url, { maxBytes: options.maxBytes, allowPrivate: options.allowPrivate, timeoutMs: options.timeoutMs ?? 300_000, ...(options.signal ? { signal: options.signal } : {}) });
  if (response.status >= 400 && response.status < 500) throw new HttpError(400, `Fetching the URL failed: HTTP ${response.status}`, { code: "invalid_url", param: "url" });
  if (response.status < 200 || response.status >= 300) throw new HttpError(502, `Fetching the URL failed: HTTP ${response.status}`, { code: "url_unreachable" });
  return response.body;
}
