#include "transcribe.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "job_handle.h"
#include "log.h"
#include "model.h"
#include "utf8.h"
#include "whisper.h"

namespace tingwu {
namespace {

// ---- the baton ---------------------------------------------------------------------------------

struct Request {
  std::vector<float> samples;
  int threads = 1;
  std::string language = "auto";
  bool translate = false;
  // Prompt token ids, tokenized in TypeScript (lib/prompt/tokenizer.ts): whisper.cpp's own
  // regex tokenizer recurses per byte and overflows the stack on long prompts.
  std::vector<whisper_token> prompt_tokens;
  float temperature = 0.0f;
  float temperature_increment = 0.2f;
  int beam_size = 1;
  int best_of = 5;
  bool no_timestamps = false;
  bool token_timestamps = false;
  bool include_tokens = false;
  int max_segment_length = 0;
  bool split_on_word = false;
  int max_tokens_per_segment = 0;
  bool suppress_blank = true;
  bool suppress_non_speech = false;
  float no_speech_threshold = 0.6f;
  float entropy_threshold = 2.4f;
  float logprob_threshold = -1.0f;
  int offset_ms = 0;
  int duration_ms = 0;
  bool no_context = true;
  bool single_segment = false;
};

struct TokenOut {
  int id;
  std::string text;
  float p;
  int64_t t0;
  int64_t t1;
  bool special;
};

struct SegmentOut {
  int64_t t0;  // whisper.cpp units: 10 ms
  int64_t t1;
  std::string text;
  float no_speech_prob;
  bool speaker_turn_next;
  std::vector<TokenOut> tokens;
};

struct Event {
  int progress = -1;
  std::vector<SegmentOut> segments;
};

struct TranscribeJob {
  Request request;
  WhisperModel *model = nullptr;
  std::shared_ptr<std::atomic<bool>> aborted = std::make_shared<std::atomic<bool>>(false);

  std::optional<Napi::Promise::Deferred> deferred;
  std::optional<Napi::ThreadSafeFunction> events;
  Utf8Joiner event_text;  // segment text as streamed to onSegment
  int emitted_segments = 0;

  // Results (written by Execute, read on the JS thread after it returns).
  std::vector<SegmentOut> segments;
  std::string language;
  double language_probability = -1;
  bool has_timings = false;
  whisper_timings timings{};
  double compute_ms = 0;
  std::string error;
  std::string error_code;
};

// ---- reading whisper.cpp results (state == nullptr means the context's own state) ---------------

struct ResultView {
  whisper_context *ctx;
  whisper_state *state;

