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
//
// TLS (Options::tls): the main listener serves HTTPS (TLS 1.2 and 1.3 only, ALPN
// http/1.1) through the same connection code as plain HTTP; every limit above
// applies, and the handshake must finish within header_timeout. A failed
// handshake closes that connection, logged at most once a second with a count.
// ReloadTls() reads the certificate and key again (SIGHUP): new connections get
// the new ones, open connections keep theirs; files that do not load are
// refused and the current ones stay. A second, plain-HTTP listener
// (Options::plain_host) may serve beside it, sharing threads, limits and budget.
// Every request carries the peer's address (Request::remote_address) and
// whether it came over TLS (Request::secure).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "server/http_types.h"

namespace hydrant::server {

// PEM files of a TLS listener: the certificate (followed by any intermediate
// certificates of its chain) and its private key.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// Checks that the files load as a TLS server context (as Start and ReloadTls
// would load them); InvalidArgument naming the file and OpenSSL's reason.
Status CheckTlsFiles(const TlsFiles& files);

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4573;  // 0 = any free port (see HttpServer::port())
  // Set: host:port serves HTTPS with these files.
  std::optional<TlsFiles> tls;
  // Non-empty: a second listener, plain HTTP, on plain_host:plain_port.
  std::string plain_host;
  uint16_t plain_port = 0;
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
  // Hash a SigV4-signed request's body (SHA-256, Request::body_sha256) while it
  // arrives, when the body has a Content-Length and is read into memory: its
  // bytes are hashed hot in the cache, and between reads rather than after the
  // last one. Set when requests are verified ([auth] mode "sigv4").
  bool hash_signed_bodies = false;
};

class HttpServer {
 public:
  // Binds and starts serving on background threads.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& opts,
                                                   http::Handler handler);
  ~HttpServer();  // stops accepting, closes connections, joins threads

  uint16_t port() const;
  // The plain listener's port; 0 without one.
  uint16_t plain_port() const;
  // Loads Options::tls's files again for new connections. On error the
  // current certificate stays and the error says why. Thread-safe.
  Status ReloadTls();
  void Stop();

 private:
  HttpServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydrant::server
