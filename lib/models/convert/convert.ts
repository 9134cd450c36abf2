// Converts a Whisper model from CTranslate2 (faster-whisper) or Hugging Face safetensors to the
// ggml file whisper.cpp loads. Every tensor whisper.cpp expects is located, shape-checked and
// sliced from the source before anything is written; the file then streams out one tensor at a
// time and appears atomically.
import fs from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { detectModelType, GGML_FILE_MAGIC, melFilterBank, validateHparams } from "../ggml/format.js";
import { writeGgmlModel } from "../ggml/writer.js";
import type { GgmlTensorSpec, WhisperHparams, WhisperModelType } from "../ggml/format.js";
import type { GgmlTensorInput } from "../ggml/writer.js";
import { Ct2Source } from "./ct2.js";
import { describeCt2Whisper } from "./ct2-whisper.js";
import { ConvertError } from "./errors.js";
import { describeHfWhisper } from "./hf-whisper.js";
import { ggmlTensorsInOrder } from "./layout.js";
import type { ModelMapping, SourceSlice } from "./layout.js";
import { SafetensorsSource } from "./safetensors.js";
import { asF32 } from "./source.js";
import type { TensorSource, TensorValues } from "./source.js";
import { readVocabulary } from "./vocabulary.js";

export type SourceFormat = "ctranslate2" | "safetensors";

/** Where a source model's weights and side files are. */
export interface LocatedSource {
  format: SourceFormat;
  /** model.bin, a .safetensors file or a shard index. */
  weights: string;
  /** The directory holding the vocabulary (and config.json for safetensors). */
  dir: string;
}

