import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AbortError } from "../../lib/errors.js";
import { downloadFile, ModelDownloadError } from "../../lib/models/download.js";
import type { DownloadProgress } from "../../lib/models/download.js";
import { modelFileName, OFFICIAL_MODEL_SHA1, parseModelSpec } from "../../lib/models/names.js";
import { ModelNotFoundError, resolveModelFile } from "../../lib/models/resolve.js";
import { startProxy } from "../helpers/proxy.js";
import type { TestProxy } from "../helpers/proxy.js";
import { rejection } from "../helpers/rejection.js";

/** A generated "model": 3 MiB of deterministic pseudo-random bytes. */
const MODEL = (() => {
  const out = Buffer.alloc(3 << 20);
  let block = Buffer.from("tingwu-whisper test model");
  for (let at = 0; at < out.length; at += 32) {
    block = createHash("sha256").update(block).digest();
    block.copy(out, at);
  }
  return out;
})();
const SHA256 = createHash("sha256").update(MODEL).digest("hex");

type Behaviour = "normal" | "cut-once" | "ignore-range" | "stall-once" | "fail-503-once" | "slow";

interface Served {
  url: string;
  range: string | undefined;
}

let server: http.Server;
let baseUrl: string;
let behaviour: Behaviour = "normal";
let requests: Served[] = [];
let root: string;

function send(res: http.ServerResponse, status: number, headers: Record<string, string | number>, body: Buffer, then?: "cut" | "stall"): void {
  res.writeHead(status, { "content-type": "application/octet-stream", ...headers });
  if (!then) {
    res.end(body);
    return;
  }
  const half = body.subarray(0, Math.floor(body.length / 2));
  res.write(half, () => {
    // "cut": close the connection mid-body; "stall": keep it open and send nothing more.
    if (then === "cut") res.socket?.destroy();
  });
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? "", range: req.headers.range });
    const first = requests.length === 1;
    const name = (req.url ?? "").split("/").pop() ?? "";
    if (!name.startsWith("ggml-") || !name.endsWith(".bin") || (req.url ?? "").includes("/missing/")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Entry not found");
      return;
    }
    if (behaviour === "fail-503-once" && first) {
      res.writeHead(503).end("busy");
      return;
    }
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (match && behaviour !== "ignore-range") {
      const start = Number(match[1]);
      if (start >= MODEL.length) {
        res.writeHead(416, { "content-range": `bytes */${MODEL.length}` }).end();
        return;
      }
      const body = MODEL.subarray(start);
      send(res, 206, { "content-length": body.length, "content-range": `bytes ${start}-${MODEL.length - 1}/${MODEL.length}`, "accept-ranges": "bytes" }, body);
      return;
    }
    if (behaviour === "slow") {
      res.writeHead(200, { "content-length": MODEL.length });
      let at = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(MODEL.subarray(at, at + 64 * 1024));
        at += 64 * 1024;
        if (at >= MODEL.length) {
          clearInterval(timer);
          res.end();
        }
      }, 20);
      return;
    }
    const then = first && behaviour === "cut-once" ? "cut" : first && behaviour === "stall-once" ? "stall" : undefined;
    send(res, 200, { "content-length": MODEL.length, "accept-ranges": behaviour === "ignore-range" ? "none" : "bytes" }, MODEL, then);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  behaviour = "normal";
  requests = [];
  root = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-download-test-"));
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const exists = (file: string) => fs.stat(file).then(() => true, () => false);
const fast = { retryDelayMs: 10, progressIntervalMs: 0 };

describe("model names", () => {
  it("maps names to ggml-<name>.bin, with large meaning large-v3", () => {
    expect(parseModelSpec("large")).toMatchObject({ kind: "name", canonical: "large-v3", fileName: "ggml-large-v3.bin" });
    expect(parseModelSpec("large-q5_0")).toMatchObject({ canonical: "large-v3-q5_0" });
    expect(parseModelSpec(" Base.EN ")).toMatchObject({ canonical: "base.en", fileName: "ggml-base.en.bin" });
    expect(parseModelSpec("large-v3-turbo-q8_0")).toMatchObject({ fileName: "ggml-large-v3-turbo-q8_0.bin" });
    expect(parseModelSpec("./m/ggml-custom.bin")).toEqual({ kind: "path", path: "./m/ggml-custom.bin" });
    expect(() => parseModelSpec("huge")).toThrow(RangeError);
    expect(() => parseModelSpec("large-v2.en")).toThrow(RangeError);
    expect(() => parseModelSpec("models/x.gguf")).toThrow(/\.bin/);
    expect(() => parseModelSpec(3 as never)).toThrow(TypeError);
  });
});

