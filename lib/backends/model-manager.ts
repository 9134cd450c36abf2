import type { Settings } from "../config.js";
import { getBackend } from "./registry.js";
import type { ASRBackend } from "./types.js";

export type ModelState = "idle" | "loading" | "ready" | "failed";

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

  /** The backend object (built on first use, not necessarily loaded). */
  get backendInstance(): ASRBackend {
    this.#backend ??= getBackend(this.#settings.asrBackend, {
      model: this.#settings.whisperModel,
      language: this.#settings.whisperLanguage,
      device: this.#settings.device,
      threads: this.#settings.whisperThreads,
      concurrency: this.#settings.whisperPoolSize,
      gpuDevice: this.#settings.whisperGpuDevice,
      downloadRoot: this.#settings.whisperDownloadRoot,
      modelUrl: this.#settings.whisperModelUrl,
      ...(this.#settings.whisperModelSha256 ? { sha256: this.#settings.whisperModelSha256 } : {}),
    });
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
    const backend = this.#backend;
    this.#ready = undefined;
    this.#state = "idle";
    await backend?.unload();
  }
}
