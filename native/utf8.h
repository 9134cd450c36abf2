// UTF-8 helpers: whisper tokens are byte sequences, and real models split one CJK character
// across tokens (and sometimes across segments). Text handed to JavaScript must never contain
// half a character.
#pragma once

#include <string>

namespace tingwu {

// Length of the longest prefix of `s` that does not end inside an incomplete (but so far valid)
// UTF-8 sequence. Invalid bytes are left in place: they are not going to be completed later.
size_t Utf8CompleteLength(const std::string &s);

// Joins a stream of byte chunks into UTF-8 text, holding back a trailing partial character
// until the chunk that completes it arrives.
class Utf8Joiner {
 public:
  std::string Push(const std::string &bytes);
  // Whatever is still held back (an unterminated sequence at the very end of the stream).
  std::string Finish();

 private:
  std::string carry_;
};

}  // namespace tingwu
