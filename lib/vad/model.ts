// Silero VAD model names -> files, through the same download path as Whisper models
// (resumable, verified, atomic): `<downloadRoot>/ggml-<name>.bin` from whisper.cpp's VAD models.
import fs from "node:fs/promises";
import path from "node:path";
import { downloadFile, ModelDownloadError } from "../models/download.js";
import type { DownloadOptions } from "../models/download.js";
import { DEFAULT_DOWNLOAD_ROOT } from "../models/names.js";
import { ModelNotFoundError } from "../models/resolve.js";

/** Silero VAD models whisper.cpp v1.9.1 publishes (and `scripts/fetch-real-model.sh --vad` converts). */
export const VAD_MODEL_NAMES = ["silero-v6.2.0", "silero-v5.1.2"] as const;
export type VadModelName = (typeof VAD_MODEL_NAMES)[number];

/** Where whisper.cpp's models/download-vad-model.sh fetches them. */
export const DEFAULT_VAD_MODEL_BASE_URL = "https://huggingface.co/ggml-org/whisper-vad/resolve/main";

/**
 * SHA-256 of the file this project's converter writes from PyPI's silero-vad wheel (see
 * docs/MODELS.md; scripts/fetch-real-model.sh checks it). Downloads from whisper.cpp's repository
 * were converted from the TorchScript file by its Python script and are checked by size only.
 */
export const VAD_MODEL_SHA256: Readonly<Partial<Record<VadModelName, string>>> = {
  "silero-v6.2.0": "cd10be23ad4af6b494aca8ae59305b990f113dfed9cad4c95f008c3bb9d1cb53",
};

/** A VAD `model` value, parsed: a known name or a path to a ggml .bin. Throws RangeError naming `option`. */
export function parseVadModel(model: string, option = "vad.model"): { kind: "name"; name: VadModelName; fileName: string } | { kind: "path"; path: string } {
  const m = model.trim();
  if (m.toLowerCase().endsWith(".bin") || m.includes("/") || m.includes("\\")) return { kind: "path", path: m };
  const name = VAD_MODEL_NAMES.find((n) => n === m.toLowerCase());
  if (!name) throw new RangeError(`Expected a VAD model name (${VAD_MODEL_NAMES.join(", ")}) or a path to a ggml .bin file for ${option} but received ${JSON.stringify(model)}`);
  return { kind: "name", name, fileName: `ggml-${name}.bin` };
}

export interface ResolveVadModelOptions extends Pick<DownloadOptions, "signal" | "onProgress"> {
  /** Directory of downloaded models (WHISPER_DOWNLOAD_ROOT). Default `"./data/models/whisper"`. */
  downloadRoot?: string;
  /** Base URL of `ggml-<name>.bin`. Default whisper.cpp's VAD models on Hugging Face. */
  baseUrl?: string;
  /** Download a missing named model. Default `true`. */
  download?: boolean;
  /** Expected SHA-256 of a download. Default none (size only). */
  sha256?: string;
}

/** The absolute path of the VAD model file for `model`, downloading a named one on first use. */
export async function resolveVadModelFile(model: string, options: ResolveVadModelOptions = {}): Promise<string> {
  const spec = parseVadModel(model);
  const root = options.downloadRoot ?? DEFAULT_DOWNLOAD_ROOT;
  const file = spec.kind === "path" ? path.resolve(spec.path) : path.resolve(root, spec.fileName);
  const present = await fs.stat(file).then((s) => s.isFile(), () => false);
  if (present) return file;
  const hint = "Set WHISPER_VAD_MODEL (or the vad.model option) to a VAD model name or an existing file; `scripts/fetch-real-model.sh --vad-only` converts silero-v6.2.0 from PyPI.";
  if (spec.kind === "path") throw new ModelNotFoundError(`VAD model file ${file} does not exist. ${hint}`, file);
  if (options.download === false) throw new ModelNotFoundError(`VAD model file ${file} was not found and downloading is disabled. ${hint}`, file);
  const url = `${(options.baseUrl ?? DEFAULT_VAD_MODEL_BASE_URL).replace(/\/+$/, "")}/${spec.fileName}`;
  const transfer: DownloadOptions = {};
  if (options.sha256) transfer.checksum = { algorithm: "sha256", value: options.sha256 };
  if (options.signal) transfer.signal = options.signal;
  if (options.onProgress) transfer.onProgress = options.onProgress;
  try {
    await downloadFile(url, file, transfer);
  } catch (error) {
    if (error instanceof ModelDownloadError && (error.reason === "not-found" || error.reason === "network")) {
      throw new ModelNotFoundError(`VAD model file ${file} was not found and downloading it from ${url} failed: ${error.message}. ${hint}`, file, url, { cause: error });
    }
    throw error;
  }
  return file;
}
