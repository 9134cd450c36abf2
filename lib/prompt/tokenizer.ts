// The decoder prompt, tokenized in linear time. whisper.cpp's `tokenize()` (src/whisper.cpp) splits
// the text with a std::regex that recurses once per byte of a "word" (Chinese prose is one word)
// and overflows the stack on long prompts; its longest-prefix search is quadratic in the word's
// length. This gives the same ids (checked against whisper.cpp's own tokenizer in
// test/unit/tokenizer.test.ts) and the addon receives ids, never prompt text.
//
// whisper.cpp's algorithm, reproduced byte for byte:
//  1. Split the UTF-8 bytes with the GPT-2 pattern
//     's|'t|'re|'ve|'m|'ll|'d| ?[[:alpha:]]+| ?[[:digit:]]+| ?[^\s[:alpha:][:digit:]]+|\s+(?!\S)|\s+
//     as std::regex (ECMAScript, ordered alternatives, "C" locale: only ASCII is alpha/digit/space).
//  2. In each word, repeatedly take the longest prefix that is a vocabulary entry; a byte that
//     starts no entry is skipped. Entries with the same bytes: the highest id wins (the loader's
//     map assignment).

/** whisper.cpp keeps at most the last `n_text_ctx / 2 - 1` prompt tokens (223 for every published model). */
export function maxPromptTokens(nTextCtx: number): number {
  if (!Number.isInteger(nTextCtx) || nTextCtx < 4) throw new RangeError(`Expected an integer of at least 4 for nTextCtx but received ${nTextCtx}`);
  return Math.floor(nTextCtx / 2) - 1;
}

const enum Kind {
  Other = 0,
  Alpha = 1,
  Digit = 2,
  Space = 3,
}

/** Byte classes of the "C" locale. */
const KIND = new Uint8Array(256);
for (let b = 0x41; b <= 0x5a; b++) KIND[b] = Kind.Alpha;
for (let b = 0x61; b <= 0x7a; b++) KIND[b] = Kind.Alpha;
for (let b = 0x30; b <= 0x39; b++) KIND[b] = Kind.Digit;
for (const b of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]) KIND[b] = Kind.Space;

const SPACE = 0x20;
const APOSTROPHE = 0x27;
/** The contractions, in the pattern's order (the first that matches wins). */
const CONTRACTIONS = ["s", "t", "re", "ve", "m", "ll", "d"].map((s) => Buffer.from(s, "latin1"));

/** End (exclusive) of the pre-split word that starts at `p` (`p < n`). */
export function wordEnd(bytes: Uint8Array, p: number, n: number): number {
  const b = bytes[p]!;
  if (b === APOSTROPHE) {
    for (const c of CONTRACTIONS) if (matchesAt(bytes, p + 1, c, n)) return p + 1 + c.length;
  }
  // ` ?X+` for X = alpha, digit, other: a leading space joins the run that follows it.
  const start = b === SPACE && p + 1 < n && KIND[bytes[p + 1]!] !== Kind.Space ? p + 1 : p;
  const runKind = KIND[bytes[start]!]!;
  if (runKind !== Kind.Space) {
    let e = start + 1;
    while (e < n && KIND[bytes[e]!] === runKind) e++;
    return e;
  }
  // Whitespace: `\s+(?!\S)` leaves the last space of a run for the word after it; `\s+` otherwise.
  let e = p + 1;
  while (e < n && KIND[bytes[e]!] === Kind.Space) e++;
  if (e === n) return e;
  return e - p >= 2 ? e - 1 : e;
}

function matchesAt(bytes: Uint8Array, at: number, c: Buffer, n: number): boolean {
  if (at + c.length > n) return false;
  for (let i = 0; i < c.length; i++) if (bytes[at + i] !== c[i]) return false;
  return true;
}

/**
 * A byte trie over the vocabulary: node `0` is the root, a child is found at `node * 256 + byte`
 * in one Map, and `ids[node]` is the token that ends there (-1: none).
 */
export class PromptTokenizer {
  readonly #children = new Map<number, number>();
  readonly #ids: number[] = [-1];
  /** Vocabulary size. */
  readonly size: number;

  private constructor(size: number) {
    this.size = size;
  }

  /** From the bytes of every token id, in id order (the model's vocabulary). */
  static fromVocabulary(tokens: readonly Uint8Array[]): PromptTokenizer {
    if (!Array.isArray(tokens)) throw new TypeError("Expected an array of token byte strings for tokens");
    const tokenizer = new PromptTokenizer(tokens.length);
    tokens.forEach((token, id) => {
      if (!(token instanceof Uint8Array)) throw new TypeError(`Expected bytes (Uint8Array) for tokens[${id}] but received ${typeof token}`);
      if (token.length > 0) tokenizer.#insert(token, id);
    });
    return tokenizer;
  }

  #insert(token: Uint8Array, id: number): void {
    let node = 0;
    for (const byte of token) {
      const key = node * 256 + byte;
      let child = this.#children.get(key);
      if (child === undefined) {
        child = this.#ids.length;
        this.#ids.push(-1);
        this.#children.set(key, child);
      }
      node = child;
    }
    // Same bytes twice: the later id wins, as in whisper.cpp's token_to_id map.
    this.#ids[node] = id;
  }

  /** Every token id of `text`, exactly as whisper.cpp's tokenize() (for text without NUL). */
  encode(text: string): Int32Array {
    if (typeof text !== "string") throw new TypeError(`Expected a string for text but received ${typeof text}`);
    const bytes = Buffer.from(text, "utf8");
    const n = bytes.length;
    const out: number[] = [];
    const children = this.#children;
    const ids = this.#ids;
    let p = 0;
    while (p < n) {
      const end = wordEnd(bytes, p, n);
      let i = p;
      while (i < end) {
        // Longest vocabulary entry starting at i and ending within the word.
        let node = 0;
        let bestId = -1;
        let bestEnd = i;
        for (let j = i; j < end; j++) {
          const child = children.get(node * 256 + bytes[j]!);
          if (child === undefined) break;
          node = child;
          const id = ids[node]!;
          if (id >= 0) {
            bestId = id;
            bestEnd = j + 1;
          }
        }
        if (bestId >= 0) {
          out.push(bestId);
          i = bestEnd;
        } else {
          i++; // whisper.cpp logs "unknown token" and skips the byte
        }
      }
      p = end;
    }
    return Int32Array.from(out);
  }

  /** The ids whisper.cpp would use from `text`: the last `maxTokens` of {@link encode}. */
  encodeTail(text: string, maxTokens: number): Int32Array {
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`Expected a non-negative integer for maxTokens but received ${maxTokens}`);
    const all = this.encode(text);
    return all.length <= maxTokens ? all : all.slice(all.length - maxTokens);
  }
}
