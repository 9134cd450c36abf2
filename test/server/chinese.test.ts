// The Chinese output script on every HTTP dialect: accepted where valid (the scripted transcript
// is the same in every script), refused with each dialect's 400 shape where not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { form, postForm, startTestServer, wavFile } from "./helpers.js";
import type { TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("chinese_script on every dialect", () => {
  it("whisper-asr-webservice: a query parameter", async () => {
    const ok = await postForm(`${server.base}/asr?language=zh&chinese_script=traditional-tw`, form({ audio_file: { data: wavFile(), name: "a.wav" } }));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("Hello world, this is TingWu.\n你好，世界。\n");
    const bad = await postForm(`${server.base}/asr?chinese_script=kanji`, form({ audio_file: { data: wavFile(), name: "a.wav" } }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ detail: expect.stringMatching(/chinese_script.*kanji|kanji.*chinese_script/) });
  });

  it("OpenAI: an extension form field", async () => {
    const ok = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavFile(), model: "whisper-1", language: "zh", chinese_script: "simplified", response_format: "text" }));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("你好，世界。");
    const bad = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavFile(), model: "whisper-1", chinese_script: "kanji" }));
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { param: string; message: string; type: string } };
    expect(body.error).toMatchObject({ param: "chinese_script", type: "invalid_request_error" });
    expect(body.error.message).toMatch(/simplified, traditional, traditional-tw, traditional-hk, as-is/);
  });

  it("TingWu: asr_options.backend.chinese_script and chinese_punctuation", async () => {
    const options = JSON.stringify({ backend: { chinese_script: "traditional-hk", chinese_punctuation: false } });
    const ok = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), asr_options: options }));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { text: string }).text).toContain("你好，世界。");
    const bad = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), asr_options: JSON.stringify({ backend: { chinese_script: "kanji" } }) }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/asr_options\.backend\.chinese_script/);
  });
});
