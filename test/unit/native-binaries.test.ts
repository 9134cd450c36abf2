// The loader policy shared by lib/native.ts and scripts/install.mjs (scripts/native-binaries.mjs)
// and the CUDA library search (scripts/cuda-libs.mjs), on fake package roots and library folders.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as native from "../../lib/native.js";
import { cudaInstallCommand, describeMissingCudaLibraries, findCudaLibraries, withCudaLibraryPath } from "../../scripts/cuda-libs.mjs";
import { chooseCudaBinary, cudaMajors, driverRunsCudaMajor, nativeCandidates } from "../../scripts/native-binaries.mjs";
import type { NativeCandidate, ProbeResult } from "../../scripts/native-binaries.mjs";

const tuple = `${process.platform}-${process.arch}`;
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-binaries-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function touch(root: string, rel: string): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "");
  return file;
}

describe("candidates", () => {
  it("orders CUDA majors as numbers, newest first (cuda13 > cuda12 > cuda9, never as strings)", () => {
    expect(cudaMajors(["cuda9", "cuda12", "Release", "cuda13", "cuda1x"])).toEqual([13, 12, 9]);
  });

  it("lists CUDA prebuilds before local builds, each newest major first, with the major", () => {
    const root = path.join(tmp, "order");
    for (const major of [9, 12, 13]) {
      touch(root, `prebuilds/${tuple}/cuda${major}/node.napi.glibc.node`);
      touch(root, `build/cuda${major}/tingwu_whisper_cuda${major}.node`);
    }
    const list = nativeCandidates(root, "cuda").map((c) => `${c.source} ${c.cudaMajor} ${path.relative(root, c.file)}`);
    expect(list).toEqual([
      `prebuild 13 prebuilds/${tuple}/cuda13/node.napi.glibc.node`,
      `prebuild 12 prebuilds/${tuple}/cuda12/node.napi.glibc.node`,
      `prebuild 9 prebuilds/${tuple}/cuda9/node.napi.glibc.node`,
      "local build 13 build/cuda13/tingwu_whisper_cuda13.node",
      "local build 12 build/cuda12/tingwu_whisper_cuda12.node",
      "local build 9 build/cuda9/tingwu_whisper_cuda9.node",
    ]);
  });

  it("is the very function lib/native.ts uses (one owner)", () => {
    expect(native.nativeCandidates).toBe(nativeCandidates);
  });
});

describe("CUDA major by driver", () => {
  const cands: NativeCandidate[] = [13, 12].map((m) => ({ file: `/p/cuda${m}/node.napi.glibc.node`, variant: "cuda", source: "prebuild", cudaMajor: m }));
  const probeWith = (results: Record<number, ProbeResult>) => (_file: string, major?: number) => results[major ?? 0] as ProbeResult;

  it("knows minor-version compatibility: a driver runs every binary of its major and older", () => {
    expect(driverRunsCudaMajor("12.2", 12)).toBe(true);
    expect(driverRunsCudaMajor("12.2", 13)).toBe(false);
    expect(driverRunsCudaMajor("13.0", 12)).toBe(true);
    expect(driverRunsCudaMajor(null, 13)).toBeUndefined();
  });

  it("takes cuda12 on a CUDA 12 driver (R525-R575) and says why", () => {
    const choice = chooseCudaBinary(cands, {
      requireDevice: true,
      probe: probeWith({ 13: { ok: true, gpus: 0, cudaDriverVersion: "12.4" }, 12: { ok: true, gpus: 1, cudaDriverVersion: "12.4" } }),
    });
    expect(choice.candidate?.cudaMajor).toBe(12);
    expect(choice.reason).toBe("cuda12 prebuild: the driver supports CUDA 12.4 and the binary sees 1 GPU; passed over: cuda13");
    expect(choice.skipped).toEqual([
      "/p/cuda13/node.napi.glibc.node: the installed driver supports CUDA 12.4, a cuda13 binary needs a driver for CUDA 13 (580.65.06 or newer)",
    ]);
  });

  it("takes cuda13 on a CUDA 13 driver", () => {
    const choice = chooseCudaBinary(cands, {
      requireDevice: true,
      probe: probeWith({ 13: { ok: true, gpus: 2, cudaDriverVersion: "13.0" }, 12: { ok: true, gpus: 2, cudaDriverVersion: "13.0" } }),
    });
    expect(choice.candidate?.cudaMajor).toBe(13);
    expect(choice.reason).toBe("cuda13 prebuild: the driver supports CUDA 13.0 and the binary sees 2 GPUs");
    expect(choice.skipped).toEqual([]);
  });

  it("moves on to cuda12 when cuda13's runtime libraries are missing", () => {
    const choice = chooseCudaBinary(cands, {
      requireDevice: true,
      probe: probeWith({ 13: { ok: false, gpus: 0, error: "libcudart.so.13: cannot open shared object file" }, 12: { ok: true, gpus: 1, cudaDriverVersion: "13.0" } }),
    });
    expect(choice.candidate?.cudaMajor).toBe(12);
    expect(choice.skipped[0]).toContain("libcudart.so.13");
  });

  it("without a driver: none for the automatic choice; the newest that loads when asked for CUDA", () => {
    const probe = probeWith({ 13: { ok: true, gpus: 0, cudaDriverVersion: null }, 12: { ok: true, gpus: 0, cudaDriverVersion: null } });
    const auto = chooseCudaBinary(cands, { requireDevice: true, probe });
    expect(auto.candidate).toBeUndefined();
    expect(auto.skipped).toHaveLength(2);
    const asked = chooseCudaBinary(cands, { requireDevice: false, probe });
    expect(asked.candidate?.cudaMajor).toBe(13);
    expect(asked.reason).toContain("no driver answered, so it runs on the CPU");
  });
});

