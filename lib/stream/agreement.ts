// LocalAgreement-2 (Macháček et al., 2023): a word is confirmed when two consecutive decodes of
// the growing buffer agree on it and on everything before it. Confirmed words are only ever
// appended, so the stable text can never be revised.
import { wordKey } from "./words.js";
import type { Word } from "./words.js";

/** Whisper's word times wobble by a few tens of ms from one decode to the next. */
const TIME_TOLERANCE_MS = 100;
/** Longest run of words looked for where a new hypothesis repeats the confirmed tail. */
const MAX_OVERLAP_WORDS = 5;
/** Repeats are only looked for when the new words start this close to the confirmed end. */
const OVERLAP_WINDOW_MS = 1000;

export class LocalAgreement {
  readonly #confirmed: Word[] = [];
  #pending: Word[] = [];

  /** Confirmed words, oldest first; the array only grows. */
  get confirmed(): readonly Word[] {
    return this.#confirmed;
  }

  /** The last hypothesis's words after the confirmed ones (not agreed yet). */
  get pending(): readonly Word[] {
    return this.#pending;
  }

  /** End of the last confirmed word (ms), or -Infinity. */
  get confirmedEnd(): number {
    return this.#confirmed[this.#confirmed.length - 1]?.end ?? Number.NEGATIVE_INFINITY;
  }

  /**
   * Takes the words of a new decode (absolute times) and returns the words it confirms: the
   * longest common prefix of this hypothesis and the previous one, past what is already confirmed.
   */
  insert(hypothesis: readonly Word[]): Word[] {
    const fresh = this.fresh(hypothesis);
    let agreed = 0;
    while (agreed < fresh.length && agreed < this.#pending.length && wordKey(fresh[agreed]!) === wordKey(this.#pending[agreed]!)) agreed++;
    const confirmed = fresh.slice(0, agreed);
    this.#confirmed.push(...confirmed);
    this.#pending = fresh.slice(agreed);
    return confirmed;
  }

  /** Confirms the given words as they are (the last decode of an utterance, or a forced cut). */
  confirm(words: readonly Word[]): void {
    this.#confirmed.push(...words);
    this.#pending = [];
  }

  /** The part of a hypothesis that comes after the confirmed words (by time, then by text overlap). */
  fresh(hypothesis: readonly Word[]): Word[] {
    const cut = this.confirmedEnd - TIME_TOLERANCE_MS;
    let words = hypothesis.filter((w) => w.start > cut);
    const first = words[0];
    if (this.#confirmed.length === 0 || !first || Math.abs(first.start - this.confirmedEnd) > OVERLAP_WINDOW_MS) return words;
    // Words near the cut may be confirmed ones again with shifted times: drop the longest run that
    // repeats the confirmed tail.
    for (let n = Math.min(MAX_OVERLAP_WORDS, this.#confirmed.length, words.length); n > 0; n--) {
      const tail = this.#confirmed.slice(-n).map(wordKey).join(" ");
      const head = words.slice(0, n).map(wordKey).join(" ");
      if (tail === head) {
        words = words.slice(n);
        break;
      }
    }
    return words;
  }
}
