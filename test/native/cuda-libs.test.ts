// scripts/cuda-libs.mjs for real: an addon whose RUNPATH doesn't reach its "CUDA" libraries loads
// once they are found in a wheel folder and preloaded, with no LD_LIBRARY_PATH. Stand-in libraries
// of a made-up CUDA major (99) keep it independent of any installed CUDA.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../lib/native.js";

const hasCc = spawnSync("cc", ["--version"]).status === 0;
let tmp: string;
let venv: string;
let addon: string;

beforeAll(() => {
  if (!hasCc) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-cudalibs-"));
  venv = path.join(tmp, "venv");
  const wheels = path.join(venv, "lib", "python3.12", "site-packages", "nvidia");
  const src = path.join(tmp, "lib.c");
  fs.writeFileSync(src, "int tingwu_stub_value(void) { return 42; }\n");
  const libs: Record<string, string> = {
    "libcudart.so.99": path.join(wheels, "cuda_runtime", "lib"),
    "libcublasLt.so.99": path.join(wheels, "cublas", "lib"),
    "libcublas.so.99": path.join(wheels, "cublas", "lib"),
  };
  for (const [name, dir] of Object.entries(libs)) {
    fs.mkdirSync(dir, { recursive: true });
    expect(spawnSync("cc", ["-shared", "-fPIC", "-o", path.join(dir, name), `-Wl,-soname,${name}`, src]).status).toBe(0);
  }
  // A minimal N-API addon that NEEDs libcudart.so.99 and libcublas.so.99, RUNPATH $ORIGIN only.
  const addonSrc = path.join(tmp, "addon.c");
  fs.writeFileSync(addonSrc, "int tingwu_stub_value(void);\nvoid *napi_register_module_v1(void *env, void *exports) { (void)env; return tingwu_stub_value() == 42 ? exports : exports; }\n");
  addon = path.join(tmp, "addon", "stub.node");
  fs.mkdirSync(path.dirname(addon));
  const linked = spawnSync("cc", [
    "-shared", "-fPIC", "-o", addon, addonSrc, "-Wl,--no-as-needed", "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags",
    `-L${libs["libcudart.so.99"]}`, "-l:libcudart.so.99", `-L${libs["libcublas.so.99"]}`, "-l:libcublas.so.99",
  ]);
  expect(linked.status, linked.stderr?.toString()).toBe(0);
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** require()s the addon in a fresh process, after preloading what cuda-libs finds when `preload`. */
function loadInChild(preload: boolean): { status: number | null; out: string } {
  const script = `
    import { findCudaLibraries, preloadCudaLibraries } from ${JSON.stringify(path.join(PACKAGE_ROOT, "scripts", "cuda-libs.mjs"))};
    import { createRequire } from "node:module";
    if (${preload}) {
      const found = findCudaLibraries(99);
      if (found.missing.length) throw new Error("missing " + found.missing);
      const failed = preloadCudaLibraries(found);
      if (failed.length) throw new Error(failed.join("; "));
    }
    createRequire(import.meta.url)(process.argv[1]);
    console.log("loaded");`;
  const env: NodeJS.ProcessEnv = { ...process.env, VIRTUAL_ENV: venv };
  delete env.LD_LIBRARY_PATH;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, addon], { env, encoding: "utf8", timeout: 60_000 });
  return { status: child.status, out: `${child.stdout}${child.stderr}` };
}

describe.runIf(hasCc)("CUDA libraries from a wheel folder, without LD_LIBRARY_PATH", () => {
  it("the addon alone can't find them (RUNPATH $ORIGIN)", () => {
    const { status, out } = loadInChild(false);
    expect(status).not.toBe(0);
    expect(out).toContain("libcudart.so.99: cannot open shared object file");
  });

  it("loads once cuda-libs has found and preloaded them", () => {
    const { status, out } = loadInChild(true);
    expect(out).toContain("loaded");
    expect(status).toBe(0);
  });
});
