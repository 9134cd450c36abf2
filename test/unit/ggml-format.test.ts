import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectModelType, expectedTensors, GgmlFormatError, melFilterBank, tensorByteSize, WHISPER_DIMS } from "../../lib/models/ggml/format.js";
import { f32ToF16Bits, writeGgmlModel } from "../../lib/models/ggml/writer.js";
import { inspectGgmlModel } from "../../lib/models/ggml/inspect.js";
import type { GgmlTensorInfo, WhisperHparams } from "../../lib/models/ggml/format.js";
import type { GgmlModelInput, GgmlTensorInput } from "../../lib/models/ggml/writer.js";
import type { ModelHeaderInfo } from "../../lib/models/ggml/inspect.js";

const SMALL: WhisperHparams = {
  nVocab: 51865, nAudioCtx: 1500, nAudioState: 32, nAudioHead: 1, nAudioLayer: 1,
  nTextCtx: 448, nTextState: 32, nTextHead: 1, nTextLayer: 1, nMels: 80, ftype: 1,
};
const VOCAB = Array.from({ length: 300 }, (_, i) => (i < 256 ? new Uint8Array([i]) : new TextEncoder().encode(` tok${i}`)));

let dir: string;
let modelFile: string;
let bytes: Uint8Array;
let info: ModelHeaderInfo;

/** Tensors with a recognisable pattern so data offsets can be checked. */
function* tensorsFor(h: WhisperHparams, skip = new Set<string>()): Generator<GgmlTensorInput> {
  for (const spec of expectedTensors(h)) {
    if (skip.has(spec.name)) continue;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.type === "f32" || spec.type === "f16") {
      const data = new Float32Array(n);
      data[0] = 0.5;
      yield { ...spec, data };
    } else {
      yield { ...spec, data: new Uint8Array(tensorByteSize(spec.shape, spec.type)) };
    }
  }
}

const modelInput = (h: WhisperHparams = SMALL, extra: Partial<GgmlModelInput> = {}): GgmlModelInput => ({
  hparams: h,
  melFilters: melFilterBank(h.nMels),
  vocab: VOCAB,
  tensors: tensorsFor(h),
  ...extra,
});

const tensor = (name: string): GgmlTensorInfo => {
  const t = info.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
};
const headerOffset = (t: GgmlTensorInfo) => t.dataOffset - Buffer.byteLength(t.name) - 4 * t.shape.length - 12;

function patched(offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(offset, value, true);
  return copy;
}

async function formatError(input: string | Uint8Array): Promise<GgmlFormatError> {
  const error = await inspectGgmlModel(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GgmlFormatError);
  return error as GgmlFormatError;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "ggml-format-"));
  modelFile = path.join(dir, "small.bin");
  await writeGgmlModel(modelFile, modelInput());
  bytes = new Uint8Array(await fs.readFile(modelFile));
  info = await inspectGgmlModel(modelFile);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("expectedTensors", () => {
  it("lists what whisper.cpp's loader creates for tiny and base", () => {
    expect(expectedTensors(WHISPER_DIMS.tiny)).toHaveLength(7 + 15 * 4 + 4 + 24 * 4);
    expect(expectedTensors(WHISPER_DIMS.base)).toHaveLength(7 + 15 * 6 + 4 + 24 * 6);
    const byName = new Map(expectedTensors(WHISPER_DIMS.tiny).map((t) => [t.name, t]));
    expect(byName.get("encoder.conv1.weight")).toEqual({ name: "encoder.conv1.weight", shape: [3, 80, 384], type: "f16" });
    expect(byName.get("encoder.conv1.bias")).toEqual({ name: "encoder.conv1.bias", shape: [1, 384], type: "f32" });
    expect(byName.get("encoder.positional_embedding")?.shape).toEqual([384, 1500]);
    expect(byName.get("decoder.token_embedding.weight")).toEqual({ name: "decoder.token_embedding.weight", shape: [384, 51865], type: "f16" });
    expect(byName.get("decoder.blocks.3.mlp.0.weight")).toEqual({ name: "decoder.blocks.3.mlp.0.weight", shape: [384, 1536], type: "f16" });
    expect(byName.get("decoder.blocks.3.cross_attn.key.weight")?.type).toBe("f16");
    expect(byName.has("decoder.blocks.3.cross_attn.key.bias")).toBe(false);
    expect(byName.get("decoder.positional_embedding")).toEqual({ name: "decoder.positional_embedding", shape: [384, 448], type: "f32" });
  });

  it("uses the quantized type for matrices and keeps convs f16 and vectors f32", () => {
    const q = new Map(expectedTensors({ ...WHISPER_DIMS.base, ftype: 2009 }).map((t) => [t.name, t.type]));
    expect(q.get("decoder.token_embedding.weight")).toBe("q5_1");
    expect(q.get("encoder.blocks.0.attn.query.weight")).toBe("q5_1");
    expect(q.get("encoder.conv2.weight")).toBe("f16");
    expect(q.get("encoder.blocks.0.attn.query.bias")).toBe("f32");
  });
});