describe("CUDA runtime libraries", () => {
  it("finds NVIDIA's cu12 wheels in a virtualenv without LD_LIBRARY_PATH", () => {
    const venv = path.join(tmp, "venv");
    const site = path.join(venv, "lib", "python3.12", "site-packages", "nvidia");
    const cudart = touch(site, "cuda_runtime/lib/libcudart.so.12");
    const cublas = touch(site, "cublas/lib/libcublas.so.12");
    const cublasLt = touch(site, "cublas/lib/libcublasLt.so.12");
    const found = findCudaLibraries(12, { env: { VIRTUAL_ENV: venv } });
    expect(found.missing).toEqual([]);
    expect(found.found).toEqual({ "libcudart.so.12": cudart, "libcublasLt.so.12": cublasLt, "libcublas.so.12": cublas });
    expect(found.dirs).toEqual([path.dirname(cudart), path.dirname(cublas)]);
    const env = withCudaLibraryPath({ LD_LIBRARY_PATH: "/x" }, found);
    expect(env.LD_LIBRARY_PATH).toBe(`${path.dirname(cudart)}:${path.dirname(cublas)}:/x`);
  });

  it("finds CUDA 13's wheel layout (nvidia/cu13/lib) and a toolkit's lib64", () => {
    const venv = path.join(tmp, "venv13");
    const lib = path.join(venv, "lib", "python3.11", "site-packages", "nvidia", "cu13", "lib");
    for (const n of ["libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13"]) touch(lib, n);
    expect(findCudaLibraries(13, { env: { VIRTUAL_ENV: venv } }).dirs).toEqual([lib]);
    const toolkit = path.join(tmp, "toolkit");
    for (const n of ["libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12"]) touch(path.join(toolkit, "lib64"), n);
    expect(findCudaLibraries(12, { env: { CUDA_HOME: toolkit } }).dirs).toEqual([path.join(toolkit, "lib64")]);
  });

  it("says exactly what is missing and the one command that installs it", () => {
    const dir = path.join(tmp, "partial");
    touch(dir, "libcudart.so.12");
    const result = findCudaLibraries(12, { searchDirs: [dir] });
    expect(result.missing).toEqual(["libcublasLt.so.12", "libcublas.so.12"]);
    const text = describeMissingCudaLibraries(result);
    expect(text).toContain("libcublasLt.so.12, libcublas.so.12 are not installed");
    expect(text).toContain("`pip install nvidia-cuda-runtime-cu12 nvidia-cublas-cu12`");
    expect(cudaInstallCommand(13)).toBe("pip install nvidia-cuda-runtime nvidia-cublas");
    expect(describeMissingCudaLibraries(findCudaLibraries(12, { searchDirs: [] }))).toContain("libcudart.so.12, libcublasLt.so.12, libcublas.so.12");
  });
});
