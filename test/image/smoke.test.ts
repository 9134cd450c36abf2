// Smoke test of the built image (`npm run image:smoke`, after `npm run image:base` and
// `npm run image:build`): the archive is unpacked and its entrypoint run in namespaces on loopback, as
// `docker run` would, with a root-owned ./data (as TingWu's other services leave it) mounted at
// /app/data. It fails if the entrypoint, the user switch, file permissions, ffmpeg or a runtime
// library break the service. Not exercised here: a GPU inside the container (none on CI machines).
// Without the archive or root it is skipped with a message, unless TINGWU_REQUIRE_IMAGE=1 says it must run
// (CI). Not part of `npm test` (vitest.image.config.ts).
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_AUDIO_SECONDS, makeAudio, SCRIPT, scriptedModelPath } from "../fixtures/models.js";
import { startProxy } from "../helpers/proxy.js";
import type { TestProxy } from "../helpers/proxy.js";
import { encodeWav16 } from "../helpers/wav.js";
import { check, Container, describeArchive, unpack, waitFor } from "./container.js";
import type { Unpacked } from "./container.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ARCHIVE = path.join(ROOT, "build/image/tingwu-whisper-cuda12.4.oci.tar");
const DOCKER_ARCHIVE = path.join(ROOT, "build/image/tingwu-whisper-cuda12.4.docker.tar");
const TAG = "tingwu-whisper:cuda12.4";
const required = process.env.TINGWU_REQUIRE_IMAGE === "1";
const missing = !fs.existsSync(ARCHIVE)
  ? `no image archive at ${ARCHIVE} (npm run image:base && npm run image:build)`
  : process.getuid?.() !== 0
    ? "running the image needs root (namespaces, mounts, chown inside), as docker does"
    : undefined;
if (missing && required) throw new Error(`TINGWU_REQUIRE_IMAGE=1 but ${missing}`);
if (missing) console.warn(`image smoke test skipped: ${missing}`);

const TEXT = SCRIPT.text.trim();
const SENTENCES = SCRIPT.segments.map((s) => ({ text: s.text.trim(), start: s.start, end: s.end, speaker: null, speaker_id: null }));
const APP_UID = 10001;

let work: string;
let image: Unpacked;
let model: Buffer;
let nextPort = 0;
let ids = 0;
const running: Container[] = [];

/** A free port on 127.0.0.1 (the container shares the host's network namespace). */
async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  nextPort = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return nextPort;
}

/** A ./data folder as `mkdir` by root leaves it: root-owned, not writable by uid 10001. */
function rootOwnedData(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chownSync(dir, 0, 0);
  return dir;
}

async function serve(name: string, env: Record<string, string>, data: string): Promise<{ container: Container; base: string }> {
  const port = await freePort();
  const container = new Container(image, `${name}-${process.pid}-${++ids}`, { env: { HOST: "127.0.0.1", PORT: String(port), WHISPER_LANGUAGE: "", ...env }, data });
  running.push(container);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(container, `${base}/health`, (r) => r.ok);
  return { container, base };
}

async function transcribe(base: string, file: Buffer, name: string): Promise<unknown> {
  const form = new FormData();
  form.append("file", new Blob([file]), name);
  const res = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: form });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

const wav = () => encodeWav16(makeAudio(MIN_AUDIO_SECONDS));

