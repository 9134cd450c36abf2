// Reading and checking whisper.cpp ggml model files without reading the weights.
import fs from "node:fs/promises";
import {
  GGML_FILE_MAGIC,
  GGML_QNT_VERSION_FACTOR,
  GgmlFormatError,
  type GgmlTensorInfo,
  type GgmlTensorSpec,
  type GgmlTypeName,
  HPARAM_KEYS,
  LIMITS,
  TYPES,
  TYPE_BY_ID,
  WHISPER_N_FFT_BINS,
  type WhisperHparams,
  type WhisperModelType,
  detectModelType,
  expectedTensors,
  tensorByteSize,
  validateHparams,
  weightTypeOf,
} from "./format.js";
import { listNames, sameShape } from "./writer.js";
// ---------------------------------------------------------------------------------------------
// Reading

export interface ModelHeaderInfo {
  hparams: WhisperHparams;
  modelType: WhisperModelType;
  multilingual: boolean;
  /** File type without the quantization version: 0 = f32, 1 = f16, 2+ = quantized. */
  ftype: number;
  /** Type of the big matrices (f16 for ftype 1). */
  weightType: GgmlTypeName;
  quantizationVersion: number;
  /** Tokens stored in the file; whisper.cpp names the rest up to nVocab itself. */
  vocabInFile: number;
  nTensors: number;
  tensors: GgmlTensorInfo[];
  fileSize: number;
}

