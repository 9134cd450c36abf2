// The VAD policy in TypeScript: option validation (library, settings, TingWu's asr_options),
// Silero segmentation, chunk planning, the converter's CLI routing and its error on a non-Silero
// source, and timestamp mapping of chunk-relative segments.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConvert } from "../../lib/cli/convert.js";
import { loadSettings } from "../../lib/config.js";
import { convertSilero, isSileroSource } from "../../lib/models/convert/silero.js";
import { asrOptionsField } from "../../lib/server/asr-options.js";
import { chunkAudio, planChunks } from "../../lib/vad/chunks.js";
import { parseVadModel } from "../../lib/vad/model.js";
import { resolveVad, VAD_DEFAULTS, vadFromFasterWhisper } from "../../lib/vad/options.js";
import { speechSegments } from "../../lib/vad/segments.js";
import { shiftSegment } from "../../lib/vad/transcribe.js";
import { dcDetectorWeights, writeSafetensors } from "../fixtures/vad/signal.js";

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-vad-unit-"));
});
afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("vad option", () => {
  it("applies the defaults for true and fills in an object", () => {
    expect(resolveVad(undefined)).toBeUndefined();
    expect(resolveVad(false)).toBeUndefined();
    expect(resolveVad(true)).toEqual({ ...VAD_DEFAULTS, concurrency: undefined });
    expect(resolveVad({ threshold: 0.3, concurrency: 2 })).toMatchObject({ threshold: 0.3, concurrency: 2, model: "silero-v6.2.0" });
  });

  it("names the option in errors", () => {
    expect(() => resolveVad("on")).toThrow(TypeError);
    expect(() => resolveVad({ threshold: 1.5 })).toThrow("Expected a number between 0.01 and 0.99 for vad.threshold but received 1.5");
    expect(() => resolveVad({ minSpeechMs: 1.5 })).toThrow(/vad\.minSpeechMs/);
    expect(() => resolveVad({ speechPadMs: "1" })).toThrow(TypeError);
    expect(() => resolveVad({ thresold: 0.5 })).toThrow(/Unknown option "thresold"/);
    expect(() => parseVadModel("silero-v4")).toThrow(/vad\.model/);
    expect(parseVadModel("Silero-v6.2.0")).toEqual({ kind: "name", name: "silero-v6.2.0", fileName: "ggml-silero-v6.2.0.bin" });
    expect(parseVadModel("./x.bin")).toEqual({ kind: "path", path: "./x.bin" });
  });

  it("reads WHISPER_VAD and WHISPER_VAD_MODEL", () => {
    expect(loadSettings({})).toMatchObject({ whisperVad: false, whisperVadModel: "silero-v6.2.0" });
    expect(loadSettings({ WHISPER_VAD: "on", WHISPER_VAD_MODEL: "silero-v5.1.2" })).toMatchObject({ whisperVad: true, whisperVadModel: "silero-v5.1.2" });
    expect(() => loadSettings({ WHISPER_VAD: "maybe" })).toThrow(/WHISPER_VAD: expected true\/false, 1\/0, yes\/no or on\/off/);
    expect(() => loadSettings({ WHISPER_VAD_MODEL: "fsmn-vad" })).toThrow(/WHISPER_VAD_MODEL: expected a VAD model name/);
  });

  it("takes faster-whisper's vad_filter / vad_parameters in TingWu's asr_options.backend", () => {
    const parse = (o: unknown) => asrOptionsField.parse(JSON.stringify({ backend: o })).backend;
    expect(parse({ vad_filter: true })).toEqual({ vad: true });
    expect(parse({ vad_filter: false, vad_parameters: { threshold: 0.4 } })).toEqual({ vad: false });
    expect(parse({ vad_parameters: { min_silence_duration_ms: 1000, speech_pad_ms: 100 } })).toEqual({ vad: { minSilenceMs: 1000, speechPadMs: 100 } });
    expect(parse({})).toEqual({});
    expect(asrOptionsField.safeParse(JSON.stringify({ backend: { vad_parameters: { threshold: 3 } } })).error?.issues[0]?.message).toMatch(/asr_options\.backend\.vad_parameters\.threshold/);
    expect(() => vadFromFasterWhisper(true, { window_size_samples: 512 }, "x")).toThrow(/Unknown key "window_size_samples" in x\.vad_parameters/);
  });
});

