// A tiny synthetic Whisper for the converter tests, written as CTranslate2 and as Hugging Face
// safetensors: every whisper.cpp tensor holds known values, so the ggml output can be checked
// exactly. Real vocabulary size (whisper.cpp hard-codes the special-token ids), tiny everything else.
import fs from "node:fs/promises";
import path from "node:path";
import { byteLevelEncode } from "../../lib/models/convert/vocabulary.js";
import { expectedTensors } from "../../lib/models/ggml/format.js";
import { f32ToF16Bits } from "../../lib/models/ggml/writer.js";
import type { GgmlTensorSpec, WhisperHparams } from "../../lib/models/ggml/format.js";

export const H: WhisperHparams = {
  nVocab: 51865, nAudioCtx: 1500, nAudioState: 8, nAudioHead: 2, nAudioLayer: 2,
  nTextCtx: 448, nTextState: 8, nTextHead: 2, nTextLayer: 1, nMels: 80, ftype: 1,
};
export const D = H.nAudioState;

// ---------------------------------------------------------------------------------------------
// The model: one known value array per whisper.cpp tensor, in PyTorch (row-major) shape.

let seed = 12345;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed / 2 ** 32) * 2 - 1;
};
const F16 = new Float32Array(1);
/** A value that f16 represents exactly, so any source dtype converts to the same f16 bits. */
const f16Exact = (x: number) => {
  const h = f32ToF16Bits(x);
  const e = (h >>> 10) & 0x1f;
  F16[0] = (h & 0x8000 ? -1 : 1) * (e === 0 ? (h & 0x3ff) * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** (e - 15));
  return F16[0];
};

interface Canon { shape: number[]; values: Float32Array }
export const MODEL = new Map<string, Canon>();
for (const spec of expectedTensors(H)) {
  const shape = [...spec.shape].reverse().filter((d, i, all) => !(d === 1 && all.length > 1 && i === all.length - 1)); // conv bias [d, 1] -> [d]
  const n = shape.reduce((a, b) => a * b, 1);
  MODEL.set(spec.name, { shape, values: Float32Array.from({ length: n }, () => f16Exact(random() * 0.5)) });
}
export const canon = (name: string): Canon => MODEL.get(name)!;

// Vocabulary like the real multilingual one: 256 byte tokens, BPE merges, "" at 50256, then specials.
export const EOT = 50257;
export const TOKENS: string[] = Array.from({ length: 51865 }, (_, id) => {
  if (id < 256) return byteLevelEncode(new Uint8Array([id]));
  if (id === 300) return byteLevelEncode(new TextEncoder().encode("你"));
  if (id === 301) return byteLevelEncode(new TextEncoder().encode(" hello"));
  if (id === 50256) return "";
  if (id === EOT) return "<|endoftext|>";
  if (id > EOT) return `<|special${id}|>`;
  return `t${id}`;
});
export const tokenBytes = (id: number) => new Uint8Array([...TOKENS[id]!].map((ch) => {
  const i = [...Array(256).keys()].find((b) => byteLevelEncode(new Uint8Array([b])) === ch);
  if (i === undefined) throw new Error(`bad test token ${id}`);
  return i;
}));

// ---------------------------------------------------------------------------------------------
// Writers for the two source formats.

export type Dtype = "f32" | "f16" | "bf16" | "i8" | "i16";
const CT2_DTYPE: Record<string, number> = { f32: 0, i8: 1, i16: 2, i32: 3, f16: 4, bf16: 5 };

export function encode(values: Float32Array, dtype: Dtype): Uint8Array {
  if (dtype === "f32") return new Uint8Array(values.slice().buffer);
  if (dtype === "i8") return new Uint8Array(Int8Array.from(values).buffer);
  if (dtype === "i16") return new Uint8Array(Int16Array.from(values).buffer);
  if (dtype === "bf16") return new Uint8Array(Uint16Array.from(new Uint32Array(values.slice().buffer), (x) => x >>> 16).buffer);
  return new Uint8Array(Uint16Array.from(values, f32ToF16Bits).buffer);
}