/** Options of {@link convertModel}. */
export interface ConvertOptions {
  /**
   * Write the weight matrices as f32 (ggml ftype 0) instead of f16: twice the size, and no more
   * accurate for f16 sources. whisper.cpp v1.9.1's CPU encoder aborts on such a file (im2col has no
   * f32 path) and `Whisper.load()` refuses it; it is for other ggml tools. Default `false`.
   */
  f32?: boolean;
  /** Replace `output` if it already exists. Default `false`. */
  overwrite?: boolean;
  /** Called after each tensor is written, with the count done so far and the total. */
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface ConvertResult {
  format: SourceFormat;
  output: string;
  hparams: WhisperHparams;
  modelType: WhisperModelType;
  multilingual: boolean;
  /** Tokens written to the file (every id before <|endoftext|>). */
  vocabSize: number;
  /** The tokenizer file the vocabulary came from. */
  vocabularyFile: string;
  nTensors: number;
  bytes: number;
  seconds: number;
}

const GGUF_MAGIC = 0x46554747;
const ZIP_MAGIC = 0x04034b50;

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

async function sniffFile(file: string): Promise<SourceFormat> {
  const fh = await fs.open(file, "r");
  const head = new Uint8Array(16);
  try {
    await fh.read(head, 0, 16, 0);
  } finally {
    await fh.close();
  }
  const view = new DataView(head.buffer);
  const magic = view.getUint32(0, true);
  if (magic === GGML_FILE_MAGIC) throw new ConvertError(`${file} is already a whisper.cpp ggml model; load it directly`, "UNKNOWN_FORMAT");
  if (magic === GGUF_MAGIC) throw new ConvertError(`${file} is a GGUF file; whisper.cpp v1.9.1 loads the legacy ggml .bin format, and GGUF is not a conversion source`, "UNKNOWN_FORMAT");
  if (magic === ZIP_MAGIC) {
    throw new ConvertError(`${file} is a zip archive, probably an OpenAI/PyTorch .pt checkpoint; the converter reads CTranslate2 (faster-whisper) and Hugging Face safetensors models`, "UNSUPPORTED");
  }
  if (file.endsWith(".safetensors") || file.endsWith(".index.json")) return "safetensors";
  // safetensors: u64 header length, then a JSON object.
  if (view.getUint32(4, true) === 0 && head[8] === 0x7b) return "safetensors";
  // CTranslate2: u32 binary version, then the u16 length of the spec name.
  if (magic >= 1 && magic <= 64) return "ctranslate2";
  throw new ConvertError(`${file} is neither a CTranslate2 model.bin nor a safetensors file`, "UNKNOWN_FORMAT");
}

/** Finds the weights in a model directory (or takes a weights file) and tells its format. */
export async function locateSource(input: string): Promise<LocatedSource> {
  let stat: Stats;
  try {
    stat = await fs.stat(input);
  } catch (error) {
    throw new ConvertError(`Model not found: ${input}`, "ENOENT", { cause: error });
  }
  if (stat.isFile()) return { format: await sniffFile(input), weights: input, dir: path.dirname(input) };
  const candidates: [string, SourceFormat][] = [
    ["model.bin", "ctranslate2"], ["model.safetensors.index.json", "safetensors"], ["model.safetensors", "safetensors"],
  ];
  for (const [name] of candidates) {
    const weights = path.join(input, name);
    if (await exists(weights)) return { format: await sniffFile(weights), weights, dir: input };
  }
  throw new ConvertError(
    `${input} holds no model: expected a CTranslate2 model.bin (faster-whisper) or a Hugging Face model.safetensors with its config.json`,
    "UNKNOWN_FORMAT",
  );
}

/** The ggml vocabulary's <|endoftext|> id whisper.cpp derives from n_vocab. */
const eotFor = (nVocab: number) => (nVocab === 51864 ? 50256 : 50257);

const squeeze = (shape: readonly number[]) => shape.filter((d) => d !== 1);

/** Checks that every tensor whisper.cpp expects has a source of the right shape; lists all problems at once. */
function planTensors(src: TensorSource, mapping: ModelMapping, specs: GgmlTensorSpec[]): Map<string, SourceSlice> {
  const plan = new Map<string, SourceSlice>();
  const problems: string[] = [];
  const fusedRows = new Map<string, number>();
  for (const spec of specs) {
    const slice = mapping.resolve(spec.name);
    const info = src.info(slice.tensor);
    if (!info) {
      problems.push(`'${slice.tensor}' (for ${spec.name}) is missing`);
      continue;
    }
    const shape = [...info.shape];
    if (slice.rows) {
      const [start, end] = slice.rows;
      fusedRows.set(slice.tensor, Math.max(fusedRows.get(slice.tensor) ?? 0, end));
      shape[0] = end - start;
    }
    const want = [...spec.shape].reverse();
    if (squeeze(shape).join() !== squeeze(want).join()) {
      const part = slice.rows ? ` rows ${slice.rows[0]}..${slice.rows[1]}` : "";
      problems.push(`'${slice.tensor}'${part} is [${shape.join(", ")}] but ${spec.name} needs [${want.join(", ")}]`);
    }
    plan.set(spec.name, slice);
  }
  for (const [tensor, rows] of fusedRows) {
    const total = src.info(tensor)?.shape[0];
    if (total !== rows) problems.push(`'${tensor}' has ${total} rows; the fused projection should have ${rows}`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join("; ") + (problems.length > 8 ? `; ... (${problems.length - 8} more)` : "");
    throw new ConvertError(`The source model does not fit whisper.cpp's Whisper layout: ${shown}`, "BAD_TENSOR");
  }
  return plan;
}

function sliceRows(values: TensorValues, rows: [number, number] | undefined, outerDim: number): TensorValues {
  if (!rows) return values;
  const arr = values.kind === "f16" ? values.bits : values.values;
  const rowLen = arr.length / outerDim;
  const [start, end] = [rows[0] * rowLen, rows[1] * rowLen];
  return values.kind === "f16" ? { kind: "f16", bits: values.bits.subarray(start, end) } : { kind: "f32", values: values.values.subarray(start, end) };
}

/** Reads source tensors, keeping the last few: the fused Q|K|V weight and bias are each sliced three times in a row. */
class TensorCache {
  readonly #src: TensorSource;
  readonly #entries = new Map<string, TensorValues>();
  constructor(src: TensorSource) {
    this.#src = src;
  }
  async get(name: string): Promise<TensorValues> {
    const hit = this.#entries.get(name);
    if (hit) return hit;
    const values = await this.#src.read(name);
    this.#entries.set(name, values);
    if (this.#entries.size > 3) this.#entries.delete(this.#entries.keys().next().value!);
    return values;
  }
}

async function checkZeroSlices(src: TensorSource, slices: SourceSlice[]): Promise<void> {
  for (const slice of slices) {
    const values = sliceRows(await src.read(slice.tensor), slice.rows, src.info(slice.tensor)?.shape[0] ?? 1);
    const arr = asF32(values);
    const maxAbs = arr.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    if (maxAbs !== 0) {
      const part = slice.rows ? ` rows ${slice.rows[0]}..${slice.rows[1]}` : "";
      throw new ConvertError(`'${slice.tensor}'${part} is an attention key bias with values up to ${maxAbs}; whisper.cpp has no key bias, so the model can't be converted exactly`, "UNSUPPORTED");
    }
  }
}

async function openSource(located: LocatedSource): Promise<{ src: TensorSource; hparams: Omit<WhisperHparams, "ftype">; mapping: ModelMapping }> {
  if (located.format === "ctranslate2") {
    const src = await Ct2Source.open(located.weights);
    try {
      return { src, ...(await describeCt2Whisper(src, located.weights)) };
    } catch (error) {
      await src.close();
      throw error;
    }
  }
  const src = await SafetensorsSource.open(located.weights);
  try {
    return { src, ...(await describeHfWhisper(src, located.dir)) };
  } catch (error) {
    await src.close();
    throw error;
  }
}

/** What a source model is, read from its headers and config only (no weights). */
export interface SourceDescription {
  format: SourceFormat;
  weights: string;
  hparams: Omit<WhisperHparams, "ftype">;
  modelType: WhisperModelType;
  multilingual: boolean;
}

/** Locates and describes a source model without converting it. */
export async function describeSource(input: string): Promise<SourceDescription> {
  const located = await locateSource(input);
  const { src, hparams } = await openSource(located);
  await src.close();
  return { format: located.format, weights: located.weights, hparams, modelType: detectModelType({ ...hparams, ftype: 1 }), multilingual: hparams.nVocab >= 51865 };
}

/** whisper.cpp's name for a model of these dimensions: `base`, `tiny.en`, ... (`model` if unknown). */
export function ggmlModelName(d: { modelType: WhisperModelType; multilingual: boolean }): string {
  const base = d.modelType === "unknown" ? "model" : d.modelType;
  return d.multilingual || d.modelType === "unknown" ? base : `${base}.en`;
}

/**
 * Converts the Whisper model at `input` (a CTranslate2 directory or model.bin, or a Hugging Face
 * directory or .safetensors file) to a whisper.cpp ggml file at `output`. Mel filters are computed
 * to match OpenAI's; the vocabulary comes from the tokenizer files next to the weights.
 * Throws ConvertError (see its `code`) for anything that can't be converted exactly.
 */
export async function convertModel(input: string, output: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  if (typeof input !== "string" || input === "") throw new TypeError(`Expected a model directory or file for input but received ${JSON.stringify(input)}`);
  if (typeof output !== "string" || output === "") throw new TypeError(`Expected a file path for output but received ${JSON.stringify(output)}`);
  const started = performance.now();
  if (!options.overwrite && (await exists(output))) {
    throw new ConvertError(`${output} already exists; pass overwrite (--force) to replace it`, "EEXIST");
  }
  const located = await locateSource(input);
  const { src, hparams: dims, mapping } = await openSource(located);
  try {
    const hparams: WhisperHparams = { ...dims, ftype: options.f32 ? 0 : 1 };
    try {
      // Dimensions whisper.cpp can build a graph for (the f32 ftype itself is the caller's choice).
      validateHparams({ ...hparams, ftype: 1 });
    } catch (error) {
      throw new ConvertError(`The source model's dimensions don't suit whisper.cpp: ${(error as Error).message}`, "UNSUPPORTED", { cause: error });
    }
    const vocab = await readVocabulary(located.dir);
    if (vocab.eot !== eotFor(hparams.nVocab)) {
      throw new ConvertError(
        `${vocab.file} puts <|endoftext|> at id ${vocab.eot}, but a model with ${hparams.nVocab} tokens needs it at ${eotFor(hparams.nVocab)}; the tokenizer belongs to another model`,
        "BAD_VOCAB",
      );
    }
    const specs = ggmlTensorsInOrder(hparams);
    const plan = planTensors(src, mapping, specs);
    await checkZeroSlices(src, mapping.zeroSlices);

    const cache = new TensorCache(src);
    let done = 0;
    async function* tensors(): AsyncGenerator<GgmlTensorInput> {
      for (const spec of specs) {
        const slice = plan.get(spec.name)!;
        const values = sliceRows(await cache.get(slice.tensor), slice.rows, src.info(slice.tensor)!.shape[0]!);
        const data = spec.type === "f16" && values.kind === "f16" ? values.bits : asF32(values);
        yield { ...spec, data };
        options.onProgress?.(++done, specs.length, spec.name);
      }
    }
    await fs.mkdir(path.dirname(path.resolve(output)), { recursive: true });
    const written = await writeGgmlModel(output, {
      hparams,
      melFilters: melFilterBank(hparams.nMels),
      vocab: vocab.tokens,
      tensors: tensors(),
      // The writer refuses ftype 0 (whisper.cpp v1.9.1's CPU encoder aborts in im2col on f32 conv
      // weights). Asked for explicitly, it is written anyway; planTensors() checked the table.
      strict: !options.f32,
    });
    return {
      format: located.format,
      output,
      hparams,
      modelType: detectModelType(hparams),
      multilingual: hparams.nVocab >= 51865,
      vocabSize: vocab.tokens.length,
      vocabularyFile: vocab.file,
      nTensors: written.nTensors,
      bytes: written.bytes,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await src.close();
  }
}