  int Segments() const { return state ? whisper_full_n_segments_from_state(state) : whisper_full_n_segments(ctx); }
  int64_t T0(int i) const { return state ? whisper_full_get_segment_t0_from_state(state, i) : whisper_full_get_segment_t0(ctx, i); }
  int64_t T1(int i) const { return state ? whisper_full_get_segment_t1_from_state(state, i) : whisper_full_get_segment_t1(ctx, i); }
  const char *Text(int i) const {
    return state ? whisper_full_get_segment_text_from_state(state, i) : whisper_full_get_segment_text(ctx, i);
  }
  float NoSpeech(int i) const {
    return state ? whisper_full_get_segment_no_speech_prob_from_state(state, i) : whisper_full_get_segment_no_speech_prob(ctx, i);
  }
  bool TurnNext(int i) const {
    return state ? whisper_full_get_segment_speaker_turn_next_from_state(state, i) : whisper_full_get_segment_speaker_turn_next(ctx, i);
  }
  int Tokens(int i) const { return state ? whisper_full_n_tokens_from_state(state, i) : whisper_full_n_tokens(ctx, i); }
  whisper_token_data Token(int i, int j) const {
    return state ? whisper_full_get_token_data_from_state(state, i, j) : whisper_full_get_token_data(ctx, i, j);
  }
};

void Collect(const ResultView &view, int from, int to, bool with_tokens, Utf8Joiner &joiner, std::vector<SegmentOut> &out) {
  const whisper_token eot = whisper_token_eot(view.ctx);
  for (int i = from; i < to; ++i) {
    SegmentOut seg;
    seg.t0 = view.T0(i);
    seg.t1 = view.T1(i);
    const char *text = view.Text(i);
    seg.text = joiner.Push(text ? text : "");
    seg.no_speech_prob = view.NoSpeech(i);
    seg.speaker_turn_next = view.TurnNext(i);
    if (with_tokens) {
      Utf8Joiner token_joiner;
      const int n = view.Tokens(i);
      seg.tokens.reserve(n);
      for (int j = 0; j < n; ++j) {
        whisper_token_data data = view.Token(i, j);
        const char *piece = whisper_token_to_str(view.ctx, data.id);
        const bool special = data.id >= eot;
        std::string token_text = special ? std::string(piece ? piece : "") : token_joiner.Push(piece ? piece : "");
        seg.tokens.push_back(TokenOut{data.id, std::move(token_text), data.p, data.t0, data.t1, special});
      }
      if (!seg.tokens.empty()) {
        std::string rest = token_joiner.Finish();
        if (!rest.empty()) seg.tokens.back().text += rest;
      }
    }
    out.push_back(std::move(seg));
  }
}

// ---- JS conversion ---------------------------------------------------------------------------------

Napi::Object SegmentToJs(Napi::Env env, const SegmentOut &seg, bool with_tokens) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("start", Napi::Number::New(env, static_cast<double>(seg.t0 * 10)));
  o.Set("end", Napi::Number::New(env, static_cast<double>(seg.t1 * 10)));
  o.Set("text", Napi::String::New(env, seg.text));
  o.Set("noSpeechProb", Napi::Number::New(env, seg.no_speech_prob));
  o.Set("speakerTurnNext", Napi::Boolean::New(env, seg.speaker_turn_next));
  if (with_tokens) {
    Napi::Array tokens = Napi::Array::New(env, seg.tokens.size());
    for (size_t j = 0; j < seg.tokens.size(); ++j) {
      const TokenOut &t = seg.tokens[j];
      Napi::Object tok = Napi::Object::New(env);
      tok.Set("id", t.id);
      tok.Set("text", Napi::String::New(env, t.text));
      tok.Set("p", Napi::Number::New(env, t.p));
      tok.Set("start", Napi::Number::New(env, t.t0 < 0 ? -1.0 : static_cast<double>(t.t0 * 10)));
      tok.Set("end", Napi::Number::New(env, t.t1 < 0 ? -1.0 : static_cast<double>(t.t1 * 10)));
      tok.Set("special", Napi::Boolean::New(env, t.special));
      tokens.Set(static_cast<uint32_t>(j), tok);
    }
    o.Set("tokens", tokens);
  }
  return o;
}

Napi::Object ResultToJs(Napi::Env env, const TranscribeJob &job) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Array segments = Napi::Array::New(env, job.segments.size());
  for (size_t i = 0; i < job.segments.size(); ++i) {
    segments.Set(static_cast<uint32_t>(i), SegmentToJs(env, job.segments[i], job.request.include_tokens));
  }
  out.Set("segments", segments);
  out.Set("language", Napi::String::New(env, job.language));
  if (job.language_probability >= 0) out.Set("languageProbability", Napi::Number::New(env, job.language_probability));
  Napi::Object timings = Napi::Object::New(env);
  timings.Set("computeMs", Napi::Number::New(env, job.compute_ms));
  if (job.has_timings) {
    timings.Set("sampleMs", Napi::Number::New(env, job.timings.sample_ms));
    timings.Set("encodeMs", Napi::Number::New(env, job.timings.encode_ms));
    timings.Set("decodeMs", Napi::Number::New(env, job.timings.decode_ms));
    timings.Set("batchdMs", Napi::Number::New(env, job.timings.batchd_ms));
    timings.Set("promptMs", Napi::Number::New(env, job.timings.prompt_ms));
  }
  out.Set("timings", timings);
  return out;
}

