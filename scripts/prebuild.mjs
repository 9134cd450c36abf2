#!/usr/bin/env node
// Release step: builds the prebuilt binaries that `npm pack` ships, in prebuildify's layout, which
// node-gyp-build (and lib/native.ts) resolve:
//   prebuilds/linux-x64/node.napi.glibc.node          CPU: the `portable` variant, with the
//   prebuilds/linux-x64/lib*.so*                        ggml/whisper libraries, the
//                                                       libggml-cpu-<arch>.so variants it dlopens
//                                                       and tingwu-cpu-*fp16.so (AVX512-FP16)
//   prebuilds/linux-x64/cuda<major>/node.napi.glibc.node  CUDA (ggml linked in; needs the CUDA
//                                                       runtime and cuBLAS of that major at run time)
// prebuildify itself can't be used: it copies the .node alone, and the portable build needs the
// backend libraries next to it.
//
//   node scripts/prebuild.mjs [--cpu] [--cuda] [--cuda-major 12|13] [--no-build]
// Without --cpu/--cuda both are made. --cuda builds CUDA 13 (PyPI's wheels) and CUDA 12.4 (the
// trixie root of scripts/cuda12-root.sh, unless a CUDA 12 toolkit is installed); --cuda-major
// builds one. --no-build packages what build/ already holds.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT, defaultCudaArchitectures, variantConfig } from "./build-flags.mjs";
import { findRunpath, keepOriginOnly } from "./elf-runpath.mjs";

const { values } = parseArgs({
  options: {
    cpu: { type: "boolean", default: false },
    cuda: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    "cuda-major": { type: "string", multiple: true },
  },
});
const cudaMajorsToBuild = values["cuda-major"] ?? ["13", "12"];
for (const major of cudaMajorsToBuild) {
  if (!/^\d+$/.test(major)) {
    console.error(`Expected a number for --cuda-major but received ${JSON.stringify(major)}`);
    process.exit(2);
  }
}
const both = !values.cpu && !values.cuda && !values["cuda-major"];
const tupleDir = path.join(ROOT, "prebuilds", `${process.platform}-${process.arch}`);
// prebuildify's name for an N-API build on glibc (`--napi --tag-libc`).
const NODE_NAME = "node.napi.glibc.node";

