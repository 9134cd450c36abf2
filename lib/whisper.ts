// The public model class: load a whisper.cpp model once, transcribe many times (concurrently,
// up to `concurrency`), dispose. All waiting happens off the JS thread.
import fs from "node:fs/promises";
import { rewriteChineseSegment, rewritesChinese, scriptPrompt } from "./chinese/index.js";
import type { ChineseOutput, ChineseScript } from "./chinese/index.js";
import type { Stats } from "node:fs";
import { AbortError, DisposedError, ModelLoadError, TranscriptionError, WhisperError } from "./errors.js";
import { inspectGgmlModel } from "./models/ggml/inspect.js";
import { loadNative } from "./native.js";
import type { BinaryChoice, NativeModel, NativeModelInfo, NativeRuntimeInfo, NativeSegment, NativeTranscribeParams, NativeTranscribeResult } from "./native.js";
import {
  checkCallback,
  DECODING_DEFAULTS,
  checkSamples,
  checkSignal,
  defaultThreads,
  detectLanguageOptionsSchema,
  loadOptionsSchema,
  MIN_SAMPLES,
  parseOptions,
  transcribeOptionsSchema,
} from "./options.js";
import { maxPromptTokens, PromptTokenizer } from "./prompt/tokenizer.js";
import { WHISPER_SAMPLE_RATE } from "./audio/pcm.js";
import { normalizeLanguage } from "./languages.js";
import { Semaphore } from "./util/semaphore.js";
import { chunkAudio, planChunks } from "./vad/chunks.js";
import type { Chunk } from "./vad/chunks.js";
import { resolveVadModelFile } from "./vad/model.js";
import { resolveVad } from "./vad/options.js";
import type { ResolvedVad, VadOptions } from "./vad/options.js";
import { speechSegments } from "./vad/segments.js";
import { transcribeChunks } from "./vad/transcribe.js";
import { Streamer } from "./stream/streamer.js";
import type { StreamOptions } from "./stream/streamer.js";

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
  /** With `vad`: wall time of the voice activity detection. */
  vadMs?: number;
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
  /**
   * Text given to the decoder as previous context (names, spelling, style). Default none. Any
   * length is safe: it is tokenized in linear time and only its last `nTextCtx / 2 - 1` tokens
   * (223) are used, as whisper.cpp does.
   */
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
  /**
   * Script of Chinese output (when the language asked for or detected is `zh`): `"simplified"`,
   * `"traditional"`, `"traditional-tw"` (with Taiwan's phrases), `"traditional-hk"`, or `"as-is"`
   * (whisper.cpp's characters, often a mix). Segment and token texts are converted with OpenCC;
   * times are untouched; non-Chinese text is never changed. With `language: "auto"`, segments
   * streamed to `onSegment` are as whisper.cpp wrote them (the language is known at the end).
   * Default `"as-is"` (the service and CLI default to `"simplified"`: `WHISPER_ZH_SCRIPT`).
   */
  chineseScript?: ChineseScript;
  /**
   * Full-width `，。？！：；` where ASCII marks follow Chinese characters (not inside Latin words or
   * numbers), for `zh` output. Default `false` (the service and CLI default to `true`: `WHISPER_ZH_PUNCTUATION`).
   */
  chinesePunctuation?: boolean;
  /**
   * With `language: "zh"`, puts a sentence in the chosen script before `initialPrompt`
   * ("以下是普通话的句子。"), which steers Whisper to that script and to full-width punctuation.
   * Default `false` (the service and CLI default to `true`: `WHISPER_ZH_PROMPT`; docs/CHINESE.md has the measurement).
   */
  chinesePrompt?: boolean;
  /**
   * Voice activity detection (Silero, run by whisper.cpp): only speech is decoded, in chunks of
   * up to 30 s cut at pauses and decoded concurrently on the model's state pool; timestamps stay
   * in the original audio's time. `true` uses the defaults of {@link VadOptions}. Default `false`.
   */
  vad?: boolean | VadOptions;
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

