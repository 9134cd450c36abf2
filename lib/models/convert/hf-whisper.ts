// Hugging Face transformers' Whisper (WhisperForConditionalGeneration / WhisperModel) -> whisper.cpp
// tensors. Names differ from OpenAI's but nothing is fused; dimensions come from config.json and
// are checked against the tensor shapes.
import fs from "node:fs/promises";
import path from "node:path";
import type { WhisperHparams } from "../ggml/format.js";
import { ConvertError } from "./errors.js";
import { parseGgmlName } from "./layout.js";
import type { ModelMapping, SourceSlice } from "./layout.js";
import { sameValues } from "./source.js";
import type { TensorSource } from "./source.js";

const BLOCK_PARTS: Record<string, string> = {
  "attn_ln": "self_attn_layer_norm",
  "attn.query": "self_attn.q_proj",
  "attn.key": "self_attn.k_proj",
  "attn.value": "self_attn.v_proj",
  "attn.out": "self_attn.out_proj",
  "cross_attn_ln": "encoder_attn_layer_norm",
  "cross_attn.query": "encoder_attn.q_proj",
  "cross_attn.key": "encoder_attn.k_proj",
  "cross_attn.value": "encoder_attn.v_proj",
  "cross_attn.out": "encoder_attn.out_proj",
  "mlp_ln": "final_layer_norm",
  "mlp.0": "fc1",
  "mlp.2": "fc2",
};

const TOP_PARTS: Record<string, string> = {
  "encoder.positional_embedding": "encoder.embed_positions.weight",
  "decoder.positional_embedding": "decoder.embed_positions.weight",
  "decoder.token_embedding.weight": "decoder.embed_tokens.weight",
  "encoder.ln_post.weight": "encoder.layer_norm.weight",
  "encoder.ln_post.bias": "encoder.layer_norm.bias",
  "decoder.ln.weight": "decoder.layer_norm.weight",
  "decoder.ln.bias": "decoder.layer_norm.bias",
};

export interface HfWhisper {
  hparams: Omit<WhisperHparams, "ftype">;
  mapping: ModelMapping;
}

interface HfConfig {
  model_type?: string;
  d_model?: number;
  encoder_attention_heads?: number;
  decoder_attention_heads?: number;
  encoder_layers?: number;
  decoder_layers?: number;
  num_mel_bins?: number;
  max_source_positions?: number;
  max_target_positions?: number;
  vocab_size?: number;
  scale_embedding?: boolean;
  activation_function?: string;
}

/** Reads config.json next to the weights and checks the model is a Whisper whisper.cpp can run. */
export async function describeHfWhisper(src: TensorSource, dir: string): Promise<HfWhisper> {
  const configFile = path.join(dir, "config.json");
  let config: HfConfig;
  try {
    config = JSON.parse(await fs.readFile(configFile, "utf8")) as HfConfig;
  } catch (error) {
    throw new ConvertError(`A Hugging Face checkpoint needs its config.json (${configFile}): ${(error as Error).message}`, "CORRUPT_SOURCE", { cause: error });
  }
  if (config.model_type !== undefined && config.model_type !== "whisper") {
    throw new ConvertError(`${configFile} describes a ${config.model_type} model, not whisper`, "UNSUPPORTED");
  }
  if (config.scale_embedding === true) throw new ConvertError(`${configFile}: scale_embedding is true; Whisper (and whisper.cpp) don't scale embeddings`, "UNSUPPORTED");
  if (config.activation_function !== undefined && config.activation_function !== "gelu") {
    throw new ConvertError(`${configFile}: activation_function is ${config.activation_function}; whisper.cpp only runs gelu`, "UNSUPPORTED");
  }
  const need = (key: keyof HfConfig): number => {
    const v = config[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ConvertError(`${configFile} has no positive integer ${key}`, "CORRUPT_SOURCE");
    return v;
  };
  const hparams = {
    nVocab: need("vocab_size"), nAudioCtx: need("max_source_positions"), nAudioState: need("d_model"), nAudioHead: need("encoder_attention_heads"),
    nAudioLayer: need("encoder_layers"), nTextCtx: need("max_target_positions"), nTextState: need("d_model"),
    nTextHead: need("decoder_attention_heads"), nTextLayer: need("decoder_layers"), nMels: need("num_mel_bins"),
  };

  const prefix = src.info("model.encoder.conv1.weight") ? "model." : src.info("encoder.conv1.weight") ? "" : undefined;
  if (prefix === undefined) throw new ConvertError(`The safetensors checkpoint in ${dir} has no encoder.conv1.weight; it is not a transformers Whisper model`, "UNKNOWN_FORMAT");

  const resolve = (ggmlName: string): SourceSlice => {
    const top = TOP_PARTS[ggmlName];
    if (top) return { tensor: prefix + top };
    const { side, block, rest } = parseGgmlName(ggmlName);
    if (block === undefined) return { tensor: `${prefix}${side}.${rest}` }; // conv1/conv2
    const dot = rest.lastIndexOf(".");
    const part = BLOCK_PARTS[rest.slice(0, dot)];
    if (!part) throw new Error(`no transformers source for ${ggmlName}`);
    return { tensor: `${prefix}${side}.layers.${block}.${part}${rest.slice(dot)}` };
  };
  // transformers has no key biases either; a checkpoint that carries them must hold zeros.
  const zeroSlices = src.names().filter((n) => /\.k_proj\.bias$/.test(n)).map((tensor) => ({ tensor }));

  const projection = src.info("proj_out.weight");
  if (projection && prefix === "model.") {
    const [a, b] = [await src.read("proj_out.weight"), await src.read("model.decoder.embed_tokens.weight")];
    if (!sameValues(a, b)) {
      throw new ConvertError(`proj_out.weight differs from the token embedding; whisper.cpp ties them, so this model can't be converted exactly`, "UNSUPPORTED");
    }
  }
  return { hparams, mapping: { resolve, zeroSlices } };
}
