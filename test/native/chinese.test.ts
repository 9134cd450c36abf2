// chineseScript/chinesePunctuation/chinesePrompt through the addon with the scripted model.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Whisper } from "../../lib/whisper.js";
import type { Segment } from "../../lib/whisper.js";
import { makeAudio, SCRIPT, scriptedModelPath } from "../fixtures/models.js";

let model: Whisper;
const audio = makeAudio(4);
beforeAll(async () => {
  model = await Whisper.load(await scriptedModelPath(), { threads: 1 });
});
afterAll(async () => {
  await model?.dispose();
});

describe("Chinese output options", () => {
  it("are validated with messages naming them", async () => {
    await expect(model.transcribe(audio, { chineseScript: "kanji" as never })).rejects.toThrow(RangeError);
    await expect(model.transcribe(audio, { chineseScript: "kanji" as never })).rejects.toThrow(/one of simplified, traditional, traditional-tw, traditional-hk, as-is for chineseScript/);
    await expect(model.transcribe(audio, { chinesePunctuation: "yes" as never })).rejects.toThrow(/Expected a boolean for chinesePunctuation/);
    await expect(model.transcribe(audio, { chinesePrompt: 1 as never })).rejects.toThrow(TypeError);
  });

  it("keep times, tokens and streamed segments aligned with the result", async () => {
    const streamed: Segment[] = [];
    const plain = await model.transcribe(audio, { language: "zh", includeTokens: true });
    const result = await model.transcribe(audio, {
      language: "zh",
      includeTokens: true,
      chineseScript: "traditional-tw",
      chinesePunctuation: true,
      chinesePrompt: true,
      onSegment: (s) => streamed.push(s),
    });
    expect(result.text).toBe(SCRIPT.text);
    expect(result.segments.map((s) => [s.start, s.end])).toEqual(plain.segments.map((s) => [s.start, s.end]));
    expect(result.segments.map((s) => s.tokens!.map((t) => [t.text, t.start, t.end]))).toEqual(plain.segments.map((s) => s.tokens!.map((t) => [t.text, t.start, t.end])));
    expect(streamed.map((s) => s.text)).toEqual(result.segments.map((s) => s.text));
  });
});
