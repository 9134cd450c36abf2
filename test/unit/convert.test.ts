// The converter on synthetic models written by the test itself (no real weights needed): a tiny
// Whisper whose tensors hold known values is written as CTranslate2 and as Hugging Face
// safetensors, converted, and every ggml tensor, token and header field is checked.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConvert } from "../../lib/cli/convert.js";
import { convertModel, describeSource, ggmlModelName } from "../../lib/models/convert/convert.js";
import { ConvertError } from "../../lib/models/convert/errors.js";
import { ggmlTensorsInOrder } from "../../lib/models/convert/layout.js";
import { byteLevelEncode } from "../../lib/models/convert/vocabulary.js";
import { expectedTensors, f32ToF16Bits, inspectGgmlModel, melFilterBank } from "../../lib/models/ggml-format.js";
import type { GgmlTensorSpec, WhisperHparams } from "../../lib/models/ggml-format.js";

// Real vocabulary size (whisper.cpp hard-codes the special-token ids), everything else tiny.
const H: WhisperHparams = {
  nVocab: 51865, nAudioCtx: 1500, nAudioState: 8, nAudioHead: 2, nAudioLayer: 2,
  nTextCtx: 448, nTextState: 8, nTextHead: 2, nTextLayer: 1, nMels: 80, ftype: 1,
};
const D = H.nAudioState;

// ---------------------------------------------------------------------------------------------
// The model: one known value array per whisper.cpp tensor, in PyTorch (row-major) shape.

let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const F16 = new Float32Array(1);
/** A value that f16 represents exactly, so any source dtype converts to the same f16 bits. */
const f16Exact = (x: number) => {
  const h = f32ToF16Bits(x);
  const e = (h >>> 10) & 0x1f;
  F16[0] = (h & 0x8000 ? -1 : 1) * (e === 0 ? (h & 0x3ff) * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** (e - 15));
  return F16[0];
};

interface Canon { shape: number[]; values: Float32Array }
const MODEL = new Map<string, Canon>();
for (const spec of expectedTensors(H)) {
  const shape = [...spec.shape].reverse().filter((d, i, all) => !(d === 1 && all.length > 1 && i === all.length - 1)); // conv bias [d, 1] -> [d]
  const n = shape.reduce((a, b) => a * b, 1);
  MODEL.set(spec.name, { shape, values: Float32Array.from({ length: n }, () => f16Exact(random() * 0.5)) });
}
const canon = (name: string): Canon => MODEL.get(name)!;

// Vocabulary like the real multilingual one: 256 byte tokens, BPE merges, "" at 50256, then specials.
const EOT = 50257;
const TOKENS: string[] = Array.from({ length: 51865 }, (_, id) => {
  if (id < 256) return byteLevelEncode(new Uint8Array([id]));
  if (id === 300) return byteLevelEncode(new TextEncoder().encode("你"));
  if (id === 301) return byteLevelEncode(new TextEncoder().encode(" hello"));
  if (id === 50256) return "";
  if (id === EOT) return "<|endoftext|>";
  if (id > EOT) return `<|special${id}|>`;
  return `t${id}`;
});
const tokenBytes = (id: number) => new Uint8Array([...TOKENS[id]!].map((ch) => {
  const i = [...Array(256).keys()].find((b) => byteLevelEncode(new Uint8Array([b])) === ch);
  if (i === undefined) throw new Error(`bad test token ${id}`);
  return i;
}));

// ---------------------------------------------------------------------------------------------
// Writers for the two source formats.

type Dtype = "f32" | "f16" | "bf16" | "i8" | "i16";
const CT2_DTYPE: Record<string, number> = { f32: 0, i8: 1, i16: 2, i32: 3, f16: 4, bf16: 5 };

