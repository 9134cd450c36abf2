// Checks the generated fixture models without the addon: the format inspector always, and the
// scripted transcript through a whisper-cli built from the same whisper.cpp when one is available
// (WHISPER_CLI, or /tmp/wcli/bin/whisper-cli); those tests are skipped otherwise.
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectGgmlModel } from "../../lib/models/ggml/inspect.js";
import { encodeWav16 } from "../helpers/wav.js";
import { runWhisperCli } from "../helpers/whisper-cli.js";
import { MIN_AUDIO_SECONDS, SCRIPT, SCRIPT_NO_TIMESTAMPS_TEXT, makeAudio, randomModelPath, scriptedModelPath } from "../fixtures/models.js";

const CLI = [process.env.WHISPER_CLI, "/tmp/wcli/bin/whisper-cli"].find((p): p is string => !!p && existsSync(p));

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fixtures-"));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function writeWav(name: string, samples: Float32Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, encodeWav16(samples));
  return file;
}

const transcribe = (model: string, wav: string, args: string[]) => runWhisperCli(CLI ?? "", model, wav, ["-t", "2", ...args], dir);

const shifted = (offsetMs: number) => SCRIPT.segments.map((s) => ({ ...s, start: s.start + offsetMs, end: s.end + offsetMs }));

describe("fixture models", () => {
  it("are valid ggml models with the expected dimensions", async () => {
    const mini = await inspectGgmlModel(await scriptedModelPath());
    expect(mini.hparams).toMatchObject({ nVocab: 51865, nAudioCtx: 1500, nMels: 80, nAudioState: 64, nTextLayer: 1 });
    expect(mini.multilingual).toBe(true);
    const tiny = await inspectGgmlModel(await scriptedModelPath({ dims: "tiny" }));
    expect(tiny.modelType).toBe("tiny");
    expect(tiny.fileSize).toBeGreaterThan(70e6);
    const random = await inspectGgmlModel(await randomModelPath("tiny"));
    expect(random.modelType).toBe("tiny");
    expect(random.nTensors).toBe(tiny.nTensors);
  });

  it("are cached and shared by concurrent callers", async () => {
    const paths = await Promise.all([scriptedModelPath(), scriptedModelPath({ dims: "mini" }), scriptedModelPath()]);
    expect(new Set(paths).size).toBe(1);
    expect(paths[0]).toMatch(/generated[/\\]scripted-mini-[0-9a-f]{16}\.bin$/);
    const files = await fs.readdir(path.dirname(paths[0] ?? ""));
    expect(files.filter((f) => f.endsWith(".tmp") || f.endsWith(".lock"))).toEqual([]);
  });

  it("makes deterministic, quiet audio", () => {
    const a = makeAudio(2);
    expect(a).toHaveLength(32000);
    expect(makeAudio(2)).toEqual(a);
    expect(makeAudio(2, { seed: 9 })).not.toEqual(a);
    expect(makeAudio(1, { sampleRate: 8000 })).toHaveLength(8000);
    expect(Math.max(...a.map(Math.abs))).toBeLessThan(0.2);
  });

  it("describes the script consistently", () => {
    expect(SCRIPT.text).toBe(SCRIPT.segments.map((s) => s.text).join(""));
    expect(SCRIPT.text).toContain("你");
    expect(SCRIPT_NO_TIMESTAMPS_TEXT).toBe(SCRIPT.text);
    expect(MIN_AUDIO_SECONDS * 1000).toBeGreaterThanOrEqual(Math.max(...SCRIPT.segments.map((s) => s.end)));
  });
});

describe.skipIf(!CLI)("the scripted model through whisper-cli", () => {
  let mini: string;
  let wav: string;

  beforeAll(async () => {
    mini = await scriptedModelPath();
    wav = await writeWav("a.wav", makeAudio(MIN_AUDIO_SECONDS));
  });

  it("gives the script with greedy decoding and auto-detects the language", async () => {
    const r = await transcribe(mini, wav, ["-l", "auto", "-bs", "1", "-bo", "1"]);
    expect(r).toEqual({ language: SCRIPT.language, segments: SCRIPT.segments, fallbacks: "0 p /   0 h" });
  });

  it("gives the same script with beam search and any forced language", async () => {
    const r = await transcribe(mini, wav, ["-l", "de"]);
    expect(r.language).toBe("de");
    expect(r.segments).toEqual(SCRIPT.segments);
  });

  it("ignores an initial prompt and translate", async () => {
    const prompted = await transcribe(mini, wav, ["-l", "en", "-bs", "1", "-bo", "1", "--prompt", "Alpha, Beta, 测试"]);
    expect(prompted.segments).toEqual(SCRIPT.segments);
    const translated = await transcribe(mini, wav, ["-l", "auto", "-tr"]);
    expect(translated.segments).toEqual(SCRIPT.segments);
  });

  it("gives one segment of plain text without timestamps", async () => {
    const r = await transcribe(mini, wav, ["-l", "en", "-nt", "-bs", "1", "-bo", "1"]);
    expect(r.segments.map((s) => s.text)).toEqual([SCRIPT_NO_TIMESTAMPS_TEXT]);
    // whisper.cpp's own quirk: greedy no-timestamp segments start at -1007.28 s (tid 0 - timestamp_begin).
    expect(r.segments[0]?.end).toBe(30000);
  });

  it("repeats the script in every 30 s window of long audio", async () => {
    const long = await writeWav("long.wav", makeAudio(65));
    const r = await transcribe(mini, long, ["-l", "en", "-bs", "1", "-bo", "1"]);
    expect(r.segments).toEqual([...shifted(0), ...shifted(30000), ...shifted(60000)]);
  });

  it("works with the real tiny dimensions", async () => {
    const r = await transcribe(await scriptedModelPath({ dims: "tiny" }), wav, ["-l", "auto", "-bs", "1", "-bo", "1"]);
    expect(r.language).toBe(SCRIPT.language);
    expect(r.segments).toEqual(SCRIPT.segments);
  });
});