interface Var { name: string; shape: number[]; dtype: Dtype | "i32"; data: Uint8Array }

function ct2File(vars: Var[], aliases: [string, string][], spec = "WhisperSpec", version = 6): Buffer {
  const parts: Buffer[] = [];
  const u8 = (v: number) => parts.push(Buffer.from([v]));
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const str = (s: string) => { const b = Buffer.alloc(2); b.writeUInt16LE(Buffer.byteLength(s) + 1); parts.push(b, Buffer.from(s), Buffer.from([0])); };
  u32(version);
  str(spec);
  u32(3);
  u32(vars.length);
  for (const v of [...vars].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    str(v.name);
    u8(v.shape.length);
    v.shape.forEach(u32);
    u8(CT2_DTYPE[v.dtype]!);
    u32(v.data.length);
    parts.push(Buffer.from(v.data));
  }
  u32(aliases.length);
  for (const [a, t] of aliases) { str(a); str(t); }
  return Buffer.concat(parts);
}

const concatRows = (...arrays: Float32Array[]) => {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
};

export interface Ct2Options {
  dtype?: Dtype;
  /** Value placed in the (normally zero) key rows of the first fused self-attention bias. */
  keyBias?: number;
  spec?: string;
  omit?: string[];
  /** Quantise this variable to int8 with a per-row scale. */
  quantize?: string;
  /** Store the output projection as its own (different) variable instead of an alias. */
  untied?: boolean;
}

