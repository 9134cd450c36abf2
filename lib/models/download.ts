// Resumable, verified download of one large file, with Node's fetch (through HTTP(S)_PROXY when
// set, see proxy.ts).
//
// The bytes go to `<dest>.partial` next to the destination, so the final rename stays on one
// file system and is atomic: a reader of `dest` sees nothing or the complete, verified file.
// A dropped connection resumes from the .partial length with an HTTP Range request (a server
// that answers 200 instead of 206 is simply read again from the start), and so does a later
// call after a crash. The checksum is computed from the file on disk after fsync, i.e. from
// exactly what will be loaded.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AbortError, WhisperError } from "../errors.js";
import { ProgressMeter } from "./progress.js";
import { proxiedFetch } from "./proxy.js";

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes in the .partial file so far (including those from an earlier, resumed attempt). */
  receivedBytes: number;
  /** Size of the whole file, when the server says it. */
  totalBytes?: number;
  /** Recent transfer rate (over the last few seconds). */
  bytesPerSecond: number;
  /** Estimated seconds left, when the size and a rate are known. */
  etaSeconds?: number;
}

/** An expected checksum, lower- or upper-case hex. */
export interface Checksum {
  algorithm: "sha1" | "sha256";
  value: string;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** Stops the download (the .partial file is kept for a later resume); rejects with AbortError. Default none. */
  signal?: AbortSignal;
  /** Called when the transfer starts, then at most every `progressIntervalMs`, and once at the end. Default none. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Minimum ms between two progress calls. Default `250`. */
  progressIntervalMs?: number;
  /** Checked against the complete file before it is moved into place. Default none (only the size is checked). */
  checksum?: Checksum;
  /** Further attempts after a network error, a timeout or an HTTP 408/429/5xx; each resumes where the last one stopped. Default `3`. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one (capped at 10 s). Default `1000`. */
  retryDelayMs?: number;
  /** An attempt that receives nothing for this long is abandoned (and retried). Default `30000`. */
  idleTimeoutMs?: number;
}

/** What a finished download produced. */
export interface DownloadResult {
  /** The destination (absolute). */
  path: string;
  bytes: number;
  /** Hex digest of the file when a checksum was given. */
  digest?: string;
  /** True when bytes from an earlier attempt or call were kept (a Range request succeeded). */
  resumed: boolean;
}

export type DownloadFailure =
  /** HTTP 401/403/404/410: the server has no such file (Hugging Face answers 401 for unknown repositories). */
  | "not-found"
  /** Any other HTTP status, after retries. */
  | "http"
  /** No answer at all (offline, DNS failure, connection refused), after retries. */
  | "network"
  /** The transfer started but broke off (reset, stalled, closed early), after retries; the .partial file is kept to resume. */
  | "interrupted"
  /** The file's size differs from what the server announced. */
  | "size"
  /** The file's checksum differs from the expected one. */
  | "checksum"
  /** The file could not be written (no space, read-only, no permission). */
  | "disk";

/** A download that did not complete; nothing was placed at the destination. */
export class ModelDownloadError extends WhisperError {
  readonly reason: DownloadFailure;
  readonly url: string;
  /** HTTP status, for "not-found" and "http". */
  readonly status: number | undefined;
  constructor(message: string, reason: DownloadFailure, url: string, options?: { cause?: unknown; status?: number }) {
    super(message, "ERR_MODEL_DOWNLOAD", options);
    this.reason = reason;
    this.url = url;
    this.status = options?.status;
  }
}

/** Downloads in progress, by destination: concurrent calls for one file share one transfer. */
const inFlight = new Map<string, Promise<DownloadResult>>();

/**
 * Downloads `url` to `dest` (created with its directory), resuming, verifying and renaming
 * atomically as described at the top of this file. Concurrent calls for the same `dest` in this
 * process share one transfer. Throws {@link ModelDownloadError} or AbortError.
 */
export function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url)) throw new TypeError(`Expected an http(s) URL for url but received ${JSON.stringify(url)}`);
  if (typeof dest !== "string" || dest.trim() === "") throw new TypeError(`Expected a file path for dest but received ${JSON.stringify(dest)}`);
  const target = path.resolve(dest);
  const running = inFlight.get(target);
  if (running) return running;
  const transfer = download(url, target, checkOptions(options)).finally(() => inFlight.delete(target));
  inFlight.set(target, transfer);
  return transfer;
}

type Checked = Required<Pick<DownloadOptions, "progressIntervalMs" | "retries" | "retryDelayMs" | "idleTimeoutMs">> & DownloadOptions;