describe("segmentation and chunks", () => {
  const P = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, maxSpeechS: 28, speechPadMs: 200 };
  const probs = (pattern: string) => [...pattern].map((c) => (c === "1" ? 0.9 : 0.05));

  it("finds speech with whisper.cpp's rules: min speech, min silence, merge, padding", () => {
    // 10 windows (0.32 s) of speech, 30 of silence (> 500 ms), 20 of speech, a 5-window dip (< 500 ms), 20 of speech.
    const p = probs(`${"0".repeat(20)}${"1".repeat(10)}${"0".repeat(30)}${"1".repeat(20)}${"0".repeat(5)}${"1".repeat(20)}${"0".repeat(40)}`);
    expect(speechSegments(p, 512, P)).toEqual([
      { start: 20 * 512 - 3200, end: 30 * 512 + 3200 },
      { start: 60 * 512 - 3200, end: 105 * 512 + 3200 },
    ]);
    // Too short to count: 5 windows = 160 ms < 250 ms.
    expect(speechSegments(probs(`${"0".repeat(20)}${"1".repeat(5)}${"0".repeat(40)}`), 512, P)).toEqual([]);
  });

  it("cuts speech longer than maxSpeechS", () => {
    const s = speechSegments(probs("1".repeat(3000)), 512, { ...P, maxSpeechS: 10, speechPadMs: 0 });
    expect(s.length).toBeGreaterThan(1);
    for (const x of s) expect(x.end - x.start).toBeLessThanOrEqual(10 * 16000);
  });

  it("packs speech into chunks of at most 30 s, and a long pause ends a chunk", () => {
    const sec = 16000;
    const chunks = planChunks([{ start: 0, end: 10 * sec }, { start: 11 * sec, end: 20 * sec }, { start: 21 * sec, end: 35 * sec }, { start: 40 * sec, end: 45 * sec }], 30 * sec);
    expect(chunks.map((c) => [c.start / sec, c.end / sec, c.speech.length])).toEqual([[0, 20, 2], [21, 35, 1], [40, 45, 1]]);
    const audio = new Float32Array(25 * sec).fill(1);
    const a = chunkAudio(audio, { start: 0, end: 20 * sec, speech: [{ start: 0, end: 10 * sec }, { start: 11 * sec, end: 20 * sec }] });
    expect(a.length).toBe(20 * sec);
    expect([a[0], a[10 * sec], a[10.5 * sec], a[11 * sec]]).toEqual([1, 0, 0, 1]);
  });

  it("maps chunk-relative segments and tokens to the original audio's time", () => {
    const chunk = { start: 16000 * 61, end: 16000 * 70, speech: [] };
    const s = shiftSegment({ start: 400, end: 99_999, text: " a", noSpeechProb: 0, tokens: [{ id: 1, text: " a", p: 1, start: 420, end: 800, special: false }, { id: 2, text: "", p: 1, start: -1, end: -1, special: true }] }, chunk, 1000);
    expect([s.start, s.end]).toEqual([62_400, 71_000]);
    expect(s.tokens!.map((t) => [t.start, t.end])).toEqual([[62_420, 62_800], [-1, -1]]);
  });
});

describe("Silero converter", () => {
  it("is chosen by models convert for Silero weights and writes ggml-silero-v<version>.bin", async () => {
    const dir = path.join(tmp, "silero");
    await fs.mkdir(dir);
    await writeSafetensors(path.join(dir, "silero_vad_16k.safetensors"), dcDetectorWeights());
    expect(await isSileroSource(dir)).toBe(true);
    expect(await isSileroSource(tmp)).toBe(false);
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) };
    const target = path.join(tmp, "ggml-silero-v6.2.0.bin");
    expect(await runConvert([dir, "--out", target], io)).toBe(0);
    expect(out[0]).toMatch(/Silero VAD v6\.2\.0 \(16 kHz\), 15 tensors/);
    expect(await runConvert([dir, "--out", target], io)).toBe(1);
    expect(err.at(-1)).toMatch(/already exists/);
    expect(await runConvert([dir, "--vad-version", "6.2", "--out", target, "--force"], io)).toBe(2);
  });

  it("refuses weights of the wrong shape, naming them", async () => {
    const weights = dcDetectorWeights();
    weights.set("conv2.weight", { shape: [64, 128, 5], values: new Float32Array(64 * 128 * 5) });
    const file = path.join(tmp, "bad.safetensors");
    await writeSafetensors(file, weights);
    await expect(convertSilero(file, path.join(tmp, "bad.bin"), { version: "6.2.0" })).rejects.toThrow(/'conv2\.weight' is \[64, 128, 5\]/);
    await expect(fs.access(path.join(tmp, "bad.bin"))).rejects.toThrow();
  });
});