function ct2Variables(o: Ct2Options = {}): { vars: Var[]; aliases: [string, string][] } {
  const dtype = o.dtype ?? "f16";
  const vars: Var[] = [];
  const add = (name: string, values: Float32Array, shape: number[]) => {
    if (o.omit?.includes(name)) return;
    if (name === o.quantize) {
      const rows = shape[0]!;
      const rowLen = values.length / rows;
      const scale = Float32Array.from({ length: rows }, (_, r) => 127 / Math.max(...values.subarray(r * rowLen, (r + 1) * rowLen).map(Math.abs)));
      const q = Float32Array.from(values, (x, i) => Math.round(x * scale[Math.floor(i / rowLen)]!));
      vars.push({ name, shape, dtype: "i8", data: encode(q, "i8") }, { name: `${name}_scale`, shape: [rows], dtype: "f32", data: encode(scale, "f32") });
      return;
    }
    vars.push({ name, shape, dtype, data: encode(values, dtype) });
  };
  const scalar = (name: string, value: number, type: "i8" | "i16") => vars.push({ name, shape: [], dtype: type, data: type === "i8" ? new Uint8Array(Int8Array.of(value).buffer) : new Uint8Array(Int16Array.of(value).buffer) });
  const t = (name: string) => canon(name).values;
  const whole = (ct2: string, ggml: string) => add(ct2, t(ggml), canon(ggml).shape);
  const ln = (ct2: string, ggml: string) => { whole(`${ct2}/gamma`, `${ggml}.weight`); whole(`${ct2}/beta`, `${ggml}.bias`); };
  const lin = (ct2: string, ggml: string) => { whole(`${ct2}/weight`, `${ggml}.weight`); whole(`${ct2}/bias`, `${ggml}.bias`); };
  const zeros = new Float32Array(D);

  scalar("encoder/num_heads", H.nAudioHead, "i16");
  scalar("decoder/num_heads", H.nTextHead, "i16");
  scalar("decoder/activation", 3, "i8");
  scalar("decoder/pre_norm", 1, "i8");
  scalar("decoder/scale_embeddings", 0, "i8");
  whole("encoder/position_encodings/encodings", "encoder.positional_embedding");
  whole("decoder/position_encodings/encodings", "decoder.positional_embedding");
  whole("decoder/embeddings/weight", "decoder.token_embedding.weight");
  for (const c of ["conv1", "conv2"]) lin(`encoder/${c}`, `encoder.${c}`);
  ln("encoder/layer_norm", "encoder.ln_post");
  ln("decoder/layer_norm", "decoder.ln");
  for (const [side, layers] of [["encoder", H.nAudioLayer], ["decoder", H.nTextLayer]] as const) {
    for (let i = 0; i < layers; i++) {
      const s = `${side}/layer_${i}`;
      const g = `${side}.blocks.${i}`;
      ln(`${s}/self_attention/layer_norm`, `${g}.attn_ln`);
      const keyBias = Float32Array.from(zeros, () => (i === 0 && side === "encoder" ? o.keyBias ?? 0 : 0));
      add(`${s}/self_attention/linear_0/weight`, concatRows(t(`${g}.attn.query.weight`), t(`${g}.attn.key.weight`), t(`${g}.attn.value.weight`)), [3 * D, D]);
      add(`${s}/self_attention/linear_0/bias`, concatRows(t(`${g}.attn.query.bias`), keyBias, t(`${g}.attn.value.bias`)), [3 * D]);
      lin(`${s}/self_attention/linear_1`, `${g}.attn.out`);
      ln(`${s}/ffn/layer_norm`, `${g}.mlp_ln`);
      lin(`${s}/ffn/linear_0`, `${g}.mlp.0`);
      lin(`${s}/ffn/linear_1`, `${g}.mlp.2`);
      if (side === "decoder") {
        ln(`${s}/attention/layer_norm`, `${g}.cross_attn_ln`);
        lin(`${s}/attention/linear_0`, `${g}.cross_attn.query`);
        add(`${s}/attention/linear_1/weight`, concatRows(t(`${g}.cross_attn.key.weight`), t(`${g}.cross_attn.value.weight`)), [2 * D, D]);
        add(`${s}/attention/linear_1/bias`, concatRows(zeros, t(`${g}.cross_attn.value.bias`)), [2 * D]);
        lin(`${s}/attention/linear_2`, `${g}.cross_attn.out`);
      }
    }
  }
  if (o.untied) {
    add("decoder/projection/weight", Float32Array.from(t("decoder.token_embedding.weight"), (x) => -x), canon("decoder.token_embedding.weight").shape);
    return { vars, aliases: [] };
  }
  return { vars, aliases: [["decoder/projection/weight", "decoder/embeddings/weight"]] };
}

export async function writeCt2(dir: string, o: Ct2Options = {}, vocab = TOKENS): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const { vars, aliases } = ct2Variables(o);
  await fs.writeFile(path.join(dir, "model.bin"), ct2File(vars, aliases, o.spec));
  await fs.writeFile(path.join(dir, "vocabulary.txt"), `${vocab.join("\n")}\n`);
  return dir;
}

const HF_BLOCK: Record<string, string> = {
  "attn_ln": "self_attn_layer_norm", "attn.query": "self_attn.q_proj", "attn.key": "self_attn.k_proj", "attn.value": "self_attn.v_proj",
  "attn.out": "self_attn.out_proj", "cross_attn_ln": "encoder_attn_layer_norm", "cross_attn.query": "encoder_attn.q_proj",
  "cross_attn.key": "encoder_attn.k_proj", "cross_attn.value": "encoder_attn.v_proj", "cross_attn.out": "encoder_attn.out_proj",
  "mlp_ln": "final_layer_norm", "mlp.0": "fc1", "mlp.2": "fc2",
};
const HF_TOP: Record<string, string> = {
  "encoder.positional_embedding": "encoder.embed_positions.weight", "decoder.positional_embedding": "decoder.embed_positions.weight",
  "decoder.token_embedding.weight": "decoder.embed_tokens.weight", "encoder.ln_post.weight": "encoder.layer_norm.weight",
  "encoder.ln_post.bias": "encoder.layer_norm.bias", "decoder.ln.weight": "decoder.layer_norm.weight", "decoder.ln.bias": "decoder.layer_norm.bias",
};

