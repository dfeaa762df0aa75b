#pragma once
// Helpers shared by the embedded object store's tests (object_store_test.cc,
// multipart_test.cc, store_format_test.cc; not part of the library): the store
// root inside a test's TempDir (testing/temp_dir.h), reading files back, and
// MD5s computed by independent tools.

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "destinations/object_store.h"
#include "testing/temp_dir.h"

namespace hydrant::store {

using ::hydrant::testing::TempDir;

// The store root inside a test's TempDir: <path>/store, so anything written
// beside it (in <path>) would be an escape.
inline std::string StoreRoot(const TempDir& t) { return t.Sub("store"); }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What the shell command `cmd` prints on its standard output.
inline std::string CommandOutput(const std::string& cmd) {
  FILE* f = ::popen(cmd.c_str(), "r");
  EXPECT_NE(f, nullptr) << cmd;
  std::string out;
  if (!f) return out;
  char buf[512];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
  ::pclose(f);
  return out;
}

// MD5 by an independent tool (coreutils md5sum), quoted as S3 does.
inline std::string Md5sumEtag(const std::string& data, const std::string& dir) {
  std::string path = dir + "/md5-input";
  {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }
  std::string sum = CommandOutput("md5sum '" + path + "'").substr(0, 32);
  std::filesystem::remove(path);
  return "\"" + sum + "\"";
}

inline std::vector<std::string> AllFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    out.push_back(e.path().string());
  return out;
}

inline std::unique_ptr<ObjectStore> OpenOrDie(const std::string& root) {
  auto s = ObjectStore::Open(root);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

}  // namespace hydrant::store
