// The TingWu backend layer on the scripted fixture model: PCM bytes in, exact sentence_info out.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { float32ToPcm16 } from "../../lib/audio/pcm.js";
import { ModelManager, WhisperBackend, getBackend, registerBackend, registeredBackends } from "../../lib/backends/index.js";
import { loadSettings } from "../../lib/config.js";
import { ModelNotFoundError } from "../../lib/models/resolve.js";
import { Whisper } from "../../lib/whisper.js";
import { SCRIPT, makeAudio, scriptedModelPath } from "../fixtures/models.js";

const expectedSentences = SCRIPT.segments.map((s) => ({ text: s.text.trim(), start: s.start, end: s.end }));
let modelFile: string;
let root: string;
const pcm = float32ToPcm16(makeAudio(5));

beforeAll(async () => {
  modelFile = await scriptedModelPath({ dims: "mini" });
  root = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-backend-"));
  // A "named" model in a download root, as WHISPER_MODEL=<name> finds it.
  await fs.copyFile(modelFile, path.join(root, "ggml-base.bin"));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("settings", () => {
  it("accept the whisper backend with TingWu's defaults", () => {
    const s = loadSettings({ ASR_BACKEND: "whisper" });
    expect(s.asrBackend).toBe("whisper");
    expect(s.whisperModel).toBe("large");
    expect(s.whisperLanguage).toBe("zh");
    expect(s.whisperDownloadRoot).toBe("./data/models/whisper");
    expect(s.device).toBe("auto");
  });
});

describe("getBackend", () => {
  it("builds the whisper backend and lists the known ones for an unknown type", () => {
    const backend = getBackend("whisper", { model: modelFile });
    expect(backend).toBeInstanceOf(WhisperBackend);
    expect(registeredBackends()).toContain("whisper");
    expect(() => getBackend("nope")).toThrow(/Unknown ASR backend "nope"; registered backends: .*whisper/);
  });

  it("rejects bad backend options with typed errors", () => {
    expect(() => getBackend("whisper", { device: "tpu" as never })).toThrow(RangeError);
    expect(() => getBackend("whisper", { language: "klingon" })).toThrow(RangeError);
    expect(() => getBackend("whisper", { model: "" })).toThrow(TypeError);
  });

  it("throws a typed error that says why when the native binary is unavailable", async () => {
    vi.resetModules();
    const previous = process.env.TINGWU_WHISPER_BINARY;
    process.env.TINGWU_WHISPER_BINARY = path.join(root, "missing.node");
    try {
      const fresh = await import("../../lib/backends/index.js");
      const errors = await import("../../lib/errors.js");
      let error: unknown;
      try {
        fresh.getBackend("whisper", { model: modelFile });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(errors.NativeLoadError);
      expect((error as Error).message).toMatch(/could not be loaded[\s\S]*missing\.node[\s\S]*How to fix/);
    } finally {
      if (previous === undefined) delete process.env.TINGWU_WHISPER_BINARY;
      else process.env.TINGWU_WHISPER_BINARY = previous;
      vi.resetModules();
    }
  });

  it("lets other backends register", () => {
    registerBackend("echo-test", () => ({
      type: "echo-test",
      supports_speaker: false,
      supports_hotwords: false,
      supports_streaming: false,
      load: async () => undefined,
      transcribe: async () => ({ text: "", sentence_info: [] }),
      transcribeSamples: async () => {
        throw new Error("not used here");
      },
      detectLanguage: async () => ({ language: "en", probability: 1, probabilities: {} }),
      getInfo: () => ({ name: "Echo", type: "echo-test", device: "cpu", model: "-", language: "en", supports_speaker: false, supports_hotwords: false, supports_streaming: false }),
      unload: async () => undefined,
    }));
    expect(getBackend("echo-test").type).toBe("echo-test");
  });
});

describe("WhisperBackend", () => {
  let backend: WhisperBackend;
  beforeAll(async () => {
    backend = new WhisperBackend({ model: "base", downloadRoot: root, download: false, device: "cpu", threads: 2 });
    await backend.load();
  });
  afterAll(async () => {
    await backend.unload();
  });

  it("turns PCM16LE bytes into TingWu's { text, sentence_info } exactly", async () => {
    const result = await backend.transcribe(pcm);
    expect(result.text).toBe(SCRIPT.text.trim());
    expect(result.sentence_info).toEqual(expectedSentences);
    expect(result.language).toBe("zh"); // the configured default
  });

  it("takes hotwords (as the decoder prompt) and a per-call language", async () => {
    const result = await backend.transcribe(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), {
      hotwords: "TingWu\nFastAPI\nSenseVoice",
      language: "auto",
    });
    expect(result.sentence_info).toEqual(expectedSentences);
    expect(result.language).toBe(SCRIPT.language);
  });

  it("reports its info with the device really in use", () => {
    const info = backend.getInfo();
    expect(info).toMatchObject({
      name: "WhisperBackend",
      type: "whisper",
      device: "cpu",
      model: "base",
      language: "zh",
      supports_speaker: false,
      supports_hotwords: true,
      supports_streaming: true,
    });
  });

  it("rejects bad PCM with clear errors", async () => {
    await expect(backend.transcribe(Buffer.alloc(3))).rejects.toThrow(RangeError);
    await expect(backend.transcribe(Buffer.alloc(0))).rejects.toThrow(RangeError);
    await expect(backend.transcribe("abc" as unknown as Buffer)).rejects.toThrow(TypeError);
  });

  it("names the missing file and the variables when a model can't be found offline", async () => {
    const missing = new WhisperBackend({ model: "tiny", downloadRoot: root, download: false, device: "cpu" });
    const error = await missing.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain(path.join(root, "ggml-tiny.bin"));
    expect((error as Error).message).toMatch(/WHISPER_MODEL[\s\S]*WHISPER_DOWNLOAD_ROOT/);
  });
});

describe("ModelManager", () => {
  it("builds and loads the configured backend once under concurrent first calls", async () => {
    const settings = loadSettings({ ASR_BACKEND: "whisper", WHISPER_MODEL: "base", WHISPER_DOWNLOAD_ROOT: root, DEVICE: "cpu", WHISPER_THREADS: "1" });
    const manager = new ModelManager(settings);
    const loads = vi.spyOn(Whisper, "load");
    try {
      expect(manager.state).toBe("idle");
      const backends = await Promise.all(Array.from({ length: 5 }, () => manager.getBackend()));
      expect(loads).toHaveBeenCalledTimes(1);
      expect(new Set(backends).size).toBe(1);
      expect(manager.state).toBe("ready");
      expect(backends[0]!.getInfo().type).toBe("whisper");
      const result = await backends[0]!.transcribe(pcm);
      expect(result.sentence_info).toEqual(expectedSentences);
    } finally {
      loads.mockRestore();
      await manager.unload();
    }
  });
});