describe("helpers", () => {
  it("names the published checkpoints", () => {
    expect(detectModelType(WHISPER_DIMS.tiny)).toBe("tiny");
    expect(detectModelType(WHISPER_DIMS["base.en"])).toBe("base");
    expect(detectModelType(WHISPER_DIMS["large-v3"])).toBe("large-v3");
    expect(detectModelType(WHISPER_DIMS["large-v3-turbo"])).toBe("large-v3-turbo");
    expect(detectModelType(SMALL)).toBe("unknown");
  });

  it("rounds to half precision like numpy", () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(0.1)).toBe(0x2e66);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(2049)).toBe(0x6800); // tie to even
    expect(f32ToF16Bits(2051)).toBe(0x6802);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(2 ** -26)).toBe(0);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(f32ToF16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
  });

  it("sizes tensors per ggml block", () => {
    expect(tensorByteSize([384, 1536], "f16")).toBe(384 * 1536 * 2);
    expect(tensorByteSize([512, 512], "q8_0")).toBe((512 / 32) * 34 * 512);
    expect(tensorByteSize([512, 51865], "q5_1")).toBe(16 * 24 * 51865);
  });

  it("builds slaney mel filters", () => {
    const mel = melFilterBank(80);
    expect(mel.nMel).toBe(80);
    expect(mel.nFft).toBe(201);
    expect(mel.data).toHaveLength(80 * 201);
    for (let m = 0; m < 80; m++) {
      const row = mel.data.subarray(m * 201, (m + 1) * 201);
      expect(Math.max(...row)).toBeGreaterThan(0);
      expect(Math.min(...row)).toBeGreaterThanOrEqual(0);
    }
    // The first band peaks at bin 1 (40 Hz): its centre is at 1/81 of the mel range.
    expect(mel.data[1]).toBeGreaterThan(mel.data[2] ?? 1);
  });
});

