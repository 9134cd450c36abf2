// Mandarin accuracy that means something (issue 21): espeak-ng Mandarin through the real base
// model, three ways — as whisper.cpp writes it, converted to Simplified with full-width
// punctuation, and converted with a Simplified prompt — each scored two ways: the strict CER
// (punctuation stripped; a Traditional character counts as an error, because readers see it)
// and the script-normalised CER (both sides in Simplified: recognition alone).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WhisperBackend } from "../../lib/backends/whisper.js";
import { chineseConverter, isCjk } from "../../lib/chinese/index.js";
import { Whisper } from "../../lib/whisper.js";
import type { TranscribeOptions } from "../../lib/whisper.js";
import { hasCommand, synthesize } from "./helpers/audio.js";
import { report } from "./helpers/checks.js";
import { HAVE_REAL_MODEL, NO_MODEL_MESSAGE, REAL_MODEL, THREADS } from "./helpers/env.js";
import { characterErrorRate, percent } from "./helpers/text.js";

const SENTENCES = [
  "今天天气很好，我们去公园散步吧。请在会议开始之前把报告发给我。",
  "我喜欢在周末看书和听音乐。语音识别可以把说话的声音变成文字。",
  "这个会议室里面有十二把椅子。我们明天上午九点在学校门口见面。",
  "他们说这家饭店的面条非常好吃。请把窗户关上，外面的风太大了。",
];
const VOICE = "cmn-latn-pinyin"; // see espeak.test.ts: Debian's "cmn" voice reads its tone digits in English

const toSimplified = chineseConverter("simplified");
const HAVE_ESPEAK = hasCommand("espeak-ng");
// No temperature fallback: espeak's Mandarin fails whisper's log-probability check and a clip then
// takes minutes (docs/MODELS.md); the three ways are compared under the same greedy decoding.
const DECODING = { language: "zh", temperatureIncrement: 0 } as const;
const WAYS = {
  "as-is": DECODING,
  converted: { ...DECODING, chineseScript: "simplified", chinesePunctuation: true },
  "converted + prompt": { ...DECODING, chineseScript: "simplified", chinesePunctuation: true, chinesePrompt: true },
} satisfies Record<string, TranscribeOptions>;
type Way = keyof typeof WAYS;

interface Score { strict: number; normalised: number; chars: number; texts: string[] }

describe.skipIf(!HAVE_REAL_MODEL || !HAVE_ESPEAK)(!HAVE_REAL_MODEL ? NO_MODEL_MESSAGE : `Chinese script and Mandarin CER, ${path.basename(REAL_MODEL)}`, () => {
  let model: Whisper;
  let tmp: string;
  const clips: Float32Array[] = [];
  const scores = {} as Record<Way, Score>;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-accuracy-zh-"));
    model = await Whisper.load(REAL_MODEL, { threads: THREADS });
    for (const [i, text] of SENTENCES.entries()) clips.push((await synthesize(VOICE, text, tmp, `zh-${i}`)).samples);
    for (const [way, options] of Object.entries(WAYS) as [Way, TranscribeOptions][]) {
      const score: Score = { strict: 0, normalised: 0, chars: 0, texts: [] };
      for (const [i, samples] of clips.entries()) {
        const { text } = await model.transcribe(samples, options);
        const strict = characterErrorRate(SENTENCES[i]!, text);
        score.strict += strict.errors;
        score.normalised += characterErrorRate(SENTENCES[i]!, toSimplified(text)).errors;
        score.chars += strict.length;
        score.texts.push(text);
      }
      scores[way] = score;
      report(`Mandarin ${way}`, { strict_cer: percent(score.strict / score.chars), normalised_cer: percent(score.normalised / score.chars), chars: score.chars, texts: score.texts });
    }
  });

  afterAll(async () => {
    await model?.dispose();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("conversion leaves no Traditional character and puts full-width marks between Chinese characters", () => {
    for (const way of ["converted", "converted + prompt"] as const) {
      for (const text of scores[way].texts) {
        expect(toSimplified(text), way).toBe(text);
        const chars = [...text];
        chars.forEach((ch, i) => {
          if (/[,.?!:;]/.test(ch)) expect(isCjk(chars[i - 1]) && isCjk(chars[i + 1]), `${way}: ${text}`).toBe(false);
        });
      }
    }
  });

  it("conversion never makes the strict CER worse, and only the script differs from the raw text", () => {
    expect(scores.converted.strict).toBeLessThanOrEqual(scores["as-is"].strict);
    expect(scores.converted.normalised).toBe(scores["as-is"].normalised);
    // Bounds leave room for CPUs whose SIMD paths flip a borderline greedy choice; broken output
    // (wrong language, mojibake, empty) scores 100% or more.
    expect(scores["converted + prompt"].strict / scores["converted + prompt"].chars).toBeLessThanOrEqual(0.75);
  });

  it("the service's defaults (WhisperBackend: Simplified, full-width, prompt) keep TingWu hotwords working", async () => {
    const backend = new WhisperBackend({ model: REAL_MODEL, language: "zh", threads: THREADS, download: false });
    try {
      const result = await backend.transcribeSamples(clips[1]!, { hotwords: "语音识别\n音乐", temperatureIncrement: 0 });
      report("Mandarin backend + hotwords", { text: result.text });
      expect(toSimplified(result.text)).toBe(result.text);
      expect(characterErrorRate(SENTENCES[1]!, result.text).rate).toBeLessThanOrEqual(0.75);
      expect(result.sentence_info.length).toBeGreaterThan(0);
    } finally {
      await backend.unload();
    }
  });
});
