// The one place that decides how whisper.cpp and the addon are compiled, per variant.
// scripts/build-native.mjs (npm install, npm run build:*, binding.gyp, the Dockerfile and CI)
// and the benchmark's whisper-cli build all take their flags from here.
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
 * @param {{ cudaMajor?: string, cudaArchitectures?: string, sanitize?: string }} [opts]
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
      GGML_CUDA: "ON",
      BUILD_SHARED_LIBS: "OFF",
      CMAKE_CUDA_ARCHITECTURES: opts.cudaArchitectures ?? defaultCudaArchitectures(major),
    });
    dirName = `cuda${major}`;
    binaryName = `tingwu_whisper_cuda${major}`;
  }
  if (opts.sanitize) {
    defines.WHISPER_SANITIZE_ADDRESS = "ON";
    defines.CMAKE_BUILD_TYPE = "RelWithDebInfo";
    dirName += "-asan";
  }
  const outDir = path.join(ROOT, "build", dirName);
  defines.TINGWU_OUTPUT_DIR = outDir;
  defines.TINGWU_BINARY_NAME = binaryName;
  return { defines, outDir, workDir: path.join(ROOT, "build", `cmake-${dirName}`), binaryName };
}

/** Release architecture lists valid for each toolkit major (sm_70 and older are gone in CUDA 13). */
export function defaultCudaArchitectures(major) {
  return Number(major) >= 13 ? "75;80;86;89;90;100;120" : "75;80;86;89;90";
}

export function defaultJobs() {
  const fromEnv = Number(process.env.TINGWU_BUILD_JOBS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}
