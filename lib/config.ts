// Settings from the environment, validated once at start-up. Variable names and defaults follow
// TingWu's `src/config.py` where TingWu has the variable, so the same .env / compose file works.
import { z } from "zod";
import { CHINESE_SCRIPTS, SERVICE_CHINESE_DEFAULTS } from "./chinese/index.js";
import type { ChineseScript } from "./chinese/script.js";
import { WhisperError } from "./errors.js";
import { BUILT_IN_BACKENDS } from "./backends/registry.js";
import { DEFAULT_DEVICE, DEVICES } from "./backends/types.js";
import type { Device } from "./backends/types.js";
import { DEFAULT_DOWNLOAD_ROOT, DEFAULT_MODEL, DEFAULT_MODEL_BASE_URL, parseModelSpec } from "./models/names.js";
import { LANGUAGE_WHEN_OMITTED } from "./languages.js";
import { defaultThreads, MAX_THREADS } from "./options.js";
import { anyText, boolean, fail, integer, language, ok, oneOf, positiveNumber, textInput } from "./util/text-input.js";
import type { Parsed, TextParser } from "./util/text-input.js";
import { parseVadModel, VAD_MODEL_NAMES } from "./vad/model.js";
import { VAD_DEFAULTS } from "./vad/options.js";

/** The backends ASR_BACKEND may name: the ones this package provides. */
export const ASR_BACKENDS = BUILT_IN_BACKENDS;
export type AsrBackendType = (typeof ASR_BACKENDS)[number];
/** TingWu's other backends: named in its shared .env, but served by other containers, not here. */
const OTHER_TINGWU_BACKENDS = ["pytorch", "onnx", "sensevoice", "gguf", "qwen3", "vibevoice", "router"] as const;

export { DEVICES } from "./backends/types.js";
export type { Device } from "./backends/types.js";

