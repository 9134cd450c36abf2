// Option schemas and their defaults. Everything is validated here, in TypeScript, before it
// reaches C++; a bad value becomes a TypeError (wrong type) or RangeError (wrong value) whose
// message names the option.
import os from "node:os";
import { z } from "zod";
import { CHINESE_SCRIPTS } from "./chinese/script.js";
import { WHISPER_SAMPLE_RATE } from "./audio/pcm.js";
import { describe } from "./util/describe.js";

/** Largest thread count accepted (ggml's own limit is 512). */
export const MAX_THREADS = 512;
/**
 * The addon's decoding defaults (what {@link Whisper.transcribe} uses for an omitted option). They
 * match whisper-cli's own defaults except `bestOf` 5 and flash attention on, which the tests and
 * the benchmark pass to whisper-cli to compare like with like (test/helpers/whisper-cli.ts).
 */
export const DECODING_DEFAULTS = Object.freeze({
  temperature: 0,
  temperatureIncrement: 0.2,
  beamSize: 1,
  bestOf: 5,
  noContext: true,
  suppressBlank: true,
  suppressNonSpeechTokens: false,
  noSpeechThreshold: 0.6,
  entropyThreshold: 2.4,
  logprobThreshold: -1,
  flashAttention: true,
});

/** whisper.cpp v1.9.1 runs at most 8 decoders (WHISPER_MAX_DECODERS): beamSize and bestOf <= 8. */
export const MAX_DECODERS = 8;

export function defaultThreads(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);

export const loadOptionsSchema = z.strictObject({
  gpu: z.boolean().optional(),
  gpuDevice: int(0, 63).optional(),
  flashAttention: z.boolean().optional(),
  threads: int(1, MAX_THREADS).optional(),
  concurrency: int(1, 64).optional(),
  signal: z.unknown().optional(),
});

export const transcribeOptionsSchema = z.strictObject({
  language: z.string().optional(),
  translate: z.boolean().optional(),
  initialPrompt: z.string().optional(),
  threads: int(1, MAX_THREADS).optional(),
  temperature: num(0, 1).optional(),
  temperatureIncrement: num(0, 1).optional(),
  beamSize: int(1, MAX_DECODERS).optional(),
  bestOf: int(1, MAX_DECODERS).optional(),
  noTimestamps: z.boolean().optional(),
  tokenTimestamps: z.boolean().optional(),
  includeTokens: z.boolean().optional(),
  maxSegmentLength: int(0, 100_000).optional(),
  splitOnWord: z.boolean().optional(),
  maxTokensPerSegment: int(0, 1024).optional(),
  suppressBlank: z.boolean().optional(),
  suppressNonSpeechTokens: z.boolean().optional(),
  noSpeechThreshold: num(0, 1).optional(),
  entropyThreshold: num(0, 100).optional(),
  logprobThreshold: num(-100, 0).optional(),
  offsetMs: int(0, 2 ** 31 - 1).optional(),
  durationMs: int(0, 2 ** 31 - 1).optional(),
  noContext: z.boolean().optional(),
  singleSegment: z.boolean().optional(),
  chineseScript: z.enum(CHINESE_SCRIPTS).optional(),
  chinesePunctuation: z.boolean().optional(),
  chinesePrompt: z.boolean().optional(),
  vad: z.unknown().optional(),
  signal: z.unknown().optional(),
  onProgress: z.unknown().optional(),
  onSegment: z.unknown().optional(),
});

export const detectLanguageOptionsSchema = z.strictObject({
  threads: int(1, MAX_THREADS).optional(),
  offsetMs: int(0, 2 ** 31 - 1).optional(),
  signal: z.unknown().optional(),
});


function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "number" ? "a number" : issue.expected === "boolean" ? "a boolean" : `a ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "too_small":
    case "too_big": {
      // Rebuild the whole range from the schema so the message shows both bounds.
      return "a value in the allowed range";
    }
    default:
      return "a valid value";
  }
}

function rangeText(schema: z.ZodType | undefined): string | undefined {
  let inner: z.ZodType | undefined = schema;
  while (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodNumber)) return undefined;
  const { minValue, maxValue, isInt } = inner;
  const kind = isInt ? "an integer" : "a number";
  if (minValue !== null && maxValue !== null) return `${kind} between ${minValue} and ${maxValue}`;
  return kind;
}

/** Parses `input` against `schema`, throwing TypeError/RangeError that name the option (as `prefix` + key). */
export function parseOptions<S extends z.ZodObject>(schema: S, input: unknown, where: string, prefix = ""): z.infer<S> {
  if (input === undefined) input = {};
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new TypeError(`Expected an options object for ${where} but received ${describe(input)}`);
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(schema.shape).join(", ");
    throw new TypeError(`Unknown option ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} for ${where}; valid options: ${known}`);
  }
  const key = String(issue.path[0] ?? "options");
  const value = (input as Record<string, unknown>)[key];
  if (issue.code === "invalid_type") {
    throw new TypeError(`Expected ${expectation(issue)} for ${prefix}${key} but received ${describe(value)}`);
  }
  const range = rangeText(schema.shape[key] as z.ZodType | undefined) ?? expectation(issue);
  throw new RangeError(`Expected ${range} for ${prefix}${key} but received ${describe(value)}`);
}

export function checkSignal(signal: unknown, option = "signal"): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError(`Expected an AbortSignal for ${option} but received ${describe(signal)}`);
  return signal;
}

export function checkCallback<F extends (...args: never[]) => unknown>(fn: unknown, option: string): F | undefined {
  if (fn === undefined) return undefined;
  if (typeof fn !== "function") throw new TypeError(`Expected a function for ${option} but received ${describe(fn)}`);
  return fn as F;
}

/** whisper.cpp refuses (with an empty result) anything shorter than 100 ms. */
export const MIN_SAMPLES = WHISPER_SAMPLE_RATE / 10;

/** Checks audio handed to transcribe/detectLanguage: a non-empty, finite, 16 kHz mono Float32Array. */
export function checkSamples(samples: unknown, option = "samples"): Float32Array {
  if (!(samples instanceof Float32Array)) {
    throw new TypeError(`Expected a Float32Array of 16 kHz mono samples for ${option} but received ${describe(samples)}`);
  }
  if (samples.length === 0) throw new RangeError(`Expected non-empty audio for ${option} but received 0 samples`);
  if (samples.length < MIN_SAMPLES) {
    throw new RangeError(
      `Expected at least ${MIN_SAMPLES} samples (100 ms at 16 kHz) for ${option} but received ${samples.length}; whisper.cpp can't transcribe shorter audio`,
    );
  }
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) {
      throw new RangeError(`Expected finite sample values for ${option} but received ${v} at index ${i}`);
    }
  }
  return samples;
}
