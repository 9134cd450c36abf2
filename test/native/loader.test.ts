// Binary selection (lib/native.ts loadNativeFrom) on temporary package roots: the order, the
// child-process test load that keeps a crashing CUDA binary out of this process, and the errors.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NativeLoadError } from "../../lib/errors.js";
import { PACKAGE_ROOT, loadNativeFrom, nativeCandidates } from "../../lib/native.js";
import type { ProbeResult } from "../../lib/native.js";

// A real CPU binary (local build or prebuild) to stand in for every slot.
const realCpu = nativeCandidates(PACKAGE_ROOT, "cpu")[0]?.file;
const tuple = `${process.platform}-${process.arch}`;
const hasCc = spawnSync("cc", ["--version"]).status === 0;
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-loader-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
/** A package root with the given files; values are symlink targets. */
function makeRoot(files: Record<string, string>): string {
  const root = path.join(tmp, `root${counter++}`);
  fs.mkdirSync(root);
  for (const [rel, target] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(root, rel));
  }
  return root;
}

const noProbe = (file: string): ProbeResult => {
  throw new Error(`probe must not run (asked for ${file})`);
};

describe("errors", () => {
  it("lists what was tried and how to build when there is no binary", () => {
    const root = makeRoot({});
    let error: unknown;
    try {
      loadNativeFrom({ root, env: {}, cudaDriverPresent: () => true, probe: noProbe });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NativeLoadError);
    const message = (error as Error).message;
    expect(message).toContain(`no CPU binary in ${path.join(root, "prebuilds")} or ${path.join(root, "build")}`);
    expect(message).toContain("npm run build:native");
    expect(message).toContain("TINGWU_WHISPER_BINARY");
  });

  it("rejects an unknown TINGWU_WHISPER_VARIANT by name", () => {
    expect(() => loadNativeFrom({ root: makeRoot({}), env: { TINGWU_WHISPER_VARIANT: "rocm" } })).toThrow(
      /Expected cpu or cuda for TINGWU_WHISPER_VARIANT but received "rocm"/,
    );
  });

  it("rejects an unknown TINGWU_CPU_FP16 by name", () => {
    expect(() => loadNativeFrom({ root: makeRoot({}), env: { TINGWU_CPU_FP16: "fast" }, probe: noProbe })).toThrow(
      /Expected true\/false, 1\/0, yes\/no or on\/off for TINGWU_CPU_FP16 but received "fast"/,
    );
  });

  it("names the file TINGWU_WHISPER_BINARY points at when it does not load", () => {
    const missing = path.join(tmp, "nope", "x.node");
    expect(() => loadNativeFrom({ root: makeRoot({}), env: { TINGWU_WHISPER_BINARY: missing } })).toThrow(missing);
  });

  it("explains how to build CUDA when TINGWU_WHISPER_VARIANT=cuda finds no CUDA binary", () => {
    const root = makeRoot(realCpu ? { "build/Release/tingwu_whisper.node": realCpu } : {});
    expect(() => loadNativeFrom({ root, env: { TINGWU_WHISPER_VARIANT: "cuda" }, probe: noProbe })).toThrow(/npm run build:cuda/);
  });
});

