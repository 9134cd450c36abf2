// Whisper tokens -> words with times: the unit LocalAgreement compares. A word starts at a token
// that begins with whitespace; in scripts written without spaces (Han, kana, Thai) every character
// token is a word of its own, so Chinese agrees character by character. Punctuation joins the word
// before it.
import type { Segment } from "../whisper.js";

/** One word of a hypothesis, in ms from the start of the stream. */
export interface Word {
  /** Text as whisper wrote it (leading space kept), so joining words gives whisper's text back. */
  text: string;
  start: number;
  end: number;
  /** Last word of a whisper segment: a natural place to cut the audio buffer. */
  segmentEnd: boolean;
}

const UNSPACED = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const SENTENCE_END = /[.?!。？！…]["'”’)）]*$/u;

/** Words of the segments (which need `tokenTimestamps`), shifted by `offsetMs`. */
export function wordsOf(segments: readonly Segment[], offsetMs: number): Word[] {
  const words: Word[] = [];
  for (const segment of segments) {
    let current: Word | undefined;
    const first = words.length;
    for (const token of segment.tokens ?? []) {
      if (token.special || token.text === "") continue;
      const start = offsetMs + Math.max(token.start, segment.start);
      const end = offsetMs + Math.max(token.end, token.start, segment.start);
      const startsWord = current === undefined || /^\s/u.test(token.text) || (UNSPACED.test(token.text) && current.text.trim() !== "");
      if (startsWord) {
        current = { text: token.text, start, end, segmentEnd: false };
        words.push(current);
      } else if (current) {
        current.text += token.text;
        current.end = Math.max(current.end, end);
      }
    }
    // A segment without tokens (should not happen with tokenTimestamps) still counts, as one word.
    if (words.length === first && segment.text.trim() !== "") {
      words.push({ text: segment.text, start: offsetMs + segment.start, end: offsetMs + segment.end, segmentEnd: false });
    }
    const last = words[words.length - 1];
    if (words.length > first && last) last.segmentEnd = true;
  }
  return words.filter((w) => w.text.trim() !== "");
}

/** What two words are compared on: case, spacing and punctuation don't count. */
export function wordKey(word: Word): string {
  const key = word.text.toLowerCase().replace(/[\p{P}\p{S}\s]/gu, "");
  return key === "" ? word.text.trim() : key;
}

/** True when the word closes a sentence or a whisper segment. */
export function endsSentence(word: Word): boolean {
  return word.segmentEnd || SENTENCE_END.test(word.text.trimEnd());
}

/** Words joined as whisper would write them. */
export function joinWords(words: readonly Word[]): string {
  return words.map((w) => w.text).join("");
}

/** A sentence of a final transcript: trimmed text, ms from the start of the stream. */
export interface StreamSentence {
  text: string;
  start: number;
  end: number;
}

/** Cuts words into sentences at sentence punctuation and segment ends. */
export function sentencesOf(words: readonly Word[]): StreamSentence[] {
  const sentences: StreamSentence[] = [];
  let group: Word[] = [];
  const close = () => {
    const text = joinWords(group).trim();
    if (text !== "" && group[0]) sentences.push({ text, start: group[0].start, end: Math.max(...group.map((w) => w.end)) });
    group = [];
  };
  for (const word of words) {
    group.push(word);
    if (endsSentence(word)) close();
  }
  close();
  return sentences;
}
