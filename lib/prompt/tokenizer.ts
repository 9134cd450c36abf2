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

enum Kind {
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

/** Token bytes end to end: id `i` is `bytes[offsets[i], offsets[i + 1])`. */
export interface PackedVocabulary {
  bytes: Uint8Array;
  offsets: Int32Array;
}

/** Packs token byte strings (in id order) for {@link PromptTokenizer.fromVocabulary}. */
export function packVocabulary(tokens: readonly Uint8Array[]): PackedVocabulary {
  const offsets = new Int32Array(tokens.length + 1);
  for (const [i, token] of tokens.entries()) offsets[i + 1] = offsets[i]! + token.length;
  return { bytes: Buffer.concat(tokens), offsets };
}

/**
 * A byte trie over the vocabulary, its edges in one open-addressing hash table of int32 keys
 * (`node * 256 + byte`, node 0 the root) and values (the child). `ids[node]` is the token that
 * ends at the node, or -1. A Map of the same edges is several times slower to build and to walk.
 */
export class PromptTokenizer {
  readonly #keys: Int32Array;
  readonly #values: Int32Array;
  readonly #mask: number;
  #ids: Int32Array;
  #nodes = 1;
  /** Vocabulary size. */
  readonly size: number;

  private constructor(size: number, maxEdges: number) {
    this.size = size;
    let capacity = 1024;
    while (capacity < maxEdges * 2) capacity *= 2;
    this.#keys = new Int32Array(capacity).fill(-1);
    this.#values = new Int32Array(capacity);
    this.#mask = capacity - 1;
    this.#ids = new Int32Array(maxEdges + 1).fill(-1);
  }

  /** From the model's vocabulary: every token id's bytes end to end (the addon's `vocabulary()`). */
  static fromVocabulary(vocabulary: PackedVocabulary): PromptTokenizer {
    const { bytes, offsets } = vocabulary ?? {};
    if (!(bytes instanceof Uint8Array) || !(offsets instanceof Int32Array) || offsets.length < 1) {
      throw new TypeError("Expected { bytes: Uint8Array, offsets: Int32Array } for vocabulary");
    }
    // A trie has at most one edge per vocabulary byte; node numbers stay far below 2^23.
    if (bytes.length >= 1 << 23) throw new RangeError(`Expected a vocabulary of less than 8 MiB for vocabulary but received ${bytes.length} bytes`);
    const size = offsets.length - 1;
    const tokenizer = new PromptTokenizer(size, bytes.length);
    for (let id = 0; id < size; id++) {
      const from = offsets[id]!;
      const to = offsets[id + 1]!;
      if (from < 0 || to < from || to > bytes.length) throw new RangeError(`Expected ascending offsets within the bytes for vocabulary.offsets but received ${from}..${to} for id ${id}`);
      if (to > from) tokenizer.#insert(bytes, from, to, id);
    }
    return tokenizer;
  }

  #slot(key: number): number {
    let slot = Math.imul(key, 0x9e3779b1) & this.#mask;
    while (this.#keys[slot] !== key && this.#keys[slot] !== -1) slot = (slot + 1) & this.#mask;
    return slot;
  }

  #insert(bytes: Uint8Array, from: number, to: number, id: number): void {
    let node = 0;
    for (let i = from; i < to; i++) {
      const byte = bytes[i]!;
      const slot = this.#slot(node * 256 + byte);
      if (this.#keys[slot] === -1) {
        this.#keys[slot] = node * 256 + byte;
        this.#values[slot] = this.#nodes++;
      }
      node = this.#values[slot]!;
    }
    // Same bytes twice: the later id wins, as in whisper.cpp's token_to_id map.
    this.#ids[node] = id;
  }

  /** Every token id of `text`, exactly as whisper.cpp's tokenize() (for text without NUL). */
  encode(text: string): Int32Array {
    if (typeof text !== "string") throw new TypeError(`Expected a string for text but received ${typeof text}`);
    const bytes = Buffer.from(text, "utf8");
    const n = bytes.length;
    const out = new Int32Array(n);
    let count = 0;
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
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
          const key = node * 256 + bytes[j]!;
          let slot = Math.imul(key, 0x9e3779b1) & mask;
          let k = keys[slot]!;
          while (k !== key && k !== -1) {
            slot = (slot + 1) & mask;
            k = keys[slot]!;
          }
          if (k === -1) break;
          node = values[slot]!;
          const id = ids[node]!;
          if (id >= 0) {
            bestId = id;
            bestEnd = j + 1;
          }
        }
        if (bestId >= 0) {
          out[count++] = bestId;
          i = bestEnd;
        } else {
          i++; // whisper.cpp logs "unknown token" and skips the byte
        }
      }
      p = end;
    }
    return out.slice(0, count);
  }

  /** The ids whisper.cpp would use from `text`: the last `maxTokens` of {@link encode}. */
  encodeTail(text: string, maxTokens: number): Int32Array {
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`Expected a non-negative integer for maxTokens but received ${maxTokens}`);
    const all = this.encode(text);
    return all.length <= maxTokens ? all : all.slice(all.length - maxTokens);
  }
}
