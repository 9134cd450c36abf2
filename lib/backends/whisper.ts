// TingWu's `whisper` backend on top of the native core: PCM16LE bytes in,
// `{ text, sentence_info }` out, hotwords as the decoder prompt.
import { pcm16ToFloat32 } from "../audio/pcm.js";
import { parseChineseScript, SERVICE_CHINESE_DEFAULTS } from "../chinese/index.js";
import type { ChineseScript } from "../chinese/index.js";
import { loadNative } from "../native.js";
import { resolveModelFile } from "../models/resolve.js";
import { DEFAULT_LANGUAGE, normalizeLanguage } from "../languages.js";
import type { Language } from "../languages.js";
import { DEFAULT_DOWNLOAD_ROOT, DEFAULT_MODEL, publicModelName } from "../models/names.js";
import { buildHotwordPrompt } from "../tingwu/hotwords.js";
import { toSentenceInfo } from "../tingwu/sentence-info.js";
import { resolveVadModelFile } from "../vad/model.js";
import { resolveVad, VAD_DEFAULTS } from "../vad/options.js";
import type { VadOptions } from "../vad/options.js";
import { Whisper } from "../whisper.js";
import type { Streamer } from "../stream/streamer.js";
import type { LanguageDetection, } from "../whisper.js";
import { DEFAULT_DEVICE, DEVICES } from "./types.js";
import type { ASRBackend, BackendInfo, BackendOptions, BackendStreamOptions, BackendTranscribeOptions, DetailedBackendResult, Device, SamplesTranscribeOptions } from "./types.js";

/** Options of the whisper backend (`getBackend("whisper", options)`). */
export interface WhisperBackendOptions extends BackendOptions {
  /** Model name (`tiny` ... `large-v3-turbo`, `large` = `large-v3`, quantised `base-q5_1`) or a .bin path. Default `"large"`. */
  model?: string;
  /** Default language: a code, an English name, or "auto". Default `"zh"` (TingWu's default). */
  language?: string;
  /** "cuda" or "auto" use a GPU when there is one (else CPU); "cpu" never does. Default `"auto"`. */
  device?: Device;
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
  /** Script of Chinese output, unless a call says otherwise (see TranscribeOptions.chineseScript). Default `"simplified"`. */
  chineseScript?: ChineseScript;
  /** Full-width punctuation in Chinese output, unless a call says otherwise. Default `true`. */
  chinesePunctuation?: boolean;
  /** A sentence in the chosen script before the prompt for zh, unless a call says otherwise. Default `true`. */
  chinesePrompt?: boolean;
  /** Voice activity detection for every call that doesn't say otherwise (WHISPER_VAD). Default `false`. */
  vad?: boolean | VadOptions;
  /** The VAD model when `vad` doesn't name one: a name (looked up in `downloadRoot`) or a path (WHISPER_VAD_MODEL). Default `"silero-v6.2.0"`. */
  vadModel?: string;
  /** Download progress. */
  onDownloadProgress?: (progress: { receivedBytes: number; totalBytes?: number; bytesPerSecond: number; etaSeconds?: number }) => void;
}

/** Whisper-only options a caller (e.g. the HTTP layer) may add to a backend transcription. */
export type WhisperCallOptions = SamplesTranscribeOptions;

/** Backend result plus the raw whisper result for richer output formats. */
export type WhisperBackendResult = DetailedBackendResult;


export class WhisperBackend implements ASRBackend {
  readonly type = "whisper";
  readonly supports_speaker = false;
  readonly supports_hotwords = true;
  /** Live audio through {@link stream} (LocalAgreement over a re-decoded buffer; `/ws/realtime`). */
  readonly supports_streaming = true;

  readonly #options: WhisperBackendOptions;
  readonly #language: Language;
  #loading: Promise<Whisper> | undefined;
  #model: Whisper | undefined;

  constructor(options: WhisperBackendOptions = {}) {
    // Fail here, with the loader's explanation, rather than hand out a backend that can't work.
    loadNative();
    if (options.device !== undefined && !DEVICES.includes(options.device)) {
      throw new RangeError(`Expected "cuda", "cpu" or "auto" for device but received ${JSON.stringify(options.device)}`);
    }
    if (options.model !== undefined && (typeof options.model !== "string" || options.model.trim() === "")) {
      throw new TypeError(`Expected a model name or .bin path for model but received ${JSON.stringify(options.model)}`);
    }
    if (options.chineseScript !== undefined) parseChineseScript(options.chineseScript);
    for (const key of ["chinesePunctuation", "chinesePrompt"] as const) {
      if (options[key] !== undefined && typeof options[key] !== "boolean") {
        throw new TypeError(`Expected a boolean for ${key} but received ${JSON.stringify(options[key])}`);
      }
    }
    this.#options = { ...options };
    this.#language = normalizeLanguage(options.language ?? DEFAULT_LANGUAGE);
  }