export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openSource(input: string | Uint8Array): Promise<ByteSource> {
  if (input instanceof Uint8Array) {
    return { size: input.length, read: async (o, n) => input.subarray(o, o + n), close: async () => {} };
  }
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(input, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new GgmlFormatError("ENOENT", `model file not found: ${input}`, { cause: error });
    throw error;
  }
  const stat = await fh.stat();
  if (stat.isDirectory()) {
    await fh.close();
    throw new GgmlFormatError("ENOENT", `model path is a directory: ${input}`);
  }
  return {
    size: stat.size,
    read: async (offset, length) => {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}

// Big reads for the sequential header and vocab; small ones for a tensor header after skipped data.
export const READ_AHEAD = 64 << 10;
export const READ_AFTER_SKIP = 1 << 10;

/** Sequential reads through a small window; skipping tensor data costs no I/O. */
export class Cursor {
  readonly #src: ByteSource;
  #buf: Uint8Array = new Uint8Array(0);
  #view = new DataView(this.#buf.buffer);
  #bufStart = 0;
  pos = 0;
  constructor(src: ByteSource) {
    this.#src = src;
  }
  get size(): number {
    return this.#src.size;
  }
  async #need(n: number, what: string): Promise<number> {
    if (this.pos + n > this.#src.size) {
      throw new GgmlFormatError("TRUNCATED", `model file is truncated: ${what} needs ${n} bytes at offset ${this.pos} but the file has ${this.#src.size} bytes`);
    }
    const rel = this.pos - this.#bufStart;
    if (rel < 0 || rel + n > this.#buf.length) {
      const sequential = rel >= 0 && rel <= this.#buf.length;
      const want = Math.max(n, sequential ? READ_AHEAD : READ_AFTER_SKIP);
      this.#buf = await this.#src.read(this.pos, Math.min(want, this.#src.size - this.pos));
      this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
      this.#bufStart = this.pos;
    }
    const at = this.pos - this.#bufStart;
    this.pos += n;
    return at;
  }
  // Await before touching #view: #need may replace it.
  async i32(what: string): Promise<number> {
    const at = await this.#need(4, what);
    return this.#view.getInt32(at, true);
  }
  async u32(what: string): Promise<number> {
    const at = await this.#need(4, what);
    return this.#view.getUint32(at, true);
  }
  async bytes(n: number, what: string): Promise<Uint8Array> {
    const at = await this.#need(n, what);
    return this.#buf.subarray(at, at + n);
  }
  skip(n: number): void {
    this.pos += n;
  }
}

export const MAGIC_HINTS: [number, string][] = [
  [0x46554747, "it is a GGUF file; whisper.cpp needs the legacy ggml .bin format (e.g. ggml-base.bin)"],
  [0x04034b50, "it is a zip archive (a PyTorch checkpoint?); convert it with whisper.cpp's convert-pt-to-ggml.py"],
];

/**
 * Reads and checks a model's header, mel filters, vocabulary and tensor table without reading the
 * weights. Throws GgmlFormatError for anything whisper.cpp v1.9.1 would refuse or crash on.
 */
export async function inspectGgmlModel(input: string | Uint8Array): Promise<ModelHeaderInfo> {
  const src = await openSource(input);
  try {
    return await inspect(new Cursor(src));
  } finally {
    await src.close();
  }
}

export async function inspect(c: Cursor): Promise<ModelHeaderInfo> {
  if (c.size === 0) throw new GgmlFormatError("EMPTY", "model file is empty");
  const magic = await c.u32("the magic number");
  if (magic !== GGML_FILE_MAGIC) {
    const hint = MAGIC_HINTS.find(([m]) => m === magic)?.[1] ?? "it is not a whisper.cpp ggml model";
    throw new GgmlFormatError("BAD_MAGIC", `bad magic 0x${magic.toString(16).padStart(8, "0")} (expected 0x67676d6c "ggml"): ${hint}`);
  }
  const h = {} as WhisperHparams;
  for (const key of HPARAM_KEYS) h[key] = await c.i32(`hparams.${key}`);
  validateHparams(h);
  const weightType = weightTypeOf(h.ftype) ?? "f16";

  const nMel = await c.i32("the mel filter count");
  const nFft = await c.i32("the mel filter size");
  if (nMel !== h.nMels || nFft !== WHISPER_N_FFT_BINS) {
    throw new GgmlFormatError("BAD_MEL_FILTERS", `mel filters are ${nMel} x ${nFft} but whisper.cpp needs ${h.nMels} x ${WHISPER_N_FFT_BINS} (hparams.nMels x FFT bins)`);
  }
  await c.bytes(nMel * nFft * 4, "the mel filters");

  const nTokens = await c.i32("the vocab size");
  if (nTokens < 0 || nTokens > h.nVocab) {
    throw new GgmlFormatError("BAD_VOCAB", `vocab has ${nTokens} tokens but hparams.nVocab is ${h.nVocab}`);
  }
  let hasSpace = false;
  for (let i = 0; i < nTokens; i++) {
    const len = await c.u32(`the length of token ${i}`);
    if (len > LIMITS.maxTokenBytes) throw new GgmlFormatError("BAD_VOCAB", `token ${i} claims ${len} bytes at offset ${c.pos - 4}; the vocab is corrupt`);
    const bytes = await c.bytes(len, `token ${i}`);
    if (len === 1 && bytes[0] === 0x20) hasSpace = true;
  }
  if (!hasSpace) throw new GgmlFormatError("BAD_VOCAB", `vocab has no single-space token " " (whisper.cpp looks it up to suppress blanks)`);

  const expected = new Map(expectedTensors(h).map((t) => [t.name, t]));
  const tensors: GgmlTensorInfo[] = [];
  const seen = new Set<string>();
  while (c.pos < c.size) {
    tensors.push(await readTensorHeader(c, expected, seen, h.ftype));
  }
  if (tensors.length === 0) {
    throw new GgmlFormatError("TRUNCATED", `model file is truncated: it ends after the vocab at offset ${c.pos} and has no tensors`);
  }
  const missing = [...expected.keys()].filter((n) => !seen.has(n));
  if (missing.length > 0) {
    throw new GgmlFormatError("MISSING_TENSORS", `model file has ${tensors.length} of ${expected.size} tensors; missing ${listNames(missing)}`);
  }
  const ftype = h.ftype % GGML_QNT_VERSION_FACTOR;
  return {
    hparams: h,
    modelType: detectModelType(h),
    multilingual: h.nVocab >= 51865,
    ftype,
    weightType,
    quantizationVersion: Math.floor(h.ftype / GGML_QNT_VERSION_FACTOR),
    vocabInFile: nTokens,
    nTensors: tensors.length,
    tensors,
    fileSize: c.size,
  };
}

export async function readTensorHeader(c: Cursor, expected: Map<string, GgmlTensorSpec>, seen: Set<string>, ftype: number): Promise<GgmlTensorInfo> {
  const at = c.pos;
  const index = seen.size;
  const what = `the header of tensor #${index}`;
  const nDims = await c.i32(what);
  const nameLen = await c.i32(what);
  const ttype = await c.i32(what);
  if (nDims < 1 || nDims > 4 || nameLen < 1 || nameLen > LIMITS.maxNameBytes) {
    throw new GgmlFormatError("BAD_TENSOR", `corrupt header of tensor #${index} at offset ${at}: n_dims ${nDims}, name length ${nameLen}`);
  }
  const shape: number[] = [];
  for (let i = 0; i < nDims; i++) shape.push(await c.i32(what));
  const name = new TextDecoder().decode(await c.bytes(nameLen, what));
  const spec = expected.get(name);
  if (!spec) throw new GgmlFormatError("BAD_TENSOR", `unknown tensor '${name}' at offset ${at}; whisper.cpp does not expect it for these hparams`);
  if (seen.has(name)) throw new GgmlFormatError("BAD_TENSOR", `tensor '${name}' appears twice (again at offset ${at})`);
  seen.add(name);
  if (!sameShape(spec.shape, shape)) {
    throw new GgmlFormatError("BAD_TENSOR", `tensor '${name}' has shape [${shape.join(", ")}] but whisper.cpp expects [${spec.shape.join(", ")}]`);
  }
  const fileType = TYPE_BY_ID.get(ttype);
  const nbytes = tensorByteSize(spec.shape, spec.type);
  // whisper.cpp only compares byte counts, then reads the data as the type it expects.
  const elements = shape.reduce((a, b) => a * b, 1);
  if (!fileType || (spec.shape[0] ?? 1) % TYPES[spec.type].blockSize !== 0 ||
      Math.floor((elements * TYPES[fileType].typeSize) / TYPES[spec.type].blockSize) !== nbytes) {
    throw new GgmlFormatError("BAD_TENSOR", `tensor '${name}' has type ${fileType ?? `#${ttype}`} but whisper.cpp expects ${spec.type} for ftype ${ftype}`);
  }
  const dataOffset = c.pos;
  if (dataOffset + nbytes > c.size) {
    throw new GgmlFormatError("TRUNCATED", `model file is truncated: tensor '${name}' needs ${nbytes} bytes at offset ${dataOffset} but the file has ${c.size} bytes`);
  }
  c.skip(nbytes);
  return { name, shape, type: spec.type, dataOffset, nbytes };
}
