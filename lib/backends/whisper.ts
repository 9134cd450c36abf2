// TingWu's `whisper` backend on top of the native core: PCM16LE bytes in,
// `{ text, sentence_info }` out, hotwords as the decoder prompt.
import { pcm16ToFloat32 } from "../audio/pcm.js";
import { loadNative } from "../native.js";
import { resolveModelFile } from "../models/resolve.js";
import { normalizeLanguage } from "../options.js";
import { buildHotwordPrompt } from "../tingwu/hotwords.js";
import { toSentenceInfo } from "../tingwu/sentence-info.js";
import { Whisper } from "../whisper.js";
import type { TranscribeOptions, TranscribeResult } from "../whisper.js";
import type { ASRBackend, BackendInfo, BackendOptions, BackendResult, BackendTranscribeOptions } from "./types.js";

/** Options of the whisper backend (`getBackend("whisper", options)`). */
export interface WhisperBackendOptions extends BackendOptions {
  /** Model name (`tiny` ... `large-v3-turbo`, `large` = `large-v3`, quantised `base-q5_1`) or a .bin path. Default `"large"`. */
  model?: string;
  /** Default language: a code, an English name, or "auto". Default `"zh"` (TingWu's default). */
  language?: string;
  /** "cuda" or "auto" use a GPU when there is one (else CPU); "cpu" never does. Default `"auto"`. */
  device?: "cuda" | "cpu" | "auto";
  /** Compute threads per transcription. Default: the cores available. */
  threads?: number;
  /** Transcriptions that may run at once (one whisper_state each). Default `1`. */
  concurrency?: number;
  /** Index of the GPU among those found (WHISPER_GPU_DEVICE). Default `0`. */
  gpuDevice?: number;
  /** Flash attention. Default `true`. */
  flashAttention?: boolean;
  /** Where model files live and are downloaded to. Default `./data/models/whisper`. */
  downloadRoot?: string;
  /** Base URL for model downloads. Default: the whisper.cpp models on Hugging Face. */
  modelUrl?: string;
  /** Download a missing model. Default `true`. */
  download?: boolean;
  /** Expected SHA-256 of the model file (WHISPER_MODEL_SHA256). Default: the official checksum for known names. */
  sha256?: string;
  /** Download progress. */
  onDownloadProgress?: (progress: { receivedBytes: number; totalBytes?: number; bytesPerSecond: number; etaSeconds?: number }) => void;
}

/** Whisper-only options a caller (e.g. the HTTP layer) may add to a backend transcription. */
export type WhisperCallOptions = BackendTranscribeOptions & Omit<TranscribeOptions, "language" | "signal">;

/** Backend result plus the raw whisper result for richer output formats. */
export interface WhisperBackendResult extends BackendResult {
  language: string;
  whisper: TranscribeResult;
}

const DEFAULTS = { model: "large", language: "zh", device: "auto", downloadRoot: "./data/models/whisper" } as const;

export class WhisperBackend implements ASRBackend {
  readonly type = "whisper";
  readonly supports_speaker = false;
  readonly supports_hotwords = true;
  /** Segments are produced per 30 s window of a complete file; there is no live audio streaming. */
  readonly supports_streaming = false;

  readonly #options: WhisperBackendOptions;
  readonly #language: string;
  #loading: Promise<Whisper> | undefined;
  #model: Whisper | undefined;

  constructor(options: WhisperBackendOptions = {}) {
    // Fail here, with the loader's explanation, rather than hand out a backend that can't work.
    loadNative();
    if (options.device !== undefined && !["cuda", "cpu", "auto"].includes(options.device)) {
      throw new RangeError(`Expected "cuda", "cpu" or "auto" for device but received ${JSON.stringify(options.device)}`);
    }
    if (options.model !== undefined && (typeof options.model !== "string" || options.model.trim() === "")) {
      throw new TypeError(`Expected a model name or .bin path for model but received ${JSON.stringify(options.model)}`);
    }
    this.#options = { ...options };
    this.#language = normalizeLanguage(options.language ?? DEFAULTS.language);
  }

