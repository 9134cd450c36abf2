// The legacy ggml model format that whisper.cpp v1.9.1 loads (src/whisper.cpp `whisper_model_load`):
//   u32 magic 0x67676d6c, 11 x i32 hparams, mel filters (i32 n_mel, i32 n_fft, f32[n_mel*n_fft]),
//   vocab (i32 count, then per token u32 length + bytes), then tensors until EOF:
//   i32 n_dims, i32 name length, i32 ggml type, i32 ne[n_dims], name, raw data.
// Everything is little-endian and unaligned. The inspector exists because whisper.cpp trusts this
// data: a bad ftype, n_dims > 4 or a vocab without " " abort() or corrupt the process.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export const GGML_FILE_MAGIC = 0x67676d6c;
/** whisper.cpp's FFT has 400 points, so each mel filter has 1 + 400/2 bins. */
export const WHISPER_N_FFT_BINS = 201;
/** ftype values carry the quantization version in the thousands (e.g. 2009 = q5_1, version 2). */
export const GGML_QNT_VERSION_FACTOR = 1000;

/** Model dimensions, in file order. Names follow camelCase of whisper.cpp's `whisper_hparams`. */
export interface WhisperHparams {
  /** 51864 English-only, 51865 multilingual, 51866 large-v3 (fixes the special-token ids). */
  nVocab: number;
  /** Encoder positions per 30 s window (1500 in every published model). */
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  /** Decoder positions (448). */
  nTextCtx: number;
  /** Must equal nAudioState. */
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  /** 80, or 128 for large-v3. */
  nMels: number;
  /** As stored: `quantizationVersion * 1000 + ftype`; 0 = all f32, 1 = f16 matrices. */
  ftype: number;
}

const HPARAM_KEYS = [
  "nVocab", "nAudioCtx", "nAudioState", "nAudioHead", "nAudioLayer",
  "nTextCtx", "nTextState", "nTextHead", "nTextLayer", "nMels", "ftype",
] as const satisfies readonly (keyof WhisperHparams)[];

function dims(v: 51864 | 51865 | 51866, mels: number, state: number, head: number, layers: number, textLayers = layers): WhisperHparams {
  return {
    nVocab: v, nAudioCtx: 1500, nAudioState: state, nAudioHead: head, nAudioLayer: layers,
    nTextCtx: 448, nTextState: state, nTextHead: head, nTextLayer: textLayers, nMels: mels, ftype: 1,
  };
}

/** Dimensions of the published Whisper checkpoints (f16). */
export const WHISPER_DIMS = {
  "tiny": dims(51865, 80, 384, 6, 4),
  "tiny.en": dims(51864, 80, 384, 6, 4),
  "base": dims(51865, 80, 512, 8, 6),
  "base.en": dims(51864, 80, 512, 8, 6),
  "small": dims(51865, 80, 768, 12, 12),
  "small.en": dims(51864, 80, 768, 12, 12),
  "medium": dims(51865, 80, 1024, 16, 24),
  "medium.en": dims(51864, 80, 1024, 16, 24),
  "large": dims(51865, 80, 1280, 20, 32),
  "large-v3": dims(51866, 128, 1280, 20, 32),
  "large-v3-turbo": dims(51866, 128, 1280, 20, 32, 4),
} as const satisfies Record<string, WhisperHparams>;

export type WhisperModelType = "tiny" | "base" | "small" | "medium" | "large" | "large-v3" | "large-v3-turbo" | "unknown";

export type GgmlTypeName =
  | "f32" | "f16" | "bf16" | "f64" | "i8" | "i16" | "i32" | "i64"
  | "q1_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1" | "q8_0" | "q8_1"
  | "q2_k" | "q3_k" | "q4_k" | "q5_k" | "q6_k" | "q8_k"
  | "iq2_xxs" | "iq2_xs" | "iq2_s" | "iq3_xxs" | "iq3_s" | "iq1_s" | "iq1_m" | "iq4_nl" | "iq4_xs"
  | "tq1_0" | "tq2_0" | "mxfp4" | "nvfp4";

