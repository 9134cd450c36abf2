// whisper.cpp results in openai-whisper's JSON vocabulary (float seconds, token ids, log
// probabilities), shared by the OpenAI verbose_json and whisper-asr-webservice json outputs.
import { deflateSync } from "node:zlib";
import type { Segment, Token, TranscribeResult } from "../whisper.js";

/** openai-whisper's segment. */
export interface WhisperJsonSegment {
  id: number;
  /** Start of the 30 s window the segment came from, in 10 ms frames (openai-whisper's unit). */
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
}

export interface WhisperJsonWord {
  /** The word as decoded, leading space included (openai-whisper keeps it). */
  word: string;
  start: number;
  end: number;
  probability: number;
}

const seconds = (ms: number) => Math.round(ms) / 1000;
const WINDOW_MS = 30_000;

/** UTF-8 bytes over zlib-compressed bytes, as openai-whisper computes it (its repetition check). */
export function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length === 0) return 0;
  return bytes.length / deflateSync(bytes).length;
}

function averageLogprob(tokens: readonly Token[] | undefined): number {
  if (!tokens || tokens.length === 0) return 0;
  const sum = tokens.reduce((acc, t) => acc + Math.log(Math.max(t.p, 1e-10)), 0);
  return sum / tokens.length;
}

export function toWhisperSegments(segments: readonly Segment[], temperature: number): WhisperJsonSegment[] {
  return segments.map((s, id) => ({
    id,
    seek: Math.floor(s.start / WINDOW_MS) * (WINDOW_MS / 10),
    start: seconds(s.start),
    end: seconds(s.end),
    text: s.text,
    tokens: (s.tokens ?? []).map((t) => t.id),
    temperature,
    avg_logprob: averageLogprob(s.tokens),
    compression_ratio: compressionRatio(s.text),
    no_speech_prob: s.noSpeechProb,
  }));
}

/**
 * Words from token timestamps: a word starts at a token that begins with a space (or the
 * segment's first token) and runs until the next one; special tokens are skipped. Needs the
 * result of a `tokenTimestamps: true` run.
 */
export function wordsOfSegment(segment: Segment): WhisperJsonWord[] {
  const words: { text: string; start: number; end: number; probs: number[] }[] = [];
  for (const token of segment.tokens ?? []) {
    if (token.special || token.text === "") continue;
    const last = words[words.length - 1];
    if (!last || token.text.startsWith(" ")) words.push({ text: token.text, start: token.start, end: token.end, probs: [token.p] });
    else {
      last.text += token.text;
      last.end = token.end;
      last.probs.push(token.p);
    }
  }
  return words
    .filter((w) => w.text.trim() !== "")
    .map((w) => ({
      word: w.text,
      start: seconds(Math.max(w.start, segment.start)),
      end: seconds(Math.min(Math.max(w.end, w.start), segment.end)),
      probability: w.probs.reduce((a, b) => a + b, 0) / w.probs.length,
    }));
}

/** openai-whisper's `transcribe()` result: `{ text, segments, language }` (+ words per segment). */
export function toWhisperJson(result: TranscribeResult, options: { temperature: number; words: boolean }) {
  const segments = toWhisperSegments(result.segments, options.temperature);
  return {
    text: result.text,
    segments: options.words ? segments.map((s, i) => ({ ...s, words: wordsOfSegment(result.segments[i]!) })) : segments,
    language: result.language,
  };
}
