// lib/prompt/tokenizer.ts against whisper.cpp's own tokenize() (the addon's referenceTokenize):
// the same ids for every text, on the generated model's vocabulary and on a real one when present.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNative } from "../../lib/native.js";
import type { NativeModel } from "../../lib/native.js";
import { maxPromptTokens, packVocabulary, PromptTokenizer, wordEnd } from "../../lib/prompt/tokenizer.js";
import { Whisper } from "../../lib/index.js";
import { HAVE_REAL_MODEL, REAL_MODEL } from "../accuracy/helpers/env.js";
import { makeAudio, MIN_AUDIO_SECONDS, SCRIPT, scriptedModelPath } from "../fixtures/models.js";

const words = (text: string) => {
  const bytes = Buffer.from(text, "utf8");
  const out: string[] = [];
  for (let p = 0; p < bytes.length; ) {
    const e = wordEnd(bytes, p, bytes.length);
    out.push(bytes.subarray(p, e).toString("utf8"));
    p = e;
  }
  return out;
};

// Pieces that exercise every alternative of the pattern and the C locale's byte classes.
const PIECES = [" ", "  ", "\n", "\t", "\r\n", " \n ", "a", "Z", "hello", " world", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'x", "''", "0", "42", " 7",
  ".", ",", "!?", " -", "--", "你", "好", "世界", "，", "。", "é", "ß", "😀", "\u00a0", "\u3000", "_", "[_EOT_]", "<|endoftext|>", "ing", "Ting", "Wu", "\u0085"];
const textArb = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((parts) => parts.join(""));
const unicodeArb = fc.string({ unit: "grapheme", maxLength: 60 }).filter((s) => !s.includes("\0"));

function agreeOn(native: NativeModel, tokenizer: PromptTokenizer) {
  fc.assert(
    fc.property(fc.oneof(textArb, unicodeArb), (text) => {
      expect(Array.from(tokenizer.encode(text))).toEqual(Array.from(native.referenceTokenize(text)));
    }),
    { numRuns: 400 },
  );
}

describe("the pre-split (whisper.cpp's GPT-2 pattern in the C locale)", () => {
  it("splits like the regex", () => {
    expect(words("Hello world, it's 2024!")).toEqual(["Hello", " world", ",", " it", "'s", " 2024", "!"]);
    expect(words("a  b")).toEqual(["a", " ", " b"]);
    expect(words("a \n b")).toEqual(["a", " \n", " b"]);
    expect(words("x\ny")).toEqual(["x", "\n", "y"]);
    expect(words("end   ")).toEqual(["end", "   "]);
    expect(words("你好，世界。abc")).toEqual(["你好，世界。", "abc"]);
    expect(words("'x'll")).toEqual(["'", "x", "'ll"]);
    expect(words(" 'sx")).toEqual([" '", "sx"]);
  });
  it("keeps the last n_text_ctx/2 - 1 tokens", () => {
    expect(maxPromptTokens(448)).toBe(223);
    const vocab = ["a", "b"].map((s) => Buffer.from(s));
    const t = PromptTokenizer.fromVocabulary(packVocabulary(vocab));
    expect(Array.from(t.encodeTail("ab".repeat(200), 3))).toEqual([1, 0, 1]);
  });
});

describe("the same ids as whisper.cpp's tokenize()", () => {
  let native: NativeModel;
  beforeAll(async () => {
    native = await loadNative().binding.WhisperModel.load(await scriptedModelPath({ dims: "mini" }), { gpu: false, gpuDevice: 0, flashAttention: true });
  });
  afterAll(() => native?.free());

  it("on the generated model's vocabulary", () => {
    const tokenizer = PromptTokenizer.fromVocabulary(native.vocabulary());
    expect(Array.from(tokenizer.encode(" Hello world, this is TingWu."))).toEqual(Array.from(native.referenceTokenize(" Hello world, this is TingWu.")));
    agreeOn(native, tokenizer);
  });

  it.skipIf(!HAVE_REAL_MODEL)("on a real model's vocabulary (TINGWU_WHISPER_REAL_MODEL or data/models/real/ggml-base.bin)", async () => {
    const real = await loadNative().binding.WhisperModel.load(REAL_MODEL, { gpu: false, gpuDevice: 0, flashAttention: true });
    try {
      const tokenizer = PromptTokenizer.fromVocabulary(real.vocabulary());
      const sample = "专有名词/缩写提示（若出现请保持原样）：Kubernetes, TingWu. It's 2024 -- don't panic!";
      const ids = Array.from(tokenizer.encode(sample));
      expect(ids).toEqual(Array.from(real.referenceTokenize(sample)));
      expect(ids.length).toBeGreaterThan(10);
      agreeOn(real, tokenizer);
    } finally {
      real.free();
    }
  });
});

describe("long prompts (whisper.cpp's regex overflowed the stack on these)", () => {
  it("transcribes with 32k letters, 15k Chinese characters and 40k digits/punctuation as the prompt", async () => {
    await using model = await Whisper.load(await scriptedModelPath({ dims: "mini" }), { threads: 2 });
    const audio = makeAudio(MIN_AUDIO_SECONDS);
    const prompts = ["a".repeat(32_000), "中文提示词".repeat(3_000), "1, 2; 3 ".repeat(5_000)];
    for (const initialPrompt of prompts) {
      const result = await model.transcribe(audio, { initialPrompt, language: "en" });
      expect(result.text).toBe(SCRIPT.text);
    }
    expect(model.tokenize("a".repeat(32_000)).length).toBeGreaterThan(223);
  });
});
