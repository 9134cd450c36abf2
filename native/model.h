// WhisperModel: a loaded whisper_context plus a pool of whisper_state objects, so several
// transcriptions can run on one model at the same time (one state each).
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "whisper.h"

namespace tingwu {

// What the load worker hands to the JS object.
struct LoadedModel {
  whisper_context *ctx = nullptr;
  int64_t size_bytes = 0;
  bool gpu_requested = false;
  bool flash_attention = false;
  int gpu_device = 0;
  std::string device_kind = "cpu";  // "cpu" or "gpu"
  std::string device_name = "CPU";
  std::string device_description;
};

class WhisperModel : public Napi::ObjectWrap<WhisperModel> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Load(const Napi::CallbackInfo &info);

  explicit WhisperModel(const Napi::CallbackInfo &info);
  ~WhisperModel() override;

  // Worker-thread API. Acquire returns nullptr (with `error`) when a state can't be created.
  whisper_state *AcquireState(std::string &error);
  void ReleaseState(whisper_state *state);
  whisper_context *Context() const { return loaded_.ctx; }

  // Job bookkeeping; abort flags are shared with the job's JS `abort()` function.
  void JobStarted(const std::shared_ptr<std::atomic<bool>> &abort_flag);
  void JobFinished(const std::shared_ptr<std::atomic<bool>> &abort_flag);

  // Aborts running jobs, waits for them to leave whisper.cpp, frees everything. Main thread.
  void Shutdown();

 private:
  Napi::Value Transcribe(const Napi::CallbackInfo &info);
  Napi::Value DetectLanguage(const Napi::CallbackInfo &info);
  Napi::Value GetInfo(const Napi::CallbackInfo &info);
  Napi::Value Free(const Napi::CallbackInfo &info);
  Napi::Value ActiveJobs(const Napi::CallbackInfo &info);
  Napi::Value Vocabulary(const Napi::CallbackInfo &info);
  Napi::Value ReferenceTokenize(const Napi::CallbackInfo &info);

  void EnsureUsable(Napi::Env env) const;
  void FreeNow();

  LoadedModel loaded_;
  Napi::Env env_;

  std::mutex mutex_;
  std::condition_variable idle_;
  int active_jobs_ = 0;
  std::set<std::shared_ptr<std::atomic<bool>>> running_;
  // The context's own state is used first, so whisper_get_timings() describes single runs.
  bool default_state_busy_ = false;
  std::vector<whisper_state *> idle_states_;
  std::vector<whisper_state *> extra_states_;
};

}  // namespace tingwu