function run(cmd, args, env = process.env) {
  console.error(`> ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** DT_NEEDED entries of an ELF file (readelf is part of binutils, which the build needs anyway). */
function needed(file) {
  const out = spawnSync("readelf", ["-d", file], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`readelf -d ${file} failed: ${out.stderr}`);
  return [...out.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** Cuts a shipped file's RUNPATH, if it has one, to `$ORIGIN` (scripts/elf-runpath.mjs). */
function originOnly(file) {
  if (!findRunpath(fs.readFileSync(file))) return;
  const { before, after } = keepOriginOnly(file);
  if (before !== after) console.error(`${path.relative(ROOT, file)}: RUNPATH ${before} -> ${after}`);
}

/** Checks in a child process that node-gyp-build, as the package uses it, resolves and loads `expected`. */
function verify(expected, resolveDir) {
  const script = `
    const file = require("node-gyp-build").resolve(process.argv[1]);
    if (file !== process.argv[2]) throw new Error("node-gyp-build chose " + file);
    const info = require(file).runtimeInfo();
    console.log(JSON.stringify({ file, variant: info.variant, cudaCompiled: info.cudaCompiled, backends: info.backends, cpuBackend: info.cpuBackend }));`;
  run(process.execPath, ["-e", script, resolveDir, expected], { ...process.env, PREBUILDS_ONLY: "1" });
}

if (both || values.cpu) {
  const config = variantConfig("portable");
  if (!values["no-build"]) run(process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--variant", "portable"]);
  const addon = path.join(config.outDir, `${config.binaryName}.node`);
  fs.mkdirSync(tupleDir, { recursive: true });
  for (const f of fs.readdirSync(tupleDir)) {
    if (f.endsWith(".node") || f.includes(".so")) fs.rmSync(path.join(tupleDir, f));
  }
  // npm pack drops symlinks: ship each library under the name the loader asks for (its soname,
  // from DT_NEEDED) as a plain file, plus the CPU backend variants ggml finds by name (libggml-cpu-*.so)
  // and the AVX512-FP16 ones the addon loads itself (tingwu-cpu-*.so, see CMakeLists.txt).
  const wanted = new Set(fs.readdirSync(config.outDir).filter((f) => /^(libggml-cpu|tingwu-cpu)-.*\.so$/.test(f)));
  const queue = [addon];
  while (queue.length > 0) {
    for (const lib of needed(queue.pop())) {
      if (!wanted.has(lib) && fs.existsSync(path.join(config.outDir, lib))) {
        wanted.add(lib);
        queue.push(path.join(config.outDir, lib));
      }
    }
  }
  for (const lib of [...wanted].sort()) fs.copyFileSync(path.join(config.outDir, lib), path.join(tupleDir, lib));
  fs.copyFileSync(addon, path.join(tupleDir, NODE_NAME));
  // The build's RUNPATHs also name build/portable of this machine; the libraries sit together.
  for (const file of [NODE_NAME, ...wanted]) originOnly(path.join(tupleDir, file));
  console.error(`CPU prebuild: ${path.relative(ROOT, tupleDir)}/{${NODE_NAME},${[...wanted].sort().join(",")}}`);
  verify(path.join(tupleDir, NODE_NAME), ROOT);
}

if (both || values.cuda || values["cuda-major"]) {
  if (!values["no-build"]) {
    for (const major of cudaMajorsToBuild) run("bash", [path.join(ROOT, "scripts", "build-cuda.sh"), "--cuda-major", major]);
  }
  const builds = fs
    .readdirSync(path.join(ROOT, "build"))
    .filter((d) => /^cuda\d+$/.test(d) && fs.existsSync(path.join(ROOT, "build", d, `tingwu_whisper_${d}.node`)))
    .filter((d) => !values["cuda-major"] || values["cuda-major"].includes(d.slice(4)));
  if (builds.length === 0) {
    console.error("No CUDA build in build/cuda<major>: run `npm run build:cuda` first");
    process.exit(1);
  }
  for (const dir of builds) {
    const target = path.join(tupleDir, dir);
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    // A reduced build (CI's one arch, no flash-attention kernels) must not be shipped by mistake.
    const cache = fs.readFileSync(path.join(ROOT, "build", `cmake-${dir}`, "CMakeCache.txt"), "utf8");
    const archs = /^CMAKE_CUDA_ARCHITECTURES:\w+=(.*)$/m.exec(cache)?.[1];
    const fa = /^GGML_CUDA_FA:\w+=(.*)$/m.exec(cache)?.[1];
    const release = defaultCudaArchitectures(dir.slice(4));
    if (archs !== release || fa !== "ON") {
      const msg = `build/${dir} is a reduced build (archs ${archs}, flash attention ${fa}); the release has archs ${release} and flash attention ON`;
      if (!process.env.TINGWU_ALLOW_REDUCED_PREBUILD) {
        console.error(`${msg}. Rebuild with \`npm run build:cuda -- --cuda-major ${dir.slice(4)}\`, or set TINGWU_ALLOW_REDUCED_PREBUILD=1.`);
        process.exit(1);
      }
      console.error(`warning: ${msg}`);
    }
    fs.copyFileSync(path.join(ROOT, "build", dir, `tingwu_whisper_${dir}.node`), path.join(target, NODE_NAME));
    // The build's RUNPATH ends with this machine's toolkit folder (handy for running the build in
    // place); the shipped binary finds the CUDA libraries on the library path of the machine it runs on.
    originOnly(path.join(target, NODE_NAME));
    console.error(`CUDA prebuild: ${path.relative(ROOT, target)}/${NODE_NAME} (needs ${needed(path.join(target, NODE_NAME)).filter((l) => /cuda|cublas/.test(l)).join(", ")})`);
  }
}
