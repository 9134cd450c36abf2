import { describe, expect, it } from "vitest";
import { CHINESE_SCRIPTS, chineseConverter, fullWidthPunctuation, parseChineseScript, rewriteChineseSegment, scriptPrompt } from "../../lib/chinese/index.js";
import type { ChineseScript } from "../../lib/chinese/index.js";
import { loadSettings, SettingsError } from "../../lib/config.js";
import type { Segment } from "../../lib/whisper.js";

const token = (text: string, start: number, end: number, special = false) => ({ id: 1, text, p: 0.9, start, end, special });

describe("Chinese script conversion", () => {
  it("converts Chinese and leaves Latin words, numbers and code alone", () => {
    const simplified = chineseConverter("simplified");
    expect(simplified("建建起恩寶,我們去東原山步伐。Node.js 3.14 iPhone")).toBe("建建起恩宝,我们去东原山步伐。Node.js 3.14 iPhone");
    expect(chineseConverter("traditional")("我们的头发")).toBe("我們的頭髮");
    expect(chineseConverter("traditional-tw")("软件和鼠标")).toBe("軟體和滑鼠");
    expect(chineseConverter("traditional-hk")("里面")).toBe("裏面");
    expect(chineseConverter("as-is")("我們 我们")).toBe("我們 我们");
  });

  it("is idempotent for every script", () => {
    const texts = ["今天天氣很好,我們去公園散步吧。", "語音識別可以把說話的聲音變成文字 and English.", "软件 头发 里面 3.14"];
    for (const script of CHINESE_SCRIPTS) {
      const convert = chineseConverter(script);
      for (const text of texts) expect(convert(convert(text)), `${script}: ${text}`).toBe(convert(text));
    }
  });

  it("validates the script option with a message naming it", () => {
    expect(parseChineseScript(" Traditional-TW ")).toBe("traditional-tw");
    expect(() => parseChineseScript("klingon", "chinese_script")).toThrow(RangeError);
    expect(() => parseChineseScript("klingon", "chinese_script")).toThrow(/simplified, traditional, traditional-tw, traditional-hk, as-is for chinese_script/);
    expect(() => parseChineseScript(3)).toThrow(TypeError);
  });

  it("writes the prompt sentence in the chosen script", () => {
    expect(scriptPrompt("simplified")).toBe("以下是普通话的句子。");
    expect(scriptPrompt("traditional")).toBe("以下是普通話的句子。");
    expect(scriptPrompt("as-is")).toBe("");
  });
});

describe("full-width punctuation", () => {
  it("rewrites marks after Chinese characters, not inside Latin words or numbers", () => {
    expect(fullWidthPunctuation("你好,世界.你好吗?好!注意:一;二", { dropSpaces: true })).toBe("你好，世界。你好吗？好！注意：一；二");
    expect(fullWidthPunctuation("版本3.14,很好", { dropSpaces: true })).toBe("版本3.14，很好");
    expect(fullWidthPunctuation("我用Node.js, e.g. this.", { dropSpaces: true })).toBe("我用Node.js, e.g. this.");
    expect(fullWidthPunctuation("你好, 世界", { dropSpaces: true })).toBe("你好，世界");
    expect(fullWidthPunctuation("你好, 世界")).toBe("你好， 世界");
    expect(fullWidthPunctuation("你好.com")).toBe("你好.com");
    expect(fullWidthPunctuation("Hello, world.")).toBe("Hello, world.");
  });

  it("decides a lone mark by its neighbours", () => {
    expect(fullWidthPunctuation(",", { before: "你好", after: "世界" })).toBe("，");
    expect(fullWidthPunctuation(".", { before: "3", after: "14" })).toBe(".");
    expect(fullWidthPunctuation(".", { before: "好", after: "com" })).toBe(".");
  });
});

describe("rewriteChineseSegment", () => {
  const segment = (): Segment => ({
    start: 1200,
    end: 3400,
    noSpeechProb: 0.01,
    text: " 我們用Node.js寫了3.14個軟體, 很好?",
    tokens: [token("[_BEG_]", 1200, 1200, true), token(" 我們", 1200, 1800), token("用Node.js", 1800, 2300), token("寫了3.14個軟體", 2300, 3000), token(",", 3000, 3050), token(" 很好", 3050, 3300), token("?", 3300, 3400)],
  });

  it("converts segment and tokens, keeps every time, and aligns punctuation", () => {
    const s = rewriteChineseSegment(segment(), { script: "simplified", punctuation: true });
    expect(s.text).toBe(" 我们用Node.js写了3.14个软体，很好？");
    expect([s.start, s.end, s.noSpeechProb]).toEqual([1200, 3400, 0.01]);
    expect(s.tokens!.map((t) => t.text)).toEqual(["[_BEG_]", " 我们", "用Node.js", "写了3.14个软体", "，", " 很好", "？"]);
    expect(s.tokens!.map((t) => [t.start, t.end])).toEqual(segment().tokens!.map((t) => [t.start, t.end]));
  });

  it("does only what is asked", () => {
    expect(rewriteChineseSegment(segment(), { script: "as-is", punctuation: true }).text).toBe(" 我們用Node.js寫了3.14個軟體，很好？");
    expect(rewriteChineseSegment(segment(), { script: "traditional-tw", punctuation: false }).text).toBe(" 我們用Node.js寫了3.14個軟體, 很好?");
    const english: Segment = { start: 0, end: 1000, noSpeechProb: 0, text: " Hello, world. It costs 3.14!" };
    for (const script of CHINESE_SCRIPTS) expect(rewriteChineseSegment({ ...english }, { script: script as ChineseScript, punctuation: true }).text).toBe(english.text);
  });
});

describe("settings", () => {
  it("default to Simplified, full-width punctuation and the script prompt", () => {
    const s = loadSettings({});
    expect([s.whisperZhScript, s.whisperZhPunctuation, s.whisperZhPrompt]).toEqual(["simplified", true, true]);
    const t = loadSettings({ WHISPER_ZH_SCRIPT: "Traditional-HK", WHISPER_ZH_PUNCTUATION: "off", WHISPER_ZH_PROMPT: "0" });
    expect([t.whisperZhScript, t.whisperZhPunctuation, t.whisperZhPrompt]).toEqual(["traditional-hk", false, false]);
  });

  it("name the bad variable", () => {
    let error: unknown;
    try {
      loadSettings({ WHISPER_ZH_SCRIPT: "kanji", WHISPER_ZH_PUNCTUATION: "maybe" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues.map((i) => i.variable)).toEqual(["WHISPER_ZH_SCRIPT", "WHISPER_ZH_PUNCTUATION"]);
  });
});
