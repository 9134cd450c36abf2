// The package as a CommonJS project sees it: `require("tingwu-whisper")` through the package's
// `exports`, from a project that links it (as `npm link` does), then a transcription and the
// embedded server. The CommonJS build (dist-cjs/) is made from lib/ here, so it is current.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../lib/native.js";
import { makeAudio, SCRIPT, scriptedModelPath } from "../fixtures/models.js";

let tmp: string;
let project: string;

beforeAll(() => {
  const build = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "scripts", "build-cjs.mjs")], { encoding: "utf8", timeout: 120_000 });
  expect(build.status, build.stderr).toBe(0);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-cjs-"));
  project = path.join(tmp, "project");
  fs.mkdirSync(path.join(project, "node_modules"), { recursive: true });
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "cjs-consumer", version: "1.0.0", private: true }));
  fs.symlinkSync(PACKAGE_ROOT, path.join(project, "node_modules", "tingwu-whisper"), "dir");
}, 180_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("require(\"tingwu-whisper\")", () => {
  it("loads the CommonJS build, transcribes and serves", async () => {
    const model = await scriptedModelPath({ dims: "mini" });
    const audio = path.join(tmp, "audio.f32");
    fs.writeFileSync(audio, makeAudio(5));
    fs.writeFileSync(
      path.join(project, "consumer.cjs"),
      `const fs = require("node:fs");
       const tw = require("tingwu-whisper");
       (async () => {
         const buf = fs.readFileSync(process.argv[3]);
         const samples = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
         const model = await tw.Whisper.load(process.argv[2], { threads: 2 });
         const result = await model.transcribe(samples);
         await model.dispose();
         const settings = tw.loadSettings({ WHISPER_MODEL: process.argv[2], WHISPER_THREADS: "2", LOG_LEVEL: "silent", PORT: "0", HOST: "127.0.0.1" });
         const server = await tw.startServer(settings, { handleSignals: false });
         await server.modelReady;
         const health = await (await fetch(server.url + "/health")).json();
         await server.close();
         console.log(JSON.stringify({
           resolved: require.resolve("tingwu-whisper"),
           text: result.text,
           health,
           version: tw.VERSION,
           isError: new tw.ModelLoadError("x") instanceof tw.WhisperError,
           exports: ["buildApp", "startServer", "Whisper", "loadSettings"].map((k) => typeof tw[k]),
         }));
       })().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const run = spawnSync(process.execPath, ["consumer.cjs", model, audio], { cwd: project, encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    const version = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
    expect(out).toEqual({
      resolved: path.join(fs.realpathSync(PACKAGE_ROOT), "dist-cjs", "index.js"),
      text: SCRIPT.text,
      health: { status: "healthy", version },
      version,
      isError: true,
      exports: ["function", "function", "function", "function"],
    });
  }, 180_000);

  it("ships the CommonJS build, its declarations, LICENSE and the third-party notices", () => {
    const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PACKAGE_ROOT, encoding: "utf8", timeout: 120_000 });
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    for (const f of ["LICENSE", "THIRD_PARTY_NOTICES", "dist-cjs/index.js", "dist-cjs/package.json", "dist-cjs/server/server.js"]) expect(files).toContain(f);
    expect(fs.readFileSync(path.join(PACKAGE_ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    expect(fs.readFileSync(path.join(PACKAGE_ROOT, "THIRD_PARTY_NOTICES"), "utf8")).toContain("Copyright (c) 2023-2026 The ggml authors");
  }, 180_000);
});
