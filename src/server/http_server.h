#pragma once
// HttpServer: the HTTP/1.1 listener (Boost.Beast, kept out of this header).
// Parses requests, answers "Expect: 100-continue", hands each request to one
// Handler and writes whatever it answers, possibly later from another thread.
// Keep-alive.
//
// Bounded resources, whatever clients send:
// - A request's body is taken as its BodyPolicy says (Options::classify, decided
//   from the head): a body over the policy's limit is answered with the
//   protocol's error before any of it is read; a streamed body is handed over as
//   a BodyReader and never held whole; any other body is read into memory that
//   grows with the bytes that actually arrive (never with the declared length).
// - Partial bodies of all connections together hold at most
//   Options::partial_body_budget bytes; past it the oldest are cut (BodyBudget).
// - Timeouts: a keep-alive connection waits idle_timeout for a request, whose
//   headers must then arrive within header_timeout; a body may pause at most
//   body_timeout between reads.
// - Malformed requests are answered 400 and headers over 64 KiB 431, then the
//   connection is closed.
// - When accept() fails (out of file descriptors), it is retried with an
//   exponential backoff (5 ms to 1 s) and logged at most once a second with a
//   count; existing connections are served meanwhile.

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
  // Decides each request's BodyPolicy. Null: every body in memory, up to
  // default_body_limit, too large answered with a plain 413.
  http::Classifier classify;
  uint64_t default_body_limit = 160ull << 20;
  // The memory all partial (still arriving) in-memory bodies may hold together.
  uint64_t partial_body_budget = 256ull << 20;
  int idle_timeout_seconds = 300;
  int header_timeout_seconds = 30;
  int body_timeout_seconds = 30;
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