// Settles the promise once every queued callback event has been delivered.
// During environment teardown (worker_thread terminated) JS can no longer run and napi calls
// fail; nothing is waiting for the promise then, so failures here are dropped.
void Settle(Napi::Env env, TranscribeJob &job) {
  try {
    Napi::HandleScope scope(env);
    job.model->Unref();
    if (job.error.empty()) {
      job.deferred->Resolve(ResultToJs(env, job));
    } else {
      Napi::Error error = Napi::Error::New(env, job.error);
      error.Set("code", Napi::String::New(env, job.error_code));
      job.deferred->Reject(error.Value());
    }
  } catch (...) {
  }
}

// ---- whisper.cpp callbacks (worker thread) ---------------------------------------------------------

bool IsAborted(void *user_data) { return static_cast<TranscribeJob *>(user_data)->aborted->load(); }

void OnNewSegment(whisper_context *ctx, whisper_state *state, int n_new, void *user_data) {
  auto *job = static_cast<TranscribeJob *>(user_data);
  if (!job->events) return;
  auto *event = new Event();
  ResultView view{ctx, state};
  const int total = view.Segments();
  Collect(view, total - n_new, total, job->request.include_tokens, job->event_text, event->segments);
  bool include_tokens = job->request.include_tokens;
  napi_status status = job->events->NonBlockingCall(event, [include_tokens](Napi::Env env, Napi::Function fn, Event *ev) {
    std::unique_ptr<Event> owned(ev);
    if (env == nullptr) return;
    try {
      for (const SegmentOut &seg : owned->segments) fn.Call({Napi::String::New(env, "segment"), SegmentToJs(env, seg, include_tokens)});
    } catch (...) {
      // The TypeScript wrapper never lets user callbacks throw; nothing to do here.
    }
  });
  if (status != napi_ok) delete event;
}

void OnProgress(whisper_context *, whisper_state *, int progress, void *user_data) {
  auto *job = static_cast<TranscribeJob *>(user_data);
  if (!job->events) return;
  auto *event = new Event();
  event->progress = progress;
  napi_status status = job->events->NonBlockingCall(event, [](Napi::Env env, Napi::Function fn, Event *ev) {
    std::unique_ptr<Event> owned(ev);
    if (env == nullptr) return;
    try {
      fn.Call({Napi::String::New(env, "progress"), Napi::Number::New(env, owned->progress)});
    } catch (...) {
    }
  });
  if (status != napi_ok) delete event;
}

// Language detection as whisper_full does it when asked for "auto" (the whole file's log-mel, the
// first 30 s window, the same threads), done here so the probability comes back as a number.
// whisper_full then runs with the detected code: the same decode. 0, or whisper_full's own -2/-3.
int DetectLanguage(whisper_context *ctx, whisper_state *state, const float *samples, int n, int threads, TranscribeJob &job) {
  const int mel = state ? whisper_pcm_to_mel_with_state(ctx, state, samples, n, threads) : whisper_pcm_to_mel(ctx, samples, n, threads);
  if (mel != 0) {
    job.error = "whisper.cpp failed to compute the log-mel spectrogram for language detection";
    return -2;
  }
  std::vector<float> probs(whisper_lang_max_id() + 1, 0.0f);
  const int id = state ? whisper_lang_auto_detect_with_state(ctx, state, 0, threads, probs.data())
                       : whisper_lang_auto_detect(ctx, 0, threads, probs.data());
  const char *code = id >= 0 ? whisper_lang_str(id) : nullptr;
  if (code == nullptr) {
    job.error = "whisper.cpp failed to detect the language (code " + std::to_string(id) + ")";
    return -3;
  }
  job.language = code;
  job.language_probability = probs[id];
  return 0;
}

// ---- the worker ------------------------------------------------------------------------------------

class TranscribeWorker : public Napi::AsyncWorker {
 public:
  TranscribeWorker(Napi::Env env, std::shared_ptr<TranscribeJob> job) : Napi::AsyncWorker(env, "tingwu:transcribe"), job_(std::move(job)) {}

  void Execute() override {
    TranscribeJob &job = *job_;
    Run(job);
    job.model->JobFinished(job.aborted);
  }

  void OnOK() override { Finish(); }
  void OnError(const Napi::Error &) override { Finish(); }

