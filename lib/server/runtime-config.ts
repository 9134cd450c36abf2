// The settings that can change while the service runs (TingWu's `POST /config`), persisted in
// `<DATA_DIR>/config.json` so a restart keeps them; everything else comes from the environment at
// start-up and is read-only. This module is the one owner of which keys are writable and how
// their values are checked.
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { LOG_LEVELS } from "../config.js";
import type { LogLevel, Settings } from "../config.js";
import type { InjectionSettings } from "../tingwu/hotword-store.js";
import { MAX_HOTWORD_TERMS } from "../tingwu/hotwords.js";
import { writeFileAtomic } from "../util/atomic-write.js";

/** The writable keys, TingWu's names where TingWu has the setting. */
export interface MutableConfig {
  /** Use the stored hotword lists when a request brings none (TingWu's `hotword_injection_enable`). Default `true`. */
  hotword_injection_enable: boolean;
  /** Stored hotwords merged into a prompt at most, 0 to 50 (whisper's prompt lists 50 at most). Default `50`. */
  hotword_injection_max: number;
  /** The log level, applied at once. Default `LOG_LEVEL`. */
  log_level: LogLevel;
}

const fields = {
  hotword_injection_enable: z.boolean(),
  hotword_injection_max: z.number().int().min(0).max(MAX_HOTWORD_TERMS),
  log_level: z.enum(LOG_LEVELS),
} satisfies Record<keyof MutableConfig, z.ZodType>;

/** The keys `POST /config` accepts. */
export const MUTABLE_CONFIG_KEYS = Object.keys(fields) as (keyof MutableConfig)[];

/** A rejected update: the message names the key and what was wrong. */
export class ConfigUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigUpdateError";
  }
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? "an object" : String(value);
}

/** Our read-only settings under TingWu's snake_case names (the variable's name, lower-cased). */
const SETTING_KEYS = {
  asr_backend: "asrBackend",
  whisper_model: "whisperModel",
  whisper_language: "whisperLanguage",
  whisper_download_root: "whisperDownloadRoot",
  whisper_model_url: "whisperModelUrl",
  whisper_model_sha256: "whisperModelSha256",
  device: "device",
  whisper_threads: "whisperThreads",
  whisper_pool_size: "whisperPoolSize",
  whisper_queue_size: "whisperQueueSize",
  whisper_max_upload_mb: "whisperMaxUploadMb",
  port: "port",
  host: "host",
  ffmpeg_path: "ffmpegPath",
  data_dir: "dataDir",
} as const satisfies Record<string, keyof Settings>;

/** Our settings as `/config/all` shows them (unset ones as null). */
export function settingsAsConfig(settings: Settings): Record<string, unknown> {
  return Object.fromEntries(Object.entries(SETTING_KEYS).map(([key, field]) => [key, settings[field] ?? null]));
}

export class RuntimeConfig {
  /** `<DATA_DIR>/config.json`. */
  readonly file: string;
  readonly #defaults: MutableConfig;
  readonly #onChange: (config: MutableConfig) => void;
  #values: MutableConfig;
  #writing: Promise<unknown> = Promise.resolve();

  /**
   * @param options.logLevel The level the logger starts with (the default of `log_level`). Default `settings.logLevel`.
   * @param options.onChange Applies the values (e.g. the logger's level); called after every load and update.
   */
  constructor(settings: Settings, options: { logLevel?: LogLevel; onChange?: (config: MutableConfig) => void } = {}) {
    this.file = path.join(settings.dataDir, "config.json");
    this.#defaults = { hotword_injection_enable: true, hotword_injection_max: MAX_HOTWORD_TERMS, log_level: options.logLevel ?? settings.logLevel };
    this.#values = { ...this.#defaults };
    this.#onChange = options.onChange ?? (() => undefined);
  }

  /** How stored hotwords reach a request's prompt. */
  get injection(): InjectionSettings {
    return { enabled: this.#values.hotword_injection_enable, max: this.#values.hotword_injection_max };
  }

  /** The current values. */
  get values(): Readonly<MutableConfig> {
    return { ...this.#values };
  }

  /**
   * Reads `config.json` again (missing: the defaults). Keys it doesn't know, or values that fail
   * their check (a hand edit gone wrong), are ignored with a warning through `warn`.
   */
  async reload(warn: (message: string) => void = () => undefined): Promise<void> {
    let stored: unknown = {};
    try {
      stored = JSON.parse(await fs.readFile(this.file, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") warn(`${this.file}: ${(error as Error).message}; using the defaults`);
    }
    const values = { ...this.#defaults };
    if (stored !== null && typeof stored === "object" && !Array.isArray(stored)) {
      for (const [key, value] of Object.entries(stored)) {
        try {
          Object.assign(values, { [key]: checkValue(key, value) });
        } catch (error) {
          warn(`${this.file}: ${(error as Error).message}; ignored`);
        }
      }
    }
    this.#values = values;
    this.#onChange(this.values);
  }

  /**
   * Checks every update first (nothing is applied when one fails), then applies and persists them.
   * Throws {@link ConfigUpdateError} naming the first bad key.
   */
  async update(updates: Record<string, unknown>): Promise<Readonly<MutableConfig>> {
    const checked: Partial<MutableConfig> = {};
    for (const [key, value] of Object.entries(updates)) Object.assign(checked, { [key]: checkValue(key, value) });
    // Updates run one after another, each on top of the previous one's values.
    const run = this.#writing.then(async () => {
      const next = { ...this.#values, ...checked };
      await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
      this.#values = next;
      this.#onChange(this.values);
      return this.values;
    });
    this.#writing = run.catch(() => undefined);
    return run;
  }
}

function checkValue(key: string, value: unknown): unknown {
  if (!Object.hasOwn(fields, key)) {
    const settings = Object.hasOwn(SETTING_KEYS, key) ? `${key} is read-only: it is set from the environment (${key.toUpperCase()}) at start-up` : `${key} is not a setting of this service`;
    throw new ConfigUpdateError(`${settings}; writable keys: ${MUTABLE_CONFIG_KEYS.join(", ")}`);
  }
  const parsed = fields[key as keyof MutableConfig].safeParse(value);
  if (!parsed.success) throw new ConfigUpdateError(`Invalid value for ${key}: expected ${expectation(key as keyof MutableConfig)} but received ${describe(value)}`);
  return parsed.data;
}

function expectation(key: keyof MutableConfig): string {
  switch (key) {
    case "hotword_injection_enable":
      return "a boolean";
    case "hotword_injection_max":
      return `an integer between 0 and ${MAX_HOTWORD_TERMS}`;
    case "log_level":
      return `one of ${LOG_LEVELS.join(", ")}`;
  }
}
