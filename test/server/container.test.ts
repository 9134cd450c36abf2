// There is no Docker engine on these machines: check what can be checked without one. The compose
// file parses and says what TingWu expects; the Dockerfile's stages, user, port and health check are
// there; every file it copies is in the build context; every npm script it runs exists (so CI,
// which runs the same scripts, exercises the image's build steps). CI also builds the image with
// buildah and runs it (test/image/smoke.test.ts).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

import { SETTINGS_VARIABLES } from "../../lib/config.js";

const ROOT_COMPOSE = YAML.parse(read("docker-compose.models.yml")) as { services: Record<string, Record<string, unknown>> };

/** Every variable .env.example documents, set or commented out (`NAME=` or `# NAME=` at a line start). */
const documented = [...read(".env.example").matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);

describe("docker-compose.models.yml", () => {
  const service = ROOT_COMPOSE.services["tingwu-whisper"]!;
  const environment = service.environment as Record<string, string>;

  it("defines tingwu-whisper as TingWu's compose setup expects", () => {
    expect(service.profiles).toEqual(["whisper", "all"]);
    expect(service.ports).toEqual(["${PORT_WHISPER:-8105}:8000"]);
    expect(environment).toMatchObject({
      ASR_BACKEND: "whisper",
      // TingWu's own compose spelling: WHISPER_DEVICE on the host, DEVICE in the container.
      DEVICE: "${WHISPER_DEVICE:-cuda}",
      WHISPER_MODEL: "${WHISPER_MODEL:-large}",
      WHISPER_LANGUAGE: expect.stringMatching(/^\$\{WHISPER_LANGUAGE/),
      WHISPER_DOWNLOAD_ROOT: expect.stringContaining("/app/data/models/whisper"),
    });
    expect(service.volumes).toEqual(["./data:/app/data"]);
    expect(service.deploy).toEqual({ resources: { reservations: { devices: [{ driver: "nvidia", count: "all", capabilities: ["gpu"] }] } } });
    expect((service.build as { dockerfile: string }).dockerfile).toBe("Dockerfile.cuda124");
    expect(service.build).toMatchObject({ target: "${WHISPER_ADDON_BUILD:-prebuilt}", args: { CUDA_ARCHITECTURES: "${CUDA_ARCHITECTURES:-}" } });
  });

  it("forwards every variable .env.example documents, and the proxy variables", () => {
    const text = read("docker-compose.models.yml");
    expect(documented.length).toBeGreaterThan(15);
    for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "WHISPER_MODEL_URL", "WHISPER_MODEL_SHA256", "WHISPER_THREADS", "WHISPER_DEVICE"]) expect(documented).toContain(name);
    for (const name of documented) {
      // ASR_BACKEND is fixed: this service only has the whisper backend.
      if (name === "ASR_BACKEND") continue;
      expect(text, `${name} from .env reaches the compose file`).toMatch(new RegExp(`\\$\\{${name}(:?-|\\})`));
    }
    // A setting the service reads reaches the container under its own name.
    for (const name of documented.filter((n) => (SETTINGS_VARIABLES as readonly string[]).includes(n) || ["TINGWU_CPU_FP16", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"].includes(n))) {
      expect(environment, `${name} is in the container's environment`).toHaveProperty(name);
      if (name !== "ASR_BACKEND") expect(environment[name]).toMatch(new RegExp(`^\\$\\{${name}`));
    }
  });

  it("checks health with the image's script, which reads /ready", () => {
    expect((service.healthcheck as { test: string[] }).test).toEqual(["CMD", "node", "/app/scripts/docker-healthcheck.mjs"]);
    expect(read("scripts/docker-healthcheck.mjs")).toMatch(/\/ready/);
  });

  it("profile whisper-scale: Redis with AOF, an API-only front and GPU workers sharing the job directory", () => {
    const redis = ROOT_COMPOSE.services["tingwu-whisper-redis"]!;
    const api = ROOT_COMPOSE.services["tingwu-whisper-api"]!;
    const worker = ROOT_COMPOSE.services["tingwu-whisper-worker"]!;
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
  const runtime = dockerfile.slice(dockerfile.indexOf("\nFROM ${BASE_IMAGE} AS runtime"));

  it("has its bases as top-level ARGs, NVIDIA's CUDA 12.4.1 pinned by digest by default", () => {
    expect(instructions.find((l) => !l.startsWith("#"))).toBe("ARG CUDA_VERSION=12.4.1");
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE=nvidia\/cuda:\$\{CUDA_VERSION\}-runtime-ubuntu\$\{UBUNTU_VERSION\}@sha256:[0-9a-f]{64}$/m);
    expect(dockerfile).toMatch(/^ARG BUILD_IMAGE=nvidia\/cuda:\$\{CUDA_VERSION\}-devel-ubuntu\$\{UBUNTU_VERSION\}@sha256:[0-9a-f]{64}$/m);
    // A current Node.js LTS (22 or 24), by checksum.
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=(22|24)\.\d+\.\d+$/m);
    expect(dockerfile).toMatch(/^ARG NODE_SHA256=[0-9a-f]{64}$/m);
    expect(dockerfile).toMatch(/^ARG NPM_SHA256=[0-9a-f]{64}$/m);
    const froms = instructions.filter((l) => l.startsWith("FROM "));
    expect(froms).toContainEqual("FROM ${BUILD_IMAGE} AS app-source");
    expect(froms).toContainEqual("FROM ${BASE_IMAGE} AS runtime");
    // The default (last) stage installs the prebuilt package; `--target source` compiles.
    expect(froms.slice(-2)).toEqual(["FROM runtime AS source", "FROM runtime AS prebuilt"]);
    expect(dockerfile).toMatch(/^FROM runtime AS prebuilt\nCOPY --from=app-prebuilt \/app\/ \/app\/$/m);
    expect(dockerfile).toMatch(/^FROM runtime AS source\nCOPY --from=app-source \/app\/ \/app\/$/m);
  });

  it("starts as root in an entrypoint that drops to uid 10001, exposes 8000, checks /ready and serves", () => {
    expect(runtime).not.toMatch(/^USER /m);
    // The shared runtime stage has everything but the app, which each final stage adds.
    expect(runtime.slice(0, runtime.indexOf("\nFROM runtime AS "))).not.toMatch(/COPY --from=app/);
    expect(runtime).toMatch(/app:x:10001:10001:/);
    expect(read("scripts/docker-entrypoint.sh")).toMatch(/exec setpriv --reuid="\$APP_UID" --regid="\$APP_GID" --clear-groups/);
    expect(runtime).toMatch(/^EXPOSE 8000$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*docker-healthcheck\.mjs/m);
    expect(runtime).not.toMatch(/TINGWU_WHISPER_VARIANT/);
    expect(runtime).toMatch(/apt-get install -y --no-install-recommends ffmpeg/);
    expect(runtime).toMatch(/^CMD \["serve"\]$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/bin\/sh", "\/app\/scripts\/docker-entrypoint\.sh"\]$/m);
    // The entrypoint and healthcheck reach the image through the packed tarball's scripts/.
    const files = (JSON.parse(read("package.json")) as { files: string[] }).files;
    expect(files).toContain("scripts/");
  });

  it("builds from source with the same npm scripts CI runs", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const commands = lines.filter((l) => !l.startsWith("#")).join("\n");
    const used = [...commands.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(used).toEqual(["build:cuda", "build:ts"]);
    for (const name of [...used, "image:base", "image:build", "image:smoke"]) expect(scripts, `package.json has no "${name}" script`).toHaveProperty(name);
    expect(dockerfile).toMatch(/TINGWU_WHISPER_SKIP_BUILD=1 npm ci/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
  });

  it("copies only files that exist (or that npm pack makes) and that .dockerignore lets into the context", () => {
    const rules = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    // Docker's rule: the last matching pattern wins, `!` re-includes.
    const ignored = (file: string) => {
      let out = false;
      for (const rule of rules) {
        const negated = rule.startsWith("!");
        const pattern = negated ? rule.slice(1) : rule;
        if (glob(pattern).test(file) || file.startsWith(`${pattern}/`)) out = !negated;
      }
      return out;
    };
    const sources = instructions
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from="))
      .flatMap((l) => l.replace(/^COPY\s+/, "").split(/\s+/).slice(0, -1));
    expect(sources).toContain("package-lock.json");
    expect(sources).toContain("tingwu-whisper-*.tgz");
    for (const source of sources) {
      const name = source.replace(/\/$/, "");
      if (source !== "tingwu-whisper-*.tgz") expect(fs.existsSync(path.join(ROOT, source)), `${source} exists`).toBe(true);
      expect(ignored(name === "tingwu-whisper-*.tgz" ? "tingwu-whisper-0.1.0.tgz" : name), `${source} is not ignored`).toBe(false);
    }
    expect(ignored("other.tgz")).toBe(true);
  });
});
