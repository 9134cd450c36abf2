// whisper-asr-webservice's /asr and /detect-language over a real socket, with the scripted model.
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhisperBackend } from "../../lib/backends/whisper.js";
import { makeAudio } from "../fixtures/models.js";
import { form, postForm, rawPcm, SCRIPT, startTestServer, wavFile } from "./helpers.js";
import type { TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function asr(query: string, body: FormData) {
  const res = await postForm(`${server.base}/asr${query}`, body);
  return { res, text: await res.text() };
}

const SRT = "1\n00:00:00,400 --> 00:00:01,800\nHello world, this is TingWu.\n\n2\n00:00:02,000 --> 00:00:03,600\n你好，世界。\n\n";

describe("POST /asr", () => {
  it("output=srt is an attachment with HH:MM:SS,mmm cues", async () => {
    const { res, text } = await asr("?output=srt&task=transcribe&language=zh", form({ audio_file: { data: wavFile(), name: "talk.wav" } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="talk.wav.srt"; filename*=UTF-8''talk.wav.srt`);
    expect(res.headers.get("asr-engine")).toBe("whisper.cpp");
    expect(text).toBe(SRT);
  });

  it("encode=false takes raw s16le 16 kHz mono PCM", async () => {
    const { res, text } = await asr("?encode=false&output=srt", form({ audio_file: { data: rawPcm(), name: "raw.pcm" } }));
    expect(res.status).toBe(200);
    expect(text).toBe(SRT);
  });

  it("encode=false with an odd byte count is a 400", async () => {
    const { res, text } = await asr("?encode=false", form({ audio_file: { data: rawPcm().subarray(0, 32_001), name: "raw.pcm" } }));
    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ detail: expect.stringMatching(/^Could not decode the audio file: Expected whole frames/) });
  });

  it("output defaults to txt: one sentence per line", async () => {
    const { res, text } = await asr("", form({ audio_file: { data: wavFile(), name: "talk.wav" } }));
    expect(res.headers.get("content-disposition")).toMatch(/filename="talk\.wav\.txt"/);
    expect(text).toBe("Hello world, this is TingWu.\n你好，世界。\n");
  });

  it("output=vtt and output=tsv", async () => {
    const vtt = await asr("?output=vtt", form({ audio_file: wavFile() }));
    expect(vtt.text).toBe("WEBVTT\n\n00:00:00.400 --> 00:00:01.800\nHello world, this is TingWu.\n\n00:00:02.000 --> 00:00:03.600\n你好，世界。\n\n");
    const tsv = await asr("?output=tsv", form({ audio_file: wavFile() }));
    expect(tsv.text).toBe("start\tend\ttext\n400\t1800\tHello world, this is TingWu.\n2000\t3600\t你好，世界。\n");
  });

  it("output=json is openai-whisper's result with float seconds (and words with word_timestamps)", async () => {
    const { res, text } = await asr("?output=json&word_timestamps=true", form({ audio_file: { data: wavFile(), name: "talk.wav" } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/filename="talk\.wav\.json"/);
    // Token ids and no-speech probabilities come from the model; read them from a direct run.
    const backend = server.manager.backendInstance as WhisperBackend;
    const direct = await backend.transcribeSamples(makeAudio(4), { language: "auto", includeTokens: true });
    const ratio = (s: string) => Buffer.byteLength(s) / deflateSync(Buffer.from(s)).length;
    const json = JSON.parse(text);
    expect(json).toEqual({
      text: SCRIPT.text,
      language: "zh",
      segments: SCRIPT.segments.map((s, id) => ({
        id,
        seek: 0,
        start: s.start / 1000,
        end: s.end / 1000,
        text: s.text,
        tokens: direct.whisper.segments[id]!.tokens!.map((t) => t.id),
        temperature: 0,
        avg_logprob: 0,
        compression_ratio: ratio(s.text),
        no_speech_prob: direct.whisper.segments[id]!.noSpeechProb,
        words: expect.any(Array),
      })),
    });
    expect(json.segments[0].words.map((w: { word: string }) => w.word)).toEqual([" Hello", " world,", " this", " is", " TingWu."]);
    expect(json.segments[1].words.map((w: { word: string }) => w.word)).toEqual([" 你好，世界。"]);
    for (const segment of json.segments) {
      for (const w of segment.words) {
        expect(w.start).toBeGreaterThanOrEqual(segment.start);
        expect(w.end).toBeLessThanOrEqual(segment.end);
        expect(w.end).toBeGreaterThanOrEqual(w.start);
        expect(w.probability).toBe(1);
      }
    }
  });

  it("bad query parameters are 400 {detail}", async () => {
    let r = await asr("?output=docx", form({ audio_file: wavFile() }));
    expect(r.res.status).toBe(400);
    expect(JSON.parse(r.text).detail).toMatch(/^Invalid query parameter output: /);
    r = await asr("?language=klingon", form({ audio_file: wavFile() }));
    expect(r.res.status).toBe(400);
    expect(JSON.parse(r.text).detail).toMatch(/language/);
    r = await asr("", form({ file: wavFile() }));
    expect(r.res.status).toBe(400);
    expect(JSON.parse(r.text).detail).toMatch(/^Invalid field audio_file: /);
  });

  it("an undecodable upload is a 400", async () => {
    const r = await asr("?output=srt", form({ audio_file: { data: Buffer.from("RIFF\x10\x00\x00\x00WAVEjunkjunkjunk"), name: "bad.wav" } }));
    expect(r.res.status).toBe(400);
    expect(JSON.parse(r.text).detail).toMatch(/^Could not decode the audio file: /);
  });
});

describe("POST /detect-language", () => {
  it("returns the English name, the code and the confidence", async () => {
    const res = await postForm(`${server.base}/detect-language`, form({ audio_file: wavFile() }));
    expect(res.status).toBe(200);
    const backend = server.manager.backendInstance as WhisperBackend;
    const direct = await backend.whisper.detectLanguage(makeAudio(4));
    expect(await res.json()).toEqual({ detected_language: "chinese", language_code: "zh", confidence: direct.probability });
    expect(direct.probability).toBeGreaterThan(0.9);
  });

  it("accepts raw PCM with encode=false", async () => {
    const res = await postForm(`${server.base}/detect-language?encode=false`, form({ audio_file: rawPcm() }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ detected_language: "chinese", language_code: "zh" });
  });
});