 private:
  void Run(TranscribeJob &job) {
    if (job.aborted->load()) {
      job.error = "The transcription was aborted";
      job.error_code = "ABORT_ERR";
      return;
    }
    LogCapture capture;
    std::string state_error;
    whisper_state *state = job.model->AcquireState(state_error);
    if (state == nullptr && !state_error.empty()) {
      job.error = state_error;
      job.error_code = "ERR_STATE";
      return;
    }
    whisper_context *ctx = job.model->Context();
    const Request &r = job.request;

    whisper_full_params params = whisper_full_default_params(r.beam_size > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
    params.n_threads = r.threads;
    params.offset_ms = r.offset_ms;
    params.duration_ms = r.duration_ms;
    params.translate = r.translate;
    params.no_context = r.no_context;
    params.no_timestamps = r.no_timestamps;
    params.single_segment = r.single_segment;
    params.print_special = false;
    params.print_progress = false;
    params.print_realtime = false;
    params.print_timestamps = false;
    params.token_timestamps = r.token_timestamps;
    params.max_len = r.max_segment_length;
    params.split_on_word = r.split_on_word;
    params.max_tokens = r.max_tokens_per_segment;
    params.initial_prompt = nullptr;
    params.prompt_tokens = r.prompt_tokens.empty() ? nullptr : r.prompt_tokens.data();
    params.prompt_n_tokens = static_cast<int>(r.prompt_tokens.size());
    params.language = r.language.c_str();
    params.detect_language = false;
    params.suppress_blank = r.suppress_blank;
    params.suppress_nst = r.suppress_non_speech;
    params.temperature = r.temperature;
    params.temperature_inc = r.temperature_increment;
    params.entropy_thold = r.entropy_threshold;
    params.logprob_thold = r.logprob_threshold;
    params.no_speech_thold = r.no_speech_threshold;
    params.greedy.best_of = r.best_of;
    params.beam_search.beam_size = r.beam_size;
    params.abort_callback = IsAborted;
    params.abort_callback_user_data = &job;
    params.encoder_begin_callback = [](whisper_context *, whisper_state *, void *user_data) { return !IsAborted(user_data); };
    params.encoder_begin_callback_user_data = &job;
    if (job.events) {
      params.new_segment_callback = OnNewSegment;
      params.new_segment_callback_user_data = &job;
      params.progress_callback = OnProgress;
      params.progress_callback_user_data = &job;
    }

    const bool default_state = state == nullptr;
    if (default_state) whisper_reset_timings(ctx);
    const auto started = std::chrono::steady_clock::now();
    int rc = 0;
    try {
      const int n = static_cast<int>(r.samples.size());
      if (r.language == "auto") {
        rc = DetectLanguage(ctx, state, r.samples.data(), n, r.threads, job);
        params.language = job.language.c_str();
      }
      if (rc == 0) {
        rc = default_state ? whisper_full(ctx, params, r.samples.data(), n)
                           : whisper_full_with_state(ctx, state, params, r.samples.data(), n);
      }
    } catch (const std::exception &e) {
      rc = -100;
      job.error = std::string("whisper.cpp threw: ") + e.what();
    } catch (...) {
      rc = -100;
      job.error = "whisper.cpp threw an unknown exception";
    }
    job.compute_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

    if (job.aborted->load()) {
      job.error = "The transcription was aborted";
      job.error_code = "ABORT_ERR";
    } else if (rc != 0) {
      if (job.error.empty()) {
        job.error = "whisper.cpp failed to transcribe (code " + std::to_string(rc) + ")";
        std::string why = capture.LastProblems();
        if (!why.empty()) job.error += ": " + why;
      }
      job.error_code = "ERR_TRANSCRIBE";
    } else {
      ResultView view{ctx, state};
      Utf8Joiner joiner;
      Collect(view, 0, view.Segments(), r.include_tokens, joiner, job.segments);
      std::string rest = joiner.Finish();
      if (!rest.empty() && !job.segments.empty()) job.segments.back().text += rest;
      if (r.language != "auto") job.language = r.language;  // else set by DetectLanguage
      if (default_state) {
        if (whisper_timings *t = whisper_get_timings(ctx)) {
          job.timings = *t;
          job.has_timings = true;
          delete t;
        }
      }
    }
    job.model->ReleaseState(state);
  }

  void Finish() {
    if (job_->events) {
      // Settle from the thread-safe function's finalizer: it runs after every queued segment and
      // progress event has reached JavaScript, so callbacks never arrive after the promise settles.
      job_->events->Release();
    } else {
      Settle(Env(), *job_);
    }
  }

  std::shared_ptr<TranscribeJob> job_;
};

// ---- reading the request (the TypeScript layer validated and defaulted every field) ------------

int GetInt(const Napi::Object &o, const char *key) { return o.Get(key).ToNumber().Int32Value(); }
float GetFloat(const Napi::Object &o, const char *key) { return o.Get(key).ToNumber().FloatValue(); }
bool GetBool(const Napi::Object &o, const char *key) { return o.Get(key).ToBoolean().Value(); }
std::string GetString(const Napi::Object &o, const char *key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

Request ReadRequest(Napi::Env env, const Napi::Value &samples_value, const Napi::Object &o) {
  if (!samples_value.IsTypedArray() || samples_value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "transcribe(samples, params): samples must be a Float32Array");
  }
  auto samples = samples_value.As<Napi::Float32Array>();
  Request r;
  r.samples.assign(samples.Data(), samples.Data() + samples.ElementLength());
  r.threads = GetInt(o, "threads");
  r.language = GetString(o, "language");
  r.translate = GetBool(o, "translate");
  {
    Napi::Value tokens = o.Get("promptTokens");
    if (!tokens.IsTypedArray() || tokens.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw Napi::TypeError::New(env, "transcribe(samples, params): params.promptTokens must be an Int32Array");
    }
    auto ids = tokens.As<Napi::Int32Array>();
    r.prompt_tokens.assign(ids.Data(), ids.Data() + ids.ElementLength());
  }
  r.temperature = GetFloat(o, "temperature");
  r.temperature_increment = GetFloat(o, "temperatureIncrement");
  r.beam_size = GetInt(o, "beamSize");
  r.best_of = GetInt(o, "bestOf");
  r.no_timestamps = GetBool(o, "noTimestamps");
  r.token_timestamps = GetBool(o, "tokenTimestamps");
  r.include_tokens = GetBool(o, "includeTokens");
  r.max_segment_length = GetInt(o, "maxSegmentLength");
  r.split_on_word = GetBool(o, "splitOnWord");
  r.max_tokens_per_segment = GetInt(o, "maxTokensPerSegment");
  r.suppress_blank = GetBool(o, "suppressBlank");
  r.suppress_non_speech = GetBool(o, "suppressNonSpeechTokens");
  r.no_speech_threshold = GetFloat(o, "noSpeechThreshold");
  r.entropy_threshold = GetFloat(o, "entropyThreshold");
  r.logprob_threshold = GetFloat(o, "logprobThreshold");
  r.offset_ms = GetInt(o, "offsetMs");
  r.duration_ms = GetInt(o, "durationMs");
  r.no_context = GetBool(o, "noContext");
  r.single_segment = GetBool(o, "singleSegment");
  return r;
}

}  // namespace

Napi::Value StartTranscription(const Napi::CallbackInfo &info, WhisperModel *model) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "transcribe(samples, params, onEvent?): params must be an object");
  }
  auto job = std::make_shared<TranscribeJob>();
  job->request = ReadRequest(env, info[0], info[1].As<Napi::Object>());
  job->model = model;
  job->deferred.emplace(Napi::Promise::Deferred::New(env));
  Napi::Promise promise = job->deferred->Promise();

  if (info.Length() >= 3 && info[2].IsFunction()) {
    auto *finalize_data = new std::shared_ptr<TranscribeJob>(job);
    job->events.emplace(Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "tingwu:transcribe-events", 0, 1, finalize_data,
                                                      [](Napi::Env finalize_env, std::shared_ptr<TranscribeJob> *data) {
                                                        std::unique_ptr<std::shared_ptr<TranscribeJob>> owned(data);
                                                        Settle(finalize_env, **owned);
                                                      }));
  }

  model->Ref();
  model->JobStarted(job->aborted);
  auto *worker = new TranscribeWorker(env, job);
  worker->Queue();

  return JobHandle(env, promise, job->aborted);
}

}  // namespace tingwu
