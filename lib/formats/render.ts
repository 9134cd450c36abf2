// The one switch from a transcription to a text format, shared by the CLI, whisper-asr-webservice's
// /asr and the OpenAI routes (their JSON envelopes, with usage and duration, stay in the routes).
import type { SentenceInfoItem } from "../tingwu/sentence-info.js";
import type { TranscribeOptions, TranscribeResult } from "../whisper.js";
import { renderSubtitles } from "./subtitles.js";
import { toWhisperJson } from "./whisper-json.js";

/**
 * `txt`: one sentence per line; `text`: the whole transcript on one line (OpenAI's `text`);
 * `srt`, `vtt`, `tsv`: subtitles and whisper's tsv; `json`: openai-whisper's `{ text, segments, language }`.
 */
export const TRANSCRIPT_FORMATS = ["txt", "text", "srt", "vtt", "tsv", "json"] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** What a format is rendered from: a whisper backend result. */
export interface RenderableTranscript {
  text: string;
  sentence_info: readonly SentenceInfoItem[];
  whisper: TranscribeResult;
}

export interface RenderOptions {
  /** Per-word timings in `json` (needs a transcription with {@link transcribeOptionsFor}'s `tokenTimestamps`). Default `false`. */
  words?: boolean;
  /** The sampling temperature reported in `json` segments. Default `0`. */
  temperature?: number;
  /** Indent `json` by this many spaces. Default `0` (one line). */
  indent?: number;
}

/** The transcription options a format needs: tokens for `json`, token timestamps for its words. */
export function transcribeOptionsFor(format: TranscriptFormat, options: { words?: boolean } = {}): Pick<TranscribeOptions, "includeTokens" | "tokenTimestamps"> {
  if (format !== "json") return {};
  return { includeTokens: true, ...(options.words ? { tokenTimestamps: true } : {}) };
}

/** The transcript as text in `format`. */
export function renderTranscript(result: RenderableTranscript, format: TranscriptFormat, options: RenderOptions = {}): string {
  switch (format) {
    case "text":
      return `${result.text}\n`;
    case "txt":
    case "srt":
    case "vtt":
    case "tsv":
      return renderSubtitles(result.sentence_info, format);
    case "json":
      return JSON.stringify(toWhisperJson(result.whisper, { temperature: options.temperature ?? 0, words: options.words ?? false }), null, options.indent ?? 0);
    default:
      throw new RangeError(`Expected one of ${TRANSCRIPT_FORMATS.join(", ")} for format but received ${JSON.stringify(format)}`);
  }
}