interface TypeTraits { id: number; blockSize: number; typeSize: number }

// ggml/src/ggml.c type_traits: elements per block and bytes per block.
const TYPES: Record<GgmlTypeName, TypeTraits> = {
  f32: { id: 0, blockSize: 1, typeSize: 4 },
  f16: { id: 1, blockSize: 1, typeSize: 2 },
  q4_0: { id: 2, blockSize: 32, typeSize: 18 },
  q4_1: { id: 3, blockSize: 32, typeSize: 20 },
  q5_0: { id: 6, blockSize: 32, typeSize: 22 },
  q5_1: { id: 7, blockSize: 32, typeSize: 24 },
  q8_0: { id: 8, blockSize: 32, typeSize: 34 },
  q8_1: { id: 9, blockSize: 32, typeSize: 36 },
  q2_k: { id: 10, blockSize: 256, typeSize: 84 },
  q3_k: { id: 11, blockSize: 256, typeSize: 110 },
  q4_k: { id: 12, blockSize: 256, typeSize: 144 },
  q5_k: { id: 13, blockSize: 256, typeSize: 176 },
  q6_k: { id: 14, blockSize: 256, typeSize: 210 },
  q8_k: { id: 15, blockSize: 256, typeSize: 292 },
  iq2_xxs: { id: 16, blockSize: 256, typeSize: 66 },
  iq2_xs: { id: 17, blockSize: 256, typeSize: 74 },
  iq3_xxs: { id: 18, blockSize: 256, typeSize: 98 },
  iq1_s: { id: 19, blockSize: 256, typeSize: 50 },
  iq4_nl: { id: 20, blockSize: 32, typeSize: 18 },
  iq3_s: { id: 21, blockSize: 256, typeSize: 110 },
  iq2_s: { id: 22, blockSize: 256, typeSize: 82 },
  iq4_xs: { id: 23, blockSize: 256, typeSize: 136 },
  i8: { id: 24, blockSize: 1, typeSize: 1 },
  i16: { id: 25, blockSize: 1, typeSize: 2 },
  i32: { id: 26, blockSize: 1, typeSize: 4 },
  i64: { id: 27, blockSize: 1, typeSize: 8 },
  f64: { id: 28, blockSize: 1, typeSize: 8 },
  iq1_m: { id: 29, blockSize: 256, typeSize: 56 },
  bf16: { id: 30, blockSize: 1, typeSize: 2 },
  tq1_0: { id: 34, blockSize: 256, typeSize: 54 },
  tq2_0: { id: 35, blockSize: 256, typeSize: 66 },
  mxfp4: { id: 39, blockSize: 32, typeSize: 17 },
  nvfp4: { id: 40, blockSize: 64, typeSize: 36 },
  q1_0: { id: 41, blockSize: 128, typeSize: 18 },
};

const TYPE_BY_ID = new Map<number, GgmlTypeName>(Object.entries(TYPES).map(([name, t]) => [t.id, name as GgmlTypeName]));

// ggml_ftype_to_ggml_type(); any other value makes ggml abort().
const FTYPE_WEIGHT_TYPE = new Map<number, GgmlTypeName>([
  [0, "f32"], [1, "f16"], [2, "q4_0"], [3, "q4_1"], [7, "q8_0"], [8, "q5_0"], [9, "q5_1"],
  [10, "q2_k"], [11, "q3_k"], [12, "q4_k"], [13, "q5_k"], [14, "q6_k"], [15, "iq2_xxs"], [16, "iq2_xs"],
  [17, "iq3_xxs"], [18, "iq1_s"], [19, "iq4_nl"], [20, "iq3_s"], [21, "iq2_s"], [22, "iq4_xs"],
  [23, "iq1_m"], [24, "bf16"], [25, "mxfp4"], [26, "nvfp4"], [27, "q1_0"],
]);

