// Writing whisper.cpp ggml model files (streaming, atomic rename).
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  GGML_FILE_MAGIC,
  GgmlFormatError,
  type GgmlTensorSpec,
  type GgmlTypeName,
  HPARAM_KEYS,
  type MelFilters,
  TYPES,
  WHISPER_N_FFT_BINS,
  type WhisperHparams,
  expectedTensors,
  tensorByteSize,
  validateHparams,
} from "./format.js";
// ---------------------------------------------------------------------------------------------
// Writing

export type TensorChunk = Float32Array | Uint16Array | Uint8Array;

export interface GgmlTensorInput extends GgmlTensorSpec {
  /**
   * The tensor's elements, whole or as chunks in order. A Float32Array is encoded to `type`
   * (f32, f16 or bf16); a Uint16Array holds raw f16/bf16 bits; a Uint8Array holds the exact file bytes.
   */
  data: TensorChunk | Iterable<TensorChunk> | AsyncIterable<TensorChunk>;
}

export interface GgmlModelInput {
  hparams: WhisperHparams;
  melFilters: MelFilters;
  /** Token bytes by id; may be shorter than nVocab (whisper.cpp names the rest itself). Must contain " ". */
  vocab: readonly Uint8Array[];
  /** Tensors in any order, produced one at a time so a large model never sits in memory whole. */
  tensors: Iterable<GgmlTensorInput> | AsyncIterable<GgmlTensorInput>;
  /**
   * Check names, shapes and types against {@link expectedTensors} and that none is missing.
   * Default `true`; turn off only to write deliberately broken files for tests.
   */
  strict?: boolean;
}

export const WRITE_BUFFER_BYTES = 4 << 20;

