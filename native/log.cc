#include "log.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "ggml.h"
#include "whisper.h"

namespace tingwu {
namespace {

thread_local LogCapture *tl_capture = nullptr;
// Opt-in debugging aid: TINGWU_WHISPER_DEBUG=1 forwards whisper.cpp logs to stderr.
bool g_forward = false;
// ggml sends continuation fragments (GGML_LOG_LEVEL_CONT) that belong to the previous level.
thread_local int tl_last_level = GGML_LOG_LEVEL_INFO;

constexpr size_t kMaxCapture = 64 * 1024;

void OnLog(enum ggml_log_level level, const char *text, void * /*user_data*/) {
  if (text == nullptr) return;
  int effective = level == GGML_LOG_LEVEL_CONT ? tl_last_level : level;
  tl_last_level = effective;
  if (tl_capture != nullptr) tl_capture->Append(effective, text);
  if (g_forward) std::fputs(text, stderr);
}

}  // namespace

void InstallLogHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char *debug = std::getenv("TINGWU_WHISPER_DEBUG");
    g_forward = debug != nullptr && debug[0] != '\0' && debug[0] != '0';
    whisper_log_set(OnLog, nullptr);
    ggml_log_set(OnLog, nullptr);
  });
}

LogCapture::LogCapture() : previous_(tl_capture) { tl_capture = this; }

LogCapture::~LogCapture() { tl_capture = previous_; }

void LogCapture::Append(int level, const char *text) {
  if ((level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) && problems_.size() < kMaxCapture) {
    problems_ += text;
  }
}

std::string LogCapture::LastProblems(size_t max_lines) const {
  std::vector<std::string> lines;
  std::string line;
  for (char c : problems_) {
    if (c == '\n') {
      if (!line.empty()) lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  std::string out;
  size_t start = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (size_t i = start; i < lines.size(); ++i) {
    if (!out.empty()) out += "; ";
    out += lines[i];
  }
  return out;
}

}  // namespace tingwu
