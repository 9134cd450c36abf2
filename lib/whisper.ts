// The public model class: load a whisper.cpp model once, transcribe many times (concurrently,
// up to `concurrency`), dispose. All waiting happens off the JS thread.
import fs from "node:fs/promises";
import { AbortError, DisposedError, ModelLoadError, TranscriptionError, WhisperError } from "./errors.js";
import { inspectGgmlModel } from "./models/ggml-format.js";
import { loadNative } from "./native.js";
import type { BinaryChoice, NativeModel, NativeModelInfo, NativeRuntimeInfo, NativeSegment, NativeTranscribeParams, NativeTranscribeResult } from "./native.js";
import {
  checkCallback,
  checkSamples,
  checkSignal,
  defaultThreads,
  detectLanguageOptionsSchema,
  loadOptionsSchema,
  normalizeLanguage,
  parseOptions,
  SAMPLE_RATE,
  transcribeOptionsSchema,
} from "./options.js";
import { Semaphore } from "./util/semaphore.js";

/** Options of {@link Whisper.load}. */
export interface LoadOptions {
  /** Use a GPU when the build has one (CUDA) and a device is present; falls back to CPU otherwise. Default `true`. */
  gpu?: boolean;
  /** Index of the GPU to use among the GPUs found. Default `0`. */
  gpuDevice?: number;
  /** Flash attention (whisper-cli's default; faster on CPU and GPU). Default `true`. */
  flashAttention?: boolean;
  /** Default compute threads per transcription. Default: the cores available to the process. */
  threads?: number;
  /** How many transcriptions may run at once on this model, each on its own whisper_state; more calls queue. Default `1`. */
  concurrency?: number;
  /** Aborts the load: the promise rejects with AbortError at once and the model is freed when whisper.cpp finishes reading it. */
  signal?: AbortSignal;
}

/** One token of a segment (with `includeTokens` or `tokenTimestamps`). */
export interface Token {
  /** Token id in the model's vocabulary. */
  id: number;
  /** Token text; a character split across tokens appears whole on the token that completes it. */
  text: string;
  /** Probability of the token. */
  p: number;
  /** Start in integer ms (only with `tokenTimestamps`; otherwise -1). */
  start: number;
  /** End in integer ms (only with `tokenTimestamps`; otherwise -1). */
  end: number;
  /** True for special tokens (timestamps, end of text, ...). */
  special: boolean;
}

/** A transcribed segment. */
export interface Segment {
  /** Start, integer milliseconds from the start of the audio. */
  start: number;
  /** End, integer milliseconds. */
  end: number;
  /** Text exactly as whisper.cpp gives it (leading space kept), always whole UTF-8 characters. */
  text: string;
  /** Probability that the window holding this segment has no speech. */
  noSpeechProb: number;
  /** Tokens, with `includeTokens` or `tokenTimestamps`. */
  tokens?: Token[];
}

/** Stage timings from whisper.cpp (`whisper_get_timings`); per-stage averages in ms. */
export interface Timings {
  /** Wall time spent inside whisper.cpp for this call. */
  computeMs: number;
  /** Present when the run used the model's first state (always so with concurrency 1). */
  sampleMs?: number;
  encodeMs?: number;
  decodeMs?: number;
  batchdMs?: number;
  promptMs?: number;
}

export interface TranscribeResult {
  /** All segment texts joined, exactly as whisper.cpp gives them. */
  text: string;
  /** The language used: the one asked for, or the one detected with `"auto"`. */
  language: string;
  /** Probability of the detected language (only with `"auto"`). */
  languageProbability?: number;
  segments: Segment[];
  timings: Timings;
}