describe("resolveModelFile", () => {
  it("downloads a missing model, verifies it, reports progress and leaves no partial file", async () => {
    const events: DownloadProgress[] = [];
    const file = await resolveModelFile("base.en", { downloadRoot: root, baseUrl, sha256: SHA256, onProgress: (p) => events.push(p), ...fast });
    expect(file).toBe(path.join(root, "ggml-base.en.bin"));
    expect((await fs.readFile(file)).equals(MODEL)).toBe(true);
    expect(await exists(`${file}.partial`)).toBe(false);
    expect(requests).toEqual([{ url: "/models/ggml-base.en.bin", range: undefined }]);
    expect(events[0]).toMatchObject({ receivedBytes: 0, totalBytes: MODEL.length });
    expect(events.at(-1)).toMatchObject({ receivedBytes: MODEL.length, totalBytes: MODEL.length, etaSeconds: 0 });
    for (let i = 1; i < events.length; i++) expect(events[i]!.receivedBytes).toBeGreaterThanOrEqual(events[i - 1]!.receivedBytes);
    for (const e of events) expect(e.bytesPerSecond).toBeGreaterThanOrEqual(0);
  });

  it("uses a model that is already there without any request", async () => {
    const file = path.join(root, "ggml-large-v3.bin");
    await fs.writeFile(file, "already here");
    expect(await resolveModelFile("large", { downloadRoot: root, baseUrl })).toBe(file);
    expect(requests).toHaveLength(0);
  });

  it("resumes with a Range request after the connection is cut mid-way", async () => {
    behaviour = "cut-once";
    const file = await resolveModelFile("small", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast });
    expect((await fs.readFile(file)).equals(MODEL)).toBe(true);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.range).toBeUndefined();
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? "")?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(MODEL.length / 2);
  });

  it("keeps the partial file when retries run out, and a later call resumes it", async () => {
    behaviour = "cut-once";
    const error = await rejection(resolveModelFile("medium", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast, retries: 0 }));
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as ModelDownloadError).reason).toBe("interrupted");
    const final = path.join(root, "ggml-medium.bin");
    expect(await exists(final)).toBe(false);
    const kept = (await fs.stat(`${final}.partial`)).size;
    expect(kept).toBeGreaterThan(0);

    behaviour = "normal";
    const result = await downloadFile(`${baseUrl}/ggml-medium.bin`, final, { checksum: { algorithm: "sha256", value: SHA256 }, ...fast });
    expect(result).toMatchObject({ path: final, bytes: MODEL.length, digest: SHA256, resumed: true });
    expect(requests.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect((await fs.readFile(final)).equals(MODEL)).toBe(true);
  });

  it("starts over when the server ignores Range and answers 200", async () => {
    behaviour = "ignore-range";
    const final = path.join(root, "ggml-tiny.en.bin");
    await fs.writeFile(`${final}.partial`, Buffer.alloc(1 << 20, 0xee)); // stale bytes that must not survive
    const result = await downloadFile(`${baseUrl}/ggml-tiny.en.bin`, final, { checksum: { algorithm: "sha256", value: SHA256 }, ...fast });
    expect(requests[0]!.range).toBe(`bytes=${1 << 20}-`);
    expect(result.resumed).toBe(false);
    expect((await fs.readFile(final)).equals(MODEL)).toBe(true);
  });

  it("treats a complete partial file (416) as done and still verifies it", async () => {
    const final = path.join(root, "ggml-base.bin");
    await fs.writeFile(`${final}.partial`, MODEL);
    const result = await downloadFile(`${baseUrl}/ggml-base.bin`, final, { checksum: { algorithm: "sha256", value: SHA256 }, ...fast });
    expect(result).toMatchObject({ bytes: MODEL.length, resumed: true });
    expect(requests).toEqual([{ url: "/models/ggml-base.bin", range: `bytes=${MODEL.length}-` }]);
  });

  it("removes the download and writes nothing to the final path on a checksum mismatch", async () => {
    const wrong = createHash("sha256").update("something else").digest("hex");
    const error = await rejection(resolveModelFile("base", { downloadRoot: root, baseUrl, sha256: wrong, ...fast }));
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as ModelDownloadError).reason).toBe("checksum");
    expect(error.message).toContain(wrong);
    expect(error.message).toContain(SHA256);
    const final = path.join(root, "ggml-base.bin");
    expect(await exists(final)).toBe(false);
    expect(await exists(`${final}.partial`)).toBe(false);
  });

  it("checks official names against whisper.cpp's published SHA-1", async () => {
    expect(OFFICIAL_MODEL_SHA1.tiny).toMatch(/^[0-9a-f]{40}$/);
    const error = await rejection(resolveModelFile("tiny", { downloadRoot: root, baseUrl, ...fast }));
    expect((error as ModelDownloadError).reason).toBe("checksum");
    expect(error.message).toContain(OFFICIAL_MODEL_SHA1.tiny);
    expect(error.message).toContain("WHISPER_MODEL_SHA256");
    expect(await exists(path.join(root, "ggml-tiny.bin"))).toBe(false);
  });

  it("gives ModelNotFoundError naming the file and the variables on 404", async () => {
    const error = await rejection(resolveModelFile("base-q5_1", { downloadRoot: root, baseUrl: `${baseUrl}/missing`, ...fast }));
    expect(error).toBeInstanceOf(ModelNotFoundError);
    const e = error as ModelNotFoundError;
    expect(e.file).toBe(path.join(root, modelFileName("base-q5_1")));
    expect(e.url).toBe(`${baseUrl}/missing/ggml-base-q5_1.bin`);
    expect(e.code).toBe("ERR_MODEL_NOT_FOUND");
    for (const text of [e.file, "HTTP 404", "WHISPER_MODEL", "WHISPER_DOWNLOAD_ROOT", "WHISPER_MODEL_URL"]) expect(e.message).toContain(text);
    expect(requests).toHaveLength(1); // 404 is not retried
    expect(await exists(`${e.file}.partial`)).toBe(false);
  });

  it("gives ModelNotFoundError when offline", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(resolveModelFile("tiny", { downloadRoot: root, baseUrl: `http://127.0.0.1:${port}`, ...fast, retries: 1 }));
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).toContain("ggml-tiny.bin");
  });

  it("gives ModelNotFoundError without a request when downloading is disabled", async () => {
    const error = await rejection(resolveModelFile("small", { downloadRoot: root, baseUrl, download: false }));
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(error.message).toMatch(/downloading is disabled/);
    expect(requests).toHaveLength(0);
  });

  it("uses a .bin path as is and never downloads it", async () => {
    const custom = path.join(root, "my-model.bin");
    await fs.writeFile(custom, "x");
    expect(await resolveModelFile(custom, { downloadRoot: "/nowhere", baseUrl })).toBe(custom);
    const error = await rejection(resolveModelFile(path.join(root, "absent.bin"), { baseUrl }));
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(error.message).toContain(path.join(root, "absent.bin"));
    expect(error.message).toContain("WHISPER_MODEL");
    expect(requests).toHaveLength(0);
  });

  it("retries after HTTP 503", async () => {
    behaviour = "fail-503-once";
    const file = await resolveModelFile("tiny.en", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast });
    expect((await fs.readFile(file)).equals(MODEL)).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it("abandons a stalled transfer after idleTimeoutMs and resumes", async () => {
    behaviour = "stall-once";
    const file = await resolveModelFile("small.en", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast, idleTimeoutMs: 300 });
    expect((await fs.readFile(file)).equals(MODEL)).toBe(true);
    expect(requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it("shares one transfer between concurrent calls for the same file", async () => {
    const [a, b] = await Promise.all([
      resolveModelFile("large-v2", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast }),
      resolveModelFile("large-v2", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast }),
    ]);
    expect(a).toBe(b);
    expect(requests).toHaveLength(1);
  });

  it("stops on abort with AbortError, keeping the partial file for later", async () => {
    behaviour = "slow";
    const controller = new AbortController();
    const final = path.join(root, "ggml-large-v1.bin");
    const pending = resolveModelFile("large-v1", {
      downloadRoot: root,
      baseUrl,
      ...fast,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.receivedBytes > 256 * 1024) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(await exists(final)).toBe(false);
    expect((await fs.stat(`${final}.partial`)).size).toBeGreaterThan(256 * 1024);
  });

  it("reports an unwritable download root as a disk problem naming WHISPER_DOWNLOAD_ROOT", async () => {
    const blocker = path.join(root, "not-a-dir");
    await fs.writeFile(blocker, "file in the way");
    const error = await rejection(resolveModelFile("tiny", { downloadRoot: path.join(blocker, "models"), baseUrl, ...fast }));
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as ModelDownloadError).reason).toBe("disk");
    expect(error.message).toContain("WHISPER_DOWNLOAD_ROOT");
  });

  it("rejects bad options with TypeError/RangeError", async () => {
    await expect(resolveModelFile("nope")).rejects.toThrow(RangeError);
    await expect(resolveModelFile("tiny", { downloadRoot: root, baseUrl: "ftp://x" })).rejects.toThrow(TypeError);
    expect(() => downloadFile(`${baseUrl}/ggml-x.bin`, path.join(root, "x"), { retries: -1 })).toThrow(/retries/);
    expect(() => downloadFile(`${baseUrl}/ggml-x.bin`, path.join(root, "x"), { checksum: { algorithm: "md5" as never, value: "0" } })).toThrow(/checksum.algorithm/);
    expect(() => downloadFile("file:///etc/passwd", path.join(root, "x"))).toThrow(/http/);
  });
});

