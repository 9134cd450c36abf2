#include "model.h"

#include <cstring>
#include <filesystem>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <system_error>
#include <utility>

#include "addon_data.h"
#include "detect.h"
#include "ggml-backend.h"
#include "log.h"
#include "transcribe.h"

namespace tingwu {
namespace {

// Mirrors whisper.cpp's own device choice (whisper_backend_init_gpu) so `info` reports the
// device that is really in use rather than the one that was asked for.
void DescribeDevice(LoadedModel &m) {
  m.device_kind = "cpu";
  m.device_name = "CPU";
  m.device_description.clear();
  if (!m.gpu_requested) return;
  int gpu_index = 0;
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    auto type = ggml_backend_dev_type(dev);
    if (type != GGML_BACKEND_DEVICE_TYPE_GPU && type != GGML_BACKEND_DEVICE_TYPE_IGPU) continue;
    if (gpu_index++ == m.gpu_device) {
      m.device_kind = "gpu";
      m.device_name = ggml_backend_dev_name(dev);
      m.device_description = ggml_backend_dev_description(dev);
      return;
    }
  }
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, std::vector<uint8_t> bytes, whisper_context_params params)
      : Napi::AsyncWorker(env, "tingwu:load"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        bytes_(std::move(bytes)),
        params_(params) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    LogCapture capture;
    try {
      if (!bytes_.empty()) {
        loaded_.size_bytes = static_cast<int64_t>(bytes_.size());
        loaded_.ctx = whisper_init_from_buffer_with_params(bytes_.data(), bytes_.size(), params_);
        std::vector<uint8_t>().swap(bytes_);  // whisper.cpp has its own copy now
      } else {
        loaded_.ctx = whisper_init_from_file_with_params(path_.c_str(), params_);
        // whisper.cpp keeps roughly the file's size in weights: report it to V8's GC heuristics.
        std::error_code ec;
        auto size = std::filesystem::file_size(path_, ec);
        loaded_.size_bytes = ec ? 0 : static_cast<int64_t>(size);
      }
    } catch (const std::exception &e) {
      loaded_.ctx = nullptr;
      SetError(std::string("whisper.cpp threw while loading the model: ") + e.what());
      return;
    } catch (...) {
      loaded_.ctx = nullptr;
      SetError("whisper.cpp threw an unknown exception while loading the model");
      return;
    }
    if (loaded_.ctx == nullptr) {
      std::string why = capture.LastProblems();
      SetError("whisper.cpp could not load the model" + (why.empty() ? std::string() : ": " + why));
      return;
    }
    loaded_.gpu_requested = params_.use_gpu;
    loaded_.flash_attention = params_.flash_attn;
    loaded_.gpu_device = params_.gpu_device;
    DescribeDevice(loaded_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    AddonData *data = GetAddonData(env);
    LoadedModel payload = loaded_;
    loaded_.ctx = nullptr;
    data->pending_model = &payload;
    Napi::Object model;
    try {
      model = data->model_constructor.New({});
    } catch (...) {
      data->pending_model = nullptr;
      if (payload.ctx != nullptr) whisper_free(payload.ctx);  // the constructor never took it
      throw;
    }
    data->pending_model = nullptr;
    deferred_.Resolve(model);
  }

  void OnError(const Napi::Error &error) override { deferred_.Reject(error.Value()); }

  ~LoadWorker() override {
    // Only reached with a context when OnOK never ran (environment teardown).
    if (loaded_.ctx != nullptr) whisper_free(loaded_.ctx);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  std::vector<uint8_t> bytes_;
  whisper_context_params params_;
  LoadedModel loaded_;
};

}  // namespace

Napi::Function WhisperModel::Define(Napi::Env env) {
  return DefineClass(env, "WhisperModel",
                     {
                         StaticMethod<&WhisperModel::Load>("load"),
                         InstanceMethod<&WhisperModel::Transcribe>("transcribe"),
                         InstanceMethod<&WhisperModel::DetectLanguage>("detectLanguage"),
                         InstanceMethod<&WhisperModel::GetInfo>("info"),
                         InstanceMethod<&WhisperModel::Free>("free"),
                         InstanceMethod<&WhisperModel::ActiveJobs>("activeJobs"),
                         InstanceMethod<&WhisperModel::Vocabulary>("vocabulary"),
                         InstanceMethod<&WhisperModel::ReferenceTokenize>("referenceTokenize"),
                     });
}

// load(source: string | Uint8Array, params: { gpu, gpuDevice, flashAttention }): Promise<WhisperModel>
// The TypeScript layer has validated and defaulted everything before it gets here.
Napi::Value WhisperModel::Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "load(source, params): params must be an object");
  }
  Napi::Object opts = info[1].As<Napi::Object>();
  whisper_context_params params = whisper_context_default_params();
  params.use_gpu = opts.Get("gpu").ToBoolean().Value();
  params.flash_attn = opts.Get("flashAttention").ToBoolean().Value();
  params.gpu_device = opts.Get("gpuDevice").ToNumber().Int32Value();

  std::string path;
  std::vector<uint8_t> bytes;
  if (info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
  } else if (info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto array = info[0].As<Napi::Uint8Array>();
    bytes.assign(array.Data(), array.Data() + array.ElementLength());
  } else {
    throw Napi::TypeError::New(env, "load(source, params): source must be a path string or a Uint8Array");
  }
  auto *worker = new LoadWorker(env, std::move(path), std::move(bytes), params);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

