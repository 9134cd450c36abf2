#include "runtime.h"

#include <dlfcn.h>

#include <string>

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

Napi::Value StringOrNull(Napi::Env env, const std::string &value) {
  return value.empty() ? env.Null() : Napi::String::New(env, value);
}
#endif

std::string AddonDirectory() {
  Dl_info dl_info;
  if (dladdr(reinterpret_cast<void *>(&LoadBackends), &dl_info) == 0 || dl_info.dli_fname == nullptr) return "";
  std::string path = dl_info.dli_fname;
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

void LoadBackends() {
#ifdef TINGWU_BACKEND_DL
  static bool loaded = false;
  if (loaded) return;
  loaded = true;
  LogCapture quiet;  // probing prints a line per candidate library
  std::string dir = AddonDirectory();
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