function encode(values: Float32Array, dtype: Dtype): Uint8Array {
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

interface Ct2Options {
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

async function writeCt2(dir: string, o: Ct2Options = {}, vocab = TOKENS): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const { vars, aliases } = ct2Variables(o);
  await fs.writeFile(path.join(dir, "model.bin"), ct2File(vars, aliases, o.spec));
  await fs.writeFile(path.join(dir, "vocabulary.txt"), vocab.join("\n") + "\n");
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

async function writeHf(dir: string, dtype: "f32" | "f16" | "bf16", prefix = "model."): Promise<string> {
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

interface GgmlFile {
  hparams: number[];
  mel: Float32Array;
  tokens: Uint8Array[];
  bytes: Buffer;
  /** The tensor table, read without validation (ftype 0 files included). */
  tensors: { name: string; shape: number[]; ttype: number; data: Buffer }[];
}

async function readGgml(file: string): Promise<GgmlFile> {
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
const expectedBytes = (spec: GgmlTensorSpec) => Buffer.from(encode(canon(spec.name).values, spec.type === "f32" ? "f32" : "f16"));

let tmp: string;
let ct2Dir: string;
let ct2Out: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-convert-"));
  ct2Dir = await writeCt2(path.join(tmp, "ct2"));
  ct2Out = path.join(tmp, "out", "ggml-ct2.bin");
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const rejectsWith = async (p: Promise<unknown>, code: string, message: RegExp) => {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConvertError);
  expect((error as ConvertError).code).toBe(code);
  expect((error as ConvertError).message).toMatch(message);
};

describe("CTranslate2 -> ggml", () => {
  it("writes every tensor whisper.cpp expects, with the source's exact values, in OpenAI's order", async () => {
    const result = await convertModel(ct2Dir, ct2Out);
    expect(result).toMatchObject({ format: "ctranslate2", hparams: H, multilingual: true, vocabSize: EOT, nTensors: expectedTensors(H).length });
    const info = await inspectGgmlModel(ct2Out);
    expect(info.hparams).toEqual(H);
    expect(info.tensors.map(({ name, shape, type }) => ({ name, shape, type }))).toEqual(ggmlTensorsInOrder(H));
    expect(new Set(info.tensors.map((t) => t.name))).toEqual(new Set(expectedTensors(H).map((t) => t.name)));
    const { bytes } = await readGgml(ct2Out);
    const specs = new Map(expectedTensors(H).map((s) => [s.name, s]));
    for (const t of info.tensors) {
      expect(Buffer.compare(bytes.subarray(t.dataOffset, t.dataOffset + t.nbytes), expectedBytes(specs.get(t.name)!)), t.name).toBe(0);
    }
  });

  it("splits the fused Q|K|V and cross K|V rows into the right tensors", async () => {
    const info = await inspectGgmlModel(ct2Out);
    const { bytes } = await readGgml(ct2Out);
    const f16At = (name: string, i: number) => bytes.readUInt16LE(info.tensors.find((t) => t.name === name)!.dataOffset + 2 * i);
    for (const name of ["encoder.blocks.1.attn.key.weight", "encoder.blocks.1.attn.value.weight", "decoder.blocks.0.cross_attn.value.weight"]) {
      expect(f16At(name, 5)).toBe(f32ToF16Bits(canon(name).values[5]!));
    }
  });

  it("writes the vocabulary before <|endoftext|> as raw bytes and OpenAI's mel filters", async () => {
    const { hparams, mel, tokens } = await readGgml(ct2Out);
    expect(hparams).toEqual([51865, 1500, 8, 2, 2, 448, 8, 2, 1, 80, 1]);
    expect(mel).toEqual(melFilterBank(80).data);
    expect(tokens).toHaveLength(EOT);
    expect(Buffer.from(tokens[32]!).toString()).toBe(" ");
    expect(Buffer.from(tokens[300]!).toString()).toBe("你");
    expect(Buffer.from(tokens[301]!).toString()).toBe(" hello");
    expect(tokens[50256]).toHaveLength(0);
    expect(Buffer.from(tokens[400]!)).toEqual(Buffer.from(tokenBytes(400)));
  });

  it("converts an f32 source to the same file as an f16 one", async () => {
    const dir = await writeCt2(path.join(tmp, "ct2-f32"), { dtype: "f32" });
    const out = path.join(tmp, "out", "ggml-ct2-f32src.bin");
    await convertModel(dir, out);
    expect(Buffer.compare(await fs.readFile(out), await fs.readFile(ct2Out))).toBe(0);
  });

  it("dequantises int8 weights with their per-row scale", async () => {
    const name = "encoder/layer_0/ffn/linear_0/weight";
    const dir = await writeCt2(path.join(tmp, "ct2-int8"), { quantize: name });
    const out = path.join(tmp, "out", "ggml-int8.bin");
    await convertModel(dir, out);
    const info = await inspectGgmlModel(out);
    const { bytes } = await readGgml(out);
    const t = info.tensors.find((x) => x.name === "encoder.blocks.0.mlp.0.weight")!;
    const src = canon("encoder.blocks.0.mlp.0.weight").values;
    const rowLen = D;
    for (const i of [0, 7, 9, src.length - 1]) {
      const row = src.subarray(Math.floor(i / rowLen) * rowLen, (Math.floor(i / rowLen) + 1) * rowLen);
      const scale = Math.fround(127 / Math.max(...row.map(Math.abs)));
      const expected = Math.fround(Math.round(src[i]! * scale) / scale);
      expect(bytes.readUInt16LE(t.dataOffset + 2 * i)).toBe(f32ToF16Bits(expected));
      expect(Math.abs(expected - src[i]!)).toBeLessThan(0.01);
    }
  });

  it("writes f32 matrices with --f32 (ftype 0)", async () => {
    const out = path.join(tmp, "out", "ggml-f32.bin");
    const result = await convertModel(ct2Dir, out, { f32: true });
    expect(result.hparams.ftype).toBe(0);
    const { hparams, tensors } = await readGgml(out);
    expect(hparams[10]).toBe(0);
    expect(tensors.map((t) => t.name)).toEqual(ggmlTensorsInOrder(H).map((t) => t.name));
    for (const t of tensors) {
      expect(t.ttype, t.name).toBe(0);
      expect(Buffer.compare(t.data, Buffer.from(encode(canon(t.name).values, "f32"))), t.name).toBe(0);
    }
  });

  it("describes a source without converting it", async () => {
    const d = await describeSource(path.join(ct2Dir, "model.bin"));
    expect(d).toMatchObject({ format: "ctranslate2", multilingual: true, modelType: "unknown" });
    expect(ggmlModelName(d)).toBe("model");
    expect(ggmlModelName({ modelType: "tiny", multilingual: false })).toBe("tiny.en");
    expect(ggmlModelName({ modelType: "base", multilingual: true })).toBe("base");
  });
});

describe("Hugging Face safetensors -> ggml", () => {
  it.each([["f32", "model."], ["f16", ""]] as const)("gives the same file as the CTranslate2 model (%s weights, prefix '%s')", async (dtype, prefix) => {
    const dir = await writeHf(path.join(tmp, `hf-${dtype}`), dtype, prefix);
    const out = path.join(tmp, "out", `ggml-hf-${dtype}.bin`);
    const result = await convertModel(dir, out);
    expect(result).toMatchObject({ format: "safetensors", hparams: H, vocabSize: EOT });
    expect(Buffer.compare(await fs.readFile(out), await fs.readFile(ct2Out))).toBe(0);
  });

  it("reads bf16 weights", async () => {
    const dir = await writeHf(path.join(tmp, "hf-bf16"), "bf16");
    const out = path.join(tmp, "out", "ggml-hf-bf16.bin");
    await convertModel(path.join(dir, "model.safetensors"), out);
    const info = await inspectGgmlModel(out);
    const { bytes } = await readGgml(out);
    const t = info.tensors.find((x) => x.name === "decoder.ln.weight")!; // f32 in ggml
    const bf16 = (x: number) => new Float32Array(new Uint32Array([(new Uint32Array(Float32Array.of(x).buffer)[0]! >>> 16) << 16]).buffer)[0]!;
    expect(bytes.readFloatLE(t.dataOffset)).toBe(bf16(canon("decoder.ln.weight").values[0]!));
  });
});

describe("refuses what can't be converted exactly", () => {
  it("a non-zero attention key bias", async () => {
    const dir = await writeCt2(path.join(tmp, "bad-keybias"), { keyBias: 0.25 });
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "UNSUPPORTED", /encoder\/layer_0\/self_attention\/linear_0\/bias' rows 8\.\.16 is an attention key bias with values up to 0\.25/);
  });

  it("a missing tensor, naming it", async () => {
    const dir = await writeCt2(path.join(tmp, "bad-missing"), { omit: ["decoder/layer_0/ffn/linear_1/bias"] });
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "BAD_TENSOR", /'decoder\/layer_0\/ffn\/linear_1\/bias' \(for decoder\.blocks\.0\.mlp\.2\.bias\) is missing/);
  });

  it("an output projection that is not the token embedding", async () => {
    const dir = await writeCt2(path.join(tmp, "bad-untied"), { untied: true });
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "UNSUPPORTED", /output projection differs/);
  });

  it("another CTranslate2 model type", async () => {
    const dir = await writeCt2(path.join(tmp, "bad-spec"), { spec: "TransformerSpec" });
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "UNSUPPORTED", /CTranslate2 TransformerSpec model, not a Whisper model/);
  });

  it("a truncated model.bin", async () => {
    const dir = path.join(tmp, "bad-truncated");
    await fs.mkdir(dir, { recursive: true });
    const full = await fs.readFile(path.join(ct2Dir, "model.bin"));
    await fs.writeFile(path.join(dir, "model.bin"), full.subarray(0, full.length - 100_000));
    await fs.copyFile(path.join(ct2Dir, "vocabulary.txt"), path.join(dir, "vocabulary.txt"));
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "CORRUPT_SOURCE", /is truncated/);
  });

  it("a vocabulary from another model (English-only ids for a multilingual model)", async () => {
    const english = TOKENS.filter((_, id) => id !== 50256);
    const dir = await writeCt2(path.join(tmp, "bad-vocab"), {}, english);
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "BAD_VOCAB", /<\|endoftext\|> at id 50256, but a model with 51865 tokens needs it at 50257/);
  });

  it("no vocabulary at all", async () => {
    const dir = path.join(tmp, "bad-novocab");
    await fs.mkdir(dir, { recursive: true });
    await fs.copyFile(path.join(ct2Dir, "model.bin"), path.join(dir, "model.bin"));
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "BAD_VOCAB", /expected one of vocabulary\.txt, vocabulary\.json, tokenizer\.json, vocab\.json/);
  });

  it("inputs that are not a source model", async () => {
    await rejectsWith(convertModel(tmp, path.join(tmp, "out", "x.bin")), "UNKNOWN_FORMAT", /holds no model/);
    await rejectsWith(convertModel(path.join(tmp, "nope"), path.join(tmp, "out", "x.bin")), "ENOENT", /Model not found/);
    await rejectsWith(convertModel(ct2Out, path.join(tmp, "out", "x.bin")), "UNKNOWN_FORMAT", /already a whisper\.cpp ggml model/);
  });

  it("an existing output unless overwrite is set, and leaves no partial file on failure", async () => {
    await rejectsWith(convertModel(ct2Dir, ct2Out), "EEXIST", /already exists/);
    const dir = await writeCt2(path.join(tmp, "bad-keybias2"), { keyBias: 1 });
    await convertModel(dir, path.join(tmp, "out", "partial.bin")).catch(() => undefined);
    expect((await fs.readdir(path.join(tmp, "out"))).filter((f) => f.includes("partial"))).toEqual([]);
  });
});

