// The OpenAI dialect, driven by the official `openai` npm client, unmodified, over 127.0.0.1.
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhisperBackend } from "../../lib/backends/whisper.js";
import { makeAudio } from "../fixtures/models.js";
import { form, NOT_WAV, postForm, SCRIPT, SCRIPT_TEXT, startTestServer, wavFile } from "./helpers.js";
import type { TestServer } from "./helpers.js";

let server: TestServer;
let client: OpenAI;
beforeAll(async () => {
  server = await startTestServer();
  client = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
});

const audioFile = () => toFile(wavFile(), "speech.wav", { type: "audio/wav" });
const USAGE = { type: "duration", seconds: 4 };
const SRT = "1\n00:00:00,400 --> 00:00:01,800\nHello world, this is TingWu.\n\n2\n00:00:02,000 --> 00:00:03,600\n你好，世界。\n\n";

describe("OpenAI audio API with the official client", () => {
  it("transcriptions.create (json)", async () => {
    const result = await client.audio.transcriptions.create({ file: await audioFile(), model: "whisper-1" });
    expect(result).toEqual({ text: SCRIPT_TEXT, usage: USAGE });
  });

  it("transcriptions.create (text, srt, vtt)", async () => {
    const text = await client.audio.transcriptions.create({ file: await audioFile(), model: "whisper-1", response_format: "text" });
    expect(text).toBe(`${SCRIPT_TEXT}\n`);
    const srt = await client.audio.transcriptions.create({ file: await audioFile(), model: "whisper-1", response_format: "srt", language: "zh" });
    expect(srt).toBe(SRT);
    const vtt = await client.audio.transcriptions.create({ file: await audioFile(), model: "whisper-1", response_format: "vtt" });
    expect(vtt).toBe("WEBVTT\n\n00:00:00.400 --> 00:00:01.800\nHello world, this is TingWu.\n\n00:00:02.000 --> 00:00:03.600\n你好，世界。\n\n");
  });

  it("transcriptions.create (verbose_json with word and segment timestamps)", async () => {
    const result = await client.audio.transcriptions.create({
      file: await audioFile(),
      model: "whisper-1",
      response_format: "verbose_json",
      timestamp_granularities: ["word", "segment"],
      prompt: "TingWu",
      temperature: 0,
    });
    const backend = server.manager.backendInstance as WhisperBackend;
    const direct = await backend.transcribeSamples(makeAudio(4), { language: "auto", includeTokens: true });
    expect(result).toEqual({
      task: "transcribe",
      language: "chinese",
      duration: 4,
      text: SCRIPT_TEXT,
      segments: SCRIPT.segments.map((s, id) => ({
        id,
        seek: 0,
        start: s.start / 1000,
        end: s.end / 1000,
        text: s.text,
        tokens: direct.whisper.segments[id]!.tokens!.map((t) => t.id),
        temperature: 0,
        avg_logprob: 0,
        compression_ratio: expect.any(Number),
        no_speech_prob: direct.whisper.segments[id]!.noSpeechProb,
      })),
      words: expect.any(Array),
      usage: USAGE,
    });
    expect(result.words!.map((w) => w.word)).toEqual(["Hello", "world,", "this", "is", "TingWu.", "你好，世界。"]);
    expect(result.words![0]!.start).toBe(0.4);
    expect(result.words![5]).toEqual({ word: "你好，世界。", start: 2, end: 3.6 });
  });

  it("verbose_json with only word granularity leaves segments out", async () => {
    const result = await client.audio.transcriptions.create({ file: await audioFile(), model: "whisper-1", response_format: "verbose_json", timestamp_granularities: ["word"] });
    expect(result.segments).toBeUndefined();
    expect(result.words).toHaveLength(6);
  });

  it("translations.create", async () => {
    const result = await client.audio.translations.create({ file: await audioFile(), model: "whisper-1" });
    expect(result).toEqual({ text: SCRIPT_TEXT, usage: USAGE });
    const verbose = await client.audio.translations.create({ file: await audioFile(), model: "whisper-1", response_format: "verbose_json" });
    expect(verbose).toMatchObject({ task: "translate", language: "chinese", duration: 4, text: SCRIPT_TEXT });
  });

  it("stream=true sends transcript.text.delta events and transcript.text.done", async () => {
    const stream = await client.audio.transcriptions.create({ file: await audioFile(), model: "whisper-1", stream: true });
    const events: unknown[] = [];
    for await (const event of stream) events.push(event);
    expect(events).toEqual([
      { type: "transcript.text.delta", delta: "Hello world, this is TingWu." },
      { type: "transcript.text.delta", delta: " 你好，世界。" },
      { type: "transcript.text.done", text: SCRIPT_TEXT, usage: USAGE },
    ]);
  });

  it("models.list and models.retrieve", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toEqual(["whisper-1", server.settings.whisperModel.split("/").pop()]);
    expect(models[0]).toEqual({ id: "whisper-1", object: "model", created: expect.any(Number), owned_by: "tingwu-whisper" });
    expect(await client.models.retrieve("whisper-1")).toEqual(models[0]);
    await expect(client.models.retrieve("gpt-5")).rejects.toMatchObject({ status: 404, code: "model_not_found", param: "model", type: "invalid_request_error" });
  });

  it("errors reach the client as OpenAI errors", async () => {
    const error = await client.audio.transcriptions
      .create({ file: await toFile(Buffer.from("not audio at all"), "x.mp3"), model: "whisper-1" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NOT_WAV.status === 400 ? OpenAI.BadRequestError : OpenAI.APIError);
    expect(error).toMatchObject({ status: NOT_WAV.status, type: "invalid_request_error", param: "file", code: NOT_WAV.code });
  });
});

describe("OpenAI error shape", () => {
  it("a bad response_format is 400 {error:{message,type,param,code}}", async () => {
    const res = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavFile(), model: "whisper-1", response_format: "docx" }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body).toEqual({ error: { message: expect.stringMatching(/^Invalid field response_format: /), type: "invalid_request_error", param: "response_format", code: "invalid_value" } });
  });

  it("an unknown URL is 404 in OpenAI's shape", async () => {
    const res = await fetch(`${server.base}/v1/chat/completions`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "Unknown request URL: POST /v1/chat/completions", type: "invalid_request_error", param: null, code: "unknown_url" } });
    const bad = await fetch(`${server.base}/v1/models/%00%ff`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { message: "'/v1/models/%00%ff' is not a valid url component", type: "invalid_request_error", param: null, code: "invalid_request" } });
  });
});
