#pragma once
// HttpClient: one synchronous HTTP exchange at a time per call, for hydrant's
// outgoing calls (Lambda Invoke, remote S3). An interface so callers can be
// tested with a fake; CurlHttpClient is the real one.
//
// Contract of Send():
//   - an HTTP response of any status (including 4xx/5xx) is a successful Result;
//   - a transport failure is a Status:
//       timeout (connect or whole exchange)      → kUnavailable, IsTimeout() true
//       refused / DNS / reset / TLS failure      → kUnavailable
//       response body larger than the cap        → kResourceExhausted
//       bad URL or request                       → kInvalidArgument
//   - no redirects are followed; no Expect: 100-continue is sent.
// Thread-safety: Send may be called from many threads at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace hydrant::aws {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: http(s)://host[:port]/path?query, already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Fail with kResourceExhausted once the response body exceeds this many bytes;
  // 0 = the client's default.
  size_t max_response_bytes = 0;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;
  // Case-insensitive lookup; nullptr when absent (the first one when repeated).
  const std::string* Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& req, std::chrono::milliseconds timeout) = 0;
};

// The Status a client returns for a timeout, and the test for it.
Status HttpTimeoutError(std::string_view detail);
bool IsTimeout(const Status& s);

struct CurlHttpClientOptions {
  std::chrono::milliseconds connect_timeout{10000};  // capped by each call's timeout
  size_t max_response_bytes = 64u << 20;             // default cap when the request sets none
  size_t max_idle_handles = 16;  // easy handles (and their open connections) kept for reuse
  bool verify_tls = true;
  std::string ca_file;  // "" = the system's bundle
  std::string user_agent = "hydrant";
};

// libcurl implementation. Each call borrows an easy handle from a small pool, so
// keep-alive connections are reused across calls (per handle) while calls on
// different threads never share a handle.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions opts = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& req, std::chrono::milliseconds timeout) override;

 private:
  void* Acquire();  // CURL*
  void Release(void* h);

  CurlHttpClientOptions opts_;
  std::mutex mu_;
  std::vector<void*> idle_;
};

// Splits an absolute URL into its parts (no user-info support). The path keeps its
// percent-encoding and is "/" when empty. False when not http(s)://host...
struct UrlParts {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;        // explicit port, or 0
  std::string path;    // "/..." as in the URL
  std::string query;   // after '?', without it
  // The Host header value: host, plus ":port" when a port was given.
  std::string HostHeader() const;
};
bool ParseUrl(std::string_view url, UrlParts* out);

}  // namespace hydrant::aws
