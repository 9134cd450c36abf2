// What the conversion engine needs from a source model format: tensor shapes and data by name.
// Data is read one tensor at a time, so converting never holds a whole model in memory.
import fs from "node:fs/promises";
import { ConvertError } from "./errors.js";

/** Element types found in the source formats. */
export type SourceDtype = "f32" | "f16" | "bf16" | "i8" | "i16" | "i32" | "i64" | "u8" | "f64" | "bool" | "f8_e4m3" | "f8_e5m2";

export interface SourceTensorInfo {
  name: string;
  /** Row-major, outermost dimension first (PyTorch/NumPy order, the reverse of ggml's). */
  shape: number[];
  dtype: SourceDtype;
}

/**
 * A tensor's elements, ready for the ggml writer. f16 sources stay f16 bits so an f16 model
 * converts bit-exactly; everything else is decoded (and dequantised) to float32.
 */
export type TensorValues = { kind: "f16"; bits: Uint16Array } | { kind: "f32"; values: Float32Array };

export interface TensorSource {
  /** Tensor names present (aliases included). */
  names(): string[];
  info(name: string): SourceTensorInfo | undefined;
  read(name: string): Promise<TensorValues>;
  close(): Promise<void>;
}

/** Reads exact byte ranges of a file; a short read means the file is truncated. */
export class RandomAccessFile {
  readonly path: string;
  readonly size: number;
  readonly #fh: fs.FileHandle;

  private constructor(path: string, fh: fs.FileHandle, size: number) {
    this.path = path;
    this.#fh = fh;
    this.size = size;
  }

  static async open(file: string): Promise<RandomAccessFile> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ConvertError(`File not found: ${file}`, "ENOENT", { cause: error });
      throw error;
    }
    const { size } = await fh.stat();
    return new RandomAccessFile(file, fh, size);
  }

  /** `length` bytes at `offset`, in a fresh (aligned) buffer. */
  async readAt(offset: number, length: number, what: string): Promise<Uint8Array<ArrayBuffer>> {
    if (offset + length > this.size) {
      throw new ConvertError(`${this.path} is truncated: ${what} needs ${length} bytes at offset ${offset} but the file has ${this.size} bytes`, "CORRUPT_SOURCE");
    }
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.#fh.read(out, got, length - got, offset + got);
      if (bytesRead === 0) throw new ConvertError(`${this.path} changed while it was read (short read at offset ${offset + got})`, "CORRUPT_SOURCE");
      got += bytesRead;
    }
    return out;
  }

  close(): Promise<void> {
    return this.#fh.close();
  }
}

const F16_TO_F32 = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    table[h] =
      exp === 0 ? sign * mant * 2 ** -24
      : exp === 0x1f ? (mant ? Number.NaN : sign * Number.POSITIVE_INFINITY)
      : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
})();

/** float32 values of IEEE half-precision bits (exact). */
export function f16BitsToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = F16_TO_F32[bits[i]!]!;
  return out;
}

export function asF32(values: TensorValues): Float32Array {
  return values.kind === "f32" ? values.values : f16BitsToF32(values.bits);
}

/** Decodes little-endian tensor bytes of a floating-point or integer dtype. */
export function decodeTensorBytes(bytes: Uint8Array, dtype: SourceDtype, name: string): TensorValues {
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case "f16":
      return { kind: "f16", bits: new Uint16Array(buffer, byteOffset, byteLength / 2) };
    case "f32":
      return { kind: "f32", values: new Float32Array(buffer, byteOffset, byteLength / 4) };
    case "bf16": {
      const src = new Uint16Array(buffer, byteOffset, byteLength / 2);
      const out = new Float32Array(src.length);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) outBits[i] = src[i]! << 16;
      return { kind: "f32", values: out };
    }
    case "f64":
      return { kind: "f32", values: Float32Array.from(new Float64Array(buffer, byteOffset, byteLength / 8)) };
    case "i8":
      return { kind: "f32", values: Float32Array.from(new Int8Array(buffer, byteOffset, byteLength)) };
    case "i16":
      return { kind: "f32", values: Float32Array.from(new Int16Array(buffer, byteOffset, byteLength / 2)) };
    case "i32":
      return { kind: "f32", values: Float32Array.from(new Int32Array(buffer, byteOffset, byteLength / 4)) };
    default:
      throw new ConvertError(`Tensor '${name}' has dtype ${dtype}, which the converter does not read`, "UNSUPPORTED");
  }
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** True when two tensors hold the same values (bit for bit, in the same encoding). */
export function sameValues(a: TensorValues, b: TensorValues): boolean {
  const view = (v: TensorValues) => {
    const arr = v.kind === "f16" ? v.bits : v.values;
    return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  };
  return a.kind === b.kind && Buffer.compare(view(a), view(b)) === 0;
}
