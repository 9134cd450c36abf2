#!/usr/bin/env node
// Builds the addon with cmake-js for one variant:
//   node scripts/build-native.mjs [--variant cpu|portable|cuda] [--cli] [--sanitize address] [--jobs N]
//                                 [--cuda-major N]
// For cuda: the toolkit is $CUDA_HOME (else the nvcc on PATH; scripts/build-cuda.sh finds or
// assembles one), its major comes from nvcc unless given, CUDA_ARCHITECTURES overrides the arch
// list and TINGWU_CUDA_FA=OFF leaves out the flash-attention kernels (CI's reduced build).
// --cli builds whisper-cli instead, from the same whisper.cpp source with the same flags (plain
// CMake, because whisper.cpp swaps its examples for its own addon under cmake-js).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT, defaultJobs, nvccRelease, variantConfig } from "./build-flags.mjs";
import { requestedVariant } from "./native-binaries.mjs";

const require = createRequire(import.meta.url);

const { values } = parseArgs({
  options: {
    // Default: TINGWU_WHISPER_VARIANT, read as at run time (cpu | cuda); the portable CPU build
    // (the prebuild) is asked for by --variant portable only.
    variant: { type: "string" },
    cli: { type: "boolean", default: false },
    sanitize: { type: "string" },
    jobs: { type: "string" },
    "cuda-major": { type: "string", default: process.env.TINGWU_CUDA_MAJOR },
  },
});

if (values.variant === undefined) {
  try {
    values.variant = requestedVariant() ?? "cpu";
  } catch (error) {
    console.error(`${error.message} (the portable build: --variant portable)`);
    process.exit(1);
  }
}
const jobs = values.jobs ? Number(values.jobs) : defaultJobs();
let cudaMajor = values["cuda-major"];
const cudaHome = process.env.CUDA_HOME || undefined;
if (values.variant === "cuda") {
  const release = nvccRelease(cudaHome);
  if (!release) {
    console.error(`No working nvcc ${cudaHome ? `in ${cudaHome}/bin` : "on PATH"}: run \`npm run build:cuda\` (scripts/build-cuda.sh finds or assembles a toolkit) or set CUDA_HOME`);
    process.exit(1);
  }
  const detected = release.split(".")[0];
  if (cudaMajor && cudaMajor !== detected) {
    console.error(`--cuda-major ${cudaMajor} does not match the toolkit's nvcc (release ${release})`);
    process.exit(1);
  }
  cudaMajor = detected;
  console.error(`CUDA ${release} from ${cudaHome ?? "the nvcc on PATH"}`);
}
const config = variantConfig(values.variant, {
  cudaMajor,
  cudaHome,
  cudaArchitectures: process.env.CUDA_ARCHITECTURES || undefined,
  cudaFlashAttention: !/^(off|0|false)$/i.test(process.env.TINGWU_CUDA_FA ?? ""),
  sanitize: values.sanitize,
});

function run(cmd, args) {
  console.error(`> ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const started = Date.now();
if (values.cli) {
  const dir = path.join(ROOT, "build", `cli-${path.basename(config.outDir)}`);
  const defines = { ...config.defines, WHISPER_BUILD_EXAMPLES: "ON" };
  run("cmake", ["-S", ROOT, "-B", dir, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`)]);
  run("cmake", ["--build", dir, "--target", "whisper-cli", "-j", String(jobs)]);
  console.error(`whisper-cli: ${path.join(dir, "bin", "whisper-cli")}`);
} else {
  const cmakeJs = path.join(path.dirname(require.resolve("cmake-js/package.json")), "bin", "cmake-js");
  const args = [cmakeJs, "compile", "--out", config.workDir, "--parallel", String(jobs)];
  for (const [k, v] of Object.entries(config.defines)) args.push(`--CD${k}=${v}`);
  run(process.execPath, args);
  console.error(`addon: ${path.join(config.outDir, `${config.binaryName}.node`)}`);
}
console.error(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
