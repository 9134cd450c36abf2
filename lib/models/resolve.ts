// WHISPER_MODEL -> a model file on disk, downloading it on first use.
import fs from "node:fs/promises";
import { WhisperError } from "../errors.js";
import { downloadFile, ModelDownloadError } from "./download.js";
import type { Checksum, DownloadOptions, DownloadProgress } from "./download.js";
import { DEFAULT_DOWNLOAD_ROOT, DEFAULT_MODEL_BASE_URL, modelFilePath, OFFICIAL_MODEL_SHA1, parseModelSpec } from "./names.js";

export { ModelDownloadError } from "./download.js";
export type { DownloadProgress } from "./download.js";

/** The settings a user changes to point at a model, named in every "not found" message. */
const MODEL_VARIABLES = ["WHISPER_MODEL", "WHISPER_DOWNLOAD_ROOT", "WHISPER_MODEL_URL"] as const;

/** No model file where one was expected, and none could be downloaded. */
export class ModelNotFoundError extends WhisperError {
  /** The absolute path that was looked for. */
  readonly file: string;
  /** The URL a download was tried from, if one was. */
  readonly url: string | undefined;
  /** Environment variables that decide `file` and `url`. */
  readonly variables: readonly string[] = MODEL_VARIABLES;
  constructor(message: string, file: string, url?: string, options?: { cause?: unknown }) {
    super(message, "ERR_MODEL_NOT_FOUND", options);
    this.file = file;
    this.url = url;
  }
}

/** Options of {@link resolveModelFile}. */
export interface ResolveModelOptions extends Pick<DownloadOptions, "retries" | "retryDelayMs" | "idleTimeoutMs" | "progressIntervalMs"> {
  /** Directory holding `ggml-<name>.bin` files (WHISPER_DOWNLOAD_ROOT). Default `"./data/models/whisper"`. */
  downloadRoot?: string;
  /** Base URL the file is downloaded from as `<baseUrl>/ggml-<name>.bin` (WHISPER_MODEL_URL). Default the whisper.cpp models on Hugging Face. */
  baseUrl?: string;
  /** Download a missing named model. Paths are never downloaded. Default `true`. */
  download?: boolean;
  /** Expected SHA-256 of the file (WHISPER_MODEL_SHA256). Default: the official SHA-1 for known names, else size only. */
  sha256?: string;
  /** Download progress. Default none. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Stops a download (the partial file is kept to resume later). Default none. */
  signal?: AbortSignal;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

function settingsHint(model: string, downloadRoot: string, baseUrl: string, kind: "name" | "path"): string {
  return kind === "path"
    ? `Set WHISPER_MODEL to a model name (e.g. large-v3, base) to download it, or to the path of an existing ggml .bin file (now ${JSON.stringify(model)}).`
    : `It is chosen by WHISPER_MODEL (now ${JSON.stringify(model)}), WHISPER_DOWNLOAD_ROOT (now ${JSON.stringify(downloadRoot)}) and downloaded from WHISPER_MODEL_URL (now ${baseUrl}). Put the file there, fix these variables, or check the network.`;
}

/**
 * Returns the absolute path of the model file for `model`, a name or a `.bin` path:
 * - a path is used as is and must exist;
 * - a name maps to `<downloadRoot>/ggml-<name>.bin` (`large` = `large-v3`); when that file is
 *   missing it is downloaded from `<baseUrl>/ggml-<name>.bin` (resumable, verified, moved into
 *   place atomically; see downloadFile).
 *
 * Throws TypeError/RangeError for a bad `model`, {@link ModelNotFoundError} when there is no file
 * and it can't be downloaded (disabled, 404, offline), {@link ModelDownloadError} when a download
 * fails otherwise (checksum, size, disk, HTTP 5xx), AbortError when aborted.
 */
export async function resolveModelFile(model: string, options: ResolveModelOptions = {}): Promise<string> {
  const spec = parseModelSpec(model, "model");
  const downloadRoot = options.downloadRoot ?? DEFAULT_DOWNLOAD_ROOT;
  if (typeof downloadRoot !== "string" || downloadRoot.trim() === "") throw new TypeError(`Expected a directory path for downloadRoot but received ${JSON.stringify(downloadRoot)}`);
  const baseUrl = (options.baseUrl ?? DEFAULT_MODEL_BASE_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/i.test(baseUrl)) throw new TypeError(`Expected an http(s) URL for baseUrl but received ${JSON.stringify(options.baseUrl)}`);
  const file = modelFilePath(spec, downloadRoot);

  if (await isFile(file)) return file;
  if (spec.kind === "path") {
    throw new ModelNotFoundError(`Model file ${file} does not exist. ${settingsHint(model, downloadRoot, baseUrl, "path")}`, file);
  }
  if (options.download === false) {
    throw new ModelNotFoundError(`Model file ${file} was not found and downloading is disabled. ${settingsHint(model, downloadRoot, baseUrl, "name")}`, file);
  }

  const url = `${baseUrl}/${spec.fileName}`;
  const checksum: Checksum | undefined = options.sha256
    ? { algorithm: "sha256", value: options.sha256 }
    : OFFICIAL_MODEL_SHA1[spec.canonical]
      ? { algorithm: "sha1", value: OFFICIAL_MODEL_SHA1[spec.canonical]! }
      : undefined;
  const transfer: DownloadOptions = {};
  for (const key of ["retries", "retryDelayMs", "idleTimeoutMs", "progressIntervalMs", "onProgress", "signal"] as const) {
    if (options[key] !== undefined) (transfer as Record<string, unknown>)[key] = options[key];
  }
  if (checksum) transfer.checksum = checksum;
  try {
    await downloadFile(url, file, transfer);
  } catch (error) {
    if (error instanceof ModelDownloadError && (error.reason === "not-found" || error.reason === "network")) {
      const why = error.reason === "not-found" ? `the server answered HTTP ${error.status}` : error.message.replace(/^Could not download \S+: /, "");
      throw new ModelNotFoundError(`Model file ${file} was not found and downloading it from ${url} failed: ${why}. ${settingsHint(model, downloadRoot, baseUrl, "name")}`, file, url, { cause: error });
    }
    if (error instanceof ModelDownloadError && error.reason === "disk") {
      throw new ModelDownloadError(`${error.message}. Make WHISPER_DOWNLOAD_ROOT (now ${JSON.stringify(downloadRoot)}) a writable directory with enough space.`, "disk", url, { cause: error });
    }
    if (error instanceof ModelDownloadError && error.reason === "interrupted") {
      throw new ModelDownloadError(`${error.message}. The bytes received so far are kept in ${file}.partial; the next attempt resumes from there.`, "interrupted", url, { cause: error });
    }
    if (error instanceof ModelDownloadError && error.reason === "checksum" && !options.sha256) {
      throw new ModelDownloadError(`${error.message}. If this server hosts a different build of ${spec.fileName}, set WHISPER_MODEL_SHA256 to its SHA-256.`, "checksum", url, { cause: error });
    }
    throw error;
  }
  return file;
}
