import type { StreamOptions, Streamer } from "../stream/streamer.js";

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

/** TingWu's backend interface. */
export interface ASRBackend {
  readonly type: string;
  readonly supports_speaker: boolean;
  readonly supports_hotwords: boolean;
  readonly supports_streaming: boolean;
  /** Loads the model (idempotent; concurrent calls share one load). */
  load(): Promise<void>;
  /** 16 kHz mono PCM16LE bytes in, transcript out. Loads the model first if needed. */
  transcribe(pcm: Buffer | Uint8Array, options?: BackendTranscribeOptions): Promise<BackendResult>;
  getInfo(): BackendInfo;
  /** A real-time stream (backends with `supports_streaming`). */
  stream?(options?: BackendStreamOptions): Streamer;
  /** Frees the model (idempotent). */
  unload(): Promise<void>;
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
