import path from "node:path";
import type { Settings } from "../config.js";
import { publicModelName } from "../models/names.js";
import { getBackend } from "./registry.js";
import { backendOptionsFromSettings } from "./settings.js";
import type { ASRBackend } from "./types.js";

export type ModelState = "idle" | "loading" | "ready" | "failed";

/** Longest wait between two load attempts. */
export const MAX_LOAD_RETRY_MS = 300_000;

/** Wait before retry number `retry` (1-based): `firstMs`, doubling each time, at most 300 s. */
export function loadRetryDelayMs(retry: number, firstMs: number): number {
  return Math.min(MAX_LOAD_RETRY_MS, firstMs * 2 ** Math.max(0, retry - 1));
}

/** Where a failing load stands: the next attempt, if one is scheduled. */
export interface LoadRetryState {
  /** Attempts made so far. */
  attempts: number;
  /** Attempts allowed in all (1 + WHISPER_LOAD_RETRIES). */
  maxAttempts: number;
  /** When the next attempt starts; undefined when none is left (or one is running). */
  nextAttemptAt: Date | undefined;
}

/**
 * Builds the configured backend lazily and exactly once, even when many requests arrive
 * together before it is ready; a failed load can be retried by the next call.
 */
export class ModelManager {
  readonly #settings: Settings;
  #backend: ASRBackend | undefined;
  #ready: Promise<ASRBackend> | undefined;
  #state: ModelState = "idle";
  #error: unknown;
  #attempts = 0;
  #nextAttemptAt: Date | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #keepLoading: Promise<void> | undefined;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  get state(): ModelState {
    return this.#state;
  }

  /** The last load error, when state is "failed". */
  get error(): unknown {
    return this.#error;
  }

  /** The last load error's message, with the server's directories left out (for clients). */
  get publicError(): string | undefined {
    if (this.#state !== "failed") return undefined;
    const message = (this.#error as Error | undefined)?.message ?? String(this.#error);
    return redactPaths(message, this.#settings);
  }

  /** Attempts so far and the next one (see {@link loadWithRetries}). */
  get retry(): LoadRetryState {
    return { attempts: this.#attempts, maxAttempts: 1 + this.#settings.whisperLoadRetries, nextAttemptAt: this.#nextAttemptAt };
  }

  /**
   * Loads, and after a failure tries again WHISPER_LOAD_RETRIES times, waiting WHISPER_LOAD_RETRY_S
   * and then twice as long each time (at most 300 s). Never rejects: resolves once loaded or out of
   * attempts (state "failed"). {@link unload} cancels a pending retry.
   */
  loadWithRetries(onRetry?: (error: unknown, delayMs: number, retry: number) => void): Promise<void> {
    this.#keepLoading ??= (async () => {
      for (;;) {
        this.#nextAttemptAt = undefined;
        this.#attempts++;
        try {
          await this.getBackend();
          return;
        } catch (error) {
          const retry = this.#attempts;
          if (retry > this.#settings.whisperLoadRetries) return;
          const delayMs = loadRetryDelayMs(retry, this.#settings.whisperLoadRetryS * 1000);
          this.#nextAttemptAt = new Date(Date.now() + delayMs);
          onRetry?.(error, delayMs, retry);
          const waited = await new Promise<boolean>((resolve) => {
            this.#retryTimer = setTimeout(() => resolve(true), delayMs);
            this.#retryTimer.unref();
            this.#cancelRetry = () => resolve(false);
          });
          this.#cancelRetry = undefined;
          if (!waited) return;
        }
      }
    })().finally(() => {
      this.#keepLoading = undefined;
    });
    return this.#keepLoading;
  }

  #cancelRetry: (() => void) | undefined;

  /** The backend object (built on first use, not necessarily loaded). */
  get backendInstance(): ASRBackend {
    this.#backend ??= getBackend(this.#settings.asrBackend, backendOptionsFromSettings(this.#settings));
    return this.#backend;
  }

  /** The loaded backend; concurrent first calls share one build and one load. */
  getBackend(): Promise<ASRBackend> {
    if (this.#ready) return this.#ready;
    this.#state = "loading";
    const ready = (async () => {
      const backend = this.backendInstance;
      await backend.load();
      return backend;
    })();
    this.#ready = ready.then(
      (backend) => {
        this.#state = "ready";
        return backend;
      },
      (error: unknown) => {
        this.#state = "failed";
        this.#error = error;
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async unload(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#cancelRetry?.();
    this.#nextAttemptAt = undefined;
    const backend = this.#backend;
    this.#ready = undefined;
    this.#state = "idle";
    await backend?.unload();
  }
}

/** The model's directory and the download root, as the client must not see them. */
function redactPaths(message: string, settings: Settings): string {
  const spec = settings.whisperModel.trim();
  const dirs = new Set<string>();
  const shown = publicModelName(spec);
  if (shown !== spec) {
    dirs.add(path.dirname(spec));
    dirs.add(path.dirname(path.resolve(spec)));
  }
  dirs.add(settings.whisperDownloadRoot);
  dirs.add(path.resolve(settings.whisperDownloadRoot));
  let out = message;
  for (const dir of [...dirs].filter((d) => d !== "." && d !== "/" && d !== "").sort((a, b) => b.length - a.length)) {
    out = out.split(`${dir}${path.sep}`).join("").split(dir).join("<model dir>");
  }
  return out;
}
