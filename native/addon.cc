// Module entry: registers WhisperModel and the runtime report, and tears models down with the
// environment (process exit or worker_thread termination) so no whisper.cpp work outlives it.
#include <napi.h>

#include <vector>

#include "addon_data.h"
#include "log.h"
#include "model.h"
#include "runtime.h"
#include "vad.h"

namespace tingwu {
namespace {

void CleanupEnvironment(AddonData *data) {
  std::vector<WhisperModel *> models(data->models.begin(), data->models.end());
  for (WhisperModel *model : models) model->Shutdown();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLogHandler();
  LoadBackends();
  auto *data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  env.AddCleanupHook(CleanupEnvironment, data);

  Napi::Function model = WhisperModel::Define(env);
  data->model_constructor = Napi::Persistent(model);
  exports.Set("WhisperModel", model);
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  exports.Set("detectSpeech", Napi::Function::New(env, DetectSpeech, "detectSpeech"));
  return exports;
}

}  // namespace tingwu

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return tingwu::Init(env, exports); }

NODE_API_MODULE(tingwu_whisper, InitAddon)