describe("runConvert (models convert)", () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) }, out, err };
  };

  it("converts and reports the model", async () => {
    const c = capture();
    const out = path.join(tmp, "out", "cli.bin");
    expect(await runConvert([ct2Dir, "--out", out], c.io)).toBe(0);
    expect(c.out.join("\n")).toMatch(/cli\.bin: Whisper \(non-standard size\), multilingual, f16, 65 tensors, 50257 tokens/);
    expect(Buffer.compare(await fs.readFile(out), await fs.readFile(ct2Out))).toBe(0);
    expect(await runConvert([ct2Dir, "-o", out], c.io)).toBe(1);
    expect(c.err.join("\n")).toMatch(/Conversion failed: .*already exists/);
    expect(await runConvert([ct2Dir, "-o", out, "--force"], c.io)).toBe(0);
  });

  it("exits 2 with usage on bad arguments and 0 on --help", async () => {
    for (const argv of [[], ["a", "b"], ["--nope", "x"], ["x", "--out", ""]]) {
      const c = capture();
      expect(await runConvert(argv, c.io), argv.join(" ")).toBe(2);
      expect(c.err.join("\n")).toMatch(/Expected|Unknown option/);
    }
    const c = capture();
    expect(await runConvert(["--help"], c.io)).toBe(0);
    expect(c.out.join("\n")).toMatch(/^Usage: tingwu-whisper models convert <input>/);
  });
});