describe("writeGgmlModel + inspectGgmlModel", () => {
  it("round-trips hparams, vocab and the tensor table", () => {
    expect(info.hparams).toEqual(SMALL);
    expect(info.modelType).toBe("unknown");
    expect(info.multilingual).toBe(true);
    expect(info.ftype).toBe(1);
    expect(info.weightType).toBe("f16");
    expect(info.vocabInFile).toBe(300);
    expect(info.nTensors).toBe(expectedTensors(SMALL).length);
    expect(info.fileSize).toBe(bytes.length);
    const last = info.tensors[info.tensors.length - 1];
    expect((last?.dataOffset ?? 0) + (last?.nbytes ?? 0)).toBe(bytes.length);
  });

  it("gives the same answer for bytes as for a path", async () => {
    expect(await inspectGgmlModel(bytes)).toEqual(info);
  });

  it("encodes f32 chunks to f16 where they belong", async () => {
    const t = tensor("decoder.blocks.0.mlp.0.weight");
    const view = new DataView(bytes.buffer, t.dataOffset, 4);
    expect(view.getUint16(0, true)).toBe(f32ToF16Bits(0.5));
    expect(view.getUint16(2, true)).toBe(0);
    const b = tensor("decoder.blocks.0.mlp.0.bias");
    expect(new DataView(bytes.buffer, b.dataOffset, 4).getFloat32(0, true)).toBe(0.5);
  });

  it("streams a tensor given as chunks", async () => {
    const file = path.join(dir, "chunks.bin");
    const tensors = function* (): Generator<GgmlTensorInput> {
      for (const t of tensorsFor(SMALL)) {
        if (t.name !== "decoder.token_embedding.weight") yield t;
        else {
          const n = 32 * 51865;
          yield { ...t, data: (function* () { for (let i = 0; i < n; i += 100_000) yield new Float32Array(Math.min(100_000, n - i)).fill(-2); })() };
        }
      }
    };
    await writeGgmlModel(file, modelInput(SMALL, { tensors: tensors() }));
    const got = await inspectGgmlModel(file);
    const te = got.tensors.find((t) => t.name === "decoder.token_embedding.weight");
    const data = await fs.readFile(file);
    expect(data.readUInt16LE((te?.dataOffset ?? 0) + (te?.nbytes ?? 0) - 2)).toBe(0xc000);
  });

  it("accepts a quantized model (q8_0 matrices)", async () => {
    const file = path.join(dir, "q8.bin");
    const h = { ...SMALL, ftype: 2007 };
    await writeGgmlModel(file, modelInput(h, { tensors: tensorsFor(h) }));
    const q = await inspectGgmlModel(file);
    expect(q.ftype).toBe(7);
    expect(q.quantizationVersion).toBe(2);
    expect(q.weightType).toBe("q8_0");
    expect(q.tensors.find((t) => t.name === "decoder.token_embedding.weight")?.nbytes).toBe(34 * 51865);
  });

  it("rejects bad input in strict mode and leaves no file behind", async () => {
    const file = path.join(dir, "strict.bin");
    await expect(writeGgmlModel(file, modelInput(SMALL, { tensors: tensorsFor(SMALL, new Set(["decoder.ln.bias"])) }))).rejects.toThrow(
      "model is missing 1 tensors: 'decoder.ln.bias'",
    );
    const wrongSize = function* (): Generator<GgmlTensorInput> {
      for (const t of tensorsFor(SMALL)) yield t.name === "decoder.ln.bias" ? { ...t, data: new Float32Array(3) } : t;
    };
    await expect(writeGgmlModel(file, modelInput(SMALL, { tensors: wrongSize() }))).rejects.toThrow(
      "Tensor 'decoder.ln.bias' (f32 [32]) needs 128 bytes of data but received 12",
    );
    await expect(writeGgmlModel(file, modelInput(SMALL, { tensors: [{ name: "encoder.conv1.weight", shape: [3, 80, 32], type: "f32", data: new Float32Array(3 * 80 * 32) }] }))).rejects.toThrow(
      "tensor 'encoder.conv1.weight' is f32 [3, 80, 32] but whisper.cpp expects f16 [3, 80, 32]",
    );
    await expect(writeGgmlModel(file, modelInput({ ...SMALL, ftype: 0 }))).rejects.toThrow(/all f32.*not supported/);
    expect(await fs.readdir(dir)).not.toContain("strict.bin");
    expect((await fs.readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("replaces an existing file atomically", async () => {
    const file = path.join(dir, "replace.bin");
    await fs.writeFile(file, "old");
    await writeGgmlModel(file, modelInput());
    expect((await fs.stat(file)).size).toBe(bytes.length);
  });
});

describe("inspectGgmlModel rejects", () => {
  const melEnd = 56 + 80 * 201 * 4;

  it("a missing file", async () => {
    const e = await formatError(path.join(dir, "nope.bin"));
    expect(e.code).toBe("ENOENT");
    expect(e.message).toBe(`model file not found: ${path.join(dir, "nope.bin")}`);
  });

  it("an empty file", async () => {
    const file = path.join(dir, "empty.bin");
    await fs.writeFile(file, "");
    expect((await formatError(file)).message).toBe("model file is empty");
    expect((await formatError(new Uint8Array(0))).code).toBe("EMPTY");
  });

  it("a wrong magic, naming GGUF and zip files", async () => {
    const text = await formatError(new TextEncoder().encode("not a model at all"));
    expect(text.code).toBe("BAD_MAGIC");
    expect(text.message).toBe('bad magic 0x20746f6e (expected 0x67676d6c "ggml"): it is not a whisper.cpp ggml model');
    expect((await formatError(new TextEncoder().encode("GGUF\x03\x00\x00\x00"))).message).toMatch(/GGUF file; whisper.cpp needs the legacy ggml/);
    expect((await formatError(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]))).message).toMatch(/zip archive/);
  });

  it("truncation anywhere, with the exact place", async () => {
    expect((await formatError(bytes.subarray(0, 2))).message).toBe(
      "model file is truncated: the magic number needs 4 bytes at offset 0 but the file has 2 bytes",
    );
    expect((await formatError(bytes.subarray(0, 10))).message).toBe(
      "model file is truncated: hparams.nAudioCtx needs 4 bytes at offset 8 but the file has 10 bytes",
    );
    expect((await formatError(bytes.subarray(0, 5000))).message).toBe(
      "model file is truncated: the mel filters needs 64320 bytes at offset 56 but the file has 5000 bytes",
    );
    expect((await formatError(bytes.subarray(0, melEnd + 6))).message).toBe(
      `model file is truncated: the length of token 0 needs 4 bytes at offset ${melEnd + 4} but the file has ${melEnd + 6} bytes`,
    );
    expect((await formatError(bytes.subarray(0, melEnd + 8))).message).toBe(
      `model file is truncated: token 0 needs 1 bytes at offset ${melEnd + 8} but the file has ${melEnd + 8} bytes`,
    );
    const first = info.tensors[0];
    if (!first) throw new Error("no tensors");
    const vocabEnd = headerOffset(first);
    const e = await formatError(bytes.subarray(0, vocabEnd));
    expect(e.message).toBe(`model file is truncated: it ends after the vocab at offset ${vocabEnd} and has no tensors`);
    expect((await formatError(bytes.subarray(0, vocabEnd + 6))).message).toBe(
      `model file is truncated: the header of tensor #0 needs 4 bytes at offset ${vocabEnd + 4} but the file has ${vocabEnd + 6} bytes`,
    );
    const t = tensor("decoder.blocks.0.mlp.0.weight");
    const cut = await formatError(bytes.subarray(0, t.dataOffset + 1000));
    expect(cut.code).toBe("TRUNCATED");
    expect(cut.message).toBe(
      `model file is truncated: tensor 'decoder.blocks.0.mlp.0.weight' needs ${32 * 128 * 2} bytes at offset ${t.dataOffset} but the file has ${t.dataOffset + 1000} bytes`,
    );
  });

  it("a file cut exactly between tensors", async () => {
    const index = 10;
    const next = info.tensors[index];
    if (!next) throw new Error("no tensor");
    const e = await formatError(bytes.subarray(0, headerOffset(next)));
    expect(e.code).toBe("MISSING_TENSORS");
    expect(e.message).toMatch(new RegExp(`^model file has ${index} of ${info.nTensors} tensors; missing '${next.name.replace(/\./g, "\\.")}', `));
  });

  it("hparams whisper.cpp can't handle", async () => {
    const cases: [number, number, string][] = [
      [4, 1000, "hparams.nVocab is 1000; whisper.cpp supports 51864 (English-only), 51865 (multilingual) or 51866 (large-v3)"],
      [20, 0, "hparams.nAudioLayer is 0; expected 1..256"],
      [28, 48, "hparams.nTextState (48) must equal nAudioState (32)"],
      [16, 3, "hparams.nAudioState (32) is not a multiple of nAudioHead (3)"],
      [44, 4, "hparams.ftype 4 is not a ggml file type whisper.cpp can load"],
      [44, -1, "hparams.ftype -1 is not a ggml file type whisper.cpp can load"],
      [44, 0, "hparams.ftype 0 (all f32) is not supported: whisper.cpp v1.9.1's CPU encoder aborts on f32 conv weights; convert the model to f16"],
    ];
    for (const [offset, value, message] of cases) {
      const e = await formatError(patched(offset, value));
      expect(e.code).toBe("BAD_HPARAMS");
      expect(e.message).toBe(message);
    }
  });

  it("mel filters of the wrong size", async () => {
    const e = await formatError(patched(52, 200));
    expect(e.code).toBe("BAD_MEL_FILTERS");
    expect(e.message).toBe("mel filters are 80 x 200 but whisper.cpp needs 80 x 201 (hparams.nMels x FFT bins)");
  });

  it("a corrupt vocab", async () => {
    expect((await formatError(patched(melEnd, 60000))).message).toBe("vocab has 60000 tokens but hparams.nVocab is 51865");
    expect((await formatError(patched(melEnd + 4, 0x41414141))).message).toBe(
      `token 0 claims 1094795585 bytes at offset ${melEnd + 4}; the vocab is corrupt`,
    );
    const noSpace = await inspectGgmlModel(
      await (async () => {
        const file = path.join(dir, "nospace.bin");
        await writeGgmlModel(file, modelInput(SMALL, { vocab: VOCAB.filter((t) => !(t.length === 1 && t[0] === 0x20)), strict: false }));
        return file;
      })(),
    ).catch((e: unknown) => e);
    expect(noSpace).toBeInstanceOf(GgmlFormatError);
    expect((noSpace as GgmlFormatError).message).toBe('vocab has no single-space token " " (whisper.cpp looks it up to suppress blanks)');
  });

  it("unknown, misshapen, mistyped and corrupt tensor headers", async () => {
    const t = tensor("decoder.blocks.0.mlp.0.weight");
    const at = headerOffset(t);
    const renamed = bytes.slice();
    renamed[t.dataOffset - 1] = "X".charCodeAt(0);
    expect((await formatError(renamed)).message).toBe(
      `unknown tensor 'decoder.blocks.0.mlp.0.weighX' at offset ${at}; whisper.cpp does not expect it for these hparams`,
    );
    expect((await formatError(patched(at + 12, 16))).message).toBe(
      "tensor 'decoder.blocks.0.mlp.0.weight' has shape [16, 128] but whisper.cpp expects [32, 128]",
    );
    const typed = await formatError(patched(at + 8, 0));
    expect(typed.code).toBe("BAD_TENSOR");
    expect(typed.message).toBe("tensor 'decoder.blocks.0.mlp.0.weight' has type f32 but whisper.cpp expects f16 for ftype 1");
    expect((await formatError(patched(at + 8, 99))).message).toBe(
      "tensor 'decoder.blocks.0.mlp.0.weight' has type #99 but whisper.cpp expects f16 for ftype 1",
    );
    expect((await formatError(patched(at, 5))).message).toBe(`corrupt header of tensor #${info.tensors.indexOf(t)} at offset ${at}: n_dims 5, name length 29`);
    expect((await formatError(patched(at + 4, -7))).message).toMatch(/corrupt header .* name length -7$/);
  });

  it("a tensor written twice", async () => {
    const file = path.join(dir, "twice.bin");
    const twice = function* (): Generator<GgmlTensorInput> {
      for (const t of tensorsFor(SMALL)) yield t.name === "decoder.ln.bias" ? { ...t, name: "decoder.ln.weight" } : t;
    };
    await writeGgmlModel(file, modelInput(SMALL, { tensors: twice(), strict: false }));
    const e = await formatError(file);
    expect(e.message).toMatch(/^tensor 'decoder\.ln\.weight' appears twice \(again at offset \d+\)$/);
  });
});
