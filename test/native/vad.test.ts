// VAD end to end on generated models: a Silero-shaped model converted by our converter whose
// "speech" is a DC offset (exact decisions), and the scripted Whisper model (exact transcripts),
// so chunking, timestamp mapping, streaming order and abort are asserted exactly.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, Whisper } from "../../lib/index.js";
import type { Segment } from "../../lib/index.js";
import { convertSilero, sileroTensors } from "../../lib/models/convert/silero.js";
import { loadNative } from "../../lib/native.js";
import { planChunks } from "../../lib/vad/chunks.js";
import { speechSegments } from "../../lib/vad/segments.js";
import { SCRIPT, scriptedModelPath } from "../fixtures/models.js";
import { dcDetectorWeights, writeSafetensors } from "../fixtures/vad/signal.js";

let tmp: string;
let vadModel: string;
let model: Whisper;
const plain = (segments: Segment[]) => segments.map(({ start, end, text }) => ({ start, end, text }));

// Speech (DC) blocks on 512-sample window boundaries: [start, end) in samples.
const W = 512;
const BLOCKS = [[4 * W * 8, 4 * W * 8 + 160 * W], [800 * W, 960 * W], [1100 * W, 1260 * W], [3000 * W, 3160 * W]] as const;
const TOTAL = 3300 * W; // 105.6 s
function blockAudio(): Float32Array {
  const audio = new Float32Array(TOTAL);
  for (const [s, e] of BLOCKS) audio.fill(0.1, s, e);
  return audio;
}
const PAD = 200 * 16; // VAD_DEFAULTS.speechPadMs in samples

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-vad-"));
  await writeSafetensors(path.join(tmp, "silero_vad_16k.safetensors"), dcDetectorWeights());
  vadModel = path.join(tmp, "ggml-silero-dc.bin");
  await convertSilero(tmp, vadModel, { version: "6.2.0" });
  model = await Whisper.load(await scriptedModelPath({ dims: "mini" }), { threads: 1, concurrency: 3 });
});

