// whisper segments -> TingWu's `{ text, sentence_info }`, the contract every TingWu backend keeps.

/** A segment as whisper gives it: ms bounds, text with whisper's leading space. */
export interface TimedText {
  /** Start in milliseconds. */
  start: number;
  /** End in milliseconds. */
  end: number;
  text: string;
}

/** One TingWu sentence: trimmed text, integer ms bounds. */
export interface SentenceInfoItem {
  text: string;
  start: number;
  end: number;
}

/** TingWu's backend result. */
export interface SentenceInfoResult {
  /** The whole transcript. */
  text: string;
  sentence_info: SentenceInfoItem[];
}

function checkTime(value: unknown, index: number, key: "start" | "end"): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Expected a finite number of milliseconds for segments[${index}].${key} but received ${String(value)}`);
  }
  return Math.round(value);
}

/**
 * Maps whisper segments to TingWu's shape, as TingWu's whisper backend does:
 * - each sentence's text is trimmed, and segments left empty are dropped;
 * - `start`/`end` are rounded to integer milliseconds;
 * - `text` is the segment texts joined exactly as whisper returned them, then trimmed (openai-whisper's
 *   `result["text"].strip()`): whisper's own leading spaces separate English words, and CJK text,
 *   which whisper emits without spaces, stays unspaced.
 */
export function toSentenceInfo(segments: readonly TimedText[]): SentenceInfoResult {
  if (!Array.isArray(segments)) throw new TypeError(`Expected an array of segments for segments but received ${segments === null ? "null" : typeof segments}`);
  const sentenceInfo: SentenceInfoItem[] = [];
  let joined = "";
  segments.forEach((segment, index) => {
    if (segment === null || typeof segment !== "object" || typeof segment.text !== "string") {
      throw new TypeError(`Expected { start, end, text } for segments[${index}] but received ${segment === null ? "null" : typeof segment === "object" ? "an object without a text string" : typeof segment}`);
    }
    const start = checkTime(segment.start, index, "start");
    const end = checkTime(segment.end, index, "end");
    joined += segment.text;
    const text = segment.text.trim();
    if (text !== "") sentenceInfo.push({ text, start, end });
  });
  return { text: joined.trim(), sentence_info: sentenceInfo };
}
