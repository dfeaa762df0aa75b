#pragma once
// TempDir: a fresh directory under TMPDIR (or /tmp) for one test, removed with
// everything in it when the object goes. Part of the test-support library
// (src/testing/), which only tests include. A directory that cannot be made
// fails the running test; path() is then empty.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace hydrant::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hydrant-test-XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    if (p) {
      path_ = p;
    } else {
      ADD_FAILURE() << "mkdtemp(" << tmpl << ") failed";
    }
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

  // Writes `bytes` to Sub(name), replacing what was there and making missing
  // parent folders; returns that path.
  std::string Write(const std::string& name, std::string_view bytes) const {
    const std::string file = Sub(name);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
  }

  // The contents of Sub(name); empty if it cannot be read.
  std::string Read(const std::string& name) const {
    std::ifstream in(Sub(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path_;
};

}  // namespace hydrant::testing