/** Options of {@link Whisper.transcribe}. */
export interface TranscribeOptions {
  /** Spoken language: `"auto"` (detect) or a code/English name known to whisper (`"en"`, `"zh"`, `"german"`). Default `"auto"`. */
  language?: string;
  /** Translate to English. Default `false`. */
  translate?: boolean;
  /** Text given to the decoder as previous context (names, spelling, style). Default none. */
  initialPrompt?: string;
  /** Compute threads for this call. Default: the model's `threads`. */
  threads?: number;
  /** Initial sampling temperature; 0 is greedy. Default `0`. */
  temperature?: number;
  /** Temperature added on each fallback when a window fails the entropy/logprob checks; 0 disables fallback. Default `0.2`. */
  temperatureIncrement?: number;
  /** Beam width, 1 to 8 (whisper.cpp's decoder limit); 1 means greedy decoding (whisper.cpp's library default, fastest). Default `1`. */
  beamSize?: number;
  /** Candidates sampled at temperatures above 0 (greedy fallback), 1 to 8. Default `5`. */
  bestOf?: number;
  /** Don't predict timestamps (one segment per 30 s window). Default `false`. */
  noTimestamps?: boolean;
  /** Token-level timestamps (implies `includeTokens`). Default `false`. */
  tokenTimestamps?: boolean;
  /** Include the tokens of each segment. Default `false`. */
  includeTokens?: boolean;
  /** Maximum segment length in characters; 0 = no limit. Default `0`. */
  maxSegmentLength?: number;
  /** With `maxSegmentLength`, split on word boundaries rather than tokens. Default `false`. */
  splitOnWord?: boolean;
  /** Maximum tokens per segment; 0 = no limit. Default `0`. */
  maxTokensPerSegment?: number;
  /** Suppress blank outputs at the start of a window. Default `true`. */
  suppressBlank?: boolean;
  /** Suppress non-speech tokens (music notes, brackets, ...). Default `false`. */
  suppressNonSpeechTokens?: boolean;
  /** No-speech probability above which a silent window is skipped (with the logprob check). Default `0.6`. */
  noSpeechThreshold?: number;
  /** Entropy below which a window is decoded again at a higher temperature (repetition guard). Default `2.4`. */
  entropyThreshold?: number;
  /** Average log probability below which a window is decoded again. Default `-1`. */
  logprobThreshold?: number;
  /** Start offset in ms. Default `0`. */
  offsetMs?: number;
  /** Duration to process in ms; 0 = to the end. Default `0`. */
  durationMs?: number;
  /** Don't feed each window's text to the next as context. Default `true` (whisper.cpp's default). */
  noContext?: boolean;
  /** Force a single segment per window. Default `false`. */
  singleSegment?: boolean;
  /** Aborts the transcription: whisper.cpp stops at its next check and the promise rejects with AbortError. */
  signal?: AbortSignal;
  /** Called with the progress in percent (0-100), on the JS thread. */
  onProgress?: (percent: number) => void;
  /** Called with each segment as soon as whisper.cpp finalises it, before the promise resolves. */
  onSegment?: (segment: Segment) => void;
}

export interface DetectLanguageOptions {
  /** Compute threads. Default: the model's `threads`. */
  threads?: number;
  /** Where to look, in ms from the start. Default `0`. */
  offsetMs?: number;
  /** Aborts waiting for a free state (detection itself is one short encoder pass). */
  signal?: AbortSignal;
}

export interface LanguageDetection {
  language: string;
  probability: number;
  probabilities: Record<string, number>;
}

/** Model description: dimensions, type, and the device really in use. */
export interface ModelInfo extends Omit<NativeModelInfo, "device"> {
  /** "cuda" (or another GPU backend name in lower case) when a GPU is in use, else "cpu". */
  device: string;
  threads: number;
  concurrency: number;
  /** The file loaded, or undefined when loaded from bytes. */
  path?: string;
}

function toSegment(s: NativeSegment): Segment {
  const segment: Segment = { start: s.start, end: s.end, text: s.text, noSpeechProb: s.noSpeechProb };
  if (s.tokens) segment.tokens = s.tokens;
  return segment;
}

/**
 * Keeps segment bounds inside the audio and in order. whisper.cpp v1.9.1 reports nonsense starts
 * for some windows (e.g. -1007280 ms with noTimestamps and greedy decoding) and window ends past
 * the end of short audio.
 */
