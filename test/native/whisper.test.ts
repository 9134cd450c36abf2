// Model-dependent tests of the native core, on generated fixture models (no real weights exist
// on these machines). The scripted model's decoder emits a known transcript whatever the audio,
// so results are asserted exactly.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, DisposedError, ModelLoadError, Whisper, runtimeInfo } from "../../lib/index.js";
import type { Segment } from "../../lib/index.js";
import { MIN_AUDIO_SECONDS, SCRIPT, SCRIPT_NO_TIMESTAMPS_TEXT, makeAudio, scriptedModelPath } from "../fixtures/models.js";
import { measureLoopGaps } from "../helpers/loop.js";

let modelPath: string;
let model: Whisper;
const audio = makeAudio(Math.max(MIN_AUDIO_SECONDS, 5));
const expectedSegments = SCRIPT.segments.map(({ start, end, text }) => ({ start, end, text }));
const plain = (segments: Segment[]) => segments.map(({ start, end, text }) => ({ start, end, text }));

beforeAll(async () => {
  modelPath = await scriptedModelPath({ dims: "mini" });
  model = await Whisper.load(modelPath, { threads: 2 });
});

afterAll(async () => {
  await model?.dispose();
});

describe("runtimeInfo", () => {
  it("reports the whisper.cpp build and the CPU device", () => {
    const info = runtimeInfo();
    expect(info.whisperCppVersion).toBe("1.9.1");
    expect(info.cudaCompiled).toBe(false);
    expect(info.backends).toContain("CPU");
    expect(info.devices.some((d) => d.type === "cpu")).toBe(true);
    expect(info.systemInfo).toMatch(/CPU :/);
    expect(info.binary).toMatch(/\.node$/);
  });
});

