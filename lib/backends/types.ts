import type { StreamOptions, Streamer } from "../stream/streamer.js";
import type { LanguageDetection, TranscribeOptions, TranscribeResult } from "../whisper.js";

/** Where a backend runs: `cuda` or `auto` use a GPU when there is one (else the CPU); `cpu` never does. */
export const DEVICES = ["cuda", "cpu", "auto"] as const;
export type Device = (typeof DEVICES)[number];
/** The device when none is configured. */
export const DEFAULT_DEVICE: Device = "auto";

/** A TingWu sentence: trimmed text with integer millisecond bounds. */
export interface SentenceInfo {
  text: string;
  start: number;
  end: number;
}

/** What every TingWu ASR backend returns. */
export interface BackendResult {
  /** The whole transcript. */
  text: string;
  sentence_info: SentenceInfo[];
  /** Language used or detected, when the backend knows it. */
  language?: string;
}

/** Options of {@link ASRBackend.transcribe}. */
export interface BackendTranscribeOptions {
  /** Newline-separated terms (or a list) turned into the decoder prompt. Default none. */
  hotwords?: string | string[] | null;
  /** Override the configured language ("auto" detects). Default: the backend's language. */
  language?: string;
  /** Aborts the transcription (AbortError). */
  signal?: AbortSignal;
}

/** Options of {@link ASRBackend.stream}. */
export interface BackendStreamOptions extends Omit<StreamOptions, "initialPrompt" | "language"> {
  /** Newline-separated terms (or a list) turned into the decoder prompt. Default none. */
  hotwords?: string | string[] | null;
  /** Override the configured language ("auto" detects). Default: the backend's language. */
  language?: string;
}

/** Static description of a backend (TingWu's `/api/v1/backend` `info`). */
export interface BackendInfo {
  name: string;
  type: string;
  device: string;
  model: string;
  language: string;
  supports_speaker: boolean;
  supports_hotwords: boolean;
  supports_streaming: boolean;
  [key: string]: unknown;
}

/** Options of {@link ASRBackend.transcribeSamples}: TingWu's, plus whisper's decoding options. */
export type SamplesTranscribeOptions = BackendTranscribeOptions & Omit<TranscribeOptions, "language" | "signal">;

/** A transcription with its full detail (segments, tokens, timings) for the HTTP formats. */
export interface DetailedBackendResult extends BackendResult {
  language: string;
  /** whisper's own result: segments with tokens and probabilities, timings. */
  whisper: TranscribeResult;
}

/** TingWu's backend interface, and what the HTTP service needs of a backend. */
export interface ASRBackend {
  readonly type: string;
  readonly supports_speaker: boolean;
  readonly supports_hotwords: boolean;
  readonly supports_streaming: boolean;
  /** Loads the model (idempotent; concurrent calls share one load). */
  load(): Promise<void>;
  /** 16 kHz mono PCM16LE bytes in, transcript out. Loads the model first if needed. */
  transcribe(pcm: Buffer | Uint8Array, options?: BackendTranscribeOptions): Promise<BackendResult>;
  /** 16 kHz mono float samples (decoded files) in, the detailed result out. Loads the model first if needed. */
  transcribeSamples(samples: Float32Array, options?: SamplesTranscribeOptions): Promise<DetailedBackendResult>;
  /** The spoken language of the first 30 s of 16 kHz mono samples. */
  detectLanguage(samples: Float32Array, options?: { signal?: AbortSignal }): Promise<LanguageDetection>;
  getInfo(): BackendInfo;
  /** A real-time stream (backends with `supports_streaming`). */
  stream?(options?: BackendStreamOptions): Streamer;
  /** Frees the model (idempotent). */
  unload(): Promise<void>;
}

/** A backend that streams (`supports_streaming`): what `/ws/realtime` needs. */
export type StreamingBackend = ASRBackend & { stream(options?: BackendStreamOptions): Streamer };

/** True when `backend` can serve a real-time stream. */
export function canStream(backend: ASRBackend): backend is StreamingBackend {
  return backend.supports_streaming && typeof backend.stream === "function";
}

/** Options common to backend factories (`getBackend(type, options)`). */
export interface BackendOptions {
  /** Model name (`large-v3`, `base-q5_1`, ...) or a path to a .bin file. */
  model?: string;
  /** Language code, or "auto". */
  language?: string;
  /** "cuda", "cpu" or "auto". */
  device?: Device;
  /** Compute threads per transcription. */
  threads?: number;
  [key: string]: unknown;
}