WhisperModel::WhisperModel(const Napi::CallbackInfo &info) : Napi::ObjectWrap<WhisperModel>(info), env_(info.Env()) {
  AddonData *data = GetAddonData(env_);
  if (data->pending_model == nullptr) {
    throw Napi::TypeError::New(info.Env(), "WhisperModel cannot be constructed directly: use load()");
  }
  loaded_ = *data->pending_model;
  data->pending_model->ctx = nullptr;
  data->pending_model = nullptr;
  data->models.insert(this);
  Napi::MemoryManagement::AdjustExternalMemory(env_, loaded_.size_bytes);
}

WhisperModel::~WhisperModel() {
  if (AddonData *data = GetAddonData(env_)) data->models.erase(this);
  Shutdown();
}

void WhisperModel::EnsureUsable(Napi::Env env) const {
  if (loaded_.ctx == nullptr) {
    Napi::Error error = Napi::Error::New(env, "The model has been disposed");
    error.Set("code", Napi::String::New(env, "ERR_DISPOSED"));
    throw error;
  }
}

whisper_state *WhisperModel::AcquireState(std::string &error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!default_state_busy_) {
      default_state_busy_ = true;
      return nullptr;  // nullptr + empty error means "use the context's own state"
    }
    if (!idle_states_.empty()) {
      whisper_state *state = idle_states_.back();
      idle_states_.pop_back();
      return state;
    }
  }
  LogCapture capture;
  whisper_state *state = whisper_init_state(loaded_.ctx);
  if (state == nullptr) {
    error = "whisper.cpp could not allocate a decoding state (out of memory?)";
    std::string why = capture.LastProblems();
    if (!why.empty()) error += ": " + why;
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  extra_states_.push_back(state);
  return state;
}

void WhisperModel::ReleaseState(whisper_state *state) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state == nullptr) {
    default_state_busy_ = false;
  } else {
    idle_states_.push_back(state);
  }
}

void WhisperModel::JobStarted(const std::shared_ptr<std::atomic<bool>> &abort_flag) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++active_jobs_;
  running_.insert(abort_flag);
}

void WhisperModel::JobFinished(const std::shared_ptr<std::atomic<bool>> &abort_flag) {
  std::lock_guard<std::mutex> lock(mutex_);
  --active_jobs_;
  running_.erase(abort_flag);
  idle_.notify_all();
}

void WhisperModel::Shutdown() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (const auto &flag : running_) flag->store(true);
    idle_.wait(lock, [this] { return active_jobs_ == 0; });
  }
  FreeNow();
}

void WhisperModel::FreeNow() {
  if (loaded_.ctx == nullptr) return;
  for (whisper_state *state : extra_states_) whisper_free_state(state);
  extra_states_.clear();
  idle_states_.clear();
  whisper_free(loaded_.ctx);
  loaded_.ctx = nullptr;
#if defined(__GLIBC__)
  // Loads run on libuv's pool threads, so the weights' memory sits in per-thread malloc arenas that
  // glibc keeps after free; give it back so load/dispose cycles don't ratchet RSS up.
  malloc_trim(0);
#endif
  Napi::MemoryManagement::AdjustExternalMemory(env_, -loaded_.size_bytes);
  loaded_.size_bytes = 0;
}