/** pino's levels. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Validated, frozen settings. Each field names its variable and default. */
export interface Settings {
  /** `ASR_BACKEND`: which backend serves requests; only `"whisper"` exists here. Default `"whisper"` (TingWu's own default is `pytorch`, served by another container). */
  readonly asrBackend: AsrBackendType;
  /** `WHISPER_MODEL`: a model name (`large` = `large-v3`, `base-q5_1`, ...) or a path to a `.bin` file. Default `"large"`. */
  readonly whisperModel: string;
  /** `WHISPER_LANGUAGE`: a whisper language code, or `"auto"` to detect (empty also means auto). Default `"zh"`. */
  readonly whisperLanguage: string;
  /** `WHISPER_DOWNLOAD_ROOT`: where model files are looked for and downloaded to. Default `"./data/models/whisper"`. */
  readonly whisperDownloadRoot: string;
  /** `WHISPER_MODEL_URL`: base URL that `ggml-<name>.bin` is downloaded from (no trailing slash). Default the whisper.cpp models on Hugging Face. */
  readonly whisperModelUrl: string;
  /** `WHISPER_MODEL_SHA256`: expected SHA-256 of the model file (lower-case hex), checked after a download. Default none (the built-in table of official SHA-1 sums is used). */
  readonly whisperModelSha256: string | undefined;
  /** `WHISPER_VAD`: voice activity detection on every transcription that doesn't set it (true/false, 1/0, yes/no, on/off). Default `false`. */
  readonly whisperVad: boolean;
  /** `WHISPER_VAD_MODEL`: the Silero VAD model, a name (silero-v6.2.0, silero-v5.1.2; looked up and downloaded in WHISPER_DOWNLOAD_ROOT) or a path to a ggml .bin. Default `"silero-v6.2.0"`. */
  readonly whisperVadModel: string;
  /** `DEVICE`: `cuda`, `cpu` or `auto` (a GPU when there is one). Default `"auto"`. */
  readonly device: Device;
  /** `WHISPER_THREADS`: compute threads per transcription, 1 to 512. Default: the cores available to the process. */
  readonly whisperThreads: number;
  /** `WHISPER_POOL_SIZE`: transcriptions that run at once (one whisper state each), 1 to 64. Default `1`. */
  readonly whisperPoolSize: number;
  /** `WHISPER_QUEUE_SIZE`: requests that may wait for a free state before the server answers 503; 0 to 100000. Default `16`. */
  readonly whisperQueueSize: number;
  /** `WHISPER_MAX_UPLOAD_MB`: largest accepted upload in MiB (may be fractional). Default `100`. */
  readonly whisperMaxUploadMb: number;
  /** `PORT`: HTTP port, 0 (any free port) to 65535. Default `8000`. */
  readonly port: number;
  /** `HOST`: address to listen on. Default `"0.0.0.0"`. */
  readonly host: string;
  /** `LOG_LEVEL`: one of fatal, error, warn, info, debug, trace, silent. Default `"info"`. */
  readonly logLevel: LogLevel;
  /** `FFMPEG_PATH`: the ffmpeg executable used to decode non-WAV uploads. Default none (`ffmpeg` on PATH). */
  readonly ffmpegPath: string | undefined;
  /** `WS_HEARTBEAT_INTERVAL`: seconds between `/ws/realtime` ping messages; 0 sends none. Default `30` (TingWu's). */
  readonly wsHeartbeatInterval: number;
  /** `WS_HEARTBEAT_TIMEOUT`: seconds without any message from the client after which `/ws/realtime` closes (4408); 0 never. Default `60` (TingWu's). */
  readonly wsHeartbeatTimeout: number;
  /** `WS_CHUNK_SIZE`: samples per audio frame suggested to clients in the `connected` message. Default `9600` (600 ms, TingWu's). */
  readonly wsChunkSize: number;
  /** `WS_COMPRESSION`: permessage-deflate on `/ws/realtime`. Default `true` (TingWu's). */
  readonly wsCompression: boolean;
  /** `REALTIME_MAX_STREAMS`: `/ws/realtime` connections open at once; more are closed with 1013. Default `8`. */
  readonly realtimeMaxStreams: number;
  /** `REALTIME_MAX_FRAME_BYTES`: largest message accepted on `/ws/realtime`; larger closes with 1009. Default `1048576`. */
  readonly realtimeMaxFrameBytes: number;
  /** `REALTIME_MAX_STREAM_SECONDS`: audio one `/ws/realtime` connection may send in all; more closes with 4413. Default `3600`. */
  readonly realtimeMaxStreamSeconds: number;
  /** `REALTIME_STEP_MS`: new audio between two partial decodes of a stream, in ms (100 to 30000). Default `1000`. */
  readonly realtimeStepMs: number;
  /** `WHISPER_GPU_DEVICE`: index of the GPU the model runs on, among those found (one per worker process). Default `0`. */
  readonly whisperGpuDevice: number;
  /** `REDIS_URL`: jobs go to BullMQ on this Redis (`redis://` or `rediss://`). Default none: jobs run in this process. */
  readonly redisUrl: string | undefined;
  /** `JOB_STORAGE`: where job audio is kept: `dir:/path` (a directory every worker can read; also makes in-process jobs survive restarts) or `s3://bucket/prefix` (not implemented yet). Default none: in memory (in-process) or in Redis (BullMQ). */
  readonly jobStorage: JobStorageSpec | undefined;
  /** `JOB_REDIS_AUDIO_MAX_MB`: job audio up to this size is kept in Redis with BullMQ; larger needs `JOB_STORAGE=dir:`. Default `10`. */
  readonly jobRedisAudioMaxMb: number;
  /** `JOB_RESULT_TTL_S`: seconds a finished job (its result or error) is kept. Default `86400` (one day). */
  readonly jobResultTtlS: number;
  /** `JOB_ATTEMPTS`: tries of a job that fails for a transient reason (bad input fails at once). Default `3`. */
  readonly jobAttempts: number;
  /** `JOB_LOCK_MS`: BullMQ lock of a running job, renewed at half of it; a worker silent for longer is presumed dead and its job runs again. Default `30000`. */
  readonly jobLockMs: number;
  /** `JOB_WEBHOOK_SECRET`: when set, webhooks carry `X-TingWu-Signature: t=<unix s>,v1=<HMAC-SHA256 of "t.body">`. Default none (unsigned). */
  readonly jobWebhookSecret: string | undefined;
  /** `ALLOW_PRIVATE_URLS`: let job URLs and webhooks reach loopback, private and link-local addresses. Default `false`. */
  readonly allowPrivateUrls: boolean;
  /** `DATA_DIR`: where the service keeps its state (hotword lists under `hotwords/`, runtime config in `config.json`). Default `"./data"` (TingWu's `data_dir`). */
  readonly dataDir: string;
  /** `WHISPER_MAX_AUDIO_S`: longest accepted audio in seconds (checked from a WAV header, or as ffmpeg decodes); longer is 413. Default `14400` (4 h). */
  readonly whisperMaxAudioS: number;
  /** `WHISPER_LOAD_RETRIES`: further attempts after a failed model load (download or file), 0 to 1000. Default `5`. */
  readonly whisperLoadRetries: number;
  /** `WHISPER_LOAD_RETRY_S`: seconds before the first retry; each next wait doubles, up to 300 s. Default `10`. */
  readonly whisperLoadRetryS: number;
  /** `API_KEYS`: comma-separated keys; when any is set, every route but /health and /ready needs one (`Authorization: Bearer <key>` or `X-API-Key`). Default none (open). */
  readonly apiKeys: readonly string[];
  /** `CORS_ORIGINS`: comma-separated origins allowed to call from a browser, or `*` for any (never with credentials). Default `*`. */
  readonly corsOrigins: "*" | readonly string[];
  /** `WHISPER_ZH_SCRIPT`: script of Chinese output (simplified, traditional, traditional-tw, traditional-hk, as-is). Default `"simplified"`. */
  readonly whisperZhScript: ChineseScript;
  /** `WHISPER_ZH_PUNCTUATION`: full-width punctuation in Chinese output (true/false, 1/0, yes/no, on/off). Default `true`. */
  readonly whisperZhPunctuation: boolean;
  /** `WHISPER_ZH_PROMPT`: put a sentence in the chosen script before the prompt when the language is zh. Default `true` (docs/CHINESE.md). */
  readonly whisperZhPrompt: boolean;
}

