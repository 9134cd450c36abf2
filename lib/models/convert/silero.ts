// Converts the Silero VAD model (PyPI `silero-vad` >= 6.2.1 ships its 16 kHz weights as
// silero_vad_16k.safetensors) to the ggml file whisper.cpp's whisper_vad_init_* loads: the layout
// of whisper.cpp's models/convert-silero-vad-to-ggml.py (header, then tensors with conv weights
// and the STFT basis in f16), without PyTorch.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { GGML_FILE_MAGIC } from "../ggml/format.js";
import { SequentialWriter, writeTensor } from "../ggml/writer.js";
import type { GgmlTensorSpec } from "../ggml/format.js";
import { ConvertError } from "./errors.js";
import { SafetensorsSource } from "./safetensors.js";
import { asF32 } from "./source.js";

/** whisper.cpp's model type string for the 16 kHz Silero model. */
export const SILERO_MODEL_TYPE = "silero-16k";
/** Samples per window and the context whisper.cpp's header records. */
export const SILERO_WINDOW = 512;
const CONTEXT = 64;
const ENCODER = [[129, 128], [128, 64], [64, 64], [64, 128]] as const;
const KERNEL = 3;
const LSTM = 128;

/** The safetensors file name in the silero-vad wheel. */
export const SILERO_SAFETENSORS = "silero_vad_16k.safetensors";

/** One ggml tensor and the safetensors tensor it comes from, in whisper.cpp's file order. */
interface SileroTensor extends GgmlTensorSpec {
  source: string;
}

/** The tensors whisper.cpp's Silero loader expects: names, ggml shapes (innermost first), types. */
export function sileroTensors(): SileroTensor[] {
  const out: SileroTensor[] = [];
  ENCODER.forEach(([inCh, outCh], i) => {
    out.push({ name: `_model.encoder.${i}.reparam_conv.weight`, shape: [KERNEL, inCh, outCh], type: "f16", source: `conv${i + 1}.weight` });
    out.push({ name: `_model.encoder.${i}.reparam_conv.bias`, shape: [outCh], type: "f32", source: `conv${i + 1}.bias` });
  });
  out.push({ name: "_model.decoder.rnn.weight_ih", shape: [LSTM, 4 * LSTM], type: "f32", source: "lstm_cell.weight_ih" });
  out.push({ name: "_model.decoder.rnn.weight_hh", shape: [LSTM, 4 * LSTM], type: "f32", source: "lstm_cell.weight_hh" });
  out.push({ name: "_model.decoder.rnn.bias_ih", shape: [4 * LSTM], type: "f32", source: "lstm_cell.bias_ih" });
  out.push({ name: "_model.decoder.rnn.bias_hh", shape: [4 * LSTM], type: "f32", source: "lstm_cell.bias_hh" });
  // The reference script squeezes the 1x128x1 kernel to one dimension.
  out.push({ name: "_model.decoder.decoder.2.weight", shape: [LSTM], type: "f16", source: "final_conv.weight" });
  out.push({ name: "_model.decoder.decoder.2.bias", shape: [1], type: "f32", source: "final_conv.bias" });
  out.push({ name: "_model.stft.forward_basis_buffer", shape: [256, 1, 258], type: "f16", source: "stft_conv.weight" });
  return out;
}

/** True when `input` is Silero VAD weights (a safetensors file with its tensors, or a directory holding one). */
export async function isSileroSource(input: string): Promise<boolean> {
  let file: string;
  try {
    file = await locateSilero(input);
    if (!file.endsWith(".safetensors") || !(await fs.stat(file)).isFile()) return false;
  } catch {
    return false;
  }
  const src = await SafetensorsSource.open(file).catch(() => undefined);
  if (!src) return false;
  const names = src.names();
  await src.close();
  return names.includes("stft_conv.weight") && names.includes("lstm_cell.weight_ih");
}

