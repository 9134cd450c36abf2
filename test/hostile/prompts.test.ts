// Defects 1 and 2 of issue 12: a long prompt crashed the server (SIGSEGV in whisper.cpp's regex
// tokenizer) or held the inference slot for minutes. Prompts are now tokenized in linear time in
// TypeScript, and fields over their documented limits are 413 in each dialect's shape.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIELD_LIMITS } from "../../lib/limits.js";
import { form, postForm, SCRIPT_TEXT, startTestServer, wavFile } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

const LETTERS = "a".repeat(FIELD_LIMITS.prompt);
const CHINESE = "这是一个很长的中文提示词没有任何空格".repeat(900).slice(0, 15_000);
const SYMBOLS = "1, 2; 3 ...!? ".repeat(3_000).slice(0, 40_000);

async function healthy(): Promise<void> {
  const response = await fetch(`${server.base}/health`);
  expect(response.status).toBe(200);
}

describe("long prompts neither crash nor stall the server", () => {
  it("OpenAI prompt: letters and Chinese prose at the limit", async () => {
    for (const prompt of [LETTERS, CHINESE]) {
      const response = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavFile(), model: "whisper-1", prompt }));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { text: string }).text).toBe(SCRIPT_TEXT);
    }
    await healthy();
  });

  it("TingWu asr_options.backend.initial_prompt and a single 40,000-character hotwords line", async () => {
    const asrOptions = JSON.stringify({ backend: { initial_prompt: CHINESE } });
    const response = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), asr_options: asrOptions, hotwords: SYMBOLS }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { text: string }).text).toBe(SCRIPT_TEXT);
    await healthy();
  });

  it("/asr initial_prompt (query)", async () => {
    const prompt = "b".repeat(8_000); // one 8k-letter word; Node's 16 KB header limit bounds the URL
    const response = await postForm(`${server.base}/asr?output=txt&initial_prompt=${prompt}`, form({ audio_file: wavFile() }));
    expect(response.status).toBe(200);
    expect((await response.text()).trim()).toContain("Hello world");
  });
});

describe("fields over their limits are 413, naming the field and the limit", () => {
  it("OpenAI prompt", async () => {
    const response = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavFile(), model: "whisper-1", prompt: `${LETTERS}a` }));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { message: string; param: string; code: string; type: string } };
    expect(body.error).toMatchObject({ param: "prompt", code: "field_too_long", type: "invalid_request_error" });
    expect(body.error.message).toBe(`prompt is ${FIELD_LIMITS.prompt + 1} characters long; the limit is ${FIELD_LIMITS.prompt} characters`);
  });

  it("TingWu hotwords and asr_options.backend.initial_prompt", async () => {
    let response = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), hotwords: "x".repeat(FIELD_LIMITS.hotwords + 1) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: `hotwords is ${FIELD_LIMITS.hotwords + 1} characters long; the limit is ${FIELD_LIMITS.hotwords} characters` });
    const asrOptions = JSON.stringify({ backend: { initial_prompt: "中".repeat(FIELD_LIMITS.prompt + 1) } });
    response = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), asr_options: asrOptions }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/^asr_options\.backend\.initial_prompt is 16385 characters long; the limit is 16384 characters$/);
  });

  it("the queue place of a refused request is given back", async () => {
    expect(server.app.tingwu.queue.admitted).toBe(0);
  });
});