function checkOptions(o: DownloadOptions): Checked {
  const int = (value: unknown, name: string, min: number, fallback: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) throw new RangeError(`Expected an integer of at least ${min} for ${name} but received ${String(value)}`);
    return value;
  };
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError("Expected an AbortSignal for signal");
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw new TypeError(`Expected a function for onProgress but received ${typeof o.onProgress}`);
  if (o.checksum !== undefined) {
    const { algorithm, value } = o.checksum;
    const length = algorithm === "sha1" ? 40 : algorithm === "sha256" ? 64 : 0;
    if (length === 0) throw new RangeError(`Expected "sha1" or "sha256" for checksum.algorithm but received ${JSON.stringify(algorithm)}`);
    if (typeof value !== "string" || !new RegExp(`^[0-9a-f]{${length}}$`, "i").test(value)) {
      throw new RangeError(`Expected ${length} hex digits for checksum.value but received ${JSON.stringify(value)}`);
    }
  }
  return {
    ...o,
    progressIntervalMs: int(o.progressIntervalMs, "progressIntervalMs", 0, 250),
    retries: int(o.retries, "retries", 0, 3),
    retryDelayMs: int(o.retryDelayMs, "retryDelayMs", 0, 1000),
    idleTimeoutMs: int(o.idleTimeoutMs, "idleTimeoutMs", 1, 30_000),
  };
}

/** An attempt that may be repeated (network trouble, 408/429/5xx, a short body). */
class Retryable extends Error {
  constructor(message: string, readonly failure: ModelDownloadError) {
    super(message);
  }
}

async function download(url: string, dest: string, o: Checked): Promise<DownloadResult> {
  const partial = `${dest}.partial`;
  try {
    await fs.mkdir(path.dirname(dest), { recursive: true });
  } catch (error) {
    throw diskError(error, path.dirname(dest), url);
  }
  const progress = new ProgressMeter(o.onProgress, o.progressIntervalMs);
  let total: number | undefined;
  let resumed = false;
  let attempt = 0;
  for (;;) {
    if (o.signal?.aborted) throw new AbortError(undefined, { cause: o.signal.reason });
    try {
      const outcome = await transfer(url, partial, o, progress);
      total = outcome.total;
      resumed ||= outcome.resumed;
      break;
    } catch (error) {
      if (!(error instanceof Retryable)) throw error;
      if (attempt >= o.retries) throw error.failure;
      const delay = Math.min(10_000, o.retryDelayMs * 2 ** attempt);
      attempt++;
      try {
        await sleep(delay, undefined, o.signal ? { signal: o.signal } : {});
      } catch {
        throw new AbortError(undefined, { cause: o.signal?.reason });
      }
    }
  }
  const size = (await fs.stat(partial)).size;
  if (total !== undefined && size !== total) {
    await fs.rm(partial, { force: true });
    throw new ModelDownloadError(`Downloaded ${size} bytes from ${url} but the server announced ${total}; the partial file was removed`, "size", url);
  }
  let digest: string | undefined;
  if (o.checksum) {
    digest = await hashFile(partial, o.checksum.algorithm);
    if (digest !== o.checksum.value.toLowerCase()) {
      await fs.rm(partial, { force: true });
      throw new ModelDownloadError(
        `Checksum mismatch for ${url}: expected ${o.checksum.algorithm} ${o.checksum.value.toLowerCase()} but the downloaded file has ${digest}; it was removed and nothing was written to ${dest}`,
        "checksum",
        url,
      );
    }
  }
  try {
    await fs.rename(partial, dest);
    await syncDirectory(path.dirname(dest));
  } catch (error) {
    throw diskError(error, dest, url);
  }
  progress.finish(size, total);
  return { path: dest, bytes: size, ...(digest !== undefined ? { digest } : {}), resumed };
}

