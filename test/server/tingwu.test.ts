// TingWu's routes over a real socket, with the scripted model: exact response bodies.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../lib/version.js";
import { form, NOT_WAV, postForm, SCRIPT, SCRIPT_SENTENCES, SCRIPT_TEXT, startTestServer, wavFile } from "./helpers.js";
import type { TestServer } from "./helpers.js";

const TRANSCRIPTION = {
  code: 0,
  text: SCRIPT_TEXT,
  text_accu: null,
  sentences: SCRIPT_SENTENCES.map((s) => ({ ...s, speaker: null, speaker_id: null })),
  speaker_turns: null,
  transcript: null,
  raw_text: SCRIPT_TEXT,
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("TingWu routes", () => {
  it("GET /health", async () => {
    const res = await fetch(`${server.base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "healthy", version: VERSION });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("GET /api/v1/backend", async () => {
    const res = await fetch(`${server.base}/api/v1/backend`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      backend: "whisper",
      info: {
        name: "WhisperBackend",
        type: "whisper",
        device: "cpu",
        model: path.basename(server.settings.whisperModel), // a path is shown by its file name only
        language: "zh",
        supports_speaker: false,
        supports_hotwords: true,
        supports_streaming: true,
        loaded: true,
        model_type: "unknown",
        threads: 2,
        concurrency: 1,
      },
      capabilities: {
        supports_speaker: false,
        supports_streaming: true,
        supports_hotwords: true,
        supports_speaker_fallback: false,
        supports_speaker_external: false,
        speaker_strategy: "ignore",
      },
      speaker_unsupported_behavior: "ignore",
    });
  });

  it("POST /api/v1/transcribe gives the exact transcription", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile() }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(TRANSCRIPTION);
  });

  it("accepts TingWu's fields: hotwords, boolean spellings, asr_options", async () => {
    const res = await postForm(
      `${server.base}/api/v1/transcribe`,
      form({
        file: wavFile(),
        with_speaker: "True",
        apply_hotword: "on",
        hotwords: "TingWu\nKubernetes",
        asr_options: JSON.stringify({ backend: { language: "zh", temperature: 0, beam_size: 2 }, postprocess: { itn: true }, debug: null }),
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(TRANSCRIPTION);
  });

  it.each([
    ["not JSON", "{oops", /asr_options is not valid JSON/],
    ["an array", "[1]", /asr_options must be a JSON object but received an array/],
    ["an unknown key", JSON.stringify({ backend: {}, colour: {} }), /asr_options has unknown key\(s\) "colour"; allowed: preprocess, chunking, backend, postprocess, speaker, debug/],
    ["a section that isn't an object", JSON.stringify({ chunking: 5 }), /asr_options\.chunking must be a JSON object/],
    ["a bad backend value", JSON.stringify({ backend: { temperature: 7 } }), /asr_options\.backend\.temperature/],
    ["an unknown language", JSON.stringify({ backend: { language: "klingon" } }), /asr_options\.backend\.language/],
  ])("bad asr_options (%s) -> 400 whose detail mentions asr_options", async (_what, value, pattern) => {
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), asr_options: value }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { detail: string };
    expect(Object.keys(body)).toEqual(["detail"]);
    expect(body.detail).toMatch(/asr_options/);
    expect(body.detail).toMatch(pattern);
  });

  it("bad booleans and a missing file are 400 {detail}", async () => {
    let res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(), with_speaker: "maybe" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'Invalid field with_speaker: expected true/false, 1/0, yes/no or on/off but received "maybe"' });
    res = await postForm(`${server.base}/api/v1/transcribe`, form({ hotwords: "x" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/^Invalid field file: /);
  });

  it.each([
    ["random bytes", Buffer.from("definitely not audio, just some text pretending to be a file"), NOT_WAV.status],
    ["a truncated WAV header", wavFile().subarray(0, 30), 400],
    ["a WAV without samples", wavFile().subarray(0, 44), 400],
    ["an empty file", Buffer.alloc(0), 400],
  ])("an undecodable upload (%s) is a 4xx (400, or 415 for non-WAV without ffmpeg), not a 500", async (_what, bytes, status) => {
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: bytes }));
    expect(res.status).toBe(status);
    const body = (await res.json()) as { detail: string };
    expect(Object.keys(body)).toEqual(["detail"]);
    expect(body.detail).toMatch(/decode|empty|audio/i);
  });

  it("audio shorter than 100 ms is a 400", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(0.05) }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: "The audio lasts 50 ms; at least 100 ms is needed" });
  });

  it("POST /api/v1/transcribe/batch: one bad file never fails the others", async () => {
    const res = await postForm(
      `${server.base}/api/v1/transcribe/batch`,
      form({ files: [{ data: wavFile(), name: "one.wav" }, { data: Buffer.from("garbage"), name: "bad.mp3" }, { data: wavFile(), name: "three.wav" }] as never, max_concurrent: "2" }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { error?: string }[] };
    expect(body.results[1]?.error).toMatch(NOT_WAV.detail);
    expect(body).toEqual({
      code: 1,
      total: 3,
      success_count: 2,
      failed_count: 1,
      results: [
        { index: 0, filename: "one.wav", success: true, result: TRANSCRIPTION },
        { index: 1, filename: "bad.mp3", success: false, error: body.results[1]?.error },
        { index: 2, filename: "three.wav", success: true, result: TRANSCRIPTION },
      ],
    });
  });

  it("POST /api/v1/transcribe/batch with every file good has code 0", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe/batch`, form({ files: [{ data: wavFile(), name: "only.wav" }] as never }));
    expect(await res.json()).toEqual({
      code: 0,
      total: 1,
      success_count: 1,
      failed_count: 0,
      results: [{ index: 0, filename: "only.wav", success: true, result: TRANSCRIPTION }],
    });
  });

  it("POST /api/v1/asr gives HH:MM:SS.mmm segments and the language", async () => {
    const res = await postForm(`${server.base}/api/v1/asr`, form({ file: wavFile(), file_type: "audio", with_speaker: "false" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      text: SCRIPT_TEXT,
      segments: [
        { sentence_index: 1, text: "Hello world, this is TingWu.", start: "00:00:00.400", end: "00:00:01.800", speaker: null },
        { sentence_index: 2, text: "你好，世界。", start: "00:00:02.000", end: "00:00:03.600", speaker: null },
      ],
      language: SCRIPT.language,
    });
  });

  it("answers CORS preflight requests from TingWu's frontend", async () => {
    const res = await fetch(`${server.base}/api/v1/transcribe`, {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:5173", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    expect(res.status).toBe(204);
    // CORS_ORIGINS defaults to "*", never with credentials (test/hostile/auth.test.ts has the rest).
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/content-type/i);
    const get = await fetch(`${server.base}/health`, { headers: { Origin: "http://localhost:5173" } });
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("unknown routes are 404 {detail}", async () => {
    const res = await fetch(`${server.base}/api/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "Not Found" });
  });

  it("a non-multipart body is 415 {detail}", async () => {
    const res = await fetch(`${server.base}/api/v1/transcribe`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: wavFile() });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ detail: "Expected a multipart/form-data upload" });
  });
});

describe("model loading", () => {
  it("transcription routes answer 503 'loading' until the model is ready; /health stays up", async () => {
    const loading = await startTestServer({}, { load: false });
    try {
      expect((await fetch(`${loading.base}/health`)).status).toBe(200);
      const res = await postForm(`${loading.base}/api/v1/transcribe`, form({ file: wavFile() }));
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      const shown = path.basename(loading.settings.whisperModel);
      expect(await res.json()).toEqual({ detail: `The model is loading (${shown}); retry shortly` });
      const ready = await fetch(`${loading.base}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: "idle", model: shown });
      await loading.manager.getBackend();
      expect((await fetch(`${loading.base}/ready`)).status).toBe(200);
      const ok = await postForm(`${loading.base}/api/v1/transcribe`, form({ file: wavFile() }));
      expect(await ok.json()).toEqual(TRANSCRIPTION);
    } finally {
      await loading.close();
    }
  });

  it("a failed load gives 503 with the reason", async () => {
    const broken = await startTestServer({ WHISPER_MODEL: "/nonexistent/dir/ggml-missing.bin" }, { load: false });
    try {
      await expect(broken.manager.getBackend()).rejects.toThrow();
      const res = await postForm(`${broken.base}/api/v1/transcribe`, form({ file: wavFile() }));
      expect(res.status).toBe(503);
      const body = (await res.json()) as { detail: string };
      expect(body.detail).toMatch(/^The model failed to load: Model file .*ggml-missing\.bin does not exist/);
      expect((await fetch(`${broken.base}/health`)).status).toBe(200);
    } finally {
      await broken.close();
    }
  });
});
