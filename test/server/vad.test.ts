// vad_filter on every dialect, over a real socket: the scripted model (exact text) and a converted
// Silero-shaped model that hears a DC offset as speech, so chunk positions are exact. The speech
// block starts at 1.024 s; with 200 ms of padding the chunk starts at 824 ms, and the script's
// segments (400-1800, 2000-3600 ms in the chunk) come back in the file's time.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertSilero } from "../../lib/models/convert/silero.js";
import { encodeWav16 } from "../helpers/wav.js";
import { dcDetectorWeights, writeSafetensors } from "../fixtures/vad/signal.js";
import { form, postForm, startTestServer } from "./helpers.js";
import type { TestServer } from "./helpers.js";

let tmp: string;
let server: TestServer;
const speech = new Float32Array(12 * 16000);
speech.fill(0.1, 16384, 16384 + 160 * 512);
const wav = encodeWav16(speech);
const silence = encodeWav16(new Float32Array(10 * 16000));

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-vad-server-"));
  await writeSafetensors(path.join(tmp, "silero_vad_16k.safetensors"), dcDetectorWeights());
  const vadModel = path.join(tmp, "ggml-silero-dc.bin");
  await convertSilero(tmp, vadModel, { version: "6.2.0" });
  server = await startTestServer({ WHISPER_VAD_MODEL: vadModel, WHISPER_POOL_SIZE: "2" });
});
afterAll(async () => {
  await server?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("vad_filter", () => {
  it("whisper-asr-webservice: vad_filter=true decodes the speech, timestamps in the file's time", async () => {
    const on = await postForm(`${server.base}/asr?vad_filter=true&output=tsv&language=zh`, form({ audio_file: wav }));
    expect(on.status).toBe(200);
    expect(await on.text()).toBe("start\tend\ttext\n1224\t2624\tHello world, this is TingWu.\n2824\t4424\t你好，世界。\n");
    // Omitted: the server's WHISPER_VAD (false) applies and the whole file is decoded.
    const off = await postForm(`${server.base}/asr?output=tsv&language=zh`, form({ audio_file: wav }));
    expect(await off.text()).toBe("start\tend\ttext\n400\t1800\tHello world, this is TingWu.\n2000\t3600\t你好，世界。\n");
    const bad = await postForm(`${server.base}/asr?vad_filter=maybe`, form({ audio_file: wav }));
    expect(bad.status).toBe(400);
  });

  it("TingWu: asr_options.backend.vad_filter / vad_parameters", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wav, asr_options: JSON.stringify({ backend: { vad_filter: true, vad_parameters: { speech_pad_ms: 100 } } }) }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sentences: { start: number; end: number }[] };
    expect(body.sentences.map((s) => [s.start, s.end])).toEqual([[924 + 400, 924 + 1800], [924 + 2000, 924 + 3600]]);
    const bad = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wav, asr_options: JSON.stringify({ backend: { vad_parameters: { threshold: 2 } } }) }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/asr_options\.backend\.vad_parameters\.threshold/);
  });

  it("OpenAI: the vad_filter extension field; silence gives no text", async () => {
    const fd = (file: Buffer) => form({ file, model: "whisper-1", response_format: "verbose_json", vad_filter: "true", language: "zh" });
    const res = await postForm(`${server.base}/v1/audio/transcriptions`, fd(wav));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { segments: { start: number; end: number }[] };
    expect(body.segments.map((s) => [s.start, s.end])).toEqual([[1.224, 2.624], [2.824, 4.424]]);
    const quiet = await postForm(`${server.base}/v1/audio/transcriptions`, fd(silence));
    expect(((await quiet.json()) as { text: string }).text).toBe("");
  });
});
