// CTranslate2's WhisperSpec (faster-whisper models) -> whisper.cpp tensors.
// CTranslate2 fuses self-attention Q|K|V into one linear (linear_0) and cross-attention K|V
// (attention/linear_1), with zero rows in the fused bias where Whisper's keys have none. It ties
// the output projection to the token embedding through an alias, as whisper.cpp assumes.
import type { WhisperHparams } from "../ggml/format.js";
import type { Ct2Source } from "./ct2.js";
import { sameValues } from "./source.js";
import { ConvertError } from "./errors.js";
import { parseGgmlName } from "./layout.js";
import type { ModelMapping, SourceSlice } from "./layout.js";

// Scalars of a Whisper spec and the value whisper.cpp's fixed architecture implies.
const FIXED_SCALARS: readonly [name: string, value: number, meaning: string][] = [
  ["decoder/activation", 3, "GELU activation (CTranslate2 ActivationType 3)"],
  ["decoder/pre_norm", 1, "pre-norm layers"],
  ["decoder/scale_embeddings", 0, "unscaled token embeddings"],
  ["decoder/alibi", 0, "learned positions, no ALiBi"],
];

const LAYER_NORM: Record<string, string> = { weight: "gamma", bias: "beta" };

export interface Ct2Whisper {
  hparams: Omit<WhisperHparams, "ftype">;
  mapping: ModelMapping;
}

