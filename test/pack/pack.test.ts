// `npm pack` ships the prebuilt binaries, and the tarball installs and transcribes on a machine
// without a compiler: the install runs with a PATH that has node, npm and sh and nothing else (no
// cmake, cc, c++, make), so any attempt to build from source fails the install.
// Needs the CPU prebuild (node scripts/prebuild.mjs --cpu) and dist/ (npm run build:ts); skipped
// without them unless TINGWU_REQUIRE_PREBUILDS=1 (CI) makes that a failure.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../lib/native.js";
import { SCRIPT, makeAudio, scriptedModelPath } from "../fixtures/models.js";

const tuple = `${process.platform}-${process.arch}`;
const cpuPrebuild = path.join(PACKAGE_ROOT, "prebuilds", tuple, "node.napi.glibc.node");
const ready = fs.existsSync(cpuPrebuild) && fs.existsSync(path.join(PACKAGE_ROOT, "dist", "index.js"));
const required = process.env.TINGWU_REQUIRE_PREBUILDS === "1";

describe.runIf(required && !ready)("prebuilds required", () => {
  it("exist", () => {
    expect.fail(`TINGWU_REQUIRE_PREBUILDS=1 but ${path.relative(PACKAGE_ROOT, cpuPrebuild)} or dist/ is missing: run npm run build:ts && npm run build:prebuilds -- --cpu`);
  });
});