/** `JOB_STORAGE`, parsed. */
export type JobStorageSpec = { readonly kind: "dir"; readonly path: string } | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

/** One bad variable or command-line option. */
export interface SettingsIssue {
  /** The environment variable, e.g. `PORT`. */
  readonly variable: string;
  /** The command-line option that gave the value instead of the variable, e.g. `--port`. */
  readonly option?: string;
  /** What was wrong, e.g. `expected an integer between 0 and 65535 but received "http"`. */
  readonly message: string;
}

/** Thrown by {@link loadSettings}; the message has one line per bad variable or option. */
export class SettingsError extends WhisperError {
  readonly issues: readonly SettingsIssue[];
  constructor(issues: readonly SettingsIssue[]) {
    const lines = issues.map((i) => `${i.option ?? i.variable}: ${i.message}`);
    const where = issues.every((i) => i.option !== undefined) ? "on the command line" : issues.some((i) => i.option !== undefined) ? "" : "in the environment";
    super(`Invalid settings${where ? ` ${where}` : ""}:\n${lines.join("\n")}`, "ERR_SETTINGS");
    this.issues = issues;
  }
}

/** A value given by a command-line option in place of a variable, e.g. `{ option: "--threads", value: "4" }`. */
export interface SettingsOverride {
  readonly option: string;
  readonly value: string | undefined;
}

function asrBackend(text: string): Parsed<AsrBackendType> {
  const result = oneOf(ASR_BACKENDS)(text);
  if (result.ok || !(OTHER_TINGWU_BACKENDS as readonly string[]).includes(text.toLowerCase())) return result;
  return fail(`${ASR_BACKENDS.join(" or ")} (${JSON.stringify(text.toLowerCase())} is one of TingWu's other backends, which this service does not provide)`);
}

function model(text: string): Parsed<string> {
  try {
    parseModelSpec(text, "WHISPER_MODEL");
    return ok(text);
  } catch {
    return fail("a model name (tiny, tiny.en, base, base.en, small, small.en, medium, medium.en, large-v1, large-v2, large-v3, large-v3-turbo, large, or one of these with a quantisation suffix such as -q5_1) or a path to a .bin file");
  }
}