/** The ggml type id of a type name (the `ttype` field of a tensor header). */
export function ggmlTypeId(type: GgmlTypeName): number {
  return TYPES[type].id;
}

/** Bytes of a tensor of this shape and type, as ggml_nbytes() computes for a contiguous tensor. */
export function tensorByteSize(shape: readonly number[], type: GgmlTypeName): number {
  const { blockSize, typeSize } = TYPES[type];
  const [ne0 = 1, ...rest] = shape;
  return (ne0 / blockSize) * typeSize * rest.reduce((a, b) => a * b, 1);
}

/** The weight type used for the big matrices of a model with this ftype, or undefined if whisper.cpp rejects it. */
export function weightTypeOf(ftype: number): GgmlTypeName | undefined {
  return ftype < 0 ? undefined : FTYPE_WEIGHT_TYPE.get(ftype % GGML_QNT_VERSION_FACTOR);
}

export interface MelFilters {
  /** Number of mel bands; must equal hparams.nMels. */
  nMel: number;
  /** FFT bins per band; whisper.cpp requires 201. */
  nFft: number;
  /** nMel x nFft weights, band-major. */
  data: Float32Array;
}

/** One entry of the tensor table. `shape` is in ggml order: shape[0] varies fastest (a PyTorch [out, in] weight is [in, out]). */
export interface GgmlTensorSpec {
  name: string;
  shape: number[];
  type: GgmlTypeName;
}

export interface GgmlTensorInfo extends GgmlTensorSpec {
  /** Byte offset of the tensor's data in the file. */
  dataOffset: number;
  /** Byte length of the tensor's data. */
  nbytes: number;
}

export type GgmlFormatErrorCode =
  | "ENOENT" | "EMPTY" | "TRUNCATED" | "BAD_MAGIC" | "BAD_HPARAMS" | "BAD_MEL_FILTERS" | "BAD_VOCAB" | "BAD_TENSOR" | "MISSING_TENSORS";

/** The bytes are not a whisper.cpp ggml model that v1.9.1 can load safely. */
export class GgmlFormatError extends Error {
  readonly code: GgmlFormatErrorCode;
  constructor(code: GgmlFormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GgmlFormatError";
    this.code = code;
  }
}

const LIMITS = { maxCtx: 16384, maxState: 8192, maxHead: 256, maxLayer: 256, maxMels: 512, maxTokenBytes: 4096, maxNameBytes: 256 };

/** Throws GgmlFormatError (BAD_HPARAMS) unless whisper.cpp can build a graph for these dimensions. */
export function validateHparams(h: WhisperHparams): void {
  const bad = (msg: string): never => {
    throw new GgmlFormatError("BAD_HPARAMS", msg);
  };
  for (const key of HPARAM_KEYS) {
    if (!Number.isInteger(h[key])) bad(`hparams.${key} must be an integer but is ${String(h[key])}`);
  }
  // The special-token ids (eot 50256.., timestamps up to n_vocab-1) are hard-coded for these three sizes.
  if (h.nVocab < 51864 || h.nVocab > 51866) {
    bad(`hparams.nVocab is ${h.nVocab}; whisper.cpp supports 51864 (English-only), 51865 (multilingual) or 51866 (large-v3)`);
  }
  const ranges: [keyof WhisperHparams, number, number][] = [
    ["nAudioCtx", 1, LIMITS.maxCtx], ["nAudioState", 1, LIMITS.maxState], ["nAudioHead", 1, LIMITS.maxHead],
    ["nAudioLayer", 1, LIMITS.maxLayer], ["nTextCtx", 16, LIMITS.maxCtx], ["nTextState", 1, LIMITS.maxState],
    ["nTextHead", 1, LIMITS.maxHead], ["nTextLayer", 1, LIMITS.maxLayer], ["nMels", 1, LIMITS.maxMels],
  ];
  for (const [key, min, max] of ranges) {
    if (h[key] < min || h[key] > max) bad(`hparams.${key} is ${h[key]}; expected ${min}..${max}`);
  }
  if (h.nTextState !== h.nAudioState) bad(`hparams.nTextState (${h.nTextState}) must equal nAudioState (${h.nAudioState})`);
  if (h.nAudioState % h.nAudioHead !== 0) bad(`hparams.nAudioState (${h.nAudioState}) is not a multiple of nAudioHead (${h.nAudioHead})`);
  if (h.nTextState % h.nTextHead !== 0) bad(`hparams.nTextState (${h.nTextState}) is not a multiple of nTextHead (${h.nTextHead})`);
  const weight = weightTypeOf(h.ftype);
  if (weight === undefined) bad(`hparams.ftype ${h.ftype} is not a ggml file type whisper.cpp can load`);
  // Loading works, but the first encode abort()s in im2col (ggml-org/whisper.cpp#2557).
  if (weight === "f32") bad(`hparams.ftype ${h.ftype} (all f32) is not supported: whisper.cpp v1.9.1's CPU encoder aborts on f32 conv weights; convert the model to f16`);
}