afterAll(async () => {
  await model?.dispose();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("converted Silero model in whisper.cpp", () => {
  it("writes whisper.cpp's header and tensor table", async () => {
    const bytes = await fs.readFile(vadModel);
    let o = 0;
    const i32 = () => { const v = bytes.readInt32LE(o); o += 4; return v; };
    expect(i32()).toBe(0x67676d6c);
    const typeLen = i32();
    expect(bytes.subarray(o, o + typeLen).toString()).toBe("silero-16k");
    o += typeLen;
    expect([i32(), i32(), i32()]).toEqual([6, 2, 0]);
    expect([i32(), i32(), i32()]).toEqual([512, 64, 4]);
    const layers = Array.from({ length: 4 }, () => [i32(), i32(), i32()]);
    expect(layers).toEqual([[129, 128, 3], [128, 64, 3], [64, 64, 3], [64, 128, 3]]);
    expect([i32(), i32(), i32(), i32()]).toEqual([128, 128, 128, 1]);
    const seen: { name: string; shape: number[]; type: number }[] = [];
    while (o < bytes.length) {
      const [dims, nameLen, type] = [i32(), i32(), i32()];
      const shape = Array.from({ length: dims }, i32);
      const name = bytes.subarray(o, o + nameLen).toString();
      o += nameLen + shape.reduce((a, b) => a * b, 1) * (type === 1 ? 2 : 4);
      seen.push({ name, shape, type });
    }
    expect(o).toBe(bytes.length);
    expect(seen).toEqual(sileroTensors().map((t) => ({ name: t.name, shape: t.shape, type: t.type === "f16" ? 1 : 0 })));
    expect(seen.map((t) => t.name)).toContain("_model.stft.forward_basis_buffer");
  });

  it("loads in whisper.cpp and gives the designed decisions, one per 512-sample window", async () => {
    const { binding } = loadNative();
    const { probs, windowSamples } = await binding.detectSpeech(vadModel, blockAudio(), { threads: 1, gpu: false, gpuDevice: 0 }).promise;
    expect(windowSamples).toBe(512);
    expect(probs.length).toBe(TOTAL / W);
    const speech = [...probs].map((p) => p >= 0.5);
    const expected = Array.from({ length: TOTAL / W }, (_, i) => BLOCKS.some(([s, e]) => i * W >= s && i * W < e));
    expect(speech).toEqual(expected);
  });

  it("rejects a file that is not a VAD model with whisper.cpp's reason", async () => {
    const bogus = path.join(tmp, "bogus.bin");
    await fs.writeFile(bogus, Buffer.alloc(64));
    const { binding } = loadNative();
    await expect(binding.detectSpeech(bogus, new Float32Array(16000), { threads: 1, gpu: false, gpuDevice: 0 }).promise).rejects.toThrow(/VAD model/);
  });
});

describe("transcribe({ vad })", () => {
  // Chunks: the first two blocks are 33.28 s apart... every pause here is > 3 s, so one chunk per block.
  const chunkStarts = BLOCKS.map(([s]) => (s - PAD) / 16);
  const expected = chunkStarts.flatMap((c) => SCRIPT.segments.map((s) => ({ start: c + s.start, end: c + s.end, text: s.text })));

  it("decodes only the speech, with timestamps in the original audio's time (parallel)", async () => {
    const streamed: Segment[] = [];
    const r = await model.transcribe(blockAudio(), { vad: { model: vadModel }, language: "zh", onSegment: (s) => streamed.push(s) });
    expect(plain(r.segments)).toEqual(expected);
    expect(plain(streamed)).toEqual(expected);
    expect(r.text).toBe(SCRIPT.text.repeat(BLOCKS.length));
    expect(r.timings.vadMs).toBeGreaterThan(0);
    // The plan the test relies on is the library's own.
    const { binding } = loadNative();
    const { probs } = await binding.detectSpeech(vadModel, blockAudio(), { threads: 1, gpu: false, gpuDevice: 0 }).promise;
    const chunks = planChunks(speechSegments(probs, W, { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, maxSpeechS: 28, speechPadMs: 200 }), 30 * 16000);
    expect(chunks.map((c) => c.start / 16)).toEqual(chunkStarts);
  });

  it("gives the same result sequentially (previous chunk's text as prompt) and with offsetMs", async () => {
    const r = await model.transcribe(blockAudio(), { vad: { model: vadModel, concurrency: 1 }, language: "zh" });
    expect(plain(r.segments)).toEqual(expected);
    // Cutting the first 10.24 s (on the 512-sample window grid) keeps every timestamp in the original audio's time.
    const cut = await model.transcribe(blockAudio(), { vad: { model: vadModel }, language: "zh", offsetMs: 10_240 });
    expect(plain(cut.segments)).toEqual(expected.slice(2));
  });

  it("streams segments in audio order while chunks finish out of order", async () => {
    const order: number[] = [];
    await model.transcribe(blockAudio(), { vad: { model: vadModel, concurrency: 3 }, language: "zh", onSegment: (s) => order.push(s.start) });
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.length).toBe(expected.length);
  });

  it("returns no segments for audio without speech", async () => {
    const r = await model.transcribe(new Float32Array(20 * 16000), { vad: { model: vadModel }, language: "zh" });
    expect(r.segments).toEqual([]);
    expect(r.text).toBe("");
  });

  it("aborts in the middle of a parallel run and leaves the model usable", async () => {
    const controller = new AbortController();
    let seen = 0;
    const run = model.transcribe(blockAudio(), {
      vad: { model: vadModel, concurrency: 3 },
      language: "zh",
      signal: controller.signal,
      onSegment: () => {
        if (++seen === 1) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(model.active).toBe(0);
    const again = await model.transcribe(blockAudio(), { vad: { model: vadModel }, language: "zh" });
    expect(plain(again.segments)).toEqual(expected);
  });

  it("names the option in validation errors", async () => {
    await expect(model.transcribe(blockAudio(), { vad: { threshold: 2 } })).rejects.toThrow(/vad\.threshold/);
    await expect(model.transcribe(blockAudio(), { vad: { model: "silero-v9" } })).rejects.toThrow(/vad\.model/);
    await expect(model.transcribe(blockAudio(), { vad: "yes" as unknown as boolean })).rejects.toThrow(TypeError);
  });
});
