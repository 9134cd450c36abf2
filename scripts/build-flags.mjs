// The one place that decides how whisper.cpp and the addon are compiled, per variant.
// scripts/build-native.mjs (npm install, npm run build:*, binding.gyp, the Dockerfile and CI)
// and the benchmark's whisper-cli build all take their flags from here.
import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Build variants. `cpu` is a from-source build tuned for the build machine (-march=native);
 * `portable` is what CPU prebuilds ship (ggml picks SSE4.2/AVX2/AVX-512 code at run time);
 * `cuda` adds GGML_CUDA (see scripts/cuda-toolkit.sh for the toolkit). */
export const VARIANTS = ["cpu", "portable", "cuda"];

/**
 * @param {string} variant
 * @param {{ cudaMajor?: string, cudaArchitectures?: string, cudaHome?: string, cudaFlashAttention?: boolean, sanitize?: string }} [opts]
 * @returns {{ defines: Record<string,string>, outDir: string, workDir: string, binaryName: string }}
 */
export function variantConfig(variant, opts = {}) {
  if (!VARIANTS.includes(variant)) {
    throw new RangeError(`Expected one of ${VARIANTS.join(", ")} for variant but received ${JSON.stringify(variant)}`);
  }
  const defines = {
    CMAKE_BUILD_TYPE: "Release",
    WHISPER_BUILD_TESTS: "OFF",
    WHISPER_BUILD_EXAMPLES: "OFF",
    GGML_OPENMP: "OFF", // ggml's own thread pool; OpenMP's would spin between calls and fight the JS thread
    TINGWU_VARIANT: variant,
  };
  let dirName = "Release";
  let binaryName = "tingwu_whisper";
  if (variant === "cpu") {
    Object.assign(defines, { GGML_NATIVE: "ON", BUILD_SHARED_LIBS: "OFF" });
  } else if (variant === "portable") {
    Object.assign(defines, {
      GGML_NATIVE: "OFF",
      GGML_BACKEND_DL: "ON",
      GGML_CPU_ALL_VARIANTS: "ON",
      BUILD_SHARED_LIBS: "ON",
    });
    dirName = "portable";
  } else {
    const major = opts.cudaMajor ?? "12";
    Object.assign(defines, {
      GGML_NATIVE: "OFF",
      // The CPU side (fallback and the ops CUDA leaves to the CPU) targets x86-64-v3: every CUDA
      // server of the last decade has AVX2/FMA/F16C. Written out so a cache can't change it.
      GGML_SSE42: "ON",
      GGML_AVX: "ON",
      GGML_AVX2: "ON",
      GGML_FMA: "ON",
      GGML_F16C: "ON",
      GGML_BMI2: "ON",
      GGML_CUDA: "ON",
      // No direct link to the driver (libcuda.so.1): cudart loads it when it is there, so the
      // binary still loads, and runs on CPU, where no driver is installed. VMM is the only ggml
      // feature that needs the driver API; without it ggml uses its cudaMalloc pool.
      GGML_CUDA_NO_VMM: "ON",
      GGML_CUDA_NCCL: "OFF", // multi-GPU collectives: not used by whisper.cpp, and not shipped
      GGML_CUDA_FA: opts.cudaFlashAttention === false ? "OFF" : "ON",
      CMAKE_CUDA_RUNTIME_LIBRARY: "Shared", // one cudart (ggml-cuda links the shared one too)
      BUILD_SHARED_LIBS: "OFF",
      CMAKE_CUDA_ARCHITECTURES: opts.cudaArchitectures ?? defaultCudaArchitectures(major),
    });
    if (opts.cudaHome) {
      defines.CMAKE_CUDA_COMPILER = path.join(opts.cudaHome, "bin", "nvcc");
      defines.CUDAToolkit_ROOT = opts.cudaHome;
    }
    dirName = `cuda${major}`;
    binaryName = `tingwu_whisper_cuda${major}`;
  }
  if (opts.sanitize) {
    if (opts.sanitize !== "address") throw new RangeError(`Expected "address" for sanitize but received ${JSON.stringify(opts.sanitize)}`);
    defines.TINGWU_SANITIZE = "address";
    defines.CMAKE_BUILD_TYPE = "RelWithDebInfo";
    dirName += "-asan";
  }
  const outDir = path.join(ROOT, "build", dirName);
  defines.TINGWU_OUTPUT_DIR = outDir;
  defines.TINGWU_BINARY_NAME = binaryName;
  return { defines, outDir, workDir: path.join(ROOT, "build", `cmake-${dirName}`), binaryName };
}

/** Release architecture lists valid for each toolkit major: Turing to Hopper for 12.x; CUDA 13
 * drops sm_70 and older and adds Blackwell (ggml turns 120 into 120a for its FP4 instructions). */
export function defaultCudaArchitectures(major) {
  return Number(major) >= 13 ? "75;80;86;89;90;100;120" : "75;80;86;89;90";
}

/** The toolkit's release ("13.5") from `nvcc --version`, or undefined when nvcc doesn't run. */
export function nvccRelease(cudaHome) {
  const nvcc = cudaHome ? path.join(cudaHome, "bin", "nvcc") : "nvcc";
  const out = spawnSync(nvcc, ["--version"], { encoding: "utf8" });
  return /release (\d+\.\d+)/.exec(out.stdout ?? "")?.[1];
}

export function defaultJobs() {
  const fromEnv = Number(process.env.TINGWU_BUILD_JOBS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}