  /** The configured model name or path. */
  get modelName(): string {
    return this.#options.model ?? DEFAULTS.model;
  }

  /** The default language ("auto" or a code). */
  get language(): string {
    return this.#language;
  }

  /** True once the model is loaded. */
  get loaded(): boolean {
    return this.#model !== undefined;
  }

  /** The loaded model, for callers that need more than TingWu's shape. Throws before load(). */
  get whisper(): Whisper {
    if (!this.#model) throw new Error("The whisper backend is not loaded yet; call load() first");
    return this.#model;
  }

  load(): Promise<void> {
    this.#loading ??= this.#load().then(
      (model) => (this.#model = model),
      (error: unknown) => {
        this.#loading = undefined; // a later call may retry (e.g. after the model was downloaded)
        throw error;
      },
    );
    return this.#loading.then(() => undefined);
  }

  async #load(): Promise<Whisper> {
    const o = this.#options;
    const file = await resolveModelFile(this.modelName, {
      downloadRoot: o.downloadRoot ?? DEFAULTS.downloadRoot,
      ...(o.modelUrl !== undefined ? { baseUrl: o.modelUrl } : {}),
      download: o.download ?? true,
      ...(o.sha256 ? { sha256: o.sha256 } : {}),
      ...(o.onDownloadProgress ? { onProgress: o.onDownloadProgress } : {}),
    });
    return Whisper.load(file, {
      gpu: (o.device ?? DEFAULTS.device) !== "cpu",
      ...(o.flashAttention !== undefined ? { flashAttention: o.flashAttention } : {}),
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      ...(o.gpuDevice !== undefined ? { gpuDevice: o.gpuDevice } : {}),
    });
  }

  async transcribe(pcm: Buffer | Uint8Array, options: BackendTranscribeOptions = {}): Promise<WhisperBackendResult> {
    return this.transcribeSamples(pcm16ToFloat32(pcm), options);
  }

  /** Same as {@link transcribe} for audio that is already 16 kHz mono float (e.g. decoded files). */
  async transcribeSamples(samples: Float32Array, options: WhisperCallOptions = {}): Promise<WhisperBackendResult> {
    const { hotwords, language, initialPrompt, ...rest } = options;
    await this.load();
    const prompt = [initialPrompt, buildHotwordPrompt(hotwords)].filter((p): p is string => !!p).join("\n");
    const result = await this.whisper.transcribe(samples, {
      ...rest,
      language: language === undefined ? this.#language : normalizeLanguage(language),
      ...(prompt ? { initialPrompt: prompt } : {}),
    });
    return { ...toSentenceInfo(result.segments), language: result.language, whisper: result };
  }

  getInfo(): BackendInfo {
    return {
      name: "WhisperBackend",
      type: this.type,
      device: this.#model?.info.device ?? predictDevice(this.#options.device ?? DEFAULTS.device),
      model: this.modelName,
      language: this.#language,
      supports_speaker: this.supports_speaker,
      supports_hotwords: this.supports_hotwords,
      supports_streaming: this.supports_streaming,
      loaded: this.loaded,
      ...(this.#model ? { model_type: this.#model.info.type, threads: this.#model.info.threads, concurrency: this.#model.info.concurrency } : {}),
    };
  }

  async unload(): Promise<void> {
    const loading = this.#loading;
    this.#loading = undefined;
    this.#model = undefined;
    if (!loading) return;
    const model = await loading.catch(() => undefined);
    await model?.dispose();
  }
}

/** The device whisper.cpp will pick, before the model is loaded (same rule as whisper.cpp's). */
function predictDevice(device: "cuda" | "cpu" | "auto"): string {
  if (device === "cpu") return "cpu";
  const gpu = loadNative().binding.runtimeInfo().devices.find((d) => d.type === "gpu" || d.type === "igpu");
  return gpu ? gpu.backend.toLowerCase() : "cpu";
}
