#pragma once
// HttpServer: the HTTP/1.1 listener (Boost.Beast, kept out of this header).
// Parses requests, answers "Expect: 100-continue", hands each request to one
// Handler and writes whatever it answers, possibly later from another thread.
// Keep-alive; bodies up to Options::body_limit bytes (413 past it).

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http_types.h"

namespace hydrant::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4573;  // 0 = any free port (see HttpServer::port())
  int threads = 2;
  uint64_t body_limit = 160ull << 20;
};

class HttpServer {
 public:
  // Binds and starts serving on background threads.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& opts,
                                                   http::Handler handler);
  ~HttpServer();  // stops accepting, closes connections, joins threads

  uint16_t port() const;
  void Stop();

 private:
  HttpServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydrant::server