describe("scripted transcription", () => {
  it("gives the exact transcript with a forced language", async () => {
    const result = await model.transcribe(audio, { language: "de" });
    expect(result.language).toBe("de");
    expect(plain(result.segments)).toEqual(expectedSegments);
    expect(result.text).toBe(SCRIPT.text);
  });

  it("detects the scripted language with auto and keeps the transcript", async () => {
    const result = await model.transcribe(audio, { language: "auto" });
    expect(result.language).toBe(SCRIPT.language);
    expect(result.languageProbability).toBeGreaterThan(0.9);
    expect(result.text).toBe(SCRIPT.text);
    expect(plain(result.segments)).toEqual(expectedSegments);
  });

  it("keeps a CJK character split across two tokens whole, in segments and tokens", async () => {
    const result = await model.transcribe(audio, { includeTokens: true });
    expect(result.text).toContain("你");
    expect(result.text).not.toContain("\uFFFD");
    const tokenText = result.segments.flatMap((s) => s.tokens ?? []).filter((t) => !t.special).map((t) => t.text).join("");
    expect(tokenText).toBe(SCRIPT.text);
    for (const t of result.segments.flatMap((s) => s.tokens ?? [])) expect(t.text).not.toContain("\uFFFD");
  });

  it("accepts an initial prompt, beam search and translate without changing the script", async () => {
    const prompted = await model.transcribe(audio, { initialPrompt: "Alpha, Beta, 测试", language: "en" });
    expect(plain(prompted.segments)).toEqual(expectedSegments);
    for (const beamSize of [5, 8]) {
      const beam = await model.transcribe(audio, { beamSize, language: "en" });
      expect(plain(beam.segments)).toEqual(expectedSegments);
    }
    const sampled = await model.transcribe(audio, { temperature: 0.5, bestOf: 8, language: "en" });
    expect(sampled.text).toBe(SCRIPT.text);
    const translated = await model.transcribe(audio, { translate: true, language: "en" });
    expect(translated.text).toBe(SCRIPT.text);
  });

  it("gives one segment of plain text with noTimestamps", async () => {
    for (const beamSize of [1, 5]) {
      const result = await model.transcribe(audio, { noTimestamps: true, language: "en", beamSize });
      expect(result.text).toBe(SCRIPT_NO_TIMESTAMPS_TEXT);
      // whisper.cpp itself reports start -1007280 ms (greedy) and the window end (30 s): both are clamped.
      expect(plain(result.segments)).toEqual([{ start: 0, end: audio.length / 16, text: SCRIPT_NO_TIMESTAMPS_TEXT }]);
    }
  });

  it("streams segments and progress before the promise resolves", async () => {
    const seen: Segment[] = [];
    const progress: number[] = [];
    const result = await model.transcribe(audio, {
      language: "en",
      onSegment: (s) => seen.push(s),
      onProgress: (p) => progress.push(p),
    });
    expect(plain(seen)).toEqual(plain(result.segments));
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.every((p) => Number.isInteger(p) && p >= 0 && p <= 100)).toBe(true);
  });

  it("rejects with the callback's own error when onSegment throws, and stays usable", async () => {
    const boom = new Error("callback failed");
    await expect(
      model.transcribe(audio, {
        onSegment: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect((await model.transcribe(audio, { language: "en" })).text).toBe(SCRIPT.text);
  });

  it("detects the language directly", async () => {
    const detected = await model.detectLanguage(audio);
    expect(detected.language).toBe(SCRIPT.language);
    expect(detected.probability).toBeGreaterThan(0.9);
    expect(Object.keys(detected.probabilities).length).toBeGreaterThanOrEqual(99);
  });

  it("loads from bytes as well as from a path", async () => {
    const bytes = new Uint8Array(await fs.readFile(modelPath));
    const fromBytes = await Whisper.load(bytes, { threads: 1 });
    try {
      expect(fromBytes.info.path).toBeUndefined();
      expect((await fromBytes.transcribe(audio, { language: "en" })).text).toBe(SCRIPT.text);
    } finally {
      await fromBytes.dispose();
    }
  });

  it("describes the model and the device in use", () => {
    const info = model.info;
    expect(info.device).toBe("cpu");
    expect(info.multilingual).toBe(true);
    expect(info.nMels).toBe(80);
    expect(info.nAudioCtx).toBe(1500);
    expect(info.threads).toBe(2);
    expect(info.concurrency).toBe(1);
    expect(info.flashAttention).toBe(true);
    expect(info.path).toBe(modelPath);
  });
});

describe("concurrency", () => {
  it("runs several transcriptions at once on one model with identical exact results", async () => {
    const pooled = await Whisper.load(modelPath, { threads: 1, concurrency: 3 });
    try {
      let maxActive = 0;
      const calls = Array.from({ length: 6 }, () => {
        const p = pooled.transcribe(audio, { language: "en" });
        maxActive = Math.max(maxActive, pooled.active);
        return p;
      });
      expect(pooled.queued).toBe(3); // three run, three wait for a free state
      const results = await Promise.all(calls);
      expect(maxActive).toBe(3);
      for (const r of results) {
        expect(r.text).toBe(SCRIPT.text);
        expect(plain(r.segments)).toEqual(expectedSegments);
      }
      expect(pooled.info.states).toBe(3);
    } finally {
      await pooled.dispose();
    }
  });
});

describe("abort, dispose and the event loop", () => {
  let big: Whisper;
  let bigAudio: Float32Array;
  beforeAll(async () => {
    big = await Whisper.load(await scriptedModelPath({ dims: "tiny" }), { threads: 2 });
    bigAudio = makeAudio(28);
  });
  afterAll(async () => {
    await big?.dispose();
  });

  // Under AddressSanitizer (npm run test:asan) every allocation of the worker thread goes through
  // the sanitizer's allocator, which the main thread contends for: gaps measure the sanitizer.
  it.skipIf(process.env.TINGWU_ASAN === "1")("keeps the event loop ticking while loading and transcribing", async () => {
    const basePath = await scriptedModelPath({ dims: "base" });
    const loadGaps = await measureLoopGaps(async () => {
      const m = await Whisper.load(basePath, { threads: 2 });
      await m.dispose();
    });
    const runGaps = await measureLoopGaps(() => big.transcribe(bigAudio, { language: "en" }));
    console.log(
      `event loop during load: max gap ${loadGaps.maxGapMs.toFixed(1)} ms over ${loadGaps.durationMs.toFixed(0)} ms; ` +
        `during transcribe: max gap ${runGaps.maxGapMs.toFixed(1)} ms over ${runGaps.durationMs.toFixed(0)} ms`,
    );
    // Work done on the JS thread would show up as one gap about as long as the work itself; the
    // bounds leave room for a busy machine's scheduling noise but not for a blocked loop.
    expect(runGaps.durationMs).toBeGreaterThan(300);
    expect(runGaps.maxGapMs).toBeLessThan(Math.max(150, runGaps.durationMs * 0.3));
    expect(loadGaps.maxGapMs).toBeLessThan(Math.max(150, loadGaps.durationMs * 0.3));
  });

  it("aborts a running transcription at whisper.cpp's next check and leaves the model usable", async () => {
    // whisper.cpp v1.9.1 checks the abort callback before and after each encoder pass and at each
    // decoder step, so a long (multi-window) run must stop well before it would have finished.
    const long = makeAudio(120);
    const startedFull = performance.now();
    const full = await big.transcribe(long, { language: "en" });
    const fullMs = performance.now() - startedFull;
    expect(full.segments.length).toBeGreaterThan(SCRIPT.segments.length); // several 30 s windows

    const controller = new AbortController();
    const started = performance.now();
    const running = big.transcribe(long, { language: "en", signal: controller.signal });
    setTimeout(() => controller.abort(), fullMs * 0.2);
    await expect(running).rejects.toBeInstanceOf(AbortError);
    const elapsed = performance.now() - started;
    console.log(`full run ${fullMs.toFixed(0)} ms (${full.segments.length} segments); aborted at 20%, rejected after ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(fullMs * 0.6);
    expect((await big.transcribe(bigAudio, { language: "en" })).text).toBe(SCRIPT.text);
  });

  it("rejects at once for a signal that is already aborted, and for one aborted while queued", async () => {
    await expect(model.transcribe(audio, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    const controller = new AbortController();
    const first = big.transcribe(bigAudio, { language: "en" });
    const queued = big.transcribe(bigAudio, { language: "en", signal: controller.signal });
    expect(big.queued).toBe(1);
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(AbortError);
    expect((await first).text).toBe(SCRIPT.text);
  });

  it("dispose during a run rejects that run with DisposedError; dispose twice is fine", async () => {
    const m = await Whisper.load(await scriptedModelPath({ dims: "base" }), { threads: 2 });
    const running = m.transcribe(bigAudio, { language: "en" });
    const queued = m.transcribe(bigAudio, { language: "en" });
    const queuedOutcome = queued.catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const d1 = m.dispose();
    const d2 = m.dispose();
    expect(d2).toBe(d1);
    await expect(running).rejects.toBeInstanceOf(DisposedError);
    expect(await queuedOutcome).toBeInstanceOf(DisposedError);
    await d1;
    await m.dispose();
    expect(m.disposed).toBe(true);
    await expect(m.transcribe(audio)).rejects.toBeInstanceOf(DisposedError);
    expect(() => m.info).toThrow(DisposedError);
  });

  it("supports await using (Symbol.asyncDispose)", async () => {
    let escaped: Whisper | undefined;
    {
      await using m = await Whisper.load(modelPath, { threads: 1 });
      escaped = m;
      expect((await m.transcribe(audio, { language: "en" })).text).toBe(SCRIPT.text);
    }
    expect(escaped?.disposed).toBe(true);
  });
});

describe("bad models", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-bad-models-"));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const cases: [string, () => Promise<string | Uint8Array>, RegExp][] = [
    ["a missing file", async () => path.join(dir, "missing.bin"), /not found/],
    ["an empty file", async () => write("empty.bin", new Uint8Array()), /empty/],
    ["a directory", async () => dir, /directory/],
    ["wrong magic", async () => write("magic.bin", new TextEncoder().encode("not a model at all, just some text")), /magic|ggml/i],
    [
      "a truncated model",
      async () => {
        const bytes = await fs.readFile(modelPath);
        return write("truncated.bin", bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      },
      /truncated/i,
    ],
    ["truncated bytes", async () => (await fs.readFile(modelPath)).subarray(0, 5000), /truncated/i],
  ];

  async function write(name: string, bytes: Uint8Array): Promise<string> {
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  }

  for (const [label, make, message] of cases) {
    it(`rejects ${label} with ModelLoadError`, async () => {
      const source = await make();
      const error = await Whisper.load(source).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as Error).message).toMatch(message);
    });
  }

  it("rejects a bad source type with TypeError", async () => {
    await expect(Whisper.load(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
  });
});

describe("bad options and bad audio", () => {
  const bad: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ["threads 0", { threads: 0 }, RangeError, /between 1 and 512 for threads but received 0/],
    ["threads as a string", { threads: "2" }, TypeError, /number for threads/],
    ["unknown language", { language: "xx" }, RangeError, /for language but received "xx"/],
    ["beamSize 0", { beamSize: 0 }, RangeError, /beamSize/],
    // whisper.cpp runs at most 8 decoders; 9 used to pass validation and fail inside whisper_full.
    ["beamSize 9", { beamSize: 9 }, RangeError, /between 1 and 8 for beamSize but received 9/],
    ["bestOf 9", { bestOf: 9 }, RangeError, /between 1 and 8 for bestOf but received 9/],
    ["temperature 3", { temperature: 3 }, RangeError, /temperature/],
    ["a misspelt option", { thread: 2 }, TypeError, /Unknown option "thread"/],
    ["a non-function onSegment", { onSegment: 5 }, TypeError, /function for onSegment/],
    ["a non-signal signal", { signal: {} }, TypeError, /AbortSignal for signal/],
    ["offset past the end", { offsetMs: 60_000 }, RangeError, /offsetMs/],
  ];
  for (const [label, options, type, message] of bad) {
    it(`rejects ${label}`, async () => {
      const error = await model.transcribe(audio, options as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
    });
  }

  it("rejects bad audio", async () => {
    await expect(model.transcribe(new Float32Array())).rejects.toThrow(RangeError);
    await expect(model.transcribe([0.1, 0.2] as unknown as Float32Array)).rejects.toThrow(/Float32Array/);
    await expect(model.transcribe(new Float64Array(16000) as unknown as Float32Array)).rejects.toThrow(TypeError);
    const nan = new Float32Array(16000);
    nan[123] = Number.NaN;
    await expect(model.transcribe(nan)).rejects.toThrow(/NaN at index 123/);
    await expect(model.transcribe(new Float32Array(100))).rejects.toThrow(/100 ms/);
  });

  it("rejects bad load options", async () => {
    await expect(Whisper.load(modelPath, { concurrency: 0 })).rejects.toThrow(RangeError);
    await expect(Whisper.load(modelPath, { gpu: "yes" as unknown as boolean })).rejects.toThrow(TypeError);
  });
});