describe.runIf(ready)("npm pack with prebuilds", () => {
  let tmp: string;
  let tarball: string;
  let files: string[];
  let bin: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-pack-"));
    const pack = spawnSync("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: PACKAGE_ROOT, encoding: "utf8" });
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(tmp, info!.filename);
    files = info!.files.map((f) => f.path);

    // A PATH with no compiler and no cmake: only what npm and the install script need.
    bin = path.join(tmp, "bin");
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    fs.symlinkSync(fs.realpathSync(spawnSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).stdout.trim()), path.join(bin, "npm"));
    fs.symlinkSync("/bin/sh", path.join(bin, "sh"));
  }, 300_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("contains the CPU prebuild with its backend libraries, and no build tree", () => {
    expect(files).toContain(`prebuilds/${tuple}/node.napi.glibc.node`);
    // The libraries it links, under their sonames (npm pack drops symlinks).
    for (const lib of ["libggml-base.so.0", "libggml.so.0", "libwhisper.so.1"]) expect(files).toContain(`prebuilds/${tuple}/${lib}`);
    // ggml's runtime CPU dispatch: one backend per x86 level, loaded by name next to the .node.
    const cpuVariants = files.filter((f) => /^prebuilds\/[^/]+\/libggml-cpu-[a-z0-9_]+\.so$/.test(f));
    expect(cpuVariants.length).toBeGreaterThanOrEqual(4);
    // Shipped binaries search their own folder only, no folder of the build machine.
    for (const f of files.filter((f) => f.startsWith(`prebuilds/${tuple}/`) && /\.(node|so(\.\d+)*)$/.test(f))) {
      const dynamic = spawnSync("readelf", ["-d", path.join(PACKAGE_ROOT, f)], { encoding: "utf8" }).stdout;
      const runpath = /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/.exec(dynamic)?.[1];
      expect([undefined, "$ORIGIN"], `${f}: RUNPATH ${runpath}`).toContain(runpath);
    }
    // The AVX512-FP16 backends the addon loads itself on x86 (CMakeLists.txt, native/runtime.cc).
    if (process.arch === "x64") {
      for (const lib of ["tingwu-cpu-avx512fp16.so", "tingwu-cpu-sapphirerapids-fp16.so"]) expect(files).toContain(`prebuilds/${tuple}/${lib}`);
    }
    const cudaDirs = fs.existsSync(path.join(PACKAGE_ROOT, "prebuilds", tuple))
      ? fs.readdirSync(path.join(PACKAGE_ROOT, "prebuilds", tuple)).filter((d) => /^cuda\d+$/.test(d))
      : [];
    for (const dir of cudaDirs) expect(files).toContain(`prebuilds/${tuple}/${dir}/node.napi.glibc.node`);
    expect(files.some((f) => f.startsWith("build/") || f.startsWith(".cuda-toolkit/") || f.startsWith("test/"))).toBe(false);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("public/realtime.html"); // served at /realtime
    // The web page is served from the package (scripts/copy-web.mjs copies it into dist).
    for (const f of ["index.html", "app.js", "style.css"]) expect(files).toContain(`dist/server/web/${f}`);
  });

  // npm 11 skips a dependency's install script until the project approves it (allowScripts), so
  // the loader must find the prebuild by itself; after `npm install-scripts approve`, `npm rebuild`
  // runs install.mjs, which must take the prebuild and compile nothing.
  it("installs without a compiler and transcribes with the prebuild", async () => {
    const project = path.join(tmp, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "pack-smoke", version: "1.0.0", private: true, type: "module" }));
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, npm_config_cache: process.env.npm_config_cache };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    expect(spawnSync("sh", ["-c", "command -v cmake || command -v cc || command -v c++ || command -v make"], { env }).status).not.toBe(0);

    const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project, env, encoding: "utf8", timeout: 600_000 });
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    const npm = (...args: string[]) => spawnSync("npm", args, { cwd: project, env, encoding: "utf8", timeout: 600_000 });
    const approve = npm("install-scripts", "approve", "tingwu-whisper");
    if (approve.status === 0) {
      const rebuild = npm("rebuild", "tingwu-whisper", "--foreground-scripts");
      expect(rebuild.status, `${rebuild.stdout}\n${rebuild.stderr}`).toBe(0);
      expect(rebuild.stdout + rebuild.stderr).toContain(`using prebuilds/${tuple}/node.napi.glibc.node`);
    } else {
      // an npm without install-script approvals ran install.mjs during the install
      expect(install.stdout + install.stderr).toContain(`using prebuilds/${tuple}/node.napi.glibc.node`);
    }
    expect(fs.existsSync(path.join(project, "node_modules", "tingwu-whisper", "build"))).toBe(false);
    // The whisper.cpp source (nodejs-whisper, 35 MB with its own dependencies and bin) only comes when compiling.
    expect(fs.existsSync(path.join(project, "node_modules", "nodejs-whisper"))).toBe(false);

    const model = await scriptedModelPath({ dims: "mini" });
    const audio = path.join(tmp, "audio.f32");
    fs.writeFileSync(audio, makeAudio(5));
    fs.writeFileSync(
      path.join(project, "smoke.js"),
      `import fs from "node:fs";
       import { Whisper, runtimeInfo } from "tingwu-whisper";
       const buf = fs.readFileSync(process.argv[3]);
       const samples = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
       const model = await Whisper.load(process.argv[2], { threads: 2 });
       const result = await model.transcribe(samples);
       await model.dispose();
       const info = runtimeInfo();
       console.log(JSON.stringify({ text: result.text, binary: info.binary, variant: info.variant, backends: info.backends, cpuBackend: info.cpuBackend, systemInfo: info.systemInfo }));`,
    );
    const run = spawnSync("node", ["smoke.js", model, audio], { cwd: project, env, encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { text: string; binary: string; variant: string; backends: string[]; cpuBackend: string | null; systemInfo: string };
    expect(out.text).toBe(SCRIPT.text);
    expect(out.binary).toBe(path.join(fs.realpathSync(project), "node_modules", "tingwu-whisper", "prebuilds", tuple, "node.napi.glibc.node"));
    expect(out.variant).toBe("portable");
    expect(out.backends).toContain("CPU");
    // A backend module from the installed package's folder: ggml's variant, or ours on AVX512-FP16.
    expect(out.cpuBackend).toMatch(/^(libggml-cpu-[a-z0-9_]+|tingwu-cpu-[a-z0-9-]+fp16)$/);
  }, 600_000);
});