export class SequentialWriter {
  readonly #fh: fs.FileHandle;
  readonly #buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  #used = 0;
  written = 0;
  constructor(fh: fs.FileHandle) {
    this.#fh = fh;
  }
  async bytes(src: Uint8Array): Promise<void> {
    this.written += src.length;
    if (src.length >= WRITE_BUFFER_BYTES) {
      await this.flush();
      await this.#writeAll(src);
      return;
    }
    if (this.#used + src.length > WRITE_BUFFER_BYTES) await this.flush();
    this.#buf.set(src, this.#used);
    this.#used += src.length;
  }
  async i32s(...values: number[]): Promise<void> {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (const [i, v] of values.entries()) view.setInt32(i * 4, v, true);
    await this.bytes(b);
  }
  async flush(): Promise<void> {
    if (this.#used === 0) return;
    await this.#writeAll(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
  async #writeAll(src: Uint8Array): Promise<void> {
    let off = 0;
    while (off < src.length) {
      const { bytesWritten } = await this.#fh.write(src, off, src.length - off);
      off += bytesWritten;
    }
  }
}

export const f32Scratch = new Float32Array(1);
export const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half-precision bits of a number, rounded to nearest even (what numpy's astype(float16) does). */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1))) r++;
  return sign | r;
}

export function encodeF32Chunk(chunk: Float32Array, type: GgmlTypeName, name: string): Uint8Array {
  if (type === "f32") return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const out = new Uint16Array(chunk.length);
  if (type === "f16") {
    for (let i = 0; i < chunk.length; i++) out[i] = f32ToF16Bits(chunk[i] ?? 0);
  } else if (type === "bf16") {
    const bits = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length);
    for (let i = 0; i < bits.length; i++) {
      const x = bits[i] ?? 0;
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  } else {
    throw new TypeError(`Tensor '${name}' has type ${type}; pass its encoded bytes as a Uint8Array instead of a Float32Array`);
  }
  return new Uint8Array(out.buffer);
}

async function* chunksOf(data: GgmlTensorInput["data"]): AsyncIterable<TensorChunk> {
  if (ArrayBuffer.isView(data)) yield data;
  else yield* data;
}

/**
 * Writes a whisper.cpp ggml model. The file appears atomically: it is written to a temporary
 * file in the same directory and renamed over `filePath` only when complete.
 */
export async function writeGgmlModel(filePath: string, model: GgmlModelInput): Promise<{ bytes: number; nTensors: number }> {
  if (os.endianness() !== "LE") throw new Error("Writing ggml models needs a little-endian host");
  const { hparams: h, melFilters: mel, vocab } = model;
  const strict = model.strict ?? true;
  if (strict) validateHparams(h);
  if (strict && (mel.nMel !== h.nMels || mel.nFft !== WHISPER_N_FFT_BINS)) {
    throw new GgmlFormatError("BAD_MEL_FILTERS", `melFilters must be ${h.nMels} x ${WHISPER_N_FFT_BINS} but are ${mel.nMel} x ${mel.nFft}`);
  }
  if (mel.data.length !== mel.nMel * mel.nFft) {
    throw new TypeError(`Expected ${mel.nMel * mel.nFft} values in melFilters.data but received ${mel.data.length}`);
  }
  if (strict) checkVocab(vocab, h.nVocab);
  const expected = new Map(expectedTensors(h).map((t) => [t.name, t]));
  const seen = new Set<string>();
  let nTensors = 0;

  const tmp = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fh = await fs.open(tmp, "w");
  let ok = false;
  try {
    const out = new SequentialWriter(fh);
    await out.i32s(GGML_FILE_MAGIC | 0, ...HPARAM_KEYS.map((k) => h[k]));
    await out.i32s(mel.nMel, mel.nFft);
    await out.bytes(encodeF32Chunk(mel.data, "f32", "mel filters"));
    await out.i32s(vocab.length);
    for (const token of vocab) {
      await out.i32s(token.length);
      await out.bytes(token);
    }
    for await (const tensor of model.tensors) {
      await writeTensor(out, tensor, strict ? expected.get(tensor.name) ?? null : undefined, seen);
      nTensors++;
    }
    if (strict) {
      const missing = [...expected.keys()].filter((n) => !seen.has(n));
      if (missing.length > 0) throw new GgmlFormatError("MISSING_TENSORS", `model is missing ${missing.length} tensors: ${listNames(missing)}`);
    }
    await out.flush();
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, filePath);
    ok = true;
    return { bytes: out.written, nTensors };
  } finally {
    if (!ok) {
      await fh.close().catch(() => {});
      await fs.rm(tmp, { force: true });
    }
  }
}

export async function writeTensor(out: SequentialWriter, tensor: GgmlTensorInput, spec: GgmlTensorSpec | null | undefined, seen: Set<string>): Promise<void> {
  const { name, shape, type } = tensor;
  if (spec === null) throw new GgmlFormatError("BAD_TENSOR", `tensor '${name}' is not one whisper.cpp expects for these hparams`);
  if (spec && (!sameShape(spec.shape, shape) || spec.type !== type)) {
    throw new GgmlFormatError("BAD_TENSOR", `tensor '${name}' is ${type} [${shape.join(", ")}] but whisper.cpp expects ${spec.type} [${spec.shape.join(", ")}]`);
  }
  if (spec && seen.has(name)) throw new GgmlFormatError("BAD_TENSOR", `tensor '${name}' is written twice`);
  seen.add(name);
  if (shape.length < 1 || shape.length > 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`Tensor '${name}' needs 1 to 4 positive integer dimensions but has [${shape.join(", ")}]`);
  }
  const nameBytes = new TextEncoder().encode(name);
  await out.i32s(shape.length, nameBytes.length, TYPES[type].id, ...shape);
  await out.bytes(nameBytes);
  const nbytes = tensorByteSize(shape, type);
  let wrote = 0;
  for await (const chunk of chunksOf(tensor.data)) {
    const bytes =
      chunk instanceof Float32Array ? encodeF32Chunk(chunk, type, name)
      : chunk instanceof Uint16Array ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      : chunk;
    wrote += bytes.length;
    if (wrote > nbytes) break;
    await out.bytes(bytes);
  }
  if (wrote !== nbytes) throw new TypeError(`Tensor '${name}' (${type} [${shape.join(", ")}]) needs ${nbytes} bytes of data but received ${wrote}`);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < 4; i++) if ((a[i] ?? 1) !== (b[i] ?? 1)) return false;
  return true;
}

export function listNames(names: string[]): string {
  return names.slice(0, 5).map((n) => `'${n}'`).join(", ") + (names.length > 5 ? `, ... (${names.length - 5} more)` : "");
}

export function checkVocab(vocab: readonly Uint8Array[], nVocab: number): void {
  if (vocab.length > nVocab) throw new GgmlFormatError("BAD_VOCAB", `vocab has ${vocab.length} tokens but hparams.nVocab is ${nVocab}`);
  if (!vocab.some((t) => t.length === 1 && t[0] === 0x20)) {
    throw new GgmlFormatError("BAD_VOCAB", `vocab has no single-space token " " (whisper.cpp looks it up to suppress blanks)`);
  }
}
