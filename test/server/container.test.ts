// There is no Docker engine on these machines: check what can be checked without one. The compose
// file parses and says what TingWu expects; the Dockerfile's stages, user, port and health check are
// there; every file it copies is in the build context; every npm script it runs exists (so CI,
// which runs the same scripts, exercises the image's build steps).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("docker-compose.models.yml", () => {
  const compose = YAML.parse(read("docker-compose.models.yml")) as { services: Record<string, Record<string, unknown>> };
  const service = compose.services["tingwu-whisper"]!;

  it("defines tingwu-whisper as TingWu's compose setup expects", () => {
    expect(service.profiles).toEqual(["whisper", "all"]);
    expect(service.ports).toEqual(["${PORT_WHISPER:-8105}:8000"]);
    expect(service.environment).toMatchObject({
      ASR_BACKEND: "whisper",
      DEVICE: "cuda",
      WHISPER_MODEL: "${WHISPER_MODEL:-large}",
      WHISPER_LANGUAGE: expect.stringMatching(/^\$\{WHISPER_LANGUAGE/),
      WHISPER_DOWNLOAD_ROOT: expect.stringContaining("/app/data/models/whisper"),
    });
    expect(service.volumes).toEqual(["./data:/app/data"]);
    expect(service.deploy).toEqual({ resources: { reservations: { devices: [{ driver: "nvidia", count: "all", capabilities: ["gpu"] }] } } });
    expect((service.healthcheck as { test: string[] }).test.join(" ")).toContain("/health");
    expect((service.build as { dockerfile: string }).dockerfile).toBe("Dockerfile.cuda124");
  });

  it("profile whisper-scale: Redis with AOF, an API-only front and GPU workers sharing the job directory", () => {
    const redis = compose.services["tingwu-whisper-redis"]!;
    const api = compose.services["tingwu-whisper-api"]!;
    const worker = compose.services["tingwu-whisper-worker"]!;
    for (const s of [redis, api, worker]) expect(s.profiles).toEqual(["whisper-scale"]);
    expect((redis.command as string[]).join(" ")).toMatch(/--appendonly yes.*--maxmemory-policy noeviction/);
    expect(api.command).toEqual(["serve", "--no-inference"]);
    expect(worker.command).toEqual(["worker", "--drain-timeout", "120"]);
    for (const s of [api, worker]) {
      expect(s.environment).toMatchObject({ REDIS_URL: "redis://tingwu-whisper-redis:6379", JOB_STORAGE: "dir:/app/data/jobs" });
      expect(s.volumes).toEqual(["./data:/app/data"]);
    }
    expect(worker.deploy).toEqual({ resources: { reservations: { devices: [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }] } } });
    expect(worker.ports).toBeUndefined();
  });
});

describe(".env.example", () => {
  it("has the variables the compose file reads", () => {
    const text = read(".env.example");
    expect(text).toMatch(/^PORT_WHISPER=8105$/m);
    for (const name of ["WHISPER_MODEL", "WHISPER_LANGUAGE", "WHISPER_DOWNLOAD_ROOT"]) expect(text).toMatch(new RegExp(`^${name}=`, "m"));
    expect(text).toMatch(/^# .*ASR_BACKEND.*whisper/m);
  });
});

describe("Dockerfile.cuda124", () => {
  const dockerfile = read("Dockerfile.cuda124");
  const lines = dockerfile.split("\n");
  const instructions = lines.filter((l) => /^[A-Z]+\s/.test(l));

  it("is a multi-stage CUDA 12.4 build with the version as a top-level ARG", () => {
    expect(instructions.find((l) => !l.startsWith("#"))).toBe("ARG CUDA_VERSION=12.4.1");
    const froms = instructions.filter((l) => l.startsWith("FROM "));
    expect(froms).toContainEqual(expect.stringMatching(/^FROM nvidia\/cuda:\$\{CUDA_VERSION\}-devel-ubuntu\$\{UBUNTU_VERSION\} AS build$/));
    expect(froms[froms.length - 1]).toMatch(/^FROM nvidia\/cuda:\$\{CUDA_VERSION\}-runtime-ubuntu\$\{UBUNTU_VERSION\}$/);
    expect(dockerfile).toMatch(/^ARG UBUNTU_VERSION=22\.04$/m);
  });

  it("runs as a non-root user, exposes 8000, checks /health and serves", () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(runtime).toMatch(/^USER app$/m);
    expect(runtime).toMatch(/useradd --system --uid 10001/);
    expect(runtime).toMatch(/^EXPOSE 8000$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    expect(runtime).toMatch(/^ENV [^]*TINGWU_WHISPER_VARIANT=cuda/m);
    expect(runtime).toMatch(/apt-get install -y --no-install-recommends ffmpeg/);
    expect(runtime).toMatch(/^CMD \["serve"\]$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]$/m);
  });

  it("builds with the same npm scripts CI runs", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const used = [...dockerfile.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(used).toEqual(["build:cuda", "build:ts"]);
    for (const name of used) expect(scripts, `package.json has no "${name}" script`).toHaveProperty(name);
    expect(dockerfile).toMatch(/TINGWU_WHISPER_SKIP_BUILD=1 npm ci/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  it("copies only files that exist and that .dockerignore lets into the context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#") && !l.startsWith("!"));
    const sources = instructions
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from="))
      .flatMap((l) => l.replace(/^COPY\s+/, "").split(/\s+/).slice(0, -1));
    expect(sources).toContain("package-lock.json");
    for (const source of sources) {
      expect(fs.existsSync(path.join(ROOT, source)), `${source} exists`).toBe(true);
      const top = source.replace(/\/$/, "").split("/")[0]!;
      expect(ignored.some((pattern) => pattern === top || (pattern.endsWith("*") && top.startsWith(pattern.slice(0, -1)))), `${source} is not ignored`).toBe(false);
    }
  });
});