function layerCount(names: readonly string[], side: string): number {
  const re = new RegExp(`^${side}/layer_(\\d+)/`);
  let n = 0;
  for (const name of names) {
    const m = re.exec(name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** Reads a WhisperSpec model's dimensions and checks it is the architecture whisper.cpp runs. */
export async function describeCt2Whisper(src: Ct2Source, file: string): Promise<Ct2Whisper> {
  const { spec } = src.header;
  if (spec !== "WhisperSpec") {
    throw new ConvertError(`${file} is a CTranslate2 ${spec || "(unnamed spec)"} model, not a Whisper model (WhisperSpec)`, "UNSUPPORTED");
  }
  const shapeOf = (name: string, rank: number): number[] => {
    const info = src.info(name);
    if (!info) throw new ConvertError(`${file} has no '${name}'; it is not a complete WhisperSpec model`, "BAD_TENSOR");
    if (info.shape.length !== rank) throw new ConvertError(`${file}: '${name}' has shape [${info.shape.join(", ")}]; expected ${rank} dimensions`, "BAD_TENSOR");
    return info.shape;
  };
  const heads = async (side: string): Promise<number> => {
    const n = await src.scalar(`${side}/num_heads`);
    if (n === undefined) throw new ConvertError(`${file} has no '${side}/num_heads'; CTranslate2 specs older than Whisper support are not readable`, "UNSUPPORTED");
    return n;
  };
  for (const [name, value, meaning] of FIXED_SCALARS) {
    const actual = await src.scalar(name);
    if (actual !== undefined && actual !== value) {
      throw new ConvertError(`${file}: '${name}' is ${actual}; whisper.cpp only runs Whisper's ${meaning} (${value})`, "UNSUPPORTED");
    }
  }
  const [nVocab = 0, nTextState = 0] = shapeOf("decoder/embeddings/weight", 2);
  const [nAudioCtx = 0, nAudioState = 0] = shapeOf("encoder/position_encodings/encodings", 2);
  const [nTextCtx = 0] = shapeOf("decoder/position_encodings/encodings", 2);
  const [, nMels = 0] = shapeOf("encoder/conv1/weight", 3);
  const names = src.names();
  const hparams = {
    nVocab, nAudioCtx, nAudioState, nAudioHead: await heads("encoder"), nAudioLayer: layerCount(names, "encoder"),
    nTextCtx, nTextState, nTextHead: await heads("decoder"), nTextLayer: layerCount(names, "decoder"), nMels,
  };

  const projection = "decoder/projection/weight";
  if (src.info(projection) && !src.isAliasOf(projection, "decoder/embeddings/weight")) {
    // A separate copy is fine only if it is the same tensor; whisper.cpp always ties them.
    const [a, b] = [await src.read(projection), await src.read("decoder/embeddings/weight")];
    if (!sameValues(a, b)) {
      throw new ConvertError(`${file}: the output projection differs from the token embedding; whisper.cpp ties them, so this model can't be converted exactly`, "UNSUPPORTED");
    }
  }
  return { hparams, mapping: ct2Mapping(hparams) };
}

function ct2Mapping(h: Omit<WhisperHparams, "ftype">): ModelMapping {
  const resolve = (ggmlName: string): SourceSlice => {
    const { side, block, rest } = parseGgmlName(ggmlName);
    const dot = rest.lastIndexOf(".");
    const [sub, param] = dot < 0 ? [rest, ""] : [rest.slice(0, dot), rest.slice(dot + 1)];
    if (block === undefined) {
      switch (sub) {
        case "positional_embedding": return { tensor: `${side}/position_encodings/encodings` };
        case "token_embedding": return { tensor: "decoder/embeddings/weight" };
        case "conv1": case "conv2": return { tensor: `encoder/${sub}/${param}` };
        case "ln_post": case "ln": return { tensor: `${side}/layer_norm/${LAYER_NORM[param]}` };
      }
      throw new Error(`no CTranslate2 source for ${ggmlName}`);
    }
    const d = side === "encoder" ? h.nAudioState : h.nTextState;
    const layer = `${side}/layer_${block}`;
    switch (sub) {
      case "attn_ln": return { tensor: `${layer}/self_attention/layer_norm/${LAYER_NORM[param]}` };
      case "cross_attn_ln": return { tensor: `${layer}/attention/layer_norm/${LAYER_NORM[param]}` };
      case "mlp_ln": return { tensor: `${layer}/ffn/layer_norm/${LAYER_NORM[param]}` };
      case "mlp.0": return { tensor: `${layer}/ffn/linear_0/${param}` };
      case "mlp.2": return { tensor: `${layer}/ffn/linear_1/${param}` };
      case "attn.query": return { tensor: `${layer}/self_attention/linear_0/${param}`, rows: [0, d] };
      case "attn.key": return { tensor: `${layer}/self_attention/linear_0/${param}`, rows: [d, 2 * d] };
      case "attn.value": return { tensor: `${layer}/self_attention/linear_0/${param}`, rows: [2 * d, 3 * d] };
      case "attn.out": return { tensor: `${layer}/self_attention/linear_1/${param}` };
      case "cross_attn.query": return { tensor: `${layer}/attention/linear_0/${param}` };
      case "cross_attn.key": return { tensor: `${layer}/attention/linear_1/${param}`, rows: [0, d] };
      case "cross_attn.value": return { tensor: `${layer}/attention/linear_1/${param}`, rows: [d, 2 * d] };
      case "cross_attn.out": return { tensor: `${layer}/attention/linear_2/${param}` };
    }
    throw new Error(`no CTranslate2 source for ${ggmlName}`);
  };
  // The key rows of the fused biases: whisper.cpp has no key bias, so they must be zero.
  const keyBias = (name: string): SourceSlice => {
    const { tensor, rows } = resolve(name);
    return { tensor: tensor.replace(/weight$/, "bias"), ...(rows ? { rows } : {}) };
  };
  const zeroSlices = [
    ...Array.from({ length: h.nAudioLayer }, (_, i) => [keyBias(`encoder.blocks.${i}.attn.key.weight`)]),
    ...Array.from({ length: h.nTextLayer }, (_, i) => [keyBias(`decoder.blocks.${i}.attn.key.weight`), keyBias(`decoder.blocks.${i}.cross_attn.key.weight`)]),
  ].flat();
  return { resolve, zeroSlices };
}