Napi::Value WhisperModel::Transcribe(const Napi::CallbackInfo &info) {
  EnsureUsable(info.Env());
  return StartTranscription(info, this);
}

Napi::Value WhisperModel::DetectLanguage(const Napi::CallbackInfo &info) {
  EnsureUsable(info.Env());
  return StartLanguageDetection(info, this);
}

// free(): synchronous; the TypeScript layer only calls it once no job is running. If one still
// is (a caller bypassing the wrapper), it is aborted and waited for: whisper.cpp stops within
// one graph computation.
Napi::Value WhisperModel::Free(const Napi::CallbackInfo &info) {
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value WhisperModel::ActiveJobs(const Napi::CallbackInfo &info) {
  std::lock_guard<std::mutex> lock(mutex_);
  return Napi::Number::New(info.Env(), active_jobs_);
}

Napi::Value WhisperModel::GetInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  EnsureUsable(env);
  whisper_context *ctx = loaded_.ctx;
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", whisper_model_type_readable(ctx));
  out.Set("multilingual", Napi::Boolean::New(env, whisper_is_multilingual(ctx) != 0));
  out.Set("ftype", whisper_model_ftype(ctx));
  out.Set("nVocab", whisper_model_n_vocab(ctx));
  out.Set("nAudioCtx", whisper_model_n_audio_ctx(ctx));
  out.Set("nAudioState", whisper_model_n_audio_state(ctx));
  out.Set("nAudioHead", whisper_model_n_audio_head(ctx));
  out.Set("nAudioLayer", whisper_model_n_audio_layer(ctx));
  out.Set("nTextCtx", whisper_model_n_text_ctx(ctx));
  out.Set("nTextState", whisper_model_n_text_state(ctx));
  out.Set("nTextHead", whisper_model_n_text_head(ctx));
  out.Set("nTextLayer", whisper_model_n_text_layer(ctx));
  out.Set("nMels", whisper_model_n_mels(ctx));
  out.Set("gpuRequested", Napi::Boolean::New(env, loaded_.gpu_requested));
  out.Set("flashAttention", Napi::Boolean::New(env, loaded_.flash_attention));
  out.Set("device", loaded_.device_kind);
  out.Set("deviceName", loaded_.device_name);
  out.Set("deviceDescription", loaded_.device_description);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out.Set("states", Napi::Number::New(env, 1 + static_cast<double>(extra_states_.size())));
  }
  return out;
}

// vocabulary(): { bytes: Buffer, offsets: Int32Array }, every token id's bytes
// (whisper_token_to_str, extra tokens included) end to end; id i is bytes[offsets[i], offsets[i+1]).
// One buffer rather than 50k small ones. The prompt tokenizer in TypeScript is built from it.
Napi::Value WhisperModel::Vocabulary(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  EnsureUsable(env);
  const int n = whisper_n_vocab(loaded_.ctx);
  std::string bytes;
  Napi::Int32Array offsets = Napi::Int32Array::New(env, static_cast<size_t>(n) + 1);
  offsets[0] = 0;
  for (int i = 0; i < n; i++) {
    const char *text = whisper_token_to_str(loaded_.ctx, i);
    if (text) bytes.append(text);
    offsets[static_cast<size_t>(i) + 1] = static_cast<int32_t>(bytes.size());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size()));
  out.Set("offsets", offsets);
  return out;
}

// referenceTokenize(text: string): Int32Array, whisper.cpp's own tokenizer. Only for checking
// the TypeScript tokenizer on short texts: its std::regex recursion overflows the stack on long
// ones, so user text never reaches it.
Napi::Value WhisperModel::ReferenceTokenize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  EnsureUsable(env);
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "referenceTokenize(text): text must be a string");
  }
  const std::string text = info[0].As<Napi::String>().Utf8Value();
  const int needed = -whisper_tokenize(loaded_.ctx, text.c_str(), nullptr, 0);
  std::vector<whisper_token> tokens(static_cast<size_t>(needed > 0 ? needed : 0));
  int n = 0;
  if (!tokens.empty()) n = whisper_tokenize(loaded_.ctx, text.c_str(), tokens.data(), static_cast<int>(tokens.size()));
  Napi::Int32Array out = Napi::Int32Array::New(env, static_cast<size_t>(n > 0 ? n : 0));
  for (int i = 0; i < n; i++) out[i] = tokens[static_cast<size_t>(i)];
  return out;
}

}  // namespace tingwu