describe.skipIf(missing !== undefined)("the built image (OCI archive, unpacked and run in namespaces)", () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-image-smoke-"));
    image = await unpack(ARCHIVE, work, TAG);
    model = fs.readFileSync(await scriptedModelPath());
  });

  afterAll(async () => {
    for (const c of running) await c.stop(10_000).catch(() => {});
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("reports its size and layers; its config runs the entrypoint as root to drop to uid 10001", async () => {
    const { bytes, layers, config } = await describeArchive(ARCHIVE);
    const unpacked = Number((await check("du", ["-sb", image.rootfs])).split("\t")[0]);
    console.log(
      [
        `image ${TAG}: archive ${(bytes / 2 ** 20).toFixed(1)} MiB, unpacked ${(unpacked / 2 ** 20).toFixed(1)} MiB, ${layers.length} layers:`,
        ...layers.map((l, i) => `  ${String(i + 1).padStart(2)}. ${(l.size / 2 ** 20).toFixed(1).padStart(7)} MiB  ${l.createdBy}`),
      ].join("\n"),
    );
    expect(layers.length).toBeGreaterThan(1);
    expect(config.config).toMatchObject({
      Entrypoint: ["/bin/sh", "/app/scripts/docker-entrypoint.sh"],
      Cmd: ["serve"],
      WorkingDir: "/app",
      ExposedPorts: { "8000/tcp": {} },
    });
    const env = ((config.config?.Env ?? []) as string[]).join("\n");
    expect(env).toMatch(/^DEVICE=cuda$/m);
    expect(env).toMatch(/^WHISPER_DOWNLOAD_ROOT=\/app\/data\/models\/whisper$/m);
    // The loader picks CUDA when the host has a driver and GPU, the CPU prebuild otherwise.
    expect(env).not.toMatch(/TINGWU_WHISPER_VARIANT/);
    expect(fs.readFileSync(path.join(image.rootfs, "etc/passwd"), "utf8")).toMatch(/^app:x:10001:10001:/m);
  });

  it("the docker-archive (for `docker load`) keeps the HEALTHCHECK", async () => {
    const manifest = JSON.parse(await check("tar", ["-xOf", DOCKER_ARCHIVE, "manifest.json"])) as { Config: string; RepoTags: string[] }[];
    // The normalised name, which `docker load` lists as tingwu-whisper:cuda12.4.
    expect(manifest[0]!.RepoTags).toContain(`docker.io/library/${TAG}`);
    const config = JSON.parse(await check("tar", ["-xOf", DOCKER_ARCHIVE, manifest[0]!.Config])) as { config: { Healthcheck?: { Test: string[] } } };
    expect(config.config.Healthcheck?.Test).toEqual(["CMD", "node", "/app/scripts/docker-healthcheck.mjs"]);
  });

  it("serves the model from a root-owned ./data as uid 10001: /health, /api/v1/backend, exact transcripts (WAV and FLAC through ffmpeg)", async () => {
    const data = rootOwnedData("data-root-owned");
    const cache = path.join(data, "models", "whisper");
    fs.mkdirSync(cache, { recursive: true });
    fs.chownSync(path.join(data, "models"), 0, 0);
    // The operator's own file next to the cache: the entrypoint must leave it alone.
    fs.writeFileSync(path.join(data, "notes.txt"), "mine");
    fs.writeFileSync(path.join(cache, "ggml-tiny.bin"), model, { mode: 0o600 });
    const { container, base } = await serve("scripted", { WHISPER_MODEL: "tiny" }, data);

    const health = await fetch(`${base}/health`);
    expect(await health.json()).toEqual({ status: "healthy", version: expect.any(String) });
    await waitFor(container, `${base}/ready`, (r) => r.status === 200, 120_000);

    const backend = (await (await fetch(`${base}/api/v1/backend`)).json()) as { backend: string; info: Record<string, unknown>; capabilities: Record<string, unknown> };
    expect(backend.backend).toBe("whisper");
    expect(backend.capabilities).toMatchObject({ supports_hotwords: true });
    console.log(`/api/v1/backend info: ${JSON.stringify(backend.info)}`);

    expect(await transcribe(base, wav(), "talk.wav")).toMatchObject({ code: 0, text: TEXT, sentences: SENTENCES });
    const flac = path.join(work, "talk.flac");
    fs.writeFileSync(path.join(work, "talk.wav"), wav());
    await check("ffmpeg", ["-v", "error", "-y", "-i", path.join(work, "talk.wav"), flac]);
    expect(await transcribe(base, fs.readFileSync(flac), "talk.flac")).toMatchObject({ code: 0, text: TEXT });

    // The service runs as app (10001), not root; the cache became its own, nothing else did.
    const status = fs.readFileSync(`/proc/${container.pid()}/status`, "utf8");
    expect(status).toMatch(new RegExp(`^Uid:\\s+${APP_UID}\\s+${APP_UID}\\s+${APP_UID}\\s+${APP_UID}$`, "m"));
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(fs.statSync(path.join(cache, "ggml-tiny.bin")).uid).toBe(APP_UID);
    expect(fs.statSync(cache).uid).toBe(APP_UID);
    expect(fs.statSync(data).uid).toBe(0);
    expect(fs.statSync(path.join(data, "notes.txt")).uid).toBe(0);

    const probe = await container.exec(["node", "/app/scripts/docker-healthcheck.mjs"]);
    expect(probe.status, probe.stderr).toBe(0);
    expect(await container.stop()).toBe(0);
    expect(container.logs).toMatch(/shutdown complete/);
  });

  it("downloads the model through HTTP_PROXY into an empty root-owned ./data, checked against WHISPER_MODEL_SHA256", async () => {
    const models = http.createServer((req, res) => {
      if (req.url !== "/mirror/ggml-base.bin") return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": model.length, "content-type": "application/octet-stream" }).end(model);
    });
    await new Promise<void>((resolve) => models.listen(0, "127.0.0.1", resolve));
    const port = (models.address() as AddressInfo).port;
    // models.invalid resolves nowhere: only the proxy can reach it.
    const proxy: TestProxy = await startProxy((host) => (host === "models.invalid" ? { host: "127.0.0.1", port } : { host, port: 9 }));
    try {
      const data = rootOwnedData("data-download");
      const { container, base } = await serve(
        "download",
        {
          WHISPER_MODEL: "base",
          WHISPER_MODEL_URL: "http://models.invalid/mirror",
          WHISPER_MODEL_SHA256: createHash("sha256").update(model).digest("hex"),
          HTTP_PROXY: proxy.url,
        },
        data,
      );
      await waitFor(container, `${base}/ready`, (r) => r.status === 200, 120_000);
      expect(proxy.targets).toContain("models.invalid:80");
      const file = path.join(data, "models", "whisper", "ggml-base.bin");
      expect(fs.readFileSync(file).equals(model)).toBe(true);
      expect(fs.statSync(file).uid).toBe(APP_UID);
      expect(await transcribe(base, wav(), "talk.wav")).toMatchObject({ text: TEXT });
      expect(await container.stop()).toBe(0);
    } finally {
      await proxy.close();
      models.closeAllConnections();
      await new Promise((resolve) => models.close(resolve));
    }
  });

  it("is unhealthy when the model can't load: /ready 503 failed, the healthcheck exits 1, /health stays up", async () => {
    const data = rootOwnedData("data-broken");
    fs.writeFileSync(path.join(data, "broken.bin"), "not a ggml model");
    const { container, base } = await serve("broken", { WHISPER_MODEL: "/app/data/broken.bin" }, data);
    const ready = await waitFor(container, `${base}/ready`, (r) => r.status === 503 && r.headers.get("content-type")?.includes("json") === true, 60_000);
    let body = (await ready.json()) as { status: string; error?: string };
    for (let i = 0; body.status !== "failed" && i < 240; i++) {
      await new Promise((r) => setTimeout(r, 250));
      body = (await (await fetch(`${base}/ready`)).json()) as { status: string };
    }
    expect(body).toMatchObject({ status: "failed", model: "broken.bin", error: expect.any(String) });
    const health = await container.exec(["node", "/app/scripts/docker-healthcheck.mjs"]);
    expect(health.status).toBe(1);
    expect(health.stderr).toMatch(/^unhealthy: .*\/ready answered 503 .*"failed"/);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await container.stop()).toBe(0);
  });

  it("the cuda12 prebuild loads with the image's CUDA 12.4 runtime libraries", (context) => {
    const cudaDir = path.join(image.rootfs, "app/prebuilds/linux-x64/cuda12");
    if (!fs.existsSync(path.join(cudaDir, "node.napi.glibc.node"))) {
      console.warn("cuda12 check skipped: this image has no prebuilds/linux-x64/cuda12 (npm run build:prebuilds -- --cuda with the CUDA 12.4 toolkit, before image:build)");
      context.skip();
      return;
    }
    const script = `
      const info = require("/app/prebuilds/linux-x64/cuda12/node.napi.glibc.node").runtimeInfo();
      const libs = require("fs").readFileSync("/proc/self/maps", "utf8").split("\\n").map((l) => l.split(/\\s+/)[5]).filter((f) => /libcu(dart|blas)/.test(f || ""));
      console.log(JSON.stringify({ info, libs: [...new Set(libs)] }));`;
    const container = new Container(image, `cuda-${process.pid}`, { args: ["node", "-e", script] });
    return container.exited.then((code) => {
      expect(code, container.logs).toBe(0);
      const { info, libs } = JSON.parse(container.logs.trim().split("\n").at(-1)!) as { info: { cudaCompiled: boolean }; libs: string[] };
      console.log(`cuda12 prebuild in the image: ${JSON.stringify(info)}\n  CUDA libraries mapped: ${libs.join(", ")}`);
      expect(info.cudaCompiled).toBe(true);
      expect(libs).toContainEqual(expect.stringMatching(/libcudart\.so\.12/));
      expect(libs).toContainEqual(expect.stringMatching(/libcublas\.so\.12/));
    });
  });
});