describe.runIf(realCpu)("order", () => {
  const cpu = realCpu as string;

  it("prefers the CPU prebuild to a local build, and never probes without a CUDA binary", () => {
    const root = makeRoot({ [`prebuilds/${tuple}/node.napi.glibc.node`]: cpu, "build/Release/tingwu_whisper.node": cpu });
    const loaded = loadNativeFrom({ root, env: {}, cudaDriverPresent: () => true, probe: noProbe });
    expect(loaded).toMatchObject({ variant: "cpu", source: "prebuild", file: path.join(root, "prebuilds", tuple, "node.napi.glibc.node") });
    expect(typeof loaded.binding.runtimeInfo).toBe("function");
  });

  it("falls back to a local build", () => {
    const root = makeRoot({ "build/portable/tingwu_whisper.node": cpu });
    expect(loadNativeFrom({ root, env: {}, probe: noProbe })).toMatchObject({ variant: "cpu", source: "local build" });
  });

  it("does not even test-load a CUDA binary when the driver is missing", () => {
    const root = makeRoot({ "build/cuda13/tingwu_whisper_cuda13.node": cpu, "build/Release/tingwu_whisper.node": cpu });
    const loaded = loadNativeFrom({ root, env: {}, cudaDriverPresent: () => false, probe: noProbe });
    expect(loaded.variant).toBe("cpu");
    expect(loaded.skipped.join("\n")).toMatch(/cuda13.*the CUDA driver \(libcuda\.so\.1\) is not installed/);
  });

  it("uses CUDA automatically only when the test load sees a GPU, newest major first", () => {
    const root = makeRoot({
      "build/cuda12/tingwu_whisper_cuda12.node": cpu,
      [`prebuilds/${tuple}/cuda13/node.napi.glibc.node`]: cpu,
      "build/Release/tingwu_whisper.node": cpu,
    });
    const probed: string[] = [];
    const noGpu = loadNativeFrom({ root, env: {}, cudaDriverPresent: () => true, probe: (f) => {
        probed.push(f);
        return { ok: true, gpus: 0 };
      } });
    expect(noGpu.variant).toBe("cpu");
    expect(probed.map((f) => path.relative(root, f))).toEqual([`prebuilds/${tuple}/cuda13/node.napi.glibc.node`, "build/cuda12/tingwu_whisper_cuda12.node"]);
    expect(noGpu.skipped.join("\n")).toContain("sees no CUDA device");

    const gpu = loadNativeFrom({ root, env: {}, cudaDriverPresent: () => true, probe: () => ({ ok: true, gpus: 1 }) });
    expect(gpu).toMatchObject({ variant: "cuda", source: "prebuild", file: path.join(root, "prebuilds", tuple, "cuda13", "node.napi.glibc.node") });
  });

  it("takes cuda12 over cuda13 when the driver supports CUDA 12 only, and says why", () => {
    const root = makeRoot({
      [`prebuilds/${tuple}/cuda13/node.napi.glibc.node`]: cpu,
      [`prebuilds/${tuple}/cuda12/node.napi.glibc.node`]: cpu,
      "build/Release/tingwu_whisper.node": cpu,
    });
    const loaded = loadNativeFrom({ root, env: {}, cudaDriverPresent: () => true, probe: () => ({ ok: true, gpus: 1, cudaDriverVersion: "12.2" }) });
    expect(loaded).toMatchObject({ variant: "cuda", source: "prebuild", file: path.join(root, "prebuilds", tuple, "cuda12", "node.napi.glibc.node") });
    expect(loaded.reason).toBe("cuda12 prebuild: the driver supports CUDA 12.2 and the binary sees 1 GPU; passed over: cuda13");
    expect(loaded.skipped).toEqual([
      `${path.join(root, "prebuilds", tuple, "cuda13", "node.napi.glibc.node")}: the installed driver supports CUDA 12.2, a cuda13 binary needs a driver for CUDA 13 (580.65.06 or newer)`,
    ]);
  });

  it("loads CUDA when asked with TINGWU_WHISPER_VARIANT=cuda even without a device, but still test-loads it", () => {
    const root = makeRoot({ "build/cuda13/tingwu_whisper_cuda13.node": cpu, "build/Release/tingwu_whisper.node": cpu });
    let probes = 0;
    const loaded = loadNativeFrom({ root, env: { TINGWU_WHISPER_VARIANT: "cuda" }, cudaDriverPresent: () => false, probe: () => {
        probes++;
        return { ok: true, gpus: 0 };
      } });
    expect(loaded).toMatchObject({ variant: "cuda", source: "local build" });
    expect(probes).toBe(1);
  });

  it("TINGWU_WHISPER_VARIANT=cpu never looks at CUDA binaries", () => {
    const root = makeRoot({ "build/cuda13/tingwu_whisper_cuda13.node": cpu, "build/Release/tingwu_whisper.node": cpu });
    const loaded = loadNativeFrom({ root, env: { TINGWU_WHISPER_VARIANT: "cpu" }, cudaDriverPresent: () => true, probe: noProbe });
    expect(loaded.variant).toBe("cpu");
  });

  it.runIf(hasCc)("keeps a CUDA binary that crashes on load out of this process", () => {
    // A "CUDA binary" that aborts as soon as it is loaded: only the child process may die.
    const src = path.join(tmp, "crash.c");
    const crasher = path.join(tmp, "crash.node");
    fs.writeFileSync(src, "#include <stdlib.h>\n__attribute__((constructor)) static void boom(void) { abort(); }\n");
    expect(spawnSync("cc", ["-shared", "-fPIC", "-o", crasher, src]).status).toBe(0);
    const root = makeRoot({ "build/cuda13/tingwu_whisper_cuda13.node": crasher, "build/Release/tingwu_whisper.node": cpu });

    const auto = loadNativeFrom({ root, env: {}, cudaDriverPresent: () => true });
    expect(auto.variant).toBe("cpu");
    expect(auto.skipped.join("\n")).toMatch(/tingwu_whisper_cuda13\.node: the test load in a child process was killed by SIGABRT/);

    expect(() => loadNativeFrom({ root, env: { TINGWU_WHISPER_VARIANT: "cuda" } })).toThrow(/killed by SIGABRT[\s\S]*npm run build:cuda/);
  });
});
