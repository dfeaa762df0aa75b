#pragma once
// TempDir: a fresh directory under TMPDIR (or /tmp) for one test, removed with
// everything in it when the object goes. Part of the test-support library
// (src/testing/), which only tests include.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hydrant::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hydrant-test-XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    if (p) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace hydrant::testing