function clampSegments(segments: Segment[], offsetMs: number, audioMs: number): Segment[] {
  let floor = offsetMs;
  for (const s of segments) {
    s.end = Math.min(Math.max(s.end, floor), audioMs);
    s.start = Math.min(Math.max(s.start, floor), s.end);
    floor = s.start;
  }
  return segments;
}

async function checkModelSource(source: unknown): Promise<string | Uint8Array> {
  if (typeof source === "string") {
    if (source.length === 0) throw new TypeError("Expected a model path or bytes for source but received an empty string");
    let stat;
    try {
      stat = await fs.stat(source);
    } catch (error) {
      throw new ModelLoadError(`Model file not found: ${source}`, { cause: error });
    }
    if (stat.isDirectory()) throw new ModelLoadError(`Model path is a directory, not a ggml .bin file: ${source}`);
    if (stat.size === 0) throw new ModelLoadError(`Model file is empty: ${source}`);
  } else if (source instanceof Uint8Array) {
    if (source.length === 0) throw new ModelLoadError("Model bytes are empty");
  } else {
    throw new TypeError(`Expected a model path (string) or bytes (Uint8Array) for source but received ${source === null ? "null" : typeof source}`);
  }
  try {
    await inspectGgmlModel(source);
  } catch (error) {
    const where = typeof source === "string" ? source : "the given bytes";
    throw new ModelLoadError(`Not a usable whisper.cpp ggml model (${where}): ${(error as Error).message}`, { cause: error });
  }
  return source;
}

/** A loaded whisper.cpp model. Create with {@link Whisper.load}; free with {@link Whisper.dispose}. */
export class Whisper {
  readonly #native: NativeModel;
  readonly #threads: number;
  readonly #slots: Semaphore;
  readonly #running = new Set<{ abort(): void; done: Promise<unknown> }>();
  readonly #path: string | undefined;
  #disposing: Promise<void> | undefined;

  private constructor(native: NativeModel, threads: number, concurrency: number, path: string | undefined) {
    this.#native = native;
    this.#threads = threads;
    this.#slots = new Semaphore(concurrency);
    this.#path = path;
  }

