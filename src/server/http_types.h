#pragma once
// Plain HTTP request/response values passed between the Beast listener
// (server/http_server.cc, the only Beast user) and the protocol handlers
// (Firehose JSON API, S3 REST). No Boost here: handlers are testable without a socket.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace hydrant::iam {
struct Principal;
}
namespace hydrant::auth {
struct PayloadCheck;
}

namespace hydrant::http {

// The body of a request that the listener hands over while it still arrives
// (S3 object uploads): the handler pulls it in pieces, so memory does not grow
// with the body. Read blocks the calling thread (a worker, never an I/O
// thread) until bytes arrive. Thread-safe for one reader.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Up to `n` bytes into dst; 0 at the end of the body. IoError when the
  // connection broke, timed out or was cut (the body is then incomplete).
  virtual Result<size_t> Read(char* dst, size_t n) = 0;
  // The declared length (Content-Length).
  virtual uint64_t length() const = 0;
};

struct Request {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // raw request target: path plus "?query", still percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;
  // The hex SHA-256 of `body`, when the listener hashed it while it arrived (a
  // SigV4-signed request whose body has a Content-Length); empty otherwise.
  std::string body_sha256;
  // Set instead of `body` when the request's BodyPolicy asked for streaming.
  std::shared_ptr<BodyReader> body_reader;
  // Set by the listener: the peer's address (aws:SourceIp) and whether the
  // connection is TLS (aws:SecureTransport).
  std::string remote_address;
  bool secure = false;
  // Who sent it, once authenticated (null before, and in tests that skip it).
  std::shared_ptr<const iam::Principal> principal;
  // What authentication could not check before the body arrived (a streamed
  // body's SHA-256, aws-chunked chunk signatures): the body's reader checks it
  // (server/s3_payload.cc). Null when nothing is left to check.
  std::shared_ptr<const auth::PayloadCheck> payload_check;

  // Case-insensitive header lookup; empty view when absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // Path part of target (before '?'), still percent-encoded.
  std::string_view Path() const;
  // Query part of target (after '?'), without the '?'.
  std::string_view Query() const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When open, the body is this file's bytes [file_offset, file_offset + file_length)
  // instead of `body` (GetObject streams objects without loading them; the file was
  // opened with the object's description, so an overwrite meanwhile cannot mix them).
  UniqueFd file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // HEAD responses carry Content-Length of the object but no body.
  std::optional<uint64_t> content_length_override;

  void SetHeader(std::string name, std::string value);
};

// Handlers answer through a callback, possibly later and from another thread
// (a put is answered once its records are on disk). The callback must be called
// exactly once.
using Respond = std::function<void(Response&&)>;
using Handler = std::function<void(Request&&, Respond)>;

// How the listener takes a request's body, decided from its head (method,
// target, headers; the body is still unread) by the Classifier. Every API has
// its own limit; a body over it is answered with too_large(head, limit) and the
// connection closed, before any of the body is read.
struct BodyPolicy {
  uint64_t limit = 1 << 20;
  // Hand the body over as a BodyReader (Request::body_reader) instead of
  // reading it whole into memory. Only for bodies with a Content-Length.
  bool stream = false;
  // The protocol's answer to a body over the limit (null: a plain 413).
  Response (*too_large)(const Request& head, uint64_t limit) = nullptr;
};
using Classifier = std::function<BodyPolicy(const Request& head)>;

// A JSON answer (Content-Type application/json) of hydrant's own endpoints and
// the Lambda REST API.
Response JsonReply(int status, std::string body);

// Percent-decodes s ('+' is kept as is). Returns nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);
// Percent-encodes everything except unreserved characters (and '/' if keep_slash).
using ::hydrant::PercentEncode;  // common/strings.h
// Parses "a=1&b=&c" into decoded pairs, in order. Malformed escapes are kept raw.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace hydrant::http
