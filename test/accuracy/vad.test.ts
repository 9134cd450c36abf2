// The real Silero VAD v6.2.0 (PyPI's silero-vad wheel, converted by our converter) in whisper.cpp
// against the reference model: silero_vad.onnx from the same wheel run with onnxruntime
// (test/fixtures/vad/golden.py produced golden.json once). whisper.cpp's graph reflect-pads each
// 512-sample window instead of prepending the previous 64 samples, so probabilities differ a
// little; speech/silence decisions and the segments built from them must agree.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Whisper } from "../../lib/index.js";
import { convertSilero } from "../../lib/models/convert/silero.js";
import { loadNative } from "../../lib/native.js";
import { VAD_MODEL_SHA256 } from "../../lib/vad/model.js";
import { speechSegments } from "../../lib/vad/segments.js";
import { generatedSignal } from "../fixtures/vad/signal.js";
import { loadAudio } from "./helpers/audio.js";
import { HAVE_REAL_MODEL, JFK_TEXT, JFK_WAV, REAL_DIR, REAL_MODEL, THREADS } from "./helpers/env.js";
import { wordErrorRate } from "./helpers/text.js";

const VAD_MODEL = path.join(REAL_DIR, "ggml-silero-v6.2.0.bin");
const VAD_SOURCE = path.join(REAL_DIR, "src", "silero-vad-6.2.3", "silero_vad_16k.safetensors");
const HAVE_VAD = existsSync(VAD_MODEL);
const golden = JSON.parse(await fs.readFile(new URL("../fixtures/vad/golden.json", import.meta.url), "utf8")) as Record<"jfk" | "generated", number[]>;
const PARAMS = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 100, maxSpeechS: 1e9, speechPadMs: 0 };

describe.skipIf(!HAVE_VAD)(HAVE_VAD ? "Silero VAD v6.2.0 (converted from PyPI)" : `No ${VAD_MODEL}: run scripts/fetch-real-model.sh --vad`, () => {
  it.skipIf(!existsSync(VAD_SOURCE))("converts the wheel's weights to the same bytes every time", async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-silero-"));
    try {
      const out = path.join(tmp, "ggml-silero-v6.2.0.bin");
      await convertSilero(VAD_SOURCE, out, { version: "6.2.0" });
      expect(createHash("sha256").update(await fs.readFile(out)).digest("hex")).toBe(VAD_MODEL_SHA256["silero-v6.2.0"]);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  for (const name of ["jfk", "generated"] as const) {
    it(`agrees with the reference model's speech decisions on ${name === "jfk" ? "jfk.wav" : "generated audio (silence, speech, noise, quiet speech)"}`, async () => {
      const jfk = await loadAudio(JFK_WAV);
      const audio = name === "jfk" ? jfk : generatedSignal(jfk);
      const { binding } = loadNative();
      const { probs } = await binding.detectSpeech(VAD_MODEL, audio, { threads: 1, gpu: false, gpuDevice: 0 }).promise;
      const ref = golden[name];
      expect(probs.length).toBe(ref.length);
      const agree = ref.filter((p, i) => p >= 0.5 === probs[i]! >= 0.5).length / ref.length;
      console.log(`[vad] ${name}: ${(agree * 100).toFixed(1)}% of ${ref.length} window decisions agree with onnxruntime`);
      expect(agree).toBeGreaterThanOrEqual(0.97);
      // Every segment of ours matches one of the reference's within two windows, and every
      // reference segment of half a second or more is found.
      const ours = speechSegments(probs, 512, PARAMS);
      const theirs = speechSegments(ref, 512, PARAMS);
      const near = (a: { start: number; end: number }, b: { start: number; end: number }) => Math.abs(a.start - b.start) <= 1024 && Math.abs(a.end - b.end) <= 1024;
      for (const s of ours) expect(theirs.some((t) => near(s, t)), JSON.stringify(s)).toBe(true);
      for (const t of theirs.filter((x) => x.end - x.start >= 8000)) expect(ours.some((s) => near(s, t)), JSON.stringify(t)).toBe(true);
    });
  }

  it.skipIf(!HAVE_REAL_MODEL)("transcribes jfk.wav with vad on, padded with a minute of silence, and nothing in the silence", async () => {
    const jfk = await loadAudio(JFK_WAV);
    const audio = new Float32Array(jfk.length + 60 * 16000);
    audio.set(jfk, 30 * 16000);
    const model = await Whisper.load(REAL_MODEL, { threads: THREADS });
    try {
      const r = await model.transcribe(audio, { vad: { model: VAD_MODEL }, language: "en" });
      expect(wordErrorRate(JFK_TEXT, r.text).rate).toBeLessThan(0.1);
      for (const s of r.segments) {
        expect(s.start).toBeGreaterThanOrEqual(29_500);
        expect(s.end).toBeLessThanOrEqual(30_000 + jfk.length / 16 + 500);
      }
    } finally {
      await model.dispose();
    }
  });
});
