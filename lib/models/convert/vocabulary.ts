// Whisper's vocabulary as whisper.cpp stores it: the raw bytes of every token before
// <|endoftext|>. whisper.cpp names the special and timestamp tokens itself, from n_vocab.
// The tokenizer files spell tokens in GPT-2's byte-level alphabet: each byte is one printable
// character (a space is "Ġ", a newline "Ċ"), so a token string maps back to its exact bytes.
import fs from "node:fs/promises";
import path from "node:path";
import { ConvertError } from "./errors.js";

export const END_OF_TEXT = "<|endoftext|>";

/** GPT-2's byte -> character table: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards. */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : next++);
  return table;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

/** A token's bytes in the byte-level alphabet of the tokenizer files. */
export function byteLevelEncode(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += BYTE_TO_CHAR[b]!;
  return s;
}

/** The raw bytes of a byte-level token string; undefined if it has a character outside the alphabet. */
export function byteLevelDecode(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  let n = 0;
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return undefined;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

export interface Vocabulary {
  /** Bytes of tokens 0 .. eot-1. */
  tokens: Uint8Array[];
  /** Id of <|endoftext|> (50256 English-only, 50257 multilingual). */
  eot: number;
  /** The file it came from. */
  file: string;
}

/** Token strings by id -> the ggml vocabulary (every id before <|endoftext|>, as bytes). */
export function vocabularyFromTokens(byId: readonly (string | undefined)[], file: string): Vocabulary {
  const eot = byId.indexOf(END_OF_TEXT);
  if (eot < 0) throw new ConvertError(`${file} has no ${END_OF_TEXT} token; it is not a Whisper (GPT-2 BPE) vocabulary`, "BAD_VOCAB");
  const tokens: Uint8Array[] = [];
  for (let id = 0; id < eot; id++) {
    const token = byId[id];
    if (token === undefined) throw new ConvertError(`${file} has no token with id ${id} (ids before ${END_OF_TEXT} must be contiguous)`, "BAD_VOCAB");
    const bytes = byteLevelDecode(token);
    if (!bytes) throw new ConvertError(`${file}: token ${id} ${JSON.stringify(token)} is not in GPT-2's byte-level alphabet`, "BAD_VOCAB");
    tokens.push(bytes);
  }
  return { tokens, eot, file };
}

function byIdFromMap(map: Record<string, unknown>, into: (string | undefined)[], file: string): void {
  for (const [token, id] of Object.entries(map)) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 1 << 24) {
      throw new ConvertError(`${file}: token ${JSON.stringify(token)} has id ${String(id)}`, "BAD_VOCAB");
    }
    into[id as number] = token;
  }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as unknown;
  } catch (error) {
    throw new ConvertError(`${file} is not valid JSON: ${(error as Error).message}`, "BAD_VOCAB", { cause: error });
  }
}

// Each reader returns token strings by id.
const READERS: readonly [string, (file: string) => Promise<(string | undefined)[]>][] = [
  // CTranslate2: one token per line (an empty line is the empty token).
  ["vocabulary.txt", async (file) => {
    const lines = (await fs.readFile(file, "utf8")).split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
  }],
  // Older CTranslate2 conversions: a JSON array.
  ["vocabulary.json", async (file) => {
    const list = await readJson(file);
    if (!Array.isArray(list) || !list.every((t) => typeof t === "string")) throw new ConvertError(`${file} is not a JSON array of strings`, "BAD_VOCAB");
    return list as string[];
  }],
  // Hugging Face tokenizers: model.vocab plus added_tokens.
  ["tokenizer.json", async (file) => {
    const json = (await readJson(file)) as { model?: { vocab?: Record<string, unknown> }; added_tokens?: { id?: unknown; content?: unknown }[] };
    if (!json.model?.vocab) throw new ConvertError(`${file} has no model.vocab`, "BAD_VOCAB");
    const byId: (string | undefined)[] = [];
    byIdFromMap(json.model.vocab, byId, file);
    for (const t of json.added_tokens ?? []) if (typeof t.content === "string") byIdFromMap({ [t.content]: t.id }, byId, file);
    return byId;
  }],
  // Hugging Face slow tokenizer: vocab.json plus added_tokens.json.
  ["vocab.json", async (file) => {
    const byId: (string | undefined)[] = [];
    byIdFromMap((await readJson(file)) as Record<string, unknown>, byId, file);
    const added = path.join(path.dirname(file), "added_tokens.json");
    try {
      byIdFromMap((await readJson(added)) as Record<string, unknown>, byId, added);
    } catch (error) {
      if ((error as { cause?: NodeJS.ErrnoException }).cause?.code !== "ENOENT") throw error;
    }
    return byId;
  }],
];

/** The file names tried, in order, by {@link readVocabulary}. */
export const VOCABULARY_FILES: readonly string[] = READERS.map(([name]) => name);

/** Reads the first of {@link VOCABULARY_FILES} found in `dir`. */
export async function readVocabulary(dir: string): Promise<Vocabulary> {
  for (const [name, read] of READERS) {
    const file = path.join(dir, name);
    try {
      await fs.access(file);
    } catch {
      continue;
    }
    return vocabularyFromTokens(await read(file), file);
  }
  throw new ConvertError(`No vocabulary next to the model in ${dir}: expected one of ${VOCABULARY_FILES.join(", ")}`, "BAD_VOCAB");
}