describe("downloads through a proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY)", () => {
  const PROXY_NAMES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"];
  let proxy: TestProxy;
  beforeAll(async () => {
    const port = Number(new URL(baseUrl).port);
    // models.invalid only resolves through the proxy, so a completed download proves it was used.
    proxy = await startProxy((host) => (host === "models.invalid" ? { host: "127.0.0.1", port } : { host, port: 9 }));
  });
  afterAll(() => proxy.close());
  beforeEach(() => {
    for (const name of PROXY_NAMES) vi.stubEnv(name, undefined);
    proxy.targets.length = 0;
  });
  afterEach(() => vi.unstubAllEnvs());

  it("fetches the model through HTTP_PROXY, resuming through it too", async () => {
    vi.stubEnv("HTTP_PROXY", proxy.url);
    behaviour = "cut-once";
    const file = await resolveModelFile("base", { downloadRoot: root, baseUrl: "http://models.invalid/models", sha256: SHA256, ...fast });
    expect((await fs.readFile(file)).equals(MODEL)).toBe(true);
    expect(requests.map((r) => r.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    expect(proxy.targets).toEqual(["models.invalid:80", "models.invalid:80"]);
  });

  it("goes direct for NO_PROXY hosts, and fails naming the URL when the proxy is down", async () => {
    vi.stubEnv("HTTP_PROXY", "http://127.0.0.1:9");
    vi.stubEnv("NO_PROXY", "127.0.0.1");
    const file = await resolveModelFile("tiny", { downloadRoot: root, baseUrl, sha256: SHA256, ...fast });
    expect((await fs.readFile(file)).equals(MODEL)).toBe(true);
    vi.stubEnv("NO_PROXY", "");
    const error = await rejection(downloadFile(`${baseUrl}/ggml-small.bin`, path.join(root, "small.bin"), { ...fast, retries: 0 }));
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as ModelDownloadError).reason).toBe("network");
    expect(error.message).toContain(`${baseUrl}/ggml-small.bin`);
    expect(proxy.targets).toEqual([]);
  });
});
