// Fault injection (issue 8): each fault has one defined outcome, and the server survives it.
// - the model file deleted or overwritten with garbage while the server runs: the loaded model
//   keeps serving; a fresh load reports a typed error;
// - the download root not writable, and the disk full during a download: ModelDownloadError
//   "disk" naming the path, nothing left at the final path;
// - ffmpeg missing (415 saying to install it) or killed mid-decode (JSON 500, server alive);
// - the client vanishing mid-upload: no queue place is leaked.
// SIGTERM during a batch is in sigterm-batch.test.ts (a child process).
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ModelManager } from "../../lib/backends/index.js";
import { ModelLoadError } from "../../lib/errors.js";
import { ModelDownloadError, ModelNotFoundError, resolveModelFile } from "../../lib/models/resolve.js";
import { scriptedModelPath } from "../fixtures/models.js";
import { form, metrics, metricValue, postForm, SCRIPT_TEXT, startTestServer, waitFor, wavFile } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-faults-"));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function transcribeText(base: string): Promise<string> {
  const res = await postForm(`${base}/api/v1/transcribe`, form({ file: wavFile() }));
  expect(res.status).toBe(200);
  return ((await res.json()) as { text: string }).text;
}

describe("the model file changes under a running server", () => {
  it("deleted: the loaded model keeps serving; a fresh load throws ModelNotFoundError naming the file", async () => {
    const model = path.join(tmp, "deleted.bin");
    await fs.copyFile(await scriptedModelPath({ dims: "mini" }), model);
    server = await startTestServer({ WHISPER_MODEL: model });
    await fs.rm(model);

    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    const fresh = new ModelManager(server.settings);
    const error = await fresh.getBackend().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as ModelNotFoundError).file).toBe(model);
    expect((error as Error).message).toContain(`Model file ${model} does not exist`);
    expect(fresh.state).toBe("failed");
    // The running server is untouched by the failed load.
    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
  });

  it("overwritten in place with garbage: the loaded model keeps serving; a fresh load throws ModelLoadError", async () => {
    const model = path.join(tmp, "garbage.bin");
    await fs.copyFile(await scriptedModelPath({ dims: "mini" }), model);
    server = await startTestServer({ WHISPER_MODEL: model });
    // Truncate and rewrite the same inode: a model still mapped from the file would fault here.
    await fs.writeFile(model, Buffer.alloc(4096, 0xa5));

    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
    const fresh = new ModelManager(server.settings);
    const error = await fresh.getBackend().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toContain(model);
    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
  });
});

/** A local model host that serves `bytes` for any path. */
async function modelHost(bytes: Buffer): Promise<{ url: string; close(): Promise<void> }> {
  const host = http.createServer((_req, res) => {
    res.writeHead(200, { "content-length": bytes.length, "content-type": "application/octet-stream" });
    res.end(bytes);
  });
  host.listen(0, "127.0.0.1");
  await once(host, "listening");
  const { port } = host.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => host.close(() => resolve())),
  };
}

