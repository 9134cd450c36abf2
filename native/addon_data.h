// Per-environment state of the addon (one per Node.js main thread or worker_thread).
#pragma once

#include <napi.h>

#include <set>

namespace tingwu {

class WhisperModel;

struct AddonData {
  Napi::FunctionReference model_constructor;
  // Live models, so the environment cleanup hook can stop their work and free them.
  std::set<WhisperModel *> models;
};

inline AddonData *GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace tingwu
