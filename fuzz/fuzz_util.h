#pragma once
// Small helpers shared by the libFuzzer targets of fuzz/ (never linked into
// hydrant): a scratch folder that lives as long as the fuzzing process, and a
// splitter that cuts one input into several parts, so a target that needs more
// than one byte string (a file and a request, two files...) still reads a
// single input the fuzzer can mutate and minimize.
//
// Contract of every target: it must not crash, leak, trip a sanitizer or hang on
// any input; a violated invariant of the code under test calls FUZZ_CHECK, which
// aborts with the message so libFuzzer saves the input as a reproducer.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <utility>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

// Aborts (a crash libFuzzer reports with the input) when `cond` is false.
#define FUZZ_CHECK(cond, msg)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s: %s\n", #cond,               \
                   std::string(msg).c_str());                                  \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace hydrant::fuzz {

// A folder under TMPDIR (or /tmp), made once per process and removed at exit.
// Fill() empties it first, so every input starts from the same state.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hydrant-fuzz-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

  // Removes everything inside the folder.
  void Clear() const {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path_, ec)) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }

  // Writes `bytes` to Sub(name), making parent folders.
  void Write(std::string_view name, std::string_view bytes) const {
    std::string file = Sub(name);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

 private:
  std::string path_;
};

// The separator between the parts of an input (in the seeds and dictionaries too).
inline constexpr std::string_view kPartSeparator = "\n====\n";

// Splits `data` at each kPartSeparator; always returns at least `min_parts`
// parts (missing ones are empty).
inline std::vector<std::string_view> SplitParts(std::string_view data, size_t min_parts) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t at = data.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(data.substr(0, at));
    data.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(data);
  while (parts.size() < min_parts) parts.emplace_back();
  return parts;
}

// An HTTP token (a header name or method a client could send).
inline bool IsHttpToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A header value a client could send (no line breaks, no NUL).
inline bool IsHttpFieldValue(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\r' || c == '\n' || c == 0) return false;
  }
  return true;
}

// "Name: value" lines (those without a colon skipped) appended to *headers;
// true when every one could come from a client as is.
inline bool ParseHeaderLines(std::string_view lines,
                             std::vector<std::pair<std::string, std::string>>* headers) {
  bool wire = true;
  while (!lines.empty()) {
    size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    wire = wire && IsHttpToken(name) && IsHttpFieldValue(value);
    headers->emplace_back(std::string(name), std::string(value));
  }
  return wire;
}

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace hydrant::fuzz

// libFuzzer's start-up hook, for every target (each is one translation unit):
// hydrant's log lines are turned off, as they are not what a target checks and
// writing them would slow every run.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}