function httpUrl(text: string): Parsed<string> {
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(text);
  return parsed.success ? ok(text.replace(/\/+$/, "")) : fail("an http(s) URL");
}

function sha256(text: string): Parsed<string> {
  return /^[0-9a-f]{64}$/i.test(text) ? ok(text.toLowerCase()) : fail("64 hexadecimal digits (a SHA-256)");
}

function keyList(text: string): Parsed<readonly string[]> {
  const keys = text.split(",").map((k) => k.trim()).filter((k) => k !== "");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  if (keys.some((k) => /[\s\x00-\x1f\x7f]/.test(k))) return fail("comma-separated keys without spaces or control characters");
  return ok(Object.freeze([...new Set(keys)]));
}

function origins(text: string): Parsed<"*" | readonly string[]> {
  const list = text.split(",").map((o) => o.trim()).filter((o) => o !== "");
  if (list.includes("*")) return list.length === 1 ? ok("*") : fail('"*" alone, or a comma-separated list of origins');
  const normalized: string[] = [];
  for (const origin of list) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return fail('"*" or comma-separated origins such as https://app.example.com');
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== origin.replace(/\/+$/, "")) {
      return fail('"*" or comma-separated origins (scheme://host[:port], no path) such as https://app.example.com');
    }
    normalized.push(url.origin);
  }
  return list.length === 0 ? ok("*") : ok(Object.freeze(normalized));
}

function vadModel(text: string): Parsed<string> {
  try {
    parseVadModel(text, "WHISPER_VAD_MODEL");
    return ok(text);
  } catch {
    return fail(`a VAD model name (${VAD_MODEL_NAMES.join(", ")}) or a path to a .bin file`);
  }
}

function nonNegativeNumber(max: number): TextParser<number> {
  return (text) => {
    const value = /^\+?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
    return value >= 0 && value <= max ? ok(value) : fail(`a number between 0 and ${max}`);
  };
}

function redisUrl(text: string): Parsed<string> {
  const parsed = z.url({ protocol: /^rediss?$/ }).safeParse(text);
  return parsed.success ? ok(text) : fail("a redis:// or rediss:// URL");
}

function jobStorage(text: string): Parsed<JobStorageSpec> {
  if (text.startsWith("dir:") && text.length > 4) return ok({ kind: "dir", path: text.slice(4) });
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(text);
  if (s3) return ok({ kind: "s3", bucket: s3[1]!, prefix: (s3[2] ?? "").replace(/\/+$/, "") });
  return fail("dir:/path or s3://bucket/prefix");
}

