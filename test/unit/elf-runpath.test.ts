// scripts/elf-runpath.mjs, which strips the build machine's folders from a shipped binary's
// RUNPATH (scripts/prebuild.mjs, CUDA prebuild). Checked against readelf on libraries built here.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRunpath, keepOriginOnly } from "../../scripts/elf-runpath.mjs";

const hasCc = spawnSync("cc", ["--version"]).status === 0 && spawnSync("readelf", ["--version"]).status === 0;
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-elf-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function readelfRunpath(file: string): string | undefined {
  const out = spawnSync("readelf", ["-d", file], { encoding: "utf8" }).stdout;
  return /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/.exec(out)?.[1];
}

/** A shared library with the given RUNPATH and an exported function, built by cc. */
function buildLib(name: string, runpath: string | undefined, dtags = "--enable-new-dtags"): string {
  const src = path.join(tmp, `${name}.c`);
  fs.writeFileSync(src, "int tingwu_answer(void) { return 42; }\n");
  const lib = path.join(tmp, `${name}.so`);
  const args = ["-shared", "-fPIC", "-o", lib, src, `-Wl,${dtags}`];
  if (runpath !== undefined) args.push(`-Wl,-rpath,${runpath}`);
  const cc = spawnSync("cc", args, { encoding: "utf8" });
  expect(cc.status, cc.stderr).toBe(0);
  return lib;
}

describe.runIf(hasCc)("RUNPATH", () => {
  it("reads what readelf reads", () => {
    const lib = buildLib("read", "$ORIGIN:/opt/build-machine/cuda/lib");
    expect(readelfRunpath(lib)).toBe("$ORIGIN:/opt/build-machine/cuda/lib");
    expect(findRunpath(fs.readFileSync(lib))).toMatchObject({ value: "$ORIGIN:/opt/build-machine/cuda/lib", tag: "RUNPATH" });
  });

  it("cuts a RUNPATH to $ORIGIN and leaves the rest of the file as it was", () => {
    const lib = buildLib("cut", "$ORIGIN:/home/ci/.cuda-toolkit/cu13/lib:/usr/local/cuda/lib64");
    const before = fs.readFileSync(lib);
    expect(keepOriginOnly(lib)).toEqual({ before: "$ORIGIN:/home/ci/.cuda-toolkit/cu13/lib:/usr/local/cuda/lib64", after: "$ORIGIN" });
    expect(readelfRunpath(lib)).toBe("$ORIGIN");
    const after = fs.readFileSync(lib);
    expect(after.length).toBe(before.length);
    const changed = [...after.keys()].filter((i) => after[i] !== before[i]);
    expect(changed).toHaveLength(1);
    expect(after[changed[0]!]).toBe(0);
    // Still a valid library exporting its symbol.
    const symbols = spawnSync("nm", ["-D", "--defined-only", lib], { encoding: "utf8" }).stdout;
    expect(symbols).toMatch(/ T tingwu_answer$/m);
  });

  it("also handles the old DT_RPATH, and leaves a plain $ORIGIN alone", () => {
    const old = buildLib("rpath", "$ORIGIN:/build/lib", "--disable-new-dtags");
    expect(findRunpath(fs.readFileSync(old))?.tag).toBe("RPATH");
    keepOriginOnly(old);
    expect(readelfRunpath(old)).toBe("$ORIGIN");
    const plain = buildLib("plain", "$ORIGIN");
    const bytes = fs.readFileSync(plain);
    expect(keepOriginOnly(plain)).toEqual({ before: "$ORIGIN", after: "$ORIGIN" });
    expect(fs.readFileSync(plain).equals(bytes)).toBe(true);
  });

  it("refuses what it can't cut safely, with a typed error", () => {
    expect(() => keepOriginOnly(buildLib("none", undefined))).toThrow(RangeError);
    expect(() => keepOriginOnly(buildLib("abs", "/opt/lib:$ORIGIN"))).toThrow(/does not start with \$ORIGIN/);
    const text = path.join(tmp, "not-elf.so");
    fs.writeFileSync(text, "#!/bin/sh\n".padEnd(128, " "));
    expect(() => keepOriginOnly(text)).toThrow(TypeError);
  });
});
