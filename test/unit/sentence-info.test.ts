import { describe, expect, it } from "vitest";
import { toSentenceInfo } from "../../lib/tingwu/sentence-info.js";

describe("toSentenceInfo", () => {
  it("trims sentence texts, keeps ms bounds and joins the transcript as whisper wrote it", () => {
    const result = toSentenceInfo([
      { start: 0, end: 1500, text: " Hello world." },
      { start: 1500, end: 3020, text: " How are you?" },
    ]);
    expect(result).toEqual({
      text: "Hello world. How are you?",
      sentence_info: [
        { text: "Hello world.", start: 0, end: 1500 },
        { text: "How are you?", start: 1500, end: 3020 },
      ],
    });
  });

  it("adds no spaces between CJK segments", () => {
    const result = toSentenceInfo([
      { start: 0, end: 2000, text: "你好，" },
      { start: 2000, end: 4000, text: "世界。" },
    ]);
    expect(result.text).toBe("你好，世界。");
    expect(result.sentence_info.map((s) => s.text)).toEqual(["你好，", "世界。"]);
  });

  it("drops segments that are empty after trimming", () => {
    const result = toSentenceInfo([
      { start: 0, end: 100, text: "  " },
      { start: 100, end: 900, text: " a" },
      { start: 900, end: 1000, text: "" },
    ]);
    expect(result.sentence_info).toEqual([{ text: "a", start: 100, end: 900 }]);
    expect(result.text).toBe("a");
  });

  it("rounds to integer milliseconds", () => {
    const result = toSentenceInfo([{ start: 10.4, end: 1999.5, text: "x" }]);
    expect(result.sentence_info[0]).toEqual({ text: "x", start: 10, end: 2000 });
  });

  it("gives an empty transcript for no segments", () => {
    expect(toSentenceInfo([])).toEqual({ text: "", sentence_info: [] });
  });

  it("rejects malformed segments naming the index", () => {
    expect(() => toSentenceInfo([{ start: 0, end: 1, text: "a" }, { start: Number.NaN, end: 1, text: "b" }])).toThrow(/segments\[1\]\.start/);
    expect(() => toSentenceInfo([{ start: 0, end: 1 } as never])).toThrow(TypeError);
    expect(() => toSentenceInfo("x" as never)).toThrow(TypeError);
  });
});
