// The legacy ggml model format that whisper.cpp v1.9.1 loads (src/whisper.cpp `whisper_model_load`):
//   u32 magic 0x67676d6c, 11 x i32 hparams, mel filters (i32 n_mel, i32 n_fft, f32[n_mel*n_fft]),
//   vocab (i32 count, then per token u32 length + bytes), then tensors until EOF:
//   i32 n_dims, i32 name length, i32 ggml type, i32 ne[n_dims], name, raw data.
// Everything is little-endian and unaligned. The inspector exists because whisper.cpp trusts this
// data: a bad ftype, n_dims > 4 or a vocab without " " abort() or corrupt the process.
import { WHISPER_SAMPLE_RATE } from "../../audio/pcm.js";
import { WhisperError } from "../../errors.js";

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

export const HPARAM_KEYS = [
  "nVocab", "nAudioCtx", "nAudioState", "nAudioHead", "nAudioLayer",
  "nTextCtx", "nTextState", "nTextHead", "nTextLayer", "nMels", "ftype",
] as const satisfies readonly (keyof WhisperHparams)[];

export function dims(v: 51864 | 51865 | 51866, mels: number, state: number, head: number, layers: number, textLayers = layers): WhisperHparams {
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

export interface TypeTraits { id: number; blockSize: number; typeSize: number }

// ggml/src/ggml.c type_traits: elements per block and bytes per block.
export const TYPES: Record<GgmlTypeName, TypeTraits> = {
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

export const TYPE_BY_ID = new Map<number, GgmlTypeName>(Object.entries(TYPES).map(([name, t]) => [t.id, name as GgmlTypeName]));

// ggml_ftype_to_ggml_type(); any other value makes ggml abort().
export const FTYPE_WEIGHT_TYPE = new Map<number, GgmlTypeName>([
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
export class GgmlFormatError extends WhisperError {
  declare readonly code: GgmlFormatErrorCode;
  constructor(code: GgmlFormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

export const LIMITS = { maxCtx: 16384, maxState: 8192, maxHead: 256, maxLayer: 256, maxMels: 512, maxTokenBytes: 4096, maxNameBytes: 256 };

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
  const sr = WHISPER_SAMPLE_RATE;
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
