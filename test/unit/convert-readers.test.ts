// The converter's readers on their own: GPT-2 byte-level tokens, the four vocabulary files,
// CTranslate2 and safetensors headers (malformed ones included), dtype decoding.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ct2Source } from "../../lib/models/convert/ct2.js";
import { ConvertError } from "../../lib/models/convert/errors.js";
import { SafetensorsSource } from "../../lib/models/convert/safetensors.js";
import { decodeTensorBytes, f16BitsToF32 } from "../../lib/models/convert/source.js";
import { byteLevelDecode, byteLevelEncode, readVocabulary } from "../../lib/models/convert/vocabulary.js";

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-convert-readers-"));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => (e instanceof ConvertError ? e.code : `not a ConvertError: ${String(e)}`));

describe("GPT-2 byte-level tokens", () => {
  it("round-trips every byte and spells the well-known ones", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(byteLevelDecode(byteLevelEncode(all))).toEqual(all);
    expect(byteLevelEncode(new TextEncoder().encode(" the\n"))).toBe("Ġtheĉ".replace("ĉ", "Ċ"));
    expect(new TextDecoder().decode(byteLevelDecode("ä½ł"))).toBe("你");
    expect(byteLevelDecode("<|en|>")).toEqual(new TextEncoder().encode("<|en|>"));
    expect(byteLevelDecode("ā€")).toBeUndefined(); // "€" is not in the alphabet
  });
});

describe("vocabulary files", () => {
  const tokens = ["!", "Ġ", "Ġhello", "", "<|endoftext|>", "<|startoftranscript|>"];
  const write = async (name: string, files: Record<string, string>) => {
    const dir = path.join(tmp, name);
    await fs.mkdir(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) await fs.writeFile(path.join(dir, f), text);
    return dir;
  };
  const expectTokens = async (dir: string, file: string) => {
    const v = await readVocabulary(dir);
    expect(path.basename(v.file)).toBe(file);
    expect(v.eot).toBe(4);
    expect(v.tokens.map((t) => new TextDecoder().decode(t))).toEqual(["!", " ", " hello", ""]);
  };

  it("reads vocabulary.txt, vocabulary.json, tokenizer.json and vocab.json + added_tokens.json", async () => {
    await expectTokens(await write("txt", { "vocabulary.txt": `${tokens.join("\n")}\n` }), "vocabulary.txt");
    await expectTokens(await write("json", { "vocabulary.json": JSON.stringify(tokens) }), "vocabulary.json");
    const vocab = Object.fromEntries(tokens.slice(0, 4).map((t, i) => [t, i]));
    const added = [{ id: 4, content: "<|endoftext|>" }, { id: 5, content: "<|startoftranscript|>" }];
    await expectTokens(await write("tok", { "tokenizer.json": JSON.stringify({ model: { vocab }, added_tokens: added }) }), "tokenizer.json");
    await expectTokens(await write("hf", { "vocab.json": JSON.stringify(vocab), "added_tokens.json": JSON.stringify({ "<|endoftext|>": 4 }) }), "vocab.json");
  });

  it("prefers vocabulary.txt when several are present", async () => {
    const dir = await write("both", { "vocabulary.txt": tokens.join("\n"), "tokenizer.json": "not json" });
    await expectTokens(dir, "vocabulary.txt");
  });

  it("rejects a vocabulary without <|endoftext|>, with a gap, or with foreign characters", async () => {
    expect(await codeOf(readVocabulary(await write("noeot", { "vocabulary.txt": "a\nb\n" })))).toBe("BAD_VOCAB");
    expect(await codeOf(readVocabulary(await write("gap", { "vocab.json": JSON.stringify({ a: 0, "<|endoftext|>": 2 }) })))).toBe("BAD_VOCAB");
    expect(await codeOf(readVocabulary(await write("foreign", { "vocabulary.txt": "a\n€\n<|endoftext|>\n" })))).toBe("BAD_VOCAB");
    expect(await codeOf(readVocabulary(await write("badjson", { "tokenizer.json": "{" })))).toBe("BAD_VOCAB");
  });
});

