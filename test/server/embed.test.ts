// The server embedded in another program through the package's exports: startServer on a free
// port without signal handlers, a transcription over the socket, a graceful close; and buildApp
// with the embedder's own Fastify plugin next to the routes.
import { describe, expect, it } from "vitest";
import { buildApp, loadSettings, ModelManager, registerBackend, startServer } from "../../lib/index.js";
import type { ASRBackend, AsrBackendType, Settings } from "../../lib/index.js";
import { scriptedModelPath } from "../fixtures/models.js";
import { form, postForm, SCRIPT_TEXT, wavFile } from "./helpers.js";

const settingsFor = async () =>
  loadSettings({ WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }), WHISPER_THREADS: "2", LOG_LEVEL: "silent", PORT: "0", HOST: "127.0.0.1" });

describe("embedding", () => {
  it("startServer listens, transcribes, and closes without touching the process", async () => {
    const signalHandlers = process.listenerCount("SIGTERM");
    const server = await startServer(await settingsFor(), { handleSignals: false });
    try {
      expect(process.listenerCount("SIGTERM")).toBe(signalHandlers);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await server.modelReady;
      expect(server.manager.state).toBe("ready");
      const res = await postForm(`${server.url}/api/v1/transcribe`, form({ file: wavFile() }));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { text: string }).text).toBe(SCRIPT_TEXT);
    } finally {
      await server.close();
      await server.close(); // idempotent
    }
    expect(server.manager.state).toBe("idle");
  });

  it("buildApp takes the embedder's routes beside its own", async () => {
    const settings = await settingsFor();
    const manager = new ModelManager(settings);
    const app = await buildApp({ settings, manager });
    app.get("/embedder", async () => ({ mine: true }));
    try {
      expect((await app.inject({ url: "/embedder" })).json()).toEqual({ mine: true });
      expect((await app.inject({ url: "/health" })).statusCode).toBe(200);
    } finally {
      await app.close();
      await manager.unload();
    }
  });

  it("serves any backend through the ASRBackend interface (no whisper class behind it)", async () => {
    const samplesSeen: number[] = [];
    const sentence = { text: "stub", start: 0, end: 1000 };
    const stub: ASRBackend = {
      type: "stub-test",
      supports_speaker: false,
      supports_hotwords: false,
      supports_streaming: false,
      load: async () => undefined,
      transcribe: async () => ({ text: "stub", sentence_info: [sentence] }),
      transcribeSamples: async (samples) => {
        samplesSeen.push(samples.length);
        return {
          text: "stub",
          sentence_info: [sentence],
          language: "en",
          whisper: { text: " stub", language: "en", segments: [{ start: 0, end: 1000, text: " stub", noSpeechProb: 0 }], timings: {} } as never,
        };
      },
      detectLanguage: async () => ({ language: "de", probability: 0.75, probabilities: { de: 0.75 } }) as never,
      getInfo: () => ({ name: "Stub", type: "stub-test", device: "cpu", model: "-", language: "en", supports_speaker: false, supports_hotwords: false, supports_streaming: false }),
      unload: async () => undefined,
    };
    registerBackend("stub-test", () => stub);
    const settings: Settings = { ...(await settingsFor()), asrBackend: "stub-test" as AsrBackendType };
    const manager = new ModelManager(settings);
    await manager.getBackend();
    const app = await buildApp({ settings, manager });
    try {
      const srt = await app.inject({ method: "POST", url: "/asr?output=srt", ...multipart(wavFile()) });
      expect(srt.statusCode, srt.body).toBe(200);
      expect(srt.body).toBe("1\n00:00:00,000 --> 00:00:01,000\nstub\n\n");
      const detect = await app.inject({ method: "POST", url: "/detect-language", ...multipart(wavFile()) });
      expect(detect.json()).toEqual({ detected_language: "german", language_code: "de", confidence: 0.75 });
      expect(samplesSeen).toEqual([64_000]);
    } finally {
      await app.close();
      await manager.unload();
    }
  });
});

/** A multipart body with one WAV file in `audio_file`, for app.inject. */
function multipart(wav: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = "----tingwu-embed-test";
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="audio_file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
  return { payload: Buffer.concat([Buffer.from(head), wav, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}