const envSchema = z.object({
  ASR_BACKEND: textInput(asrBackend, { fallback: (): AsrBackendType => "whisper" }),
  WHISPER_MODEL: textInput(model, { fallback: () => DEFAULT_MODEL }),
  WHISPER_LANGUAGE: textInput(language, { fallback: () => LANGUAGE_WHEN_OMITTED.settings, blank: () => LANGUAGE_WHEN_OMITTED.settingsEmpty }),
  WHISPER_DOWNLOAD_ROOT: textInput(anyText, { fallback: () => DEFAULT_DOWNLOAD_ROOT }),
  WHISPER_MODEL_URL: textInput(httpUrl, { fallback: () => DEFAULT_MODEL_BASE_URL }),
  WHISPER_MODEL_SHA256: textInput<string, string | undefined>(sha256, { fallback: () => undefined }),
  WHISPER_VAD: textInput(boolean, { fallback: () => false }),
  WHISPER_VAD_MODEL: textInput(vadModel, { fallback: () => VAD_DEFAULTS.model }),
  DEVICE: textInput(oneOf(DEVICES), { fallback: (): Device => DEFAULT_DEVICE }),
  WHISPER_THREADS: textInput(integer(1, MAX_THREADS), { fallback: defaultThreads }),
  WHISPER_POOL_SIZE: textInput(integer(1, 64), { fallback: () => 1 }),
  WHISPER_QUEUE_SIZE: textInput(integer(0, 100_000), { fallback: () => 16 }),
  WHISPER_MAX_UPLOAD_MB: textInput(positiveNumber(1_000_000), { fallback: () => 100 }),
  PORT: textInput(integer(0, 65_535), { fallback: () => 8000 }),
  HOST: textInput(anyText, { fallback: () => "0.0.0.0" }),
  LOG_LEVEL: textInput(oneOf(LOG_LEVELS), { fallback: (): LogLevel => "info" }),
  FFMPEG_PATH: textInput<string, string | undefined>(anyText, { fallback: () => undefined }),
  WS_HEARTBEAT_INTERVAL: textInput(nonNegativeNumber(86_400), { fallback: () => 30 }),
  WS_HEARTBEAT_TIMEOUT: textInput(nonNegativeNumber(86_400), { fallback: () => 60 }),
  WS_CHUNK_SIZE: textInput(integer(1, 16_000 * 60), { fallback: () => 9600 }),
  WS_COMPRESSION: textInput(boolean, { fallback: () => true }),
  REALTIME_MAX_STREAMS: textInput(integer(0, 100_000), { fallback: () => 8 }),
  REALTIME_MAX_FRAME_BYTES: textInput(integer(2, 64 * 1024 * 1024), { fallback: () => 1024 * 1024 }),
  REALTIME_MAX_STREAM_SECONDS: textInput(positiveNumber(31_536_000), { fallback: () => 3600 }),
  REALTIME_STEP_MS: textInput(integer(100, 30_000), { fallback: () => 1000 }),
  WHISPER_GPU_DEVICE: textInput(integer(0, 63), { fallback: () => 0 }),
  REDIS_URL: textInput<string, string | undefined>(redisUrl, { fallback: () => undefined }),
  JOB_STORAGE: textInput<JobStorageSpec, JobStorageSpec | undefined>(jobStorage, { fallback: () => undefined }),
  JOB_REDIS_AUDIO_MAX_MB: textInput(positiveNumber(512), { fallback: () => 10 }),
  JOB_RESULT_TTL_S: textInput(integer(1, 365 * 86_400), { fallback: () => 86_400 }),
  JOB_ATTEMPTS: textInput(integer(1, 100), { fallback: () => 3 }),
  JOB_LOCK_MS: textInput(integer(1000, 3_600_000), { fallback: () => 30_000 }),
  JOB_WEBHOOK_SECRET: textInput<string, string | undefined>(anyText, { fallback: () => undefined }),
  ALLOW_PRIVATE_URLS: textInput(boolean, { fallback: () => false }),
  DATA_DIR: textInput(anyText, { fallback: () => "./data" }),
  WHISPER_MAX_AUDIO_S: textInput(positiveNumber(10_000_000), { fallback: () => 14_400 }),
  WHISPER_LOAD_RETRIES: textInput(integer(0, 1000), { fallback: () => 5 }),
  WHISPER_LOAD_RETRY_S: textInput(positiveNumber(86_400), { fallback: () => 10 }),
  API_KEYS: textInput<readonly string[]>(keyList, { fallback: () => Object.freeze([]) }),
  CORS_ORIGINS: textInput<"*" | readonly string[]>(origins, { fallback: (): "*" => "*" }),
  WHISPER_ZH_SCRIPT: textInput(oneOf(CHINESE_SCRIPTS), { fallback: (): ChineseScript => SERVICE_CHINESE_DEFAULTS.chineseScript }),
  WHISPER_ZH_PUNCTUATION: textInput(boolean, { fallback: () => SERVICE_CHINESE_DEFAULTS.chinesePunctuation }),
  WHISPER_ZH_PROMPT: textInput(boolean, { fallback: () => SERVICE_CHINESE_DEFAULTS.chinesePrompt }),
});

/** An environment variable {@link loadSettings} reads. */
export type SettingsVariable = keyof typeof envSchema.shape;

/** The environment variables {@link loadSettings} reads. */
export const SETTINGS_VARIABLES = Object.keys(envSchema.shape) as readonly SettingsVariable[];