  /** The configured model name or path. */
  get modelName(): string {
    return this.#options.model ?? DEFAULT_MODEL;
  }

  /** The default language ("auto" or a code). */
  get language(): Language {
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
      downloadRoot: o.downloadRoot ?? DEFAULT_DOWNLOAD_ROOT,
      ...(o.modelUrl !== undefined ? { baseUrl: o.modelUrl } : {}),
      download: o.download ?? true,
      ...(o.sha256 ? { sha256: o.sha256 } : {}),
      ...(o.onDownloadProgress ? { onProgress: o.onDownloadProgress } : {}),
    });
    return Whisper.load(file, {
      gpu: (o.device ?? DEFAULT_DEVICE) !== "cpu",
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
    const { hotwords, language, initialPrompt, vad, ...rest } = options;
    await this.load();
    const prompt = [initialPrompt, buildHotwordPrompt(hotwords)].filter((p): p is string => !!p).join("\n");
    const o = this.#options;
    const vadOption = await this.#vad(vad);
    const result = await this.whisper.transcribe(samples, {
      chineseScript: o.chineseScript ?? SERVICE_CHINESE_DEFAULTS.chineseScript,
      chinesePunctuation: o.chinesePunctuation ?? SERVICE_CHINESE_DEFAULTS.chinesePunctuation,
      chinesePrompt: o.chinesePrompt ?? SERVICE_CHINESE_DEFAULTS.chinesePrompt,
      ...rest,
      // Whisper#transcribe normalises a per-call language (a public entry); the default already is.
      language: language ?? this.#language,
      ...(prompt ? { initialPrompt: prompt } : {}),
      ...(vadOption ? { vad: vadOption } : {}),
    });
    return { ...toSentenceInfo(result.segments), language: result.language, whisper: result };
  }

  /** The call's `vad` (or the backend's default) with its model resolved in this backend's model directory. */
  async #vad(call: boolean | VadOptions | undefined): Promise<VadOptions | undefined> {
    const chosen = call ?? this.#options.vad;
    if (chosen === undefined || chosen === false) return undefined;
    resolveVad(chosen); // validation errors name the option before any model lookup
    const given: VadOptions = chosen === true ? (typeof this.#options.vad === "object" ? this.#options.vad : {}) : chosen;
    const o = this.#options;
    const model = await resolveVadModelFile(given.model ?? o.vadModel ?? VAD_DEFAULTS.model, {
      downloadRoot: o.downloadRoot ?? DEFAULT_DOWNLOAD_ROOT,
      download: o.download ?? true,
    });
    return { ...given, model };
  }

  /** A real-time stream on the loaded model (throws before load()): hotwords become the prompt, the language defaults to the backend's. */
  stream(options: BackendStreamOptions = {}): Streamer {
    const { hotwords, language, ...rest } = options;
    const prompt = buildHotwordPrompt(hotwords);
    return this.whisper.stream({
      ...rest,
      // Whisper#transcribe normalises a per-call language (a public entry); the default already is.
      language: language ?? this.#language,
      ...(prompt ? { initialPrompt: prompt } : {}),
    });
  }

  async detectLanguage(samples: Float32Array, options: { signal?: AbortSignal } = {}): Promise<LanguageDetection> {
    await this.load();
    return this.whisper.detectLanguage(samples, options);
  }

  getInfo(): BackendInfo {
    return {
      name: "WhisperBackend",
      type: this.type,
      device: this.#model?.info.device ?? predictDevice(this.#options.device ?? DEFAULT_DEVICE),
      model: publicModelName(this.modelName),
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
function predictDevice(device: Device): string {
  if (device === "cpu") return "cpu";
  const gpu = loadNative().binding.runtimeInfo().devices.find((d) => d.type === "gpu" || d.type === "igpu");
  return gpu ? gpu.backend.toLowerCase() : "cpu";
}
