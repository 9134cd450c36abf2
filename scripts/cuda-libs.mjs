// Finds the CUDA runtime libraries a CUDA binary of one major needs (libcudart, libcublasLt,
// libcublas) where people usually have them: NVIDIA's PyPI wheels (site-packages/nvidia/...), a
// CUDA toolkit (/usr/local/cuda*, $CUDA_HOME), the distribution's packages (/usr/lib/<multiarch>),
// and the loader's own path (LD_LIBRARY_PATH, ld.so.cache). So a user doesn't have to set
// LD_LIBRARY_PATH, and when something is missing, says exactly what and the one command that
// installs it. Plain ESM: lib/native.ts and scripts/install.mjs share it (scripts/native-binaries.mjs).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** The libraries a cuda<major> binary links (DT_NEEDED), in the order they can be loaded. */
export function cudaLibraryNames(major) {
  return [`libcudart.so.${major}`, `libcublasLt.so.${major}`, `libcublas.so.${major}`];
}

/** The one command that installs the missing libraries of a CUDA major. */
export function cudaInstallCommand(major) {
  // CUDA 12's wheels carry the major in the name; CUDA 13's are unsuffixed (nvidia/cu13/lib).
  return Number(major) >= 13
    ? "pip install nvidia-cuda-runtime nvidia-cublas"
    : `pip install nvidia-cuda-runtime-cu${major} nvidia-cublas-cu${major}`;
}

function readdir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** site-packages and dist-packages folders of the usual Python prefixes (no Python is run). */
function pythonPackageDirs(env) {
  const prefixes = [env.VIRTUAL_ENV, env.CONDA_PREFIX, path.join(os.homedir(), ".local"), "/usr/local", "/usr", "/opt/conda"];
  const out = [];
  for (const prefix of prefixes) {
    if (!prefix) continue;
    for (const lib of ["lib", "lib64"]) {
      for (const py of readdir(path.join(prefix, lib)).filter((n) => /^python3(\.\d+)?$/.test(n)).sort().reverse()) {
        for (const site of ["site-packages", "dist-packages"]) out.push(path.join(prefix, lib, py, site));
      }
    }
  }
  return out;
}

/**
 * Folders that may hold the CUDA libraries of `major`, most specific first: LD_LIBRARY_PATH,
 * $CUDA_HOME/$CUDA_PATH, NVIDIA's wheels, /usr/local/cuda-<major>*, /usr/local/cuda, the
 * distribution's library folders.
 */
export function cudaLibrarySearchDirs(major, env = process.env) {
  const multiarch = `${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux`;
  const toolkit = (home) => [path.join(home, "lib64"), path.join(home, "lib"), path.join(home, "targets", multiarch, "lib")];
  const dirs = [...(env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean)];
  for (const home of [env.CUDA_HOME, env.CUDA_PATH]) if (home) dirs.push(...toolkit(home));
  for (const site of pythonPackageDirs(env)) {
    // cu12 wheels: nvidia/cuda_runtime/lib, nvidia/cublas/lib; cu13 wheels: nvidia/cu13/lib.
    dirs.push(path.join(site, "nvidia", `cu${major}`, "lib"), path.join(site, "nvidia", "cuda_runtime", "lib"), path.join(site, "nvidia", "cublas", "lib"));
  }
  const versioned = readdir("/usr/local")
    .filter((n) => n.startsWith(`cuda-${major}`))
    .sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
  for (const name of versioned) dirs.push(...toolkit(path.join("/usr/local", name)));
  dirs.push(...toolkit("/usr/local/cuda"));
  dirs.push(`/usr/lib/${multiarch}-gnu`, `/lib/${multiarch}-gnu`, "/usr/lib64", "/usr/lib");
  return [...new Set(dirs)];
}

/**
 * Where each library of a cuda<major> binary is. `found` maps a library name to its path
 * (a folder the loader may not search); `missing` lists what was found nowhere; `dirs` are the
 * folders to add to a child's LD_LIBRARY_PATH or to preload from.
 * @param {number|string} major
 * @param {{ env?: NodeJS.ProcessEnv, searchDirs?: string[] }} [options]
 */
export function findCudaLibraries(major, options = {}) {
  const env = options.env ?? process.env;
  const searchDirs = options.searchDirs ?? cudaLibrarySearchDirs(major, env);
  const found = {};
  const missing = [];
  for (const name of cudaLibraryNames(major)) {
    const dir = searchDirs.find((d) => fs.existsSync(path.join(d, name)));
    if (dir) found[name] = path.join(dir, name);
    else missing.push(name);
  }
  const dirs = [...new Set(Object.values(found).map((f) => path.dirname(f)))];
  return { major: Number(major), found, missing, dirs };
}

/** One paragraph for a user: what is missing and the command that installs it. */
export function describeMissingCudaLibraries(result) {
  if (result.missing.length === 0) return "";
  return (
    `the CUDA ${result.major} runtime libraries ${result.missing.join(", ")} are not installed ` +
    `(looked in NVIDIA's PyPI wheels, /usr/local/cuda*, $CUDA_HOME and the system library folders). ` +
    `Install them with \`${cudaInstallCommand(result.major)}\`` +
    (result.major === 12 ? " (or `apt install libcudart12 libcublas12` on Debian trixie / Ubuntu 24.04)" : "") +
    "; no LD_LIBRARY_PATH is needed for those places"
  );
}

/** LD_LIBRARY_PATH with the found library folders in front, for a child process. */
export function withCudaLibraryPath(env, result) {
  const extra = result.dirs.filter((d) => !(env.LD_LIBRARY_PATH ?? "").split(":").includes(d));
  if (extra.length === 0) return env;
  return { ...env, LD_LIBRARY_PATH: [...extra, ...(env.LD_LIBRARY_PATH ? [env.LD_LIBRARY_PATH] : [])].join(":") };
}

// glibc's RTLD_NODELETE: Node's process.dlopen closes a library that is not an addon ("did not
// self-register"); with this flag it stays loaded, so the addon's DT_NEEDED entries of the same
// soname resolve to it, wherever it lives.
const RTLD_NODELETE = 0x1000;

/**
 * Loads the found libraries into this process by their full path, so that a binary with RUNPATH
 * $ORIGIN finds them without LD_LIBRARY_PATH (which a running process can't change).
 * Returns the libraries that failed to load, with the reason.
 */
export function preloadCudaLibraries(result) {
  const failed = [];
  if (process.platform !== "linux") return failed;
  const flags = os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  for (const name of cudaLibraryNames(result.major)) {
    const file = result.found[name];
    if (!file) continue;
    try {
      process.dlopen({ exports: {} }, file, flags);
    } catch (error) {
      const message = String(error?.message ?? error);
      if (!/did not self-register|Module did not/.test(message)) failed.push(`${file}: ${message.split("\n")[0]}`);
    }
  }
  return failed;
}
