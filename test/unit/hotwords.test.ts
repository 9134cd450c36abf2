import { describe, expect, it } from "vitest";
import { buildHotwordPrompt, HOTWORD_PROMPT_PREFIX, parseHotwordTerms } from "../../lib/tingwu/hotwords.js";

const PREFIX = "专有名词/缩写提示（若出现请保持原样）：";
const terms = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `T${i + from}`);

describe("buildHotwordPrompt", () => {
  it("uses TingWu's prefix", () => {
    expect(HOTWORD_PROMPT_PREFIX).toBe(PREFIX);
  });

  it("lists terms joined with comma-space", () => {
    expect(buildHotwordPrompt("Kubernetes\nTingWu\n通义听悟")).toBe(`${PREFIX}Kubernetes, TingWu, 通义听悟`);
  });

  it("lists exactly 12 terms without a suffix", () => {
    expect(buildHotwordPrompt(terms(12).join("\n"))).toBe(`${PREFIX}T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12`);
  });

  it("lists the first 12 and counts the rest beyond 12", () => {
    expect(buildHotwordPrompt(terms(13).join("\n"))).toBe(`${PREFIX}T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12（另有1个）`);
    expect(buildHotwordPrompt(terms(20).join("\n"))).toBe(`${PREFIX}${terms(12).join(", ")}（另有8个）`);
  });

  it("considers at most 50 terms", () => {
    expect(buildHotwordPrompt(terms(50).join("\n"))).toBe(`${PREFIX}${terms(12).join(", ")}（另有38个）`);
    expect(buildHotwordPrompt(terms(80).join("\n"))).toBe(`${PREFIX}${terms(12).join(", ")}（另有38个）`);
  });

  it("trims lines, drops empty and # comment lines, and de-duplicates before counting", () => {
    const text = "\n  # meeting terms\nGPU \n\tCUDA\nGPU\n\n#ignored\n  ASR  \r\nCUDA\r\n";
    expect(parseHotwordTerms(text)).toEqual(["GPU", "CUDA", "ASR"]);
    expect(buildHotwordPrompt(text)).toBe(`${PREFIX}GPU, CUDA, ASR`);
    // 14 lines but 13 distinct terms.
    expect(buildHotwordPrompt([...terms(13), "T1"].join("\n"))).toBe(`${PREFIX}${terms(12).join(", ")}（另有1个）`);
  });

  it("splits on every line break Python's splitlines knows and strips ideographic spaces", () => {
    expect(buildHotwordPrompt("甲\r乙\u2028丙\v丁\f戊\u3000\n\u3000己")).toBe(`${PREFIX}甲, 乙, 丙, 丁, 戊, 己`);
  });

  it("keeps a comma inside a term (terms are lines, not comma-separated)", () => {
    expect(buildHotwordPrompt("Smith, John\nACME")).toBe(`${PREFIX}Smith, John, ACME`);
  });

  it("treats an array as its elements on separate lines", () => {
    expect(buildHotwordPrompt(["a", " b ", "", "a", "c\nd"])).toBe(`${PREFIX}a, b, c, d`);
  });

  it("returns undefined when there are no hotwords", () => {
    for (const none of [undefined, null, "", "   ", "\n\n \t", []]) expect(buildHotwordPrompt(none as never)).toBeUndefined();
  });

  it("keeps TingWu's quirk: comment-only text becomes the prompt verbatim (trimmed)", () => {
    expect(buildHotwordPrompt("  # only a comment\n# another  ")).toBe("# only a comment\n# another");
  });

  it("rejects non-string input", () => {
    expect(() => buildHotwordPrompt(42 as never)).toThrow(TypeError);
    expect(() => buildHotwordPrompt(["a", 1] as never)).toThrow(/hotwords\[1\]/);
  });
});
