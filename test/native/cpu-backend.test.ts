// The portable build's CPU backend choice (native/runtime.cc): on a CPU with AVX512-FP16 the
// addon loads its own tingwu-cpu-*fp16 backend (hardware half-precision arithmetic, as a
// -march=native build has); elsewhere, or with TINGWU_CPU_FP16=0, ggml's best libggml-cpu-*
// variant. The oracle for the CPU is /proc/cpuinfo. Each case runs in a fresh process, because
// backends load once per process. Skipped without a portable build unless
// TINGWU_REQUIRE_PREBUILDS=1 (CI, after the prebuild) makes that a failure.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../lib/native.js";
import { SCRIPT } from "../fixtures/models.js";
import { scriptedRunInChild } from "../helpers/child.js";

const tuple = `${process.platform}-${process.arch}`;
const portable = [
  path.join(PACKAGE_ROOT, "prebuilds", tuple, "node.napi.glibc.node"),
  path.join(PACKAGE_ROOT, "build", "portable", "tingwu_whisper.node"),
].find((f) => fs.existsSync(f));
const required = process.env.TINGWU_REQUIRE_PREBUILDS === "1";

const cpuFlags = new Set(
  (fs.existsSync("/proc/cpuinfo") ? /^flags\s*:\s*(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "" : "").split(/\s+/),
);
const fp16Cpu = cpuFlags.has("avx512_fp16");
const amxCpu = cpuFlags.has("amx_tile") && cpuFlags.has("amx_int8");

interface ChildResult {
  cpuBackend: string | null;
  text: string;
  segments: { start: number; end: number; text: string }[];
}

/** Loads `binary` in a fresh process, transcribes the scripted model, and reports the backend. */
function runChild(binary: string, extraEnv: Record<string, string>): ChildResult {
  const env: NodeJS.ProcessEnv = { ...process.env, TINGWU_WHISPER_BINARY: binary, ...extraEnv };
  delete env.TINGWU_WHISPER_VARIANT;
  if (!("TINGWU_CPU_FP16" in extraEnv)) delete env.TINGWU_CPU_FP16;
  const report = "{ cpuBackend: runtimeInfo().cpuBackend, text: result.text, segments: result.segments.map(({ start, end, text }) => ({ start, end, text })) }";
  return scriptedRunInChild<ChildResult>(env, report, { language: "auto" });
}

describe.runIf(required && !portable)("portable build required", () => {
  it("exists", () => {
    expect.fail("TINGWU_REQUIRE_PREBUILDS=1 but no portable build: run npm run build:prebuilds -- --cpu");
  });
});

describe.runIf(portable)(`CPU backend of ${portable ? path.relative(PACKAGE_ROOT, portable) : ""}`, () => {
  // The body runs at collection even when skipped: no portable build, no path.
  const file = portable ?? "";
  const dir = portable ? path.dirname(portable) : "";
  const fp16Shipped = fs.existsSync(path.join(dir, "tingwu-cpu-avx512fp16.so"));

  it.runIf(process.arch === "x64")("ships the AVX512-FP16 backends next to ggml's variants, linked like them", () => {
    for (const name of ["tingwu-cpu-avx512fp16.so", "tingwu-cpu-sapphirerapids-fp16.so"]) {
      const lib = path.join(dir, name);
      expect(fs.existsSync(lib), `${name} is missing`).toBe(true);
      const dynamic = spawnSync("readelf", ["-d", lib], { encoding: "utf8" }).stdout;
      expect(dynamic).toContain("[libggml-base.so.0]");
      // Only $ORIGIN: no path of the build machine.
      expect(/RUNPATH\)\s+Library runpath: \[([^\]]*)\]/.exec(dynamic)?.[1]).toBe("$ORIGIN");
      // Compiled for half-precision arithmetic (the reason it exists).
      const code = spawnSync("objdump", ["-d", "--no-show-raw-insn", lib], { encoding: "utf8", maxBuffer: 256 * 2 ** 20 }).stdout;
      expect(code).toMatch(/\bvfmadd\d{3}ph\b/);
    }
  });

  const expected = fp16Cpu && fp16Shipped ? (amxCpu ? "tingwu-cpu-sapphirerapids-fp16" : "tingwu-cpu-avx512fp16") : undefined;
  it(`loads ${expected ?? "ggml's best libggml-cpu-* variant"} on this CPU (avx512_fp16 ${fp16Cpu ? "present" : "absent"}) and transcribes exactly`, () => {
    const out = runChild(file, {});
    if (expected) expect(out.cpuBackend).toBe(expected);
    else expect(out.cpuBackend).toMatch(/^libggml-cpu-[a-z0-9_]+$/);
    expect(out.text).toBe(SCRIPT.text);
    expect(out.segments).toEqual(SCRIPT.segments);
  });

  // "off" is read by the loader (lib/native.ts), which hands the addon "0": one word list, in TS.
  it.each(["0", " Off "])("TINGWU_CPU_FP16=%j leaves the choice to ggml, with the same transcript", (word) => {
    const out = runChild(file, { TINGWU_CPU_FP16: word });
    expect(out.cpuBackend).toMatch(/^libggml-cpu-[a-z0-9_]+$/);
    expect(out.text).toBe(SCRIPT.text);
    expect(out.segments).toEqual(SCRIPT.segments);
  });
});