  /**
   * Loads a ggml model from a path or from bytes, off the JS thread.
   * Rejects with ModelLoadError for a missing, empty, truncated or corrupt model.
   */
  static async load(source: string | Uint8Array, options: LoadOptions = {}): Promise<Whisper> {
    const opts = parseOptions(loadOptionsSchema, options, "Whisper.load()");
    const signal = checkSignal(opts.signal);
    if (signal?.aborted) throw new AbortError("The model load was aborted", { cause: signal.reason });
    const checked = await checkModelSource(source);
    const { binding } = loadNative();
    const loading = binding.WhisperModel.load(checked, {
      gpu: opts.gpu ?? true,
      gpuDevice: opts.gpuDevice ?? 0,
      flashAttention: opts.flashAttention ?? true,
    });
    const wrap = (native: NativeModel) =>
      new Whisper(native, opts.threads ?? defaultThreads(), opts.concurrency ?? 1, typeof checked === "string" ? checked : undefined);
    const loaded = loading.then(wrap, (error: Error) => {
      throw new ModelLoadError(error.message, { cause: error });
    });
    if (!signal) return loaded;
    return new Promise<Whisper>((resolve, reject) => {
      const onAbort = () => {
        reject(new AbortError("The model load was aborted", { cause: signal.reason }));
        // The load itself can't be interrupted inside whisper.cpp; free the result when it lands.
        loaded.then((model) => model.dispose(), () => undefined);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      loaded.then(
        (model) => {
          signal.removeEventListener("abort", onAbort);
          if (!signal.aborted) resolve(model);
        },
        (error) => {
          signal.removeEventListener("abort", onAbort);
          if (!signal.aborted) reject(error);
        },
      );
    });
  }

  /** Model dimensions, type and the device in use. Throws DisposedError after dispose. */
  get info(): ModelInfo {
    this.#ensureOpen();
    const raw = this.#native.info();
    const device = raw.device === "gpu" ? raw.deviceName.replace(/\d+$/, "").toLowerCase() || "gpu" : "cpu";
    const info: ModelInfo = { ...raw, device, threads: this.#threads, concurrency: this.#slots.permits };
    if (this.#path !== undefined) info.path = this.#path;
    return info;
  }

  /** Transcriptions running now. */
  get active(): number {
    return this.#slots.inUse;
  }

  /** Transcriptions waiting for a free state. */
  get queued(): number {
    return this.#slots.pending;
  }

  /** True once {@link dispose} has been called. */
  get disposed(): boolean {
    return this.#disposing !== undefined;
  }

  /** Transcribes 16 kHz mono float samples. Runs on a worker thread; several calls run at once up to `concurrency`. */
  async transcribe(samples: Float32Array, options: TranscribeOptions = {}): Promise<TranscribeResult> {
    this.#ensureOpen();
    const opts = parseOptions(transcribeOptionsSchema, options, "transcribe()");
    const signal = checkSignal(opts.signal);
    const onProgress = checkCallback<(p: number) => void>(opts.onProgress, "onProgress");
    const onSegment = checkCallback<(s: Segment) => void>(opts.onSegment, "onSegment");
    const audio = checkSamples(samples);
    const params = this.#nativeParams(opts, audio.length);

    await this.#slots.acquire(signal);
    try {
      this.#ensureOpen();
      return await this.#run(audio, params, signal, onProgress, onSegment);
    } finally {
      this.#slots.release();
    }
  }

  /** Detects the spoken language from the first 30 s after `offsetMs` (one encoder pass). */
  async detectLanguage(samples: Float32Array, options: DetectLanguageOptions = {}): Promise<LanguageDetection> {
    this.#ensureOpen();
    const opts = parseOptions(detectLanguageOptionsSchema, options, "detectLanguage()");
    const signal = checkSignal(opts.signal);
    const audio = checkSamples(samples);
    await this.#slots.acquire(signal);
    try {
      this.#ensureOpen();
      const done = this.#native.detectLanguage(audio, { threads: opts.threads ?? this.#threads, offsetMs: opts.offsetMs ?? 0 });
      const entry = { abort: () => undefined, done };
      this.#running.add(entry);
      try {
        return await done;
      } catch (error) {
        throw this.#translateError(error, false);
      } finally {
        this.#running.delete(entry);
      }
    } finally {
      this.#slots.release();
    }
  }

  /**
   * Frees the model. Queued calls reject with DisposedError, running ones are aborted (they
   * reject with DisposedError) and awaited. Safe to call more than once.
   */
  dispose(): Promise<void> {
    if (this.#disposing) return this.#disposing;
    this.#slots.rejectAll(new DisposedError("The model was disposed before this call could start"));
    const running = [...this.#running];
    for (const job of running) job.abort();
    this.#disposing = Promise.allSettled(running.map((job) => job.done)).then(() => {
      this.#native.free();
    });
    return this.#disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #ensureOpen(): void {
    if (this.#disposing) throw new DisposedError();
  }

  #nativeParams(opts: ReturnType<typeof transcribeOptionsSchema.parse>, sampleCount: number): NativeTranscribeParams {
    const audioMs = Math.floor((sampleCount * 1000) / SAMPLE_RATE);
    const offsetMs = opts.offsetMs ?? 0;
    if (offsetMs + 100 > audioMs) {
      throw new RangeError(`Expected offsetMs to leave at least 100 ms of the ${audioMs} ms of audio but received ${offsetMs}`);
    }
    const beamSize = opts.beamSize ?? 1;
    return {
      threads: opts.threads ?? this.#threads,
      language: normalizeLanguage(opts.language),
      translate: opts.translate ?? false,
      initialPrompt: opts.initialPrompt ?? "",
      temperature: opts.temperature ?? 0,
      temperatureIncrement: opts.temperatureIncrement ?? 0.2,
      beamSize,
      bestOf: opts.bestOf ?? 5,
      noTimestamps: opts.noTimestamps ?? false,
      tokenTimestamps: opts.tokenTimestamps ?? false,
      includeTokens: (opts.includeTokens ?? false) || (opts.tokenTimestamps ?? false),
      maxSegmentLength: opts.maxSegmentLength ?? 0,
      splitOnWord: opts.splitOnWord ?? false,
      maxTokensPerSegment: opts.maxTokensPerSegment ?? 0,
      suppressBlank: opts.suppressBlank ?? true,
      suppressNonSpeechTokens: opts.suppressNonSpeechTokens ?? false,
      noSpeechThreshold: opts.noSpeechThreshold ?? 0.6,
      entropyThreshold: opts.entropyThreshold ?? 2.4,
      logprobThreshold: opts.logprobThreshold ?? -1,
      offsetMs,
      durationMs: opts.durationMs ?? 0,
      noContext: opts.noContext ?? true,
      singleSegment: opts.singleSegment ?? false,
    };
  }

  async #run(
    audio: Float32Array,
    params: NativeTranscribeParams,
    signal: AbortSignal | undefined,
    onProgress: ((p: number) => void) | undefined,
    onSegment: ((s: Segment) => void) | undefined,
  ): Promise<TranscribeResult> {
    if (signal?.aborted) throw new AbortError("The transcription was aborted", { cause: signal.reason });
    let callbackError: { error: unknown } | undefined;
    let abort = () => undefined as void;
    const onEvent =
      onProgress || onSegment
        ? (type: "progress" | "segment", payload: number | NativeSegment) => {
            if (callbackError) return;
            try {
              if (type === "progress") onProgress?.(payload as number);
              else onSegment?.(toSegment(payload as NativeSegment));
            } catch (error) {
              // A throwing callback stops the run and becomes the call's rejection.
              callbackError = { error };
              abort();
            }
          }
        : undefined;
    const job = this.#native.transcribe(audio, params, onEvent);
    abort = () => job.abort();
    const entry = { abort, done: job.promise };
    this.#running.add(entry);
    const onAbort = () => job.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let raw: NativeTranscribeResult;
    try {
      raw = await job.promise;
    } catch (error) {
      if (callbackError) throw callbackError.error;
      if (signal?.aborted && !this.#disposing) throw new AbortError("The transcription was aborted", { cause: signal.reason });
      throw this.#translateError(error, true);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#running.delete(entry);
    }
    if (callbackError) throw callbackError.error;
    const segments = clampSegments(raw.segments.map(toSegment), params.offsetMs, Math.floor((audio.length * 1000) / SAMPLE_RATE));
    const result: TranscribeResult = {
      text: segments.map((s) => s.text).join(""),
      language: raw.language,
      segments,
      timings: raw.timings,
    };
    if (raw.languageProbability !== undefined) result.languageProbability = raw.languageProbability;
    return result;
  }

  #translateError(error: unknown, transcribing: boolean): WhisperError | unknown {
    const code = (error as { code?: string })?.code;
    const message = (error as Error)?.message ?? String(error);
    if (this.#disposing && (code === "ABORT_ERR" || code === "ERR_DISPOSED")) {
      return new DisposedError("The model was disposed while this call was running");
    }
    if (code === "ABORT_ERR") return new AbortError(message, { cause: error });
    if (code === "ERR_DISPOSED") return new DisposedError();
    return transcribing ? new TranscriptionError(message, { cause: error }) : new WhisperError(message, code ?? "ERR_NATIVE", { cause: error });
  }
}

/** What `runtimeInfo()` returns: the addon's report, the file in use and why the loader chose it. */
export interface RuntimeInfo extends NativeRuntimeInfo {
  /** Absolute path of the .node file in use. */
  binary: string;
  /** Why this binary: where it came from, the reason (for CUDA: the driver's CUDA version and GPUs), and what was passed over. */
  binaryChoice: BinaryChoice;
}

/** What was built and what this machine offers: whisper.cpp version, variant, CUDA, backends, devices. */
export function runtimeInfo(): RuntimeInfo {
  const { binding, file, source, reason, skipped } = loadNative();
  return { ...binding.runtimeInfo(), binary: file, binaryChoice: { source, reason, skipped } };
}
