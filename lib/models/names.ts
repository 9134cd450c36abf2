// Model names as whisper.cpp publishes them (`ggml-<name>.bin` on Hugging Face) and how a
// WHISPER_MODEL value maps to a file.
import path from "node:path";

/** Base model sizes. `large` is an alias (see {@link MODEL_ALIASES}). */
export const MODEL_SIZES = ["tiny", "base", "small", "medium", "large-v1", "large-v2", "large-v3", "large-v3-turbo", "large"] as const;

/** Sizes that also come as English-only `.en` models. */
const ENGLISH_ONLY_SIZES: ReadonlySet<string> = new Set(["tiny", "base", "small", "medium"]);

/** ggml quantisation suffixes whisper.cpp's `quantize` tool writes. */
export const QUANTIZATIONS = ["q4_0", "q4_1", "q5_0", "q5_1", "q8_0"] as const;

/** Names that stand for another model. TingWu's `large` has meant large-v3 since its whisper backend was added. */
export const MODEL_ALIASES: Readonly<Record<string, string>> = { large: "large-v3" };

/** The model when none is configured (WHISPER_MODEL, the backend's `model`): `large` = `large-v3`. */
export const DEFAULT_MODEL = "large";

// <size>[.en][-tdrz][-q<n>_<m>]; tinydiarize only exists for small.en, but mirrors may host more.
const NAME_PATTERN = /^(tiny|base|small|medium|large-v1|large-v2|large-v3-turbo|large-v3|large)(\.en)?(-tdrz)?(?:-(q4_0|q4_1|q5_0|q5_1|q8_0))?$/;

/** A WHISPER_MODEL value, parsed. */
export type ModelSpec =
  | { kind: "name"; /** As given (trimmed, lower case). */ name: string; /** With aliases applied, e.g. `large-v3-q5_0`. */ canonical: string; /** `ggml-<canonical>.bin`. */ fileName: string }
  | { kind: "path"; /** As given (trimmed). */ path: string };

/** True when `model` is meant as a file: it ends in `.bin` or contains a path separator. */
export function isModelPath(model: string): boolean {
  const m = model.trim();
  return m.toLowerCase().endsWith(".bin") || m.includes("/") || m.includes("\\");
}

/**
 * Parses a model name (`tiny` ... `large-v3-turbo`, `large`, `base.en`, `base-q5_1`,
 * `large-v3-turbo-q8_0`) or a path to a `.bin` file. Throws TypeError for a non-string and
 * RangeError, naming `option`, for anything else.
 */
export function parseModelSpec(model: unknown, option = "model"): ModelSpec {
  if (typeof model !== "string") {
    throw new TypeError(`Expected a model name or a path to a .bin file for ${option} but received ${model === null ? "null" : typeof model}`);
  }
  const trimmed = model.trim();
  if (trimmed === "") throw new RangeError(`Expected a model name or a path to a .bin file for ${option} but received an empty string`);
  if (isModelPath(trimmed)) {
    if (!trimmed.toLowerCase().endsWith(".bin")) {
      throw new RangeError(`Expected a path to a whisper.cpp ggml .bin file for ${option} but received ${JSON.stringify(model)}`);
    }
    return { kind: "path", path: trimmed };
  }
  const name = trimmed.toLowerCase();
  const match = NAME_PATTERN.exec(name);
  if (!match || (match[2] !== undefined && !ENGLISH_ONLY_SIZES.has(match[1]!))) {
    throw new RangeError(
      `Expected a whisper model name (${MODEL_SIZES.join(", ")}; optionally with .en for tiny/base/small/medium and a quantisation suffix such as -q5_1 or -q8_0) or a path to a .bin file for ${option} but received ${JSON.stringify(model)}`,
    );
  }
  const size = match[1]!;
  const canonical = (MODEL_ALIASES[size] ?? size) + name.slice(size.length);
  return { kind: "name", name, canonical, fileName: modelFileName(canonical) };
}

/** `ggml-<name>.bin`, the file name whisper.cpp's download script and Hugging Face use. */
export function modelFileName(canonicalName: string): string {
  return `ggml-${canonicalName}.bin`;
}

/** Where a model name lives under `downloadRoot` (absolute). */
export function modelFilePath(spec: ModelSpec, downloadRoot: string): string {
  return spec.kind === "path" ? path.resolve(spec.path) : path.resolve(downloadRoot, spec.fileName);
}

/** Where whisper.cpp's own download script fetches ggml models from. */
export const DEFAULT_MODEL_BASE_URL = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/** TingWu's model cache layout (`/app/data/models/whisper` in the container). */
export const DEFAULT_DOWNLOAD_ROOT = "./data/models/whisper";

/**
 * SHA-1 of the official files at {@link DEFAULT_MODEL_BASE_URL}, as listed in whisper.cpp's
 * models/README.md (v1.9.1). Used to verify a download of that name when no
 * WHISPER_MODEL_SHA256 is given; names not listed are checked by size only.
 */
export const OFFICIAL_MODEL_SHA1: Readonly<Record<string, string>> = {
  "tiny": "bd577a113a864445d4c299885e0cb97d4ba92b5f",
  "tiny.en": "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
  "base": "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
  "base.en": "137c40403d78fd54d454da0f9bd998f78703390c",
  "small": "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
  "small.en": "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
  "small.en-tdrz": "b6c6e7e89af1a35c08e6de56b66ca6a02a2fdfa1",
  "medium": "fd9727b6e1217c2f614f9b698455c4ffd82463b4",
  "medium.en": "8c30f0e44ce9560643ebd10bbe50cd20eafd3723",
  "large-v1": "b1caaf735c4cc1429223d5a74f0f4d0b9b59a299",
  "large-v2": "0f4c8e34f21cf1a914c59d8b3ce882345ad349d6",
  "large-v2-q5_0": "00e39f2196344e901b3a2bd5814807a769bd1630",
  "large-v3": "ad82bf6a9043ceed055076d0fd39f5f186ff8062",
  "large-v3-q5_0": "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de",
  "large-v3-turbo": "4af2b29d7ec73d781377bfd1758ca957a807e941",
  "large-v3-turbo-q5_0": "e050f7970618a659205450ad97eb95a18d69c9ee",
};

/**
 * How a configured model is shown to clients (/ready, /api/v1/backend, /v1/models): a name as
 * given, a path as its file name only, so the server's directories stay private.
 */
export function publicModelName(model: string): string {
  const spec = parseModelSpec(model);
  return spec.kind === "path" ? spec.path.split(/[\\/]/).pop()! : model.trim();
}
/** Approximate download sizes of the official files, as whisper.cpp's models/README.md lists them (v1.9.1). */
export const OFFICIAL_MODEL_SIZE: Readonly<Record<string, string>> = {
  "tiny": "75 MiB",
  "tiny.en": "75 MiB",
  "base": "142 MiB",
  "base.en": "142 MiB",
  "small": "466 MiB",
  "small.en": "466 MiB",
  "small.en-tdrz": "465 MiB",
  "medium": "1.5 GiB",
  "medium.en": "1.5 GiB",
  "large-v1": "2.9 GiB",
  "large-v2": "2.9 GiB",
  "large-v2-q5_0": "1.1 GiB",
  "large-v3": "2.9 GiB",
  "large-v3-q5_0": "1.1 GiB",
  "large-v3-turbo": "1.5 GiB",
  "large-v3-turbo-q5_0": "547 MiB",
};