/** Every tensor whisper.cpp v1.9.1 creates for these hparams, with the type its loader expects. */
export function expectedTensors(h: WhisperHparams): GgmlTensorSpec[] {
  const w = weightTypeOf(h.ftype) ?? "f16";
  const conv: GgmlTypeName = w === "f32" ? "f32" : "f16";
  const a = h.nAudioState;
  const t = h.nTextState;
  const out: GgmlTensorSpec[] = [];
  const add = (name: string, shape: number[], type: GgmlTypeName) => out.push({ name, shape, type });
  const block = (prefix: string, s: number, attn: string) => {
    add(`${prefix}.${attn}_ln.weight`, [s], "f32");
    add(`${prefix}.${attn}_ln.bias`, [s], "f32");
    add(`${prefix}.${attn}.query.weight`, [s, s], w);
    add(`${prefix}.${attn}.query.bias`, [s], "f32");
    add(`${prefix}.${attn}.key.weight`, [s, s], w);
    add(`${prefix}.${attn}.value.weight`, [s, s], w);
    add(`${prefix}.${attn}.value.bias`, [s], "f32");
    add(`${prefix}.${attn}.out.weight`, [s, s], w);
    add(`${prefix}.${attn}.out.bias`, [s], "f32");
  };
  const mlp = (prefix: string, s: number) => {
    add(`${prefix}.mlp_ln.weight`, [s], "f32");
    add(`${prefix}.mlp_ln.bias`, [s], "f32");
    add(`${prefix}.mlp.0.weight`, [s, 4 * s], w);
    add(`${prefix}.mlp.0.bias`, [4 * s], "f32");
    add(`${prefix}.mlp.2.weight`, [4 * s, s], w);
    add(`${prefix}.mlp.2.bias`, [s], "f32");
  };
  add("encoder.positional_embedding", [a, h.nAudioCtx], "f32");
  add("encoder.conv1.weight", [3, h.nMels, a], conv);
  add("encoder.conv1.bias", [1, a], "f32");
  add("encoder.conv2.weight", [3, a, a], conv);
  add("encoder.conv2.bias", [1, a], "f32");
  add("encoder.ln_post.weight", [a], "f32");
  add("encoder.ln_post.bias", [a], "f32");
  for (let i = 0; i < h.nAudioLayer; i++) {
    block(`encoder.blocks.${i}`, a, "attn");
    mlp(`encoder.blocks.${i}`, a);
  }
  add("decoder.positional_embedding", [t, h.nTextCtx], "f32");
  add("decoder.token_embedding.weight", [t, h.nVocab], w);
  add("decoder.ln.weight", [t], "f32");
  add("decoder.ln.bias", [t], "f32");
  for (let i = 0; i < h.nTextLayer; i++) {
    block(`decoder.blocks.${i}`, t, "attn");
    block(`decoder.blocks.${i}`, t, "cross_attn");
    mlp(`decoder.blocks.${i}`, t);
  }
  return out;
}