/**
 * Reads and validates the settings. Unknown variables are ignored (the environment is shared with
 * docker compose). Throws {@link SettingsError} listing every bad variable at once.
 * @param env Default `process.env`.
 * @param overrides Values that win over variables (CLI flags), validated the same way but reported
 *   under the option's name: `{ WHISPER_THREADS: { option: "--threads", value: "0" } }` fails with
 *   `--threads: expected an integer between 1 and 512 but received "0"`. An undefined value is no override.
 */
export function loadSettings(env: Record<string, string | undefined> = process.env, overrides: Partial<Record<SettingsVariable, SettingsOverride>> = {}): Settings {
  if (env === null || typeof env !== "object") {
    throw new TypeError(`Expected an object of environment variables for env but received ${env === null ? "null" : typeof env}`);
  }
  // Pick only our keys so the schema never walks (or reports on) the rest of the environment.
  const picked: Record<string, unknown> = {};
  const options = new Map<string, string>();
  for (const key of SETTINGS_VARIABLES) {
    const override = overrides[key as SettingsVariable];
    if (override?.value !== undefined) {
      picked[key] = override.value;
      options.set(key, override.option);
    } else picked[key] = env[key];
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const seen = new Set<string>();
    const issues: SettingsIssue[] = [];
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      if (seen.has(name)) continue;
      seen.add(name);
      const option = options.get(name);
      issues.push({ variable: name, ...(option !== undefined ? { option } : {}), message: issue.message });
    }
    throw new SettingsError(issues);
  }
  const e = parsed.data;
  return Object.freeze({
    asrBackend: e.ASR_BACKEND,
    whisperModel: e.WHISPER_MODEL,
    whisperLanguage: e.WHISPER_LANGUAGE,
    whisperDownloadRoot: e.WHISPER_DOWNLOAD_ROOT,
    whisperModelUrl: e.WHISPER_MODEL_URL,
    whisperModelSha256: e.WHISPER_MODEL_SHA256,
    whisperVad: e.WHISPER_VAD,
    whisperVadModel: e.WHISPER_VAD_MODEL,
    device: e.DEVICE,
    whisperThreads: e.WHISPER_THREADS,
    whisperPoolSize: e.WHISPER_POOL_SIZE,
    whisperQueueSize: e.WHISPER_QUEUE_SIZE,
    whisperMaxUploadMb: e.WHISPER_MAX_UPLOAD_MB,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    ffmpegPath: e.FFMPEG_PATH,
    wsHeartbeatInterval: e.WS_HEARTBEAT_INTERVAL,
    wsHeartbeatTimeout: e.WS_HEARTBEAT_TIMEOUT,
    wsChunkSize: e.WS_CHUNK_SIZE,
    wsCompression: e.WS_COMPRESSION,
    realtimeMaxStreams: e.REALTIME_MAX_STREAMS,
    realtimeMaxFrameBytes: e.REALTIME_MAX_FRAME_BYTES,
    realtimeMaxStreamSeconds: e.REALTIME_MAX_STREAM_SECONDS,
    realtimeStepMs: e.REALTIME_STEP_MS,
    whisperGpuDevice: e.WHISPER_GPU_DEVICE,
    redisUrl: e.REDIS_URL,
    jobStorage: e.JOB_STORAGE,
    jobRedisAudioMaxMb: e.JOB_REDIS_AUDIO_MAX_MB,
    jobResultTtlS: e.JOB_RESULT_TTL_S,
    jobAttempts: e.JOB_ATTEMPTS,
    jobLockMs: e.JOB_LOCK_MS,
    jobWebhookSecret: e.JOB_WEBHOOK_SECRET,
    allowPrivateUrls: e.ALLOW_PRIVATE_URLS,
    dataDir: e.DATA_DIR,
    whisperMaxAudioS: e.WHISPER_MAX_AUDIO_S,
    whisperLoadRetries: e.WHISPER_LOAD_RETRIES,
    whisperLoadRetryS: e.WHISPER_LOAD_RETRY_S,
    apiKeys: e.API_KEYS,
    corsOrigins: e.CORS_ORIGINS,
    whisperZhScript: e.WHISPER_ZH_SCRIPT,
    whisperZhPunctuation: e.WHISPER_ZH_PUNCTUATION,
    whisperZhPrompt: e.WHISPER_ZH_PROMPT,
  });
}
