// The ggml side of a conversion: which tensors to write, in which order, and where each one's
// data comes from in the source model.
import { expectedTensors } from "../ggml/format.js";
import type { GgmlTensorSpec, WhisperHparams } from "../ggml/format.js";

/** Part of a source tensor: whole, or rows [start, end) of its outermost dimension. */
export interface SourceSlice {
  tensor: string;
  rows?: [number, number];
}

/** How one source format's Whisper model maps onto whisper.cpp's tensors. */
export interface ModelMapping {
  /** Where the data of each ggml tensor comes from. */
  resolve(ggmlName: string): SourceSlice;
  /**
   * Source parts with no ggml counterpart that must be all zeros for the conversion to be exact
   * (Whisper's attention keys have no bias; CTranslate2 stores zeros for them in its fused biases).
   */
  zeroSlices: SourceSlice[];
}

// Sub-tensors of a block in OpenAI's state-dict order, which convert-pt-to-ggml.py (and so every
// published ggml file) follows. whisper.cpp looks tensors up by name; the order only keeps our
// files comparable with the published ones.
const ATTN = ["query.weight", "query.bias", "key.weight", "value.weight", "value.bias", "out.weight", "out.bias"];
const blockOrder = (cross: boolean) => [
  ...ATTN.map((t) => `attn.${t}`), "attn_ln.weight", "attn_ln.bias",
  ...(cross ? [...ATTN.map((t) => `cross_attn.${t}`), "cross_attn_ln.weight", "cross_attn_ln.bias"] : []),
  "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp_ln.weight", "mlp_ln.bias",
];

/** {@link expectedTensors} in OpenAI's state-dict order. */
export function ggmlTensorsInOrder(h: WhisperHparams): GgmlTensorSpec[] {
  const specs = new Map(expectedTensors(h).map((t) => [t.name, t]));
  const names = [
    "encoder.positional_embedding", "encoder.conv1.weight", "encoder.conv1.bias", "encoder.conv2.weight", "encoder.conv2.bias",
    ...Array.from({ length: h.nAudioLayer }, (_, i) => blockOrder(false).map((t) => `encoder.blocks.${i}.${t}`)).flat(),
    "encoder.ln_post.weight", "encoder.ln_post.bias",
    "decoder.positional_embedding", "decoder.token_embedding.weight",
    ...Array.from({ length: h.nTextLayer }, (_, i) => blockOrder(true).map((t) => `decoder.blocks.${i}.${t}`)).flat(),
    "decoder.ln.weight", "decoder.ln.bias",
  ];
  const ordered = names.map((n) => specs.get(n)).filter((t): t is GgmlTensorSpec => t !== undefined);
  // Anything expectedTensors() learns later still gets written.
  const rest = [...specs.values()].filter((t) => !names.includes(t.name));
  return [...ordered, ...rest];
}

/** A ggml tensor name split into its parts: side, block index (if any) and the rest. */
export function parseGgmlName(name: string): { side: "encoder" | "decoder"; block?: number; rest: string } {
  const m = /^(encoder|decoder)\.(?:blocks\.(\d+)\.)?(.+)$/.exec(name);
  if (!m) throw new Error(`not a whisper.cpp tensor name: ${name}`);
  const side = m[1] as "encoder" | "decoder";
  return m[2] === undefined ? { side, rest: m[3]! } : { side, block: Number(m[2]), rest: m[3]! };
}
