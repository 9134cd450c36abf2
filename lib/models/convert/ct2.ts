// CTranslate2's model.bin (the format faster-whisper uses), binary versions 4 to 6. All little-endian:
//   u32 binary version, string spec name, u32 spec revision, u32 variable count, then per variable:
//   string name, u8 rank, u32 dims[rank], u8 dtype id, u32 byte count, raw row-major data;
//   then u32 alias count and (string alias, string target) pairs.
// A string is a u16 length that counts a trailing NUL, then the bytes and the NUL.
// int8/int16 weights come with a "<name>_scale" variable: value = quantised / scale (per row).
import { ConvertError } from "./errors.js";
import { asF32, decodeTensorBytes, elementCount, RandomAccessFile } from "./source.js";
import type { SourceDtype, SourceTensorInfo, TensorSource, TensorValues } from "./source.js";

const MIN_VERSION = 4;
const MAX_VERSION = 6;

// CTranslate2's DataType enum.
const DTYPES: readonly { dtype: SourceDtype; size: number }[] = [
  { dtype: "f32", size: 4 }, { dtype: "i8", size: 1 }, { dtype: "i16", size: 2 }, { dtype: "i32", size: 4 },
  { dtype: "f16", size: 2 }, { dtype: "bf16", size: 2 }, { dtype: "f8_e4m3", size: 1 }, { dtype: "f8_e5m2", size: 1 },
];

export interface Ct2Variable extends SourceTensorInfo {
  offset: number;
  nbytes: number;
}

export interface Ct2Header {
  binaryVersion: number;
  spec: string;
  specRevision: number;
  variables: Map<string, Ct2Variable>;
  /** alias -> variable name. */
  aliases: Map<string, string>;
  /** Where the alias table ends; equals the file size for a well-formed file. */
  end: number;
}

const READ_WINDOW = 4096;

/** Sequential little-endian reads over a file, through a small window (tensor data is skipped, not read). */
class Cursor {
  readonly #file: RandomAccessFile;
  #buf: Uint8Array = new Uint8Array(0);
  #view = new DataView(this.#buf.buffer);
  #start = 0;
  pos = 0;
  constructor(file: RandomAccessFile) {
    this.#file = file;
  }
  async #need(n: number, what: string): Promise<number> {
    let at = this.pos - this.#start;
    if (at < 0 || at + n > this.#buf.length) {
      const want = Math.min(Math.max(n, READ_WINDOW), this.#file.size - this.pos);
      this.#buf = await this.#file.readAt(this.pos, Math.max(want, n), what);
      this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
      this.#start = this.pos;
      at = 0;
    }
    this.pos += n;
    return at;
  }
  async u8(what: string): Promise<number> {
    const at = await this.#need(1, what);
    return this.#view.getUint8(at);
  }
  async u16(what: string): Promise<number> {
    const at = await this.#need(2, what);
    return this.#view.getUint16(at, true);
  }
  async u32(what: string): Promise<number> {
    const at = await this.#need(4, what);
    return this.#view.getUint32(at, true);
  }
  async string(what: string): Promise<string> {
    const n = await this.u16(what);
    const at = await this.#need(n, what);
    const bytes = this.#buf.subarray(at, at + n);
    if (n === 0 || bytes[n - 1] !== 0) throw new ConvertError(`${this.#file.path}: ${what} at offset ${this.pos - n} is not a NUL-terminated string; the file is corrupt`, "CORRUPT_SOURCE");
    return new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, n - 1));
  }
}

