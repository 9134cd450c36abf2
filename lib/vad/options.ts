// The `vad` option of transcribe(): validation and defaults, in one place for the library, the
// HTTP dialects, the settings and the CLI.
import { z } from "zod";
import { parseOptions } from "../options.js";
import type { SegmentationParams } from "./segments.js";

/** Voice activity detection settings (the object form of `vad`). */
export interface VadOptions {
  /** A Silero VAD model name (`silero-v6.2.0`, `silero-v5.1.2`) or a path to a ggml .bin. Default `"silero-v6.2.0"` (the model manager downloads it). */
  model?: string;
  /** Speech probability from which a window counts as speech. Default `0.5`. */
  threshold?: number;
  /** Speech shorter than this is dropped. Default `250`. */
  minSpeechMs?: number;
  /** Silence that must pass before a speech segment ends. Default `500`. */
  minSilenceMs?: number;
  /** Speech longer than this is cut at its last pause (or hard). Default `28`. */
  maxSpeechS?: number;
  /** Audio kept around each speech segment. Default `200`. */
  speechPadMs?: number;
  /**
   * Chunks decoded at once, each on its own state of the model's pool (up to the model's
   * `concurrency`). With 1, each chunk gets the previous chunk's text as prompt. Default: the
   * model's `concurrency`.
   */
  concurrency?: number;
}

export const VAD_DEFAULTS: Required<Omit<VadOptions, "concurrency">> = {
  model: "silero-v6.2.0",
  threshold: 0.5,
  minSpeechMs: 250,
  minSilenceMs: 500,
  maxSpeechS: 28,
  speechPadMs: 200,
};

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const vadOptionsSchema = z.strictObject({
  model: z.string().min(1).optional(),
  threshold: z.number().min(0.01).max(0.99).optional(),
  minSpeechMs: int(0, 60_000).optional(),
  minSilenceMs: int(0, 60_000).optional(),
  maxSpeechS: z.number().min(1).max(3600).optional(),
  speechPadMs: int(0, 10_000).optional(),
  concurrency: int(1, 64).optional(),
});

/** A validated `vad` option with its defaults applied. */
export interface ResolvedVad extends SegmentationParams {
  model: string;
  concurrency: number | undefined;
}

/**
 * Validates `vad` (`true`, `false`, or a {@link VadOptions} object) and applies the defaults;
 * `undefined`/`false` give `undefined` (no VAD). `defaults` are the caller's (settings) defaults.
 */
export function resolveVad(vad: unknown, defaults: Partial<VadOptions> = {}): ResolvedVad | undefined {
  if (vad === undefined || vad === false) return undefined;
  let given: VadOptions = {};
  if (vad !== true) {
    if (vad === null || typeof vad !== "object" || Array.isArray(vad)) {
      throw new TypeError(`Expected true, false or an options object for vad but received ${vad === null ? "null" : Array.isArray(vad) ? "an array" : typeof vad === "string" ? JSON.stringify(vad) : String(vad)}`);
    }
    given = parseOptions(vadOptionsSchema, vad, "vad", "vad.");
  }
  const base = parseOptions(vadOptionsSchema, defaults, "VAD defaults", "vad.");
  const pick = <K extends keyof VadOptions>(k: K) => given[k] ?? base[k];
  return {
    model: pick("model") ?? VAD_DEFAULTS.model,
    threshold: pick("threshold") ?? VAD_DEFAULTS.threshold,
    minSpeechMs: pick("minSpeechMs") ?? VAD_DEFAULTS.minSpeechMs,
    minSilenceMs: pick("minSilenceMs") ?? VAD_DEFAULTS.minSilenceMs,
    maxSpeechS: pick("maxSpeechS") ?? VAD_DEFAULTS.maxSpeechS,
    speechPadMs: pick("speechPadMs") ?? VAD_DEFAULTS.speechPadMs,
    concurrency: pick("concurrency"),
  };
}

/** faster-whisper's `vad_parameters` names -> {@link VadOptions} (TingWu's asr_options.backend). */
const FASTER_WHISPER_NAMES: Readonly<Record<string, keyof VadOptions>> = {
  threshold: "threshold",
  min_speech_duration_ms: "minSpeechMs",
  min_silence_duration_ms: "minSilenceMs",
  max_speech_duration_s: "maxSpeechS",
  speech_pad_ms: "speechPadMs",
};

/**
 * faster-whisper's `vad_filter` / `vad_parameters` pair as a `vad` option: `undefined` when
 * neither is given (the server's setting applies). Throws TypeError/RangeError naming `where`.
 */
export function vadFromFasterWhisper(vadFilter: boolean | undefined, vadParameters: unknown, where: string): boolean | VadOptions | undefined {
  if (vadParameters === undefined || vadParameters === null) return vadFilter;
  if (typeof vadParameters !== "object" || Array.isArray(vadParameters)) throw new TypeError(`Expected an object for ${where}.vad_parameters`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(vadParameters)) {
    const name = FASTER_WHISPER_NAMES[key];
    if (!name) throw new TypeError(`Unknown key ${JSON.stringify(key)} in ${where}.vad_parameters; valid keys: ${Object.keys(FASTER_WHISPER_NAMES).join(", ")}`);
    out[name] = value;
  }
  const parsed = parseOptions(vadOptionsSchema, out, `${where}.vad_parameters`, `${where}.vad_parameters.`);
  return vadFilter === false ? false : parsed;
}