describe("CTranslate2 header", () => {
  const str = (s: string) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(s.length + 1);
    return Buffer.concat([b, Buffer.from(s), Buffer.from([0])]);
  };
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const file = (version: number, vars: Buffer[], aliases: Buffer[] = []) =>
    Buffer.concat([u32(version), str("WhisperSpec"), u32(3), u32(vars.length), ...vars, u32(aliases.length / 2), ...aliases]);
  const variable = (name: string, shape: number[], dtype: number, data: Buffer) =>
    Buffer.concat([str(name), Buffer.from([shape.length]), ...shape.map(u32), Buffer.from([dtype]), u32(data.length), data]);
  const write = async (name: string, bytes: Buffer) => {
    const f = path.join(tmp, name);
    await fs.writeFile(f, bytes);
    return f;
  };

  it("reads variables, scalars, aliases and int16 with a global scale", async () => {
    const w = Buffer.from(Int16Array.of(100, -200, 300, -400).buffer);
    const f = await write("ok.bin", file(6, [
      variable("a/weight", [2, 2], 2, w),
      variable("a/weight_scale", [], 0, Buffer.from(Float32Array.of(100).buffer)),
      variable("n", [], 2, Buffer.from(Int16Array.of(-1).buffer)),
    ], [str("b/weight"), str("a/weight")]));
    const src = await Ct2Source.open(f);
    try {
      expect(src.header).toMatchObject({ binaryVersion: 6, spec: "WhisperSpec", specRevision: 3 });
      expect(src.header.end).toBe((await fs.stat(f)).size);
      expect(await src.scalar("n")).toBe(-1);
      expect(src.info("b/weight")).toEqual({ name: "b/weight", shape: [2, 2], dtype: "i16" });
      expect(await src.read("b/weight")).toEqual({ kind: "f32", values: Float32Array.of(1, -2, 3, -4) });
    } finally {
      await src.close();
    }
  });

  it("rejects unknown versions, bad dtypes, wrong byte counts and missing scales", async () => {
    const f16 = Buffer.from(Uint16Array.of(0x3c00).buffer);
    expect(await codeOf(Ct2Source.open(await write("v3.bin", file(3, []))))).toBe("UNSUPPORTED");
    expect(await codeOf(Ct2Source.open(await write("v7.bin", file(7, []))))).toBe("UNSUPPORTED");
    expect(await codeOf(Ct2Source.open(await write("ggml.bin", Buffer.from("lmgg....")))).then((c) => c)).toBe("UNKNOWN_FORMAT");
    expect(await codeOf(Ct2Source.open(await write("dtype.bin", file(6, [variable("x", [1], 42, f16)]))))).toBe("CORRUPT_SOURCE");
    expect(await codeOf(Ct2Source.open(await write("count.bin", file(6, [variable("x", [2], 4, f16)]))))).toBe("CORRUPT_SOURCE");
    const src = await Ct2Source.open(await write("noscale.bin", file(6, [variable("q", [1], 1, Buffer.from([5]))])));
    expect(await codeOf(src.read("q"))).toBe("BAD_TENSOR");
    await src.close();
  });
});

describe("safetensors header", () => {
  const st = (header: unknown, data: Buffer) => {
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, data]);
  };

  it("reads tensors at their offsets", async () => {
    const f = path.join(tmp, "ok.safetensors");
    await fs.writeFile(f, st({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F16", shape: [1], data_offsets: [8, 10] } },
      Buffer.concat([Buffer.from(Float32Array.of(1.5, -2).buffer), Buffer.from(Uint16Array.of(0xc000).buffer)])));
    const src = await SafetensorsSource.open(f);
    try {
      expect(src.names().sort()).toEqual(["a", "b"]);
      expect(await src.read("a")).toEqual({ kind: "f32", values: Float32Array.of(1.5, -2) });
      expect(await src.read("b")).toEqual({ kind: "f16", bits: Uint16Array.of(0xc000) });
    } finally {
      await src.close();
    }
  });

  it("rejects offsets past the end, wrong sizes and garbage headers", async () => {
    const cases = {
      past: st({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)),
      size: st({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      dtype: st({ a: { dtype: "F128", shape: [1], data_offsets: [0, 16] } }, Buffer.alloc(16)),
      garbage: Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{oops")]),
      huge: Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x7b]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const f = path.join(tmp, `${name}.safetensors`);
      await fs.writeFile(f, bytes);
      expect(await codeOf(SafetensorsSource.open(f)), name).toBe("CORRUPT_SOURCE");
    }
  });
});

describe("dtype decoding", () => {
  it("decodes f16 exactly (subnormals, infinities) and bf16 by widening", () => {
    expect(Array.from(f16BitsToF32(Uint16Array.of(0x0001, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00)))).toEqual([2 ** -24, 1, -2, 65504, Infinity, -Infinity]);
    expect(Number.isNaN(f16BitsToF32(Uint16Array.of(0x7e00))[0])).toBe(true);
    const bf16 = decodeTensorBytes(new Uint8Array(Uint16Array.of(0x3fc0, 0xc040).buffer), "bf16", "x");
    expect(bf16).toEqual({ kind: "f32", values: Float32Array.of(1.5, -3) });
    expect(() => decodeTensorBytes(new Uint8Array(1), "f8_e4m3", "x")).toThrow(/dtype f8_e4m3/);
  });
});
