#include "runtime.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "ggml-backend.h"
#include "log.h"
#include "whisper.h"

#ifndef TINGWU_VARIANT
#define TINGWU_VARIANT "cpu"
#endif

namespace tingwu {
namespace {

const char *DeviceType(enum ggml_backend_dev_type type) {
  switch (type) {
    case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
    case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
    case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
    case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
  }
  return "unknown";
}

#ifdef TINGWU_CUDA
// CUDA versions as "13.5", or "" when unknown. cudart is a NEEDED library of this addon, so it is
// already loaded: find it by its soname instead of compiling this file against the CUDA headers.
// The driver version is 0 (reported as "") when no driver is installed.
struct CudaVersions {
  std::string runtime;
  std::string driver;
};

std::string FormatCudaVersion(int version) {
  if (version <= 0) return "";
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

CudaVersions QueryCudaVersions() {
  CudaVersions out;
  std::string built = TINGWU_CUDA_VERSION;
  std::string soname = "libcudart.so." + built.substr(0, built.find('.'));
  void *cudart = dlopen(soname.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (cudart == nullptr) return out;
  using VersionFn = int (*)(int *);  // cudaError_t f(int *); cudaSuccess is 0
  auto runtime_version = reinterpret_cast<VersionFn>(dlsym(cudart, "cudaRuntimeGetVersion"));
  auto driver_version = reinterpret_cast<VersionFn>(dlsym(cudart, "cudaDriverGetVersion"));
  int version = 0;
  if (runtime_version != nullptr && runtime_version(&version) == 0) out.runtime = FormatCudaVersion(version);
  version = 0;
  if (driver_version != nullptr && driver_version(&version) == 0) out.driver = FormatCudaVersion(version);
  dlclose(cudart);
  return out;
}
#endif

Napi::Value StringOrNull(Napi::Env env, const std::string &value) { return value.empty() ? env.Null() : Napi::String::New(env, value); }

std::string AddonPath() {
  Dl_info dl_info;
  if (dladdr(reinterpret_cast<void *>(&LoadBackends), &dl_info) == 0 || dl_info.dli_fname == nullptr) return "";
  return dl_info.dli_fname;
}

std::string AddonDirectory() {
  std::string path = AddonPath();
  if (path.empty()) return "";
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

#ifdef TINGWU_CPU_FP16_BACKENDS
// AVX512-FP16 usable: CPUID.(EAX=7,ECX=0):EDX[23], and the OS saves the opmask and ZMM state
// (XCR0 bits 1, 2, 5, 6, 7). ggml's own feature check doesn't know this instruction set.
bool CpuHasAvx512Fp16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & bit_OSXSAVE) == 0) return false;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0xE6) != 0xE6) return false;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return (d & (1u << 23)) != 0;
}

// TINGWU_CPU_FP16 is validated by the loader (lib/native.ts), which writes any false word as "0".
bool Fp16BackendsDisabled() {
  const char *value = std::getenv("TINGWU_CPU_FP16");
  return value != nullptr && std::strcmp(value, "0") == 0;
}

// Loads the AVX512-FP16 CPU backend that fits this CPU (the AMX one first; ggml's check in each
// refuses a CPU without its other features). False when none applies, so ggml picks as usual.
bool LoadFp16CpuBackend(const std::string &dir) {
  if (dir.empty() || Fp16BackendsDisabled() || !CpuHasAvx512Fp16()) return false;
  for (const char *name : {"tingwu-cpu-sapphirerapids-fp16.so", "tingwu-cpu-avx512fp16.so"}) {
    std::string path = dir + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && ggml_backend_load(path.c_str()) != nullptr) return true;
  }
  return false;
}
#endif

// The file the CPU backend was loaded from (its basename without extension), or "" when the CPU
// backend is linked into the addon.
std::string CpuBackendName() {
  ggml_backend_reg_t reg = ggml_backend_reg_by_name("CPU");
  if (reg == nullptr) return "";
  void *fn = ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features");
  Dl_info dl_info;
  if (fn == nullptr || dladdr(fn, &dl_info) == 0 || dl_info.dli_fname == nullptr) return "";
  std::string path = dl_info.dli_fname;
  if (path == AddonPath()) return "";
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.find(".so");
  return dot == std::string::npos ? base : base.substr(0, dot);
}

}  // namespace

void LoadBackends() {
#ifdef TINGWU_BACKEND_DL
  static bool loaded = false;
  if (loaded) return;
  loaded = true;
  LogCapture quiet;  // probing prints a line per candidate library
  std::string dir = AddonDirectory();
#ifdef TINGWU_CPU_FP16_BACKENDS
  // The portable build ships CPU backends only, so with the FP16 one loaded nothing else is
  // looked for, except an out-of-tree backend named by GGML_BACKEND_PATH, as ggml does.
  if (LoadFp16CpuBackend(dir)) {
    if (const char *extra = std::getenv("GGML_BACKEND_PATH")) ggml_backend_load(extra);
    return;
  }
#endif
  ggml_backend_load_all_from_path(dir.empty() ? nullptr : dir.c_str());
#endif
}

Napi::Value RuntimeInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  LogCapture quiet;
  Napi::Object out = Napi::Object::New(env);
  out.Set("whisperCppVersion", whisper_version());
  out.Set("systemInfo", whisper_print_system_info());
  out.Set("variant", TINGWU_VARIANT);
#ifdef TINGWU_CUDA
  out.Set("cudaCompiled", Napi::Boolean::New(env, true));
  out.Set("cudaVersion", TINGWU_CUDA_VERSION);
  CudaVersions versions = QueryCudaVersions();
  out.Set("cudaRuntimeVersion", StringOrNull(env, versions.runtime));
  out.Set("cudaDriverVersion", StringOrNull(env, versions.driver));
#else
  out.Set("cudaCompiled", Napi::Boolean::New(env, false));
  out.Set("cudaVersion", env.Null());
  out.Set("cudaRuntimeVersion", env.Null());
  out.Set("cudaDriverVersion", env.Null());
#endif
#ifdef TINGWU_BACKEND_DL
  out.Set("dynamicBackends", Napi::Boolean::New(env, true));
#else
  out.Set("dynamicBackends", Napi::Boolean::New(env, false));
#endif
  out.Set("addonPath", AddonDirectory());
  std::string cpu_backend = CpuBackendName();
  out.Set("cpuBackend", StringOrNull(env, cpu_backend));

  Napi::Array backends = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_reg_count(); ++i) {
    backends.Set(static_cast<uint32_t>(i), ggml_backend_reg_name(ggml_backend_reg_get(i)));
  }
  out.Set("backends", backends);

  Napi::Array devices = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    size_t free_mem = 0, total_mem = 0;
    ggml_backend_dev_memory(dev, &free_mem, &total_mem);
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", ggml_backend_dev_name(dev));
    d.Set("description", ggml_backend_dev_description(dev));
    d.Set("type", DeviceType(ggml_backend_dev_type(dev)));
    d.Set("backend", ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev)));
    d.Set("memoryFree", Napi::Number::New(env, static_cast<double>(free_mem)));
    d.Set("memoryTotal", Napi::Number::New(env, static_cast<double>(total_mem)));
    devices.Set(static_cast<uint32_t>(i), d);
  }
  out.Set("devices", devices);
  return out;
}

}  // namespace tingwu
