// Hugging Face safetensors: u64 little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the data;
// offsets count from the end of the header. Sharded checkpoints list their files in
// model.safetensors.index.json ({"weight_map": {name: file}}).
import fs from "node:fs/promises";
import path from "node:path";
import { ConvertError } from "./errors.js";
import { decodeTensorBytes, elementCount, RandomAccessFile } from "./source.js";
import type { SourceDtype, SourceTensorInfo, TensorSource, TensorValues } from "./source.js";

const DTYPES: Record<string, { dtype: SourceDtype; size: number }> = {
  F64: { dtype: "f64", size: 8 }, F32: { dtype: "f32", size: 4 }, F16: { dtype: "f16", size: 2 }, BF16: { dtype: "bf16", size: 2 },
  I64: { dtype: "i64", size: 8 }, I32: { dtype: "i32", size: 4 }, I16: { dtype: "i16", size: 2 }, I8: { dtype: "i8", size: 1 },
  U8: { dtype: "u8", size: 1 }, BOOL: { dtype: "bool", size: 1 }, F8_E4M3: { dtype: "f8_e4m3", size: 1 }, F8_E5M2: { dtype: "f8_e5m2", size: 1 },
};

/** A JSON header bigger than this is not a real checkpoint (Whisper large has ~1,300 entries). */
const MAX_HEADER_BYTES = 100 << 20;

interface Entry extends SourceTensorInfo {
  file: RandomAccessFile;
  offset: number;
  nbytes: number;
}

async function readHeader(file: RandomAccessFile, into: Map<string, Entry>): Promise<void> {
  const lenBytes = await file.readAt(0, 8, "the header length");
  const len = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (len < 2 || len > MAX_HEADER_BYTES || 8 + len > file.size) {
    throw new ConvertError(`${file.path} is not a safetensors file (header length ${len}, file size ${file.size})`, "CORRUPT_SOURCE");
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(await file.readAt(8, len, "the JSON header"))) as Record<string, unknown>;
  } catch (error) {
    throw new ConvertError(`${file.path}: the safetensors header is not valid JSON`, "CORRUPT_SOURCE", { cause: error });
  }
  const dataStart = 8 + len;
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dt = typeof e.dtype === "string" ? DTYPES[e.dtype] : undefined;
    const shape = e.shape;
    const offsets = e.data_offsets;
    if (!dt || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) ||
        !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ConvertError(`${file.path}: tensor '${name}' has a malformed header entry ${JSON.stringify(raw)}`, "CORRUPT_SOURCE");
    }
    const [begin, end] = offsets as [number, number];
    const nbytes = end - begin;
    if (nbytes !== elementCount(shape as number[]) * dt.size || dataStart + end > file.size) {
      throw new ConvertError(`${file.path}: tensor '${name}' (${e.dtype as string} [${(shape as number[]).join(", ")}]) has data offsets [${begin}, ${end}] that don't fit it or the file`, "CORRUPT_SOURCE");
    }
    into.set(name, { name, shape: shape as number[], dtype: dt.dtype, file, offset: dataStart + begin, nbytes });
  }
}

/** One safetensors file, or the shards of a sharded checkpoint, as a {@link TensorSource}. */
export class SafetensorsSource implements TensorSource {
  readonly #entries: Map<string, Entry>;
  readonly #files: RandomAccessFile[];

  private constructor(entries: Map<string, Entry>, files: RandomAccessFile[]) {
    this.#entries = entries;
    this.#files = files;
  }

  /** Opens `model.safetensors`, a shard index (`*.safetensors.index.json`) or a single `.safetensors` file. */
  static async open(file: string): Promise<SafetensorsSource> {
    let shards = [file];
    if (file.endsWith(".index.json")) {
      const index = JSON.parse(await fs.readFile(file, "utf8")) as { weight_map?: Record<string, string> };
      if (!index.weight_map) throw new ConvertError(`${file} has no weight_map`, "CORRUPT_SOURCE");
      shards = [...new Set(Object.values(index.weight_map))].map((f) => path.join(path.dirname(file), f));
    }
    const files: RandomAccessFile[] = [];
    const entries = new Map<string, Entry>();
    try {
      for (const shard of shards) {
        const f = await RandomAccessFile.open(shard);
        files.push(f);
        await readHeader(f, entries);
      }
    } catch (error) {
      await Promise.all(files.map((f) => f.close()));
      throw error;
    }
    return new SafetensorsSource(entries, files);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  info(name: string): SourceTensorInfo | undefined {
    const e = this.#entries.get(name);
    return e && { name, shape: e.shape, dtype: e.dtype };
  }

  async read(name: string): Promise<TensorValues> {
    const e = this.#entries.get(name);
    if (!e) throw new ConvertError(`The safetensors checkpoint has no tensor '${name}'`, "BAD_TENSOR");
    return decodeTensorBytes(await e.file.readAt(e.offset, e.nbytes, `tensor '${name}'`), e.dtype, name);
  }

  async close(): Promise<void> {
    await Promise.all(this.#files.map((f) => f.close()));
  }
}