describe("the download root can't be written", () => {
  const isRoot = process.getuid?.() === 0;

  // root ignores file modes, so chmod 0555 would not stop it: a path below a regular file fails
  // for everyone (ENOTDIR), and is what a mistyped WHISPER_DOWNLOAD_ROOT looks like.
  it("a path below a regular file: ModelDownloadError 'disk' naming the directory and WHISPER_DOWNLOAD_ROOT", async () => {
    const host = await modelHost(Buffer.alloc(1024, 1));
    try {
      const blocker = path.join(tmp, "a-file");
      await fs.writeFile(blocker, "not a directory");
      const root = path.join(blocker, "models");
      const error = await resolveModelFile("tiny", { downloadRoot: root, baseUrl: host.url, retries: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelDownloadError);
      expect((error as ModelDownloadError).reason).toBe("disk");
      expect((error as Error).message).toContain(`Could not write ${root}`);
      expect((error as Error).message).toContain("(ENOTDIR)");
      expect((error as Error).message).toContain(`WHISPER_DOWNLOAD_ROOT (now ${JSON.stringify(root)})`);
    } finally {
      await host.close();
    }
  });

  it.skipIf(isRoot)("chmod 0555 (skipped as root: root writes through file modes)", async () => {
    const host = await modelHost(Buffer.alloc(1024, 1));
    const root = path.join(tmp, "read-only");
    await fs.mkdir(root, { mode: 0o555 });
    try {
      const error = await resolveModelFile("tiny", { downloadRoot: root, baseUrl: host.url, retries: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelDownloadError);
      expect((error as ModelDownloadError).reason).toBe("disk");
      expect((error as Error).message).toContain(path.join(root, "ggml-tiny.bin.partial"));
      expect((error as Error).message).toContain("permission denied (EACCES)");
    } finally {
      await fs.chmod(root, 0o755);
      await host.close();
    }
  });
});

/** Mounts a 1 MiB tmpfs, or says why it can't (not root, no CAP_SYS_ADMIN in a container). */
function mountSmallTmpfs(dir: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return ((error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message).split("\n")[0];
  }
}

describe("the disk fills up during a model download", () => {
  let mountPoint: string;
  let cannotMount: string | undefined = "not tried";
  beforeAll(async () => {
    mountPoint = path.join(tmp, "small-disk");
    await fs.mkdir(mountPoint);
    cannotMount = mountSmallTmpfs(mountPoint);
    if (cannotMount) console.warn(`skipping the disk-full test: mount -t tmpfs failed: ${cannotMount}`);
  });
  afterAll(() => {
    if (!cannotMount) execFileSync("umount", [mountPoint]);
  });

  it("4 MiB into a 1 MiB tmpfs: ModelDownloadError 'disk' (ENOSPC), no final file, the partial file removed", async (ctx) => {
    if (cannotMount) ctx.skip();
    const host = await modelHost(Buffer.alloc(4 << 20, 7));
    try {
      const error = await resolveModelFile("tiny", { downloadRoot: mountPoint, baseUrl: host.url, retries: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelDownloadError);
      expect((error as ModelDownloadError).reason).toBe("disk");
      expect((error as Error).message).toContain("no space left (ENOSPC)");
      expect((error as Error).message).toContain(path.join(mountPoint, "ggml-tiny.bin.partial"));
      // Nothing at the final path, and the space is given back.
      expect(await fs.readdir(mountPoint)).toEqual([]);
    } finally {
      await host.close();
    }
  });
});

describe("ffmpeg", () => {
  it("missing: a non-WAV upload gets 415 saying ffmpeg is not installed; WAV still works", async () => {
    server = await startTestServer({ FFMPEG_PATH: path.join(tmp, "no-such-ffmpeg") });
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: { data: Buffer.from("ID3\x03\x00not really mp3"), name: "a.mp3" } }));
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(JSON.stringify(await res.json())).toContain("ffmpeg is not installed (set FFMPEG_PATH)");
    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
  });

  it("killed mid-decode: a JSON 500 without internals, the server keeps serving", async () => {
    // A stand-in ffmpeg that records its pid and hangs, so the test can kill it while it "decodes".
    const pidFile = path.join(tmp, "ffmpeg.pid");
    const fake = path.join(tmp, "fake-ffmpeg.sh");
    await fs.writeFile(fake, `#!/bin/sh\necho $$ > ${JSON.stringify(pidFile)}\nexec sleep 60\n`, { mode: 0o755 });
    server = await startTestServer({ FFMPEG_PATH: fake });
    const pending = postForm(`${server.base}/api/v1/transcribe`, form({ file: { data: Buffer.from("OggS not really ogg"), name: "a.ogg" } }));
    let pid = 0;
    await waitFor(async () => {
      pid = Number(await fs.readFile(pidFile, "utf8").catch(() => "0"));
      return pid > 0;
    }, 10_000, "the fake ffmpeg to start");
    process.kill(pid, "SIGKILL");

    const res = await pending;
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ detail: "Internal Server Error" });
    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
  });
});

describe("the client disconnects mid-upload", () => {
  it("half a multipart body then a destroyed socket: no queue place leaks, the next request succeeds", async () => {
    // One place in all (pool 1, queue 0): a leaked ticket would turn the next request into a 503.
    server = await startTestServer({ WHISPER_POOL_SIZE: "1", WHISPER_QUEUE_SIZE: "0" });
    const { port } = new URL(server.base);
    const boundary = "----tingwu-fault";
    const wav = wavFile();
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const length = Buffer.byteLength(head) + wav.length + Buffer.byteLength(tail);

    for (let i = 0; i < 3; i++) {
      const socket = net.connect(Number(port), "127.0.0.1");
      await once(socket, "connect");
      socket.write(
        `POST /api/v1/transcribe HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${length}\r\n\r\n${head}`,
      );
      socket.write(wav.subarray(0, wav.length >> 1));
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
    }

    await waitFor(async () => {
      const text = await metrics(server!.base);
      return metricValue(text, "tingwu_whisper_queue_depth") === 0 && metricValue(text, "tingwu_whisper_inference_active") === 0;
    }, 10_000, "the queue to empty");
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    expect(await transcribeText(server.base)).toBe(SCRIPT_TEXT);
    expect(metricValue(await metrics(server.base), "tingwu_whisper_queue_rejected_total")).toBe(0);
  });
});