export interface SileroConvertOptions {
  /** The model version written into the header (`major.minor.patch`), e.g. "6.2.0". */
  version: string;
  /** Replace `output` if it already exists. Default `false`. */
  overwrite?: boolean;
}

export interface SileroConvertResult {
  output: string;
  version: string;
  nTensors: number;
  bytes: number;
}

/** The safetensors file for `input`: the file itself, or silero_vad_16k.safetensors in a directory. */
export async function locateSilero(input: string): Promise<string> {
  const stat = await fs.stat(input).catch((error: unknown) => {
    throw new ConvertError(`Model not found: ${input}`, "ENOENT", { cause: error });
  });
  return stat.isDirectory() ? path.join(input, SILERO_SAFETENSORS) : input;
}

/**
 * Converts Silero VAD weights (silero_vad_16k.safetensors, or a directory holding it) to
 * whisper.cpp's ggml VAD format at `output`. Every tensor is shape-checked before anything is
 * written; the file appears atomically. Throws ConvertError.
 */
export async function convertSilero(input: string, output: string, options: SileroConvertOptions): Promise<SileroConvertResult> {
  const parts = /^(\d+)\.(\d+)\.(\d+)$/.exec(options.version ?? "");
  if (!parts) throw new RangeError(`Expected a major.minor.patch version such as "6.2.0" for version but received ${JSON.stringify(options.version)}`);
  if (!options.overwrite && (await fs.access(output).then(() => true, () => false))) {
    throw new ConvertError(`${output} already exists; pass overwrite (--force) to replace it`, "EEXIST");
  }
  const src = await SafetensorsSource.open(await locateSilero(input));
  try {
    const specs = sileroTensors();
    const problems: string[] = [];
    for (const spec of specs) {
      const info = src.info(spec.source);
      const want = spec.shape.reduce((a, b) => a * b, 1);
      if (!info) problems.push(`'${spec.source}' is missing`);
      else if (info.shape.reduce((a, b) => a * b, 1) !== want || info.shape.filter((d) => d !== 1).join() !== [...spec.shape].reverse().filter((d) => d !== 1).join()) {
        problems.push(`'${spec.source}' is [${info.shape.join(", ")}] but ${spec.name} needs [${[...spec.shape].reverse().join(", ")}]`);
      }
    }
    if (problems.length > 0) throw new ConvertError(`The source is not a 16 kHz Silero VAD model: ${problems.join("; ")}`, "BAD_TENSOR");

    await fs.mkdir(path.dirname(path.resolve(output)), { recursive: true });
    const tmp = path.join(path.dirname(output), `.${path.basename(output)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fh = await fs.open(tmp, "w");
    let ok = false;
    try {
      const out = new SequentialWriter(fh);
      const type = new TextEncoder().encode(SILERO_MODEL_TYPE);
      await out.i32s(GGML_FILE_MAGIC | 0, type.length);
      await out.bytes(type);
      await out.i32s(Number(parts[1]), Number(parts[2]), Number(parts[3]), SILERO_WINDOW, CONTEXT, ENCODER.length);
      for (const [inCh, outCh] of ENCODER) await out.i32s(inCh, outCh, KERNEL);
      await out.i32s(LSTM, LSTM, LSTM, 1);
      const seen = new Set<string>();
      for (const spec of specs) {
        await writeTensor(out, { name: spec.name, shape: spec.shape, type: spec.type, data: asF32(await src.read(spec.source)) }, undefined, seen);
      }
      await out.flush();
      await fh.sync();
      await fh.close();
      await fs.rename(tmp, output);
      ok = true;
      return { output, version: `${parts[1]}.${parts[2]}.${parts[3]}`, nTensors: specs.length, bytes: out.written };
    } finally {
      if (!ok) {
        await fh.close().catch(() => {});
        await fs.rm(tmp, { force: true });
      }
    }
  } finally {
    await src.close();
  }
}