/** Which published checkpoint these dimensions belong to (whatever the ftype and vocabulary). */
export function detectModelType(h: WhisperHparams): WhisperModelType {
  const same = (d: WhisperHparams) =>
    d.nAudioState === h.nAudioState && d.nAudioLayer === h.nAudioLayer && d.nAudioHead === h.nAudioHead &&
    d.nTextLayer === h.nTextLayer && d.nMels === h.nMels;
  for (const name of ["tiny", "base", "small", "medium", "large", "large-v3", "large-v3-turbo"] as const) {
    if (same(WHISPER_DIMS[name])) return name;
  }
  return "unknown";
}

/**
 * Mel filter bank like librosa.filters.mel(sr=16000, n_fft=400, htk=False, norm="slaney"),
 * which is what OpenAI Whisper (and so every ggml conversion) ships.
 */
export function melFilterBank(nMels: number): MelFilters {
  const sr = 16000;
  const nFft = WHISPER_N_FFT_BINS;
  // Slaney mel scale: linear below 1 kHz, logarithmic above.
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  const hzToMel = (hz: number) => (hz >= minLogHz ? minLogMel + Math.log(hz / minLogHz) / logStep : hz / fSp);
  const melToHz = (mel: number) => (mel >= minLogMel ? minLogHz * Math.exp(logStep * (mel - minLogMel)) : mel * fSp);
  const maxMel = hzToMel(sr / 2);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz((maxMel * i) / (nMels + 1)));
  const data = new Float32Array(nMels * nFft);
  for (let m = 0; m < nMels; m++) {
    const lo = edges[m] ?? 0;
    const mid = edges[m + 1] ?? 0;
    const hi = edges[m + 2] ?? 0;
    const norm = 2 / (hi - lo);
    for (let k = 0; k < nFft; k++) {
      const f = (k * sr) / 400;
      const weight = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
      data[m * nFft + k] = weight * norm;
    }
  }
  return { nMel: nMels, nFft, data };
}

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

const WRITE_BUFFER_BYTES = 4 << 20;

class SequentialWriter {
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
    values.forEach((v, i) => view.setInt32(i * 4, v, true));
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

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

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

function encodeF32Chunk(chunk: Float32Array, type: GgmlTypeName, name: string): Uint8Array {
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

async function writeTensor(out: SequentialWriter, tensor: GgmlTensorInput, spec: GgmlTensorSpec | null | undefined, seen: Set<string>): Promise<void> {
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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < 4; i++) if ((a[i] ?? 1) !== (b[i] ?? 1)) return false;
  return true;
}

function listNames(names: string[]): string {
  return names.slice(0, 5).map((n) => `'${n}'`).join(", ") + (names.length > 5 ? `, ... (${names.length - 5} more)` : "");
}

function checkVocab(vocab: readonly Uint8Array[], nVocab: number): void {
  if (vocab.length > nVocab) throw new GgmlFormatError("BAD_VOCAB", `vocab has ${vocab.length} tokens but hparams.nVocab is ${nVocab}`);
  if (!vocab.some((t) => t.length === 1 && t[0] === 0x20)) {
    throw new GgmlFormatError("BAD_VOCAB", `vocab has no single-space token " " (whisper.cpp looks it up to suppress blanks)`);
  }
}

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

interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function openSource(input: string | Uint8Array): Promise<ByteSource> {
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
const READ_AHEAD = 64 << 10;
const READ_AFTER_SKIP = 1 << 10;

/** Sequential reads through a small window; skipping tensor data costs no I/O. */
class Cursor {
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

const MAGIC_HINTS: [number, string][] = [
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

async function inspect(c: Cursor): Promise<ModelHeaderInfo> {
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

async function readTensorHeader(c: Cursor, expected: Map<string, GgmlTensorSpec>, seen: Set<string>, ftype: number): Promise<GgmlTensorInfo> {
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