/** One HTTP request, appending to the .partial file. Resolves when the body is complete. */
async function transfer(url: string, partial: string, o: Checked, progress: ProgressMeter): Promise<{ total: number | undefined; resumed: boolean }> {
  let offset = await fs.stat(partial).then((s) => s.size, () => 0);

  // One controller per attempt: the caller's signal and the idle timer both end it.
  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  let stalled = false;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      controller.abort(new Error("stalled"));
    }, o.idleTimeoutMs);
  };
  const networkFailure = (error: unknown, what: string, reason: "network" | "interrupted") => {
    if (o.signal?.aborted) return new AbortError(undefined, { cause: o.signal.reason });
    const detail = stalled ? `no data for ${o.idleTimeoutMs} ms` : describeNetworkError(error);
    return new Retryable(detail, new ModelDownloadError(`Could not download ${url}: ${what} (${detail})`, reason, url, { cause: error }));
  };

  let handle: FileHandle | undefined;
  try {
    arm();
    let response: Response;
    try {
      response = await proxiedFetch(url, {
        // identity: byte offsets must be offsets in the file, not in a compressed stream.
        headers: { "accept-encoding": "identity", ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
        redirect: "follow",
        signal: controller.signal,
      });
    } catch (error) {
      throw networkFailure(error, "the request failed", "network");
    }

    let total: number | undefined;
    let resumed = false;
    if (response.status === 206 && offset > 0) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
      if (!range || Number(range[1]) !== offset) {
        // A range we didn't ask for: start over rather than guess.
        await response.body?.cancel().catch(() => {});
        await fs.rm(partial, { force: true });
        throw new Retryable("unexpected Content-Range", new ModelDownloadError(`Could not download ${url}: the server sent an unexpected range`, "http", url, { status: 206 }));
      }
      total = range[3] === "*" ? undefined : Number(range[3]);
      resumed = true;
    } else if (response.status === 416 && offset > 0) {
      await response.body?.cancel().catch(() => {});
      const size = /^bytes \*\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
      if (size && Number(size[1]) === offset) return { total: offset, resumed: true }; // already complete
      await fs.rm(partial, { force: true });
      throw new Retryable("range not satisfiable", new ModelDownloadError(`Could not download ${url}: HTTP 416`, "http", url, { status: 416 }));
    } else if (response.ok) {
      // 200 (or 206 to a request without Range): the whole file, from byte 0.
      offset = 0;
      const length = response.headers.get("content-length");
      total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    } else {
      await response.body?.cancel().catch(() => {});
      const status = response.status;
      const failure = new ModelDownloadError(
        `Could not download ${url}: HTTP ${status}${response.statusText ? ` ${response.statusText}` : ""}`,
        [401, 403, 404, 410].includes(status) ? "not-found" : "http",
        url,
        { status },
      );
      if (status === 408 || status === 429 || status >= 500) throw new Retryable(`HTTP ${status}`, failure);
      throw failure;
    }

    try {
      handle = await fs.open(partial, offset > 0 ? "r+" : "w");
      if (offset > 0) await handle.truncate(offset);
    } catch (error) {
      throw diskError(error, partial, url);
    }
    progress.start(offset, total);
    let position = offset;
    try {
      if (response.body) {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          arm();
          try {
            await handle.write(chunk, 0, chunk.length, position);
          } catch (error) {
            throw diskError(error, partial, url);
          }
          position += chunk.length;
          progress.update(position, total);
        }
      }
    } catch (error) {
      if (error instanceof ModelDownloadError || error instanceof AbortError) throw error;
      throw networkFailure(error, `the connection broke after ${position} bytes`, "interrupted");
    }
    try {
      await handle.sync();
    } catch (error) {
      throw diskError(error, partial, url);
    }
    if (total !== undefined && position < total) {
      // The server closed the body early without an error; resume like any other break.
      throw new Retryable("short body", new ModelDownloadError(`Could not download ${url}: the connection closed after ${position} of ${total} bytes`, "interrupted", url));
    }
    return { total, resumed };
  } catch (error) {
    if (error instanceof ModelDownloadError && error.reason === "disk") {
      // A full disk stays full: give the space back instead of keeping a partial file.
      await handle?.close().catch(() => {});
      handle = undefined;
      await fs.rm(partial, { force: true }).catch(() => {});
    }
    throw error;
  } finally {
    clearTimeout(idle);
    o.signal?.removeEventListener("abort", onAbort);
    await handle?.close().catch(() => {});
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return error instanceof Error ? error.message : String(error);
}

/** Any file-system failure while storing the download (errno codes such as ENOSPC, EROFS, EACCES, EIO). */
function diskError(error: unknown, file: string, url: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (typeof code !== "string") return error;
  const why = code === "ENOSPC" || code === "EDQUOT" ? "no space left" : code === "EROFS" ? "read-only file system" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "ENOTDIR" ? "a path component is not a directory" : code;
  return new ModelDownloadError(`Could not write ${file} while downloading ${url}: ${why} (${code})`, "disk", url, { cause: error });
}

async function hashFile(file: string, algorithm: "sha1" | "sha256"): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Makes the rename durable; directories can't be opened for sync on every platform. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch {
    // Windows and some file systems refuse; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => {});
  }
}
