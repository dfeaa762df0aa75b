#pragma once
// Shared by the S3 API's tests (not part of the library): the S3ApiTest fixture,
// which runs S3Api over an ObjectStore in a fresh directory and calls it the way
// the listener does, and small readers of the replies (tag values, headers, the
// body a client would receive).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <strings.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "destinations/object_store.h"
#include "server/s3_api.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

// Not in an unnamed namespace: every test of the S3ApiTest suite, in whichever
// file, must use the one fixture class.
namespace hydrant::server {

// Every value of <tag>...</tag> in `xml`, in order (the replies are flat enough).
inline std::vector<std::string> TagValues(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    size_t end = xml.find(close, pos);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(pos + open.size(), end - pos - open.size()));
    pos = end;
  }
  return out;
}

inline std::string Tag1(const std::string& xml, const std::string& tag) {
  auto v = TagValues(xml, tag);
  return v.empty() ? "<absent>" : v[0];
}

inline std::string HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && strncasecmp(k.c_str(), name.data(), k.size()) == 0) return v;
  }
  return "<absent>";
}

// What a client would receive as the body: the file slice for GetObject.
inline std::string BodyOf(const http::Response& r) {
  if (!r.file) return r.body;
  std::string out(r.file_length, '\0');
  ssize_t n = ::pread(r.file.get(), out.data(), out.size(), static_cast<off_t>(r.file_offset));
  if (n != static_cast<ssize_t>(out.size())) return "<short read>";
  return out;
}

class S3ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::ObjectStore::Open(dir_.Sub("s3"), &env_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    api_ = std::make_unique<S3Api>(store_.get(), "us-east-1");
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }

  http::Response Call(std::string method, std::string target,
                      std::vector<std::pair<std::string, std::string>> headers = {},
                      std::string body = "",
                      std::shared_ptr<http::BodyReader> body_reader = nullptr) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers = std::move(headers);
    req.body = std::move(body);
    req.body_reader = std::move(body_reader);
    req.principal = principal_;
    http::Response resp;
    api_->Handle(req, &resp);
    return resp;
  }

  // Asserts an S3 error reply with this status and code.
  void ExpectError(const http::Response& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_THAT(r.body, ::testing::HasSubstr("<?xml"));
    EXPECT_EQ(Tag1(r.body, "Code"), code) << r.body;
    EXPECT_FALSE(Tag1(r.body, "Message").empty());
    EXPECT_EQ(Tag1(r.body, "RequestId"), HeaderOf(r, "x-amz-request-id"));
    EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/xml");
    EXPECT_FALSE(r.file);
  }

  void MakeBucket(const std::string& b) { ASSERT_EQ(Call("PUT", "/" + b).status, 200); }
  void Put(const std::string& b, const std::string& target_key, const std::string& body,
           std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto r = Call("PUT", "/" + b + "/" + target_key, std::move(headers), body);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  FaultEnv env_;  // passes every call through unless a test sets a fault
  ::hydrant::testing::TempDir dir_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<S3Api> api_;
  // Who sends the requests of Call (null: nobody authenticated, as in open mode).
  std::shared_ptr<const iam::Principal> principal_;
};

}  // namespace hydrant::server