/** Reads the header and variable table of a CTranslate2 model.bin without reading the weights. */
export async function readCt2Header(file: RandomAccessFile): Promise<Ct2Header> {
  const c = new Cursor(file);
  const binaryVersion = await c.u32("the binary version");
  if (binaryVersion < MIN_VERSION || binaryVersion > MAX_VERSION) {
    throw new ConvertError(
      `${file.path} has CTranslate2 binary version ${binaryVersion}; the converter reads versions ${MIN_VERSION} to ${MAX_VERSION}` +
        (binaryVersion > 1000 ? " (is it a CTranslate2 model.bin at all?)" : ""),
      binaryVersion > 1000 ? "UNKNOWN_FORMAT" : "UNSUPPORTED",
    );
  }
  const spec = await c.string("the spec name");
  const specRevision = await c.u32("the spec revision");
  const count = await c.u32("the variable count");
  const variables = new Map<string, Ct2Variable>();
  for (let i = 0; i < count; i++) {
    const what = `variable #${i}`;
    const name = await c.string(what);
    const rank = await c.u8(what);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(await c.u32(what));
    const dtypeId = await c.u8(what);
    const nbytes = await c.u32(what);
    const dt = DTYPES[dtypeId];
    if (!dt) throw new ConvertError(`${file.path}: variable '${name}' has unknown dtype id ${dtypeId}`, "CORRUPT_SOURCE");
    if (elementCount(shape) * dt.size !== nbytes) {
      throw new ConvertError(`${file.path}: variable '${name}' (${dt.dtype} [${shape.join(", ")}]) claims ${nbytes} bytes; the file is corrupt`, "CORRUPT_SOURCE");
    }
    if (c.pos + nbytes > file.size) {
      throw new ConvertError(`${file.path} is truncated: variable '${name}' needs ${nbytes} bytes at offset ${c.pos} but the file has ${file.size} bytes`, "CORRUPT_SOURCE");
    }
    variables.set(name, { name, shape, dtype: dt.dtype, offset: c.pos, nbytes });
    c.pos += nbytes;
  }
  const aliases = new Map<string, string>();
  const nAliases = await c.u32("the alias count");
  for (let i = 0; i < nAliases; i++) {
    const alias = await c.string(`alias #${i}`);
    aliases.set(alias, await c.string(`alias #${i}`));
  }
  return { binaryVersion, spec, specRevision, variables, aliases, end: c.pos };
}

/** A CTranslate2 model.bin as a {@link TensorSource}; aliases resolve, int8/int16 weights are dequantised. */
export class Ct2Source implements TensorSource {
  readonly header: Ct2Header;
  readonly #file: RandomAccessFile;

  private constructor(file: RandomAccessFile, header: Ct2Header) {
    this.#file = file;
    this.header = header;
  }

  static async open(modelBin: string): Promise<Ct2Source> {
    const file = await RandomAccessFile.open(modelBin);
    try {
      return new Ct2Source(file, await readCt2Header(file));
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  names(): string[] {
    return [...this.header.variables.keys(), ...this.header.aliases.keys()];
  }

  #variable(name: string): Ct2Variable | undefined {
    return this.header.variables.get(this.header.aliases.get(name) ?? name);
  }

  info(name: string): SourceTensorInfo | undefined {
    const v = this.#variable(name);
    return v && { name, shape: v.shape, dtype: v.dtype };
  }

  /** True when `name` is an alias of `target` (e.g. a tied output projection). */
  isAliasOf(name: string, target: string): boolean {
    return this.header.aliases.get(name) === target;
  }

  /** The integer value of a scalar variable (flags and head counts), or undefined if absent. */
  async scalar(name: string): Promise<number | undefined> {
    const v = this.#variable(name);
    if (!v) return undefined;
    if (v.shape.length !== 0) throw new ConvertError(`${this.#file.path}: '${name}' should be a scalar but has shape [${v.shape.join(", ")}]`, "BAD_TENSOR");
    return asF32(decodeTensorBytes(await this.#file.readAt(v.offset, v.nbytes, name), v.dtype, name))[0];
  }

  async read(name: string): Promise<TensorValues> {
    const v = this.#variable(name);
    if (!v) throw new ConvertError(`${this.#file.path} has no variable '${name}'`, "BAD_TENSOR");
    const values = decodeTensorBytes(await this.#file.readAt(v.offset, v.nbytes, `variable '${v.name}'`), v.dtype, v.name);
    if (v.dtype !== "i8" && v.dtype !== "i16") return values;
    const scaleVar = this.header.variables.get(`${v.name}_scale`);
    if (!scaleVar) throw new ConvertError(`${this.#file.path}: quantised variable '${v.name}' (${v.dtype}) has no '${v.name}_scale'`, "BAD_TENSOR");
    const scale = await this.read(scaleVar.name);
    return { kind: "f32", values: dequantize(asF32(values), scale, v) };
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}

function dequantize(q: Float32Array, scaleValues: TensorValues, v: Ct2Variable): Float32Array {
  const scale = asF32(scaleValues);
  const rows = v.shape[0] ?? 1;
  if (scale.length !== 1 && scale.length !== rows) {
    throw new ConvertError(`'${v.name}_scale' has ${scale.length} values; expected 1 or one per row (${rows})`, "BAD_TENSOR");
  }
  const rowLen = rows === 0 ? 0 : q.length / rows;
  for (let r = 0; r < rows; r++) {
    const s = scale.length === 1 ? scale[0]! : scale[r]!;
    for (let j = r * rowLen; j < (r + 1) * rowLen; j++) q[j] = q[j]! / s;
  }
  return q;
}