function hfName(ggml: string, prefix: string): string {
  if (HF_TOP[ggml]) return prefix + HF_TOP[ggml];
  const m = /^(encoder|decoder)\.blocks\.(\d+)\.(.+)\.(weight|bias)$/.exec(ggml);
  if (!m) return prefix + ggml; // conv1/conv2
  return `${prefix}${m[1]}.layers.${m[2]}.${HF_BLOCK[m[3]!]}.${m[4]}`;
}

export async function writeHf(dir: string, dtype: "f32" | "f16" | "bf16", prefix = "model."): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const st = ({ f32: "F32", f16: "F16", bf16: "BF16" } as const)[dtype];
  for (const [name, { shape, values }] of MODEL) {
    const data = encode(values, dtype);
    header[hfName(name, prefix)] = { dtype: st, shape, data_offsets: [offset, offset + data.length] };
    blobs.push(data);
    offset += data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await fs.writeFile(path.join(dir, "model.safetensors"), Buffer.concat([len, json, ...blobs]));
  await fs.writeFile(path.join(dir, "config.json"), JSON.stringify({
    model_type: "whisper", d_model: D, encoder_attention_heads: H.nAudioHead, decoder_attention_heads: H.nTextHead,
    encoder_layers: H.nAudioLayer, decoder_layers: H.nTextLayer, num_mel_bins: H.nMels, max_source_positions: H.nAudioCtx,
    max_target_positions: H.nTextCtx, vocab_size: H.nVocab, scale_embedding: false, activation_function: "gelu",
  }));
  const vocab = Object.fromEntries(TOKENS.slice(0, EOT + 1).map((t, id) => [t, id]));
  const added = TOKENS.slice(EOT).map((content, i) => ({ id: EOT + i, content, special: true }));
  await fs.writeFile(path.join(dir, "tokenizer.json"), JSON.stringify({ model: { type: "BPE", vocab, merges: [] }, added_tokens: added }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Reading the result back.

export interface GgmlFile {
  hparams: number[];
  mel: Float32Array;
  tokens: Uint8Array[];
  bytes: Buffer;
  /** The tensor table, read without validation (ftype 0 files included). */
  tensors: { name: string; shape: number[]; ttype: number; data: Buffer }[];
}

export async function readGgml(file: string): Promise<GgmlFile> {
  const bytes = await fs.readFile(file);
  const hparams = Array.from({ length: 11 }, (_, i) => bytes.readInt32LE(4 + 4 * i));
  let at = 48;
  const [nMel, nFft] = [bytes.readInt32LE(at), bytes.readInt32LE(at + 4)];
  at += 8;
  const mel = new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + nMel * nFft * 4));
  at += nMel * nFft * 4;
  const n = bytes.readInt32LE(at);
  at += 4;
  const tokens: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = bytes.readUInt32LE(at);
    tokens.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  const tensors: GgmlFile["tensors"] = [];
  while (at < bytes.length) {
    const [nDims, nameLen, ttype] = [bytes.readInt32LE(at), bytes.readInt32LE(at + 4), bytes.readInt32LE(at + 8)];
    const shape = Array.from({ length: nDims }, (_, i) => bytes.readInt32LE(at + 12 + 4 * i));
    at += 12 + 4 * nDims;
    const name = bytes.toString("utf8", at, at + nameLen);
    at += nameLen;
    const size = shape.reduce((a, b) => a * b, 1) * (ttype === 0 ? 4 : 2);
    tensors.push({ name, shape, ttype, data: bytes.subarray(at, at + size) });
    at += size;
  }
  return { hparams, mel, tokens, bytes, tensors };
}

/** The bytes a tensor must have: the known values encoded as the ggml type. */
export const expectedBytes = (spec: GgmlTensorSpec) => Buffer.from(encode(canon(spec.name).values, spec.type === "f32" ? "f32" : "f16"));
