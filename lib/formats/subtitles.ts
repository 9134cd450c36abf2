// Subtitle and text renderings of sentences (integer ms), for the HTTP dialects and the CLI.
// Cue text follows openai-whisper's writers: "-->" can't appear inside an SRT/VTT cue, and a
// tab can't appear inside a TSV field.
import type { SentenceInfoItem } from "../tingwu/sentence-info.js";

/** `srt`: `HH:MM:SS,mmm`; `vtt` and `hms`: `HH:MM:SS.mmm`. Hours grow past two digits when needed. */
export type TimestampStyle = "srt" | "vtt" | "hms";

function checkMs(ms: unknown, option: string): number {
  if (typeof ms !== "number") throw new TypeError(`Expected a number of milliseconds for ${option} but received ${ms === null ? "null" : typeof ms}`);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`Expected a finite, non-negative number of milliseconds for ${option} but received ${ms}`);
  return Math.round(ms);
}

/** Formats milliseconds (rounded to an integer) as `HH:MM:SS,mmm` (srt) or `HH:MM:SS.mmm` (vtt, hms). */
export function formatTimestamp(ms: number, style: TimestampStyle = "hms"): string {
  const total = checkMs(ms, "ms");
  if (style !== "srt" && style !== "vtt" && style !== "hms") {
    throw new RangeError(`Expected "srt", "vtt" or "hms" for style but received ${JSON.stringify(style)}`);
  }
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const millis = total % 1000;
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${style === "srt" ? "," : "."}${pad(millis, 3)}`;
}

function checkSentences(sentences: readonly SentenceInfoItem[]): readonly SentenceInfoItem[] {
  if (!Array.isArray(sentences)) throw new TypeError(`Expected an array of sentences for sentences but received ${sentences === null ? "null" : typeof sentences}`);
  sentences.forEach((s, i) => {
    if (s === null || typeof s !== "object" || typeof s.text !== "string") throw new TypeError(`Expected { text, start, end } for sentences[${i}]`);
    checkMs(s.start, `sentences[${i}].start`);
    checkMs(s.end, `sentences[${i}].end`);
  });
  return sentences;
}

/** A cue's text on one or more lines: no blank lines (they end a cue) and no "-->". */
function cueText(text: string): string {
  return text
    .trim()
    .replaceAll("-->", "->")
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== "")
    .join("\n");
}

/** SubRip: numbered cues from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each. */
export function toSrt(sentences: readonly SentenceInfoItem[]): string {
  return checkSentences(sentences)
    .map((s, i) => `${i + 1}\n${formatTimestamp(s.start, "srt")} --> ${formatTimestamp(s.end, "srt")}\n${cueText(s.text)}\n\n`)
    .join("");
}

/** WebVTT: the `WEBVTT` header, then `HH:MM:SS.mmm --> HH:MM:SS.mmm` cues. */
export function toVtt(sentences: readonly SentenceInfoItem[]): string {
  return (
    "WEBVTT\n\n" +
    checkSentences(sentences)
      .map((s) => `${formatTimestamp(s.start, "vtt")} --> ${formatTimestamp(s.end, "vtt")}\n${cueText(s.text)}\n\n`)
      .join("")
  );
}

/** Tab-separated `start\tend\ttext` with a header line; times in integer ms (whisper's tsv writer). */
export function toTsv(sentences: readonly SentenceInfoItem[]): string {
  const rows = checkSentences(sentences).map((s) => `${Math.round(s.start)}\t${Math.round(s.end)}\t${s.text.trim().replace(/[\t\r\n]+/g, " ")}\n`);
  return `start\tend\ttext\n${rows.join("")}`;
}

/** Plain text: one sentence per line. */
export function toTxt(sentences: readonly SentenceInfoItem[]): string {
  return checkSentences(sentences)
    .map((s) => `${s.text.trim()}\n`)
    .join("");
}

/** The text formats every route and the CLI write from TingWu's sentences. */
export type SubtitleFormat = "txt" | "srt" | "vtt" | "tsv";

/** `sentences` as plain text, SRT, WebVTT or TSV: the one switch the CLI, `/asr` and job results share. */
export function renderSubtitles(sentences: readonly SentenceInfoItem[], format: SubtitleFormat): string {
  switch (format) {
    case "srt":
      return toSrt(sentences);
    case "vtt":
      return toVtt(sentences);
    case "tsv":
      return toTsv(sentences);
    default:
      return toTxt(sentences);
  }
}
