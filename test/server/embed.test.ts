// The server embedded in another program through the package's exports: startServer on a free
// port without signal handlers, a transcription over the socket, a graceful close; and buildApp
// with the embedder's own Fastify plugin next to the routes.
import { describe, expect, it } from "vitest";
import { buildApp, loadSettings, ModelManager, startServer } from "../../lib/index.js";
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
});