/** With `vad`, the longest chunk decoded as one piece: Whisper's 30 s window. */
const MAX_CHUNK_SAMPLES = 30 * WHISPER_SAMPLE_RATE;

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
export function clampSegments<S extends { start: number; end: number }>(segments: S[], offsetMs: number, audioMs: number): S[] {
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
    let stat: Stats;
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
  #tokenizer: PromptTokenizer | undefined;
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
      flashAttention: opts.flashAttention ?? DECODING_DEFAULTS.flashAttention,
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

  /**
   * The token ids whisper.cpp's tokenizer gives for `text` (all of them; a transcription uses the
   * last `nTextCtx / 2 - 1`). Linear in the text's length. Throws DisposedError after dispose.
   */
  tokenize(text: string): Int32Array {
    return this.#promptTokenizer().encode(text);
  }

  #promptTokenizer(): PromptTokenizer {
    this.#ensureOpen();
    // Built on first use (~50k entries), so models that never see a prompt don't pay for it.
    this.#tokenizer ??= PromptTokenizer.fromVocabulary(this.#native.vocabulary());
    return this.#tokenizer;
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
    const chinese: ChineseOutput = { script: opts.chineseScript ?? "as-is", punctuation: opts.chinesePunctuation ?? false };
    const vad = resolveVad(opts.vad);
    if (vad) return this.#transcribeWithVad(audio, params, this.#promptText(opts, params.language), vad, signal, onProgress, onSegment, chinese);

    await this.#slots.acquire(signal);
    try {
      this.#ensureOpen();
      return await this.#run(audio, params, signal, onProgress, onSegment, chinese);
    } finally {
      this.#slots.release();
    }
  }

  /** Speech probabilities of the Silero VAD model at `modelFile`, one per 512-sample window. */
  async #detectSpeech(modelFile: string, audio: Float32Array, threads: number, signal: AbortSignal | undefined): Promise<{ probs: Float32Array; windowSamples: number }> {
    const { binding } = loadNative();
    const job = binding.detectSpeech(modelFile, audio, { threads, gpu: false, gpuDevice: 0 });
    const entry = { abort: () => job.abort(), done: job.promise };
    this.#running.add(entry);
    const onAbort = () => job.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await job.promise;
    } catch (error) {
      if (signal?.aborted && !this.#disposing) throw new AbortError("The transcription was aborted", { cause: signal.reason });
      throw this.#translateError(error, true);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#running.delete(entry);
    }
  }

  async #transcribeWithVad(
    audio: Float32Array,
    params: NativeTranscribeParams,
    prompt: string,
    vad: ResolvedVad,
    signal: AbortSignal | undefined,
    onProgress: ((p: number) => void) | undefined,
    onSegment: ((s: Segment) => void) | undefined,
    chinese: ChineseOutput,
  ): Promise<TranscribeResult> {
    if (signal?.aborted) throw new AbortError("The transcription was aborted", { cause: signal.reason });
    // offsetMs/durationMs pick the region; VAD and chunks work inside it.
    const from = params.offsetMs * (WHISPER_SAMPLE_RATE / 1000);
    const to = params.durationMs > 0 ? Math.min(audio.length, from + params.durationMs * (WHISPER_SAMPLE_RATE / 1000)) : audio.length;
    const region = audio.subarray(from, to);
    const modelFile = await resolveVadModelFile(vad.model, signal ? { signal } : {});
    this.#ensureOpen();
    const vadStarted = performance.now();
    // One thread: each 512-sample window is a tiny graph, and ggml's thread pool synchronising
    // on every one of them is many times slower than a single thread (about 100x on 2 busy cores).
    const { probs, windowSamples } = await this.#detectSpeech(modelFile, region, 1, signal);
    const vadMs = performance.now() - vadStarted;
    const chunks: Chunk[] = planChunks(
      speechSegments(probs, windowSamples, vad).map((s) => ({ start: s.start, end: Math.min(s.end, region.length) })),
      MAX_CHUNK_SAMPLES,
    );
    const concurrency = vad.concurrency ?? this.#slots.permits;
    const { segments, results } = await transcribeChunks(
      chunks,
      async (i, chunkPrompt, chunkSignal, chunkOnSegment) => {
        let chunk = chunkAudio(region, chunks[i]!);
        // whisper.cpp refuses audio under 100 ms: pad a very short chunk with silence.
        if (chunk.length < MIN_SAMPLES) {
          const padded = new Float32Array(MIN_SAMPLES);
          padded.set(chunk);
          chunk = padded;
        }
        await this.#slots.acquire(chunkSignal);
        try {
          this.#ensureOpen();
          const chunkParams = { ...params, offsetMs: 0, durationMs: 0, promptTokens: this.#promptTokens(chunkPrompt ?? "") };
          return await this.#run(chunk, chunkParams, chunkSignal, undefined, chunkOnSegment, chinese);
        } finally {
          this.#slots.release();
        }
      },
      { concurrency, initialPrompt: prompt, offsetMs: params.offsetMs, signal: signal ?? new AbortController().signal, onSegment, onProgress },
    ).catch((error: unknown) => {
      if (signal?.aborted && !this.#disposing) throw new AbortError("The transcription was aborted", { cause: signal.reason });
      throw error;
    });
    const clamped = clampSegments(segments, params.offsetMs, Math.floor((audio.length * 1000) / WHISPER_SAMPLE_RATE));
    const first = results.find((r) => r !== undefined);
    const result: TranscribeResult = {
      text: clamped.map((s) => s.text).join(""),
      language: first?.language ?? (params.language === "auto" ? "" : params.language),
      segments: clamped,
      timings: { computeMs: results.reduce((a, r) => a + (r?.timings.computeMs ?? 0), 0), vadMs },
    };
    if (first?.languageProbability !== undefined) result.languageProbability = first.languageProbability;
    return result;
  }

  /**
   * A real-time transcription stream on this model: write PCM chunks, get `partial` events while
   * people speak and a `final` per utterance. Its decodes share the model's states with every other
   * call, so many streams can run on one loaded model.
   */
  stream(options: StreamOptions = {}): Streamer {
    this.#ensureOpen();
    return new Streamer(this, options);
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

  /** The prompt as text: the Chinese script sentence (with `chinesePrompt` and zh) before `initialPrompt`. */
  #promptText(opts: ReturnType<typeof transcribeOptionsSchema.parse>, language: string): string {
    const chineseLead = opts.chinesePrompt && language === "zh" && !opts.translate;
    return (chineseLead ? scriptPrompt(opts.chineseScript ?? "simplified") : "") + (opts.initialPrompt ?? "");
  }

  /** The ids whisper.cpp gets: the prompt's last n_text_ctx/2 - 1 tokens, tokenized in linear time here. */
  #promptTokens(prompt: string): Int32Array {
    return prompt ? this.#promptTokenizer().encodeTail(prompt, maxPromptTokens(this.#native.info().nTextCtx)) : new Int32Array(0);
  }

  #nativeParams(opts: ReturnType<typeof transcribeOptionsSchema.parse>, sampleCount: number): NativeTranscribeParams {
    const audioMs = Math.floor((sampleCount * 1000) / WHISPER_SAMPLE_RATE);
    const offsetMs = opts.offsetMs ?? 0;
    if (offsetMs + 100 > audioMs) {
      throw new RangeError(`Expected offsetMs to leave at least 100 ms of the ${audioMs} ms of audio but received ${offsetMs}`);
    }
    const beamSize = opts.beamSize ?? DECODING_DEFAULTS.beamSize;
    const language = normalizeLanguage(opts.language);
    const translate = opts.translate ?? false;
    return {
      threads: opts.threads ?? this.#threads,
      language,
      translate,
      promptTokens: this.#promptTokens(this.#promptText(opts, language)),
      temperature: opts.temperature ?? DECODING_DEFAULTS.temperature,
      temperatureIncrement: opts.temperatureIncrement ?? DECODING_DEFAULTS.temperatureIncrement,
      beamSize,
      bestOf: opts.bestOf ?? DECODING_DEFAULTS.bestOf,
      noTimestamps: opts.noTimestamps ?? false,
      tokenTimestamps: opts.tokenTimestamps ?? false,
      includeTokens: (opts.includeTokens ?? false) || (opts.tokenTimestamps ?? false),
      maxSegmentLength: opts.maxSegmentLength ?? 0,
      splitOnWord: opts.splitOnWord ?? false,
      maxTokensPerSegment: opts.maxTokensPerSegment ?? 0,
      suppressBlank: opts.suppressBlank ?? DECODING_DEFAULTS.suppressBlank,
      suppressNonSpeechTokens: opts.suppressNonSpeechTokens ?? DECODING_DEFAULTS.suppressNonSpeechTokens,
      noSpeechThreshold: opts.noSpeechThreshold ?? DECODING_DEFAULTS.noSpeechThreshold,
      entropyThreshold: opts.entropyThreshold ?? DECODING_DEFAULTS.entropyThreshold,
      logprobThreshold: opts.logprobThreshold ?? DECODING_DEFAULTS.logprobThreshold,
      offsetMs,
      durationMs: opts.durationMs ?? 0,
      noContext: opts.noContext ?? DECODING_DEFAULTS.noContext,
      singleSegment: opts.singleSegment ?? false,
    };
  }

  async #run(
    audio: Float32Array,
    params: NativeTranscribeParams,
    signal: AbortSignal | undefined,
    onProgress: ((p: number) => void) | undefined,
    onSegment: ((s: Segment) => void) | undefined,
    chinese: ChineseOutput,
  ): Promise<TranscribeResult> {
    // Chinese output is rewritten only for Chinese: the language asked for, or else the one detected.
    const rewrite = rewritesChinese(chinese) && !params.translate;
    const rewriteStreamed = rewrite && params.language === "zh";
    if (signal?.aborted) throw new AbortError("The transcription was aborted", { cause: signal.reason });
    let callbackError: { error: unknown } | undefined;
    let abort: () => void = () => {};
    const onEvent =
      onProgress || onSegment
        ? (type: "progress" | "segment", payload: number | NativeSegment) => {
            if (callbackError) return;
            try {
              if (type === "progress") onProgress?.(payload as number);
              else if (onSegment) {
                const segment = toSegment(payload as NativeSegment);
                onSegment(rewriteStreamed ? rewriteChineseSegment(segment, chinese) : segment);
              }
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
    const segments = clampSegments(raw.segments.map(toSegment), params.offsetMs, Math.floor((audio.length * 1000) / WHISPER_SAMPLE_RATE));
    if (rewrite && raw.language === "zh") for (const segment of segments) rewriteChineseSegment(segment, chinese);
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
