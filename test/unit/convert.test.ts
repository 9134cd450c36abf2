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
import { expectedTensors, melFilterBank } from "../../lib/models/ggml/format.js";
import { f32ToF16Bits } from "../../lib/models/ggml/writer.js";
import { inspectGgmlModel } from "../../lib/models/ggml/inspect.js";
import { canon, D, encode, EOT, expectedBytes, H, readGgml, tokenBytes, TOKENS, writeCt2, writeHf } from "./convert-synthetic.js";
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

  it("a safetensors checkpoint without config.json, or whose config contradicts the tensors", async () => {
    const dir = await writeHf(path.join(tmp, "bad-hf"), "f16");
    const config = JSON.parse(await fs.readFile(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    await fs.writeFile(path.join(dir, "config.json"), JSON.stringify({ ...config, encoder_layers: 3 }));
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "BAD_TENSOR", /'model\.encoder\.layers\.2\.self_attn_layer_norm\.weight' \(for encoder\.blocks\.2\.attn_ln\.weight\) is missing/);
    await fs.rm(path.join(dir, "config.json"));
    await rejectsWith(convertModel(dir, path.join(tmp, "out", "x.bin")), "CORRUPT_SOURCE", /needs its config\.json/);
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
