#include "server/http_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "common/digest.h"
#include "common/log_fields.h"
#include "server/body_budget.h"
#include "server/tls_stream.h"

namespace hydrant::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// The two kinds of connection share one Session template: plain HTTP reads and
// writes the TCP stream itself (no extra layer, no extra copy); HTTPS goes
// through OpenSSL reading the socket itself (server/tls_stream.h: large reads,
// one copy; a response's small buffers coalesced into one TLS record).
using PlainStream = beast::tcp_stream;

// Logs a kind of failure at most once per interval, with the count since the
// last line. Thread-safe.
class RateLimitedLog {
 public:
  // The number of failures to report now (this one included); 0 = stay quiet.
  uint64_t Count() {
    std::lock_guard lk(mu_);
    ++unlogged_;
    auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < kEvery) return 0;
    logged_once_ = true;
    last_ = now;
    return std::exchange(unlogged_, 0);
  }

 private:
  static constexpr std::chrono::seconds kEvery{1};
  std::mutex mu_;
  uint64_t unlogged_ = 0;
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point last_;
};

// What every connection shares: the handler, the limits and the body budget.
struct Shared {
  http::Handler handler;
  http::Classifier classify;
  uint64_t default_body_limit = 0;
  bool hash_signed_bodies = false;
  std::chrono::seconds idle_timeout{300}, header_timeout{30}, body_timeout{30};
  std::unique_ptr<BodyBudget> budget;
  // Set at Stop: a worker waiting in BodyReader::Read gives up.
  std::atomic<bool> stopped{false};
  RateLimitedLog handshake_failures;

  void HandshakeFailed(const std::string& peer, beast::error_code ec) {
    if (uint64_t n = handshake_failures.Count()) {
      spdlog::warn("event=tls_handshake_failed peer={} error={} failures={}", peer,
                   LogQuote(ec.message()), n);
    }
  }
};

// The peer's IP as text ("203.0.113.7", "2001:db8::1"); an IPv4 peer on an
// IPv6 socket is shown as IPv4, as AWS shows aws:SourceIp.
std::string PeerAddress(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "";
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  }
  return addr.to_string();
}

// TLS 1.3 suites, all of them, AES-128-GCM first (OpenSSL's default order
// puts AES-256 first, which costs a third more CPU per byte for no practical
// gain; Mozilla's recommendation also leads with AES-128).
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
// TLS 1.2 suites: forward secret AEAD only (Mozilla's "intermediate" list
// without DHE).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// ALPN: HTTP/1.1 is all this server speaks; a client offering only others
// (h2) gets no ALPN answer and may go on or give up.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// What one socket read of a TLS connection may take.
constexpr size_t kTlsReadBuffer = 64 * 1024;

Result<std::shared_ptr<ssl::context>> LoadTlsContext(const TlsFiles& files) {
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(h, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(h, kTls13Suites) != 1) {
    return Status::Internal("cannot set up TLS: " + OpenSslErrors());
  }
  SSL_CTX_set_options(h, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE);
  // OpenSSL reads the socket (server/tls_stream.h): with read-ahead, one recv
  // takes up to kTlsReadBuffer bytes (several records). The buffers are given
  // back while a connection has nothing pending, so idle connections hold none.
  SSL_CTX_set_read_ahead(h, 1);
  SSL_CTX_set_default_read_buffer_len(h, kTlsReadBuffer);
  SSL_CTX_set_mode(h, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(h, files.cert_file.c_str()) != 1) {
    return Status::InvalidArgument("cannot load the TLS certificate " + files.cert_file + ": " +
                                   OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(h, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 &&
      ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
    return Status::InvalidArgument("cannot load the TLS key " + files.key_file + ": " +
                                   OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(h) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the TLS key " + files.key_file +
                                   " does not match the certificate " + files.cert_file);
  }
  SSL_CTX_set_alpn_select_cb(h, SelectAlpn, nullptr);
  return ctx;
}

// The most header bytes a request may have (431 past it).
constexpr uint32_t kHeaderLimit = 64 * 1024;
// An in-memory body of known length starts with this much room (or its length,
// if smaller) and doubles as bytes fill it: memory follows what arrives.
constexpr size_t kFirstBodyWindow = 256 * 1024;

class StreamedBody;

// What a streamed body needs of its connection, whatever the stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // From any thread: reads up to n bytes of the body into dst on the
  // connection's strand, then calls reader->Done.
  virtual void ReadStreamedAsync(std::shared_ptr<StreamedBody> reader, char* dst, size_t n) = 0;
  virtual void StreamedBodyComplete() = 0;
  virtual const Shared& shared() const = 0;
};

// Hands a streamed body to the handler's thread: each Read posts one socket
// read onto the connection's strand and waits for it.
class StreamedBody final : public http::BodyReader,
                           public std::enable_shared_from_this<StreamedBody> {
 public:
  StreamedBody(std::shared_ptr<SessionBase> session, uint64_t length)
      : session_(std::move(session)), length_(length), remaining_(length) {}
  Result<size_t> Read(char* dst, size_t n) override;
  uint64_t length() const override { return length_; }
  // From the strand: a read finished.
  void Done(beast::error_code ec, size_t got);

 private:
  std::shared_ptr<SessionBase> session_;
  const uint64_t length_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t remaining_;
  bool pending_ = false;
  size_t got_ = 0;
  std::string error_;
};

// One connection: (TLS handshake,) read a request, hand it to the handler, write
// the answer, repeat.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
    requires(!kTls)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}
  // The connection keeps its context: a reload meanwhile does not change it.
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, std::shared_ptr<ssl::context> ctx)
    requires(kTls)
      : tls_context_(std::move(ctx)),
        stream_(std::move(socket), tls_context_->native_handle()),
        shared_(std::move(shared)) {}
  ~Session() { ReleaseBudget(); }

  void Start() {
    buffer_.reserve(kReadBufferBytes);
    remote_ = PeerAddress(Tcp().socket());
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadHeader();
      }
    });
  }

  void ReadStreamedAsync(std::shared_ptr<StreamedBody> reader, char* dst, size_t n) override {
    asio::dispatch(stream_.get_executor(),
                   [self = this->shared_from_this(), reader = std::move(reader), dst, n] {
                     self->ReadStreamed(reader, dst, n);
                   });
  }

  // On the strand: reads up to n bytes of a streamed body into dst (bytes
  // already buffered with the headers first).
  void ReadStreamed(const std::shared_ptr<StreamedBody>& reader, char* dst, size_t n) {
    if (buffer_.size() > 0) {
      size_t have = std::min(buffer_.size(), n);
      asio::buffer_copy(asio::buffer(dst, have), buffer_.data());
      buffer_.consume(have);
      return reader->Done({}, have);
    }
    Tcp().expires_after(shared_->body_timeout);
    stream_.async_read_some(asio::buffer(dst, n),
                            [reader](beast::error_code ec, size_t got) { reader->Done(ec, got); });
  }
  const Shared& shared() const override { return *shared_; }
  void StreamedBodyComplete() override { body_complete_ = true; }

 private:
  beast::tcp_stream& Tcp() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // The handshake must finish within the header timeout; a failure closes
  // this connection only.
  void Handshake() {
    Tcp().expires_after(shared_->header_timeout);
    stream_.async_handshake([self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                self->shared_->HandshakeFailed(self->remote_, ec);
                                return self->Close(ec);
                              }
                              self->handshake_done_ = true;
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    is_head_ = false;
    streamed_ = false;
    body_complete_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(boost::none);  // each API's limit is applied once the head is known
    if (buffer_.size() > 0) return ReadRestOfHeader();
    // An idle keep-alive connection: wait for the next request's first bytes.
    Tcp().expires_after(shared_->idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadBufferBytes),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close(ec);
                              self->buffer_.commit(n);
                              self->ReadRestOfHeader();
                            });
  }

  // From a request's first byte, all of its headers must arrive within header_timeout.
  void ReadRestOfHeader() {
    Tcp().expires_after(shared_->header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return RejectMalformed(431, "request headers too large: the limit is " +
                                      std::to_string(kHeaderLimit) + " bytes");
    }
    if (IsParseError(ec)) return RejectMalformed(400, "malformed HTTP request: " + ec.message());
    if (ec) return Close(ec);
    auto& msg = parser_->get();
    head_ = http::Request();
    head_.method = std::string(msg.method_string());
    head_.target = std::string(msg.target());
    head_.remote_address = remote_;
    head_.secure = kTls;
    head_.headers.reserve(16);
    for (const auto& f : msg) {
      head_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    keep_alive_ = msg.keep_alive();
    is_head_ = msg.method() == bhttp::verb::head;
    if (shared_->classify) {
      policy_ = shared_->classify(head_);
    } else {
      policy_ = http::BodyPolicy{shared_->default_body_limit, false, nullptr};
    }
    const auto length = parser_->content_length();
    if (length && *length > policy_.limit) return RejectTooLarge();
    if (beast::iequals(msg[bhttp::field::expect], "100-continue")) {
      // Beast does not answer Expect by itself; curl and some SDKs wait for it.
      auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      asio::async_write(stream_, asio::buffer(*cont),
                        [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Close(ec);
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // Errors of the request's syntax, as opposed to the connection's (closed,
  // reset, timed out), which get no answer.
  static bool IsParseError(beast::error_code ec) {
    if (!ec || ec.category() != bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return false;
    }
    return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
           ec != bhttp::error::short_read && ec != bhttp::error::need_more;
  }

  void ReadBody() {
    auto& p = *parser_;
    const auto length = p.content_length();
    if (!p.chunked() && length && *length > 0) {
      if (policy_.stream) return StartStreamedBody(*length);
      return StartFixedBody(*length);
    }
    if (p.is_done()) return Dispatch();  // no body
    p.body_limit(policy_.limit);
    OpenBudget();
    ReadChunkedBody();
  }

  // A body of known length is read straight into its string: no copy out of the
  // parser's buffer, and reads as large as the socket gives. (Beast's parser reads
  // a body into the flat buffer in pieces of its free capacity, 512 bytes at
  // first: a 70 KB PutRecordBatch took ~140 recvmsg calls; BENCHMARKS.md.) The
  // string keeps room for the JSON parser's padding, so the put path does not
  // copy the body again to pad it. Its room grows with the bytes received.
  void StartFixedBody(uint64_t length) {
    body_length_ = length;
    OpenBudget();
    size_t have = std::min<size_t>(buffer_.size(), length);
    if (!ResizeBody(std::min<uint64_t>(length, std::max(kFirstBodyWindow, have)))) return;
    asio::buffer_copy(asio::buffer(body_.data(), have), buffer_.data());
    buffer_.consume(have);
    body_filled_ = have;
    body_hash_.reset();
    if (shared_->hash_signed_bodies && head_.Header("Authorization").starts_with("AWS4-HMAC-SHA256")) {
      body_hash_ = std::make_unique<Sha256Stream>();
      body_hash_->Update(std::string_view(body_.data(), have));
    }
    ContinueFixedBody();
  }

  void ContinueFixedBody() {
    if (body_filled_ == body_length_) {
      ReleaseBudget();
      return Dispatch();
    }
    if (body_filled_ == body_.size() &&
        !ResizeBody(std::min<uint64_t>(body_length_, 2 * body_.size()))) {
      return;
    }
    Tcp().expires_after(shared_->body_timeout);
    stream_.async_read_some(asio::buffer(body_.data() + body_filled_, body_.size() - body_filled_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close(ec);
                              if (self->body_hash_) {
                                self->body_hash_->Update(
                                    std::string_view(self->body_.data() + self->body_filled_, n));
                              }
                              self->body_filled_ += n;
                              self->ContinueFixedBody();
                            });
  }

  // Grows the body's string to `size` bytes (plus the padding) once the budget
  // grants the room; false after closing the connection when it does not.
  bool ResizeBody(size_t size) {
    const size_t room = size + kBodyPadding;
    if (room > budget_charged_) {
      if (!shared_->budget->Grow(budget_id_, room - budget_charged_)) {
        budget_id_ = 0;
        CutForBudget();
        return false;
      }
      budget_charged_ = room;
    }
    body_.reserve(room);
    body_.resize(size);
    return true;
  }

  // A body without Content-Length (chunked): Beast's parser reads it, within the
  // policy's limit, and the budget is charged as it grows.
  void ReadChunkedBody() {
    Tcp().expires_after(shared_->body_timeout);
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](beast::error_code ec, size_t) {
                             self->OnChunkedBody(ec);
                           });
  }

  void OnChunkedBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return RejectTooLarge();
    if (IsParseError(ec)) return RejectMalformed(400, "malformed HTTP body: " + ec.message());
    if (ec) return Close(ec);
    const size_t held = parser_->get().body().capacity() + buffer_.capacity();
    if (held > budget_charged_) {
      if (!shared_->budget->Grow(budget_id_, held - budget_charged_)) {
        budget_id_ = 0;
        return CutForBudget();
      }
      budget_charged_ = held;
    }
    if (!parser_->is_done()) return ReadChunkedBody();
    ReleaseBudget();
    body_ = std::move(parser_->get().body());
    Dispatch();
  }

  void OpenBudget() {
    ReleaseBudget();
    std::weak_ptr<Session> weak = this->weak_from_this();
    const uint64_t gen = ++budget_gen_;
    budget_id_ = shared_->budget->Open([weak, gen] {
      if (auto self = weak.lock()) {
        asio::dispatch(self->stream_.get_executor(), [self, gen] {
          if (self->budget_gen_ != gen || self->budget_id_ == 0) return;  // read whole meanwhile
          self->budget_id_ = 0;
          self->CutForBudget();
        });
      }
    });
    budget_charged_ = 0;
  }

  void ReleaseBudget() {
    ++budget_gen_;
    if (budget_id_ != 0) shared_->budget->Close(budget_id_);
    budget_id_ = 0;
    budget_charged_ = 0;
  }

  // The budget of partial bodies is spent and this one is among the oldest: drop it.
  void CutForBudget() {
    if (closed_) return;
    spdlog::warn("event=request_cut reason=partial_body_budget budget_bytes={} received_bytes={}",
                 shared_->budget->cap(), body_filled_);
    body_ = std::string();
    Close(asio::error::connection_aborted);  // a read may be pending: no TLS goodbye
  }

  // A streamed body goes to the handler as it arrives; the connection reads
  // nothing else until the answer is written.
  void StartStreamedBody(uint64_t length) {
    streamed_ = true;
    head_.body_reader = std::make_shared<StreamedBody>(this->shared_from_this(), length);
    Dispatch();
  }

  // Answers a body over its API's limit with the protocol's error, then closes
  // (so that a client does not send the body on this connection).
  void RejectTooLarge() {
    http::Response r;
    if (policy_.too_large) {
      r = policy_.too_large(head_, policy_.limit);
    } else {
      r.status = 413;
      r.SetHeader("Content-Type", "text/plain");
      r.body = "request body too large: the limit is " + std::to_string(policy_.limit) + " bytes\n";
    }
    keep_alive_ = false;
    unread_body_ = true;
    Write(std::move(r));
  }

  void RejectMalformed(int status, std::string message) {
    http::Response r;
    r.status = status;
    r.SetHeader("Content-Type", "text/plain");
    r.body = std::move(message) + "\n";
    keep_alive_ = false;
    unread_body_ = true;  // the rest of what was sent, if any: read before closing
    is_head_ = false;
    Write(std::move(r));
  }

  void Dispatch() {
    Tcp().expires_never();
    http::Request req = std::move(head_);
    head_ = http::Request();
    req.body = std::move(body_);
    body_ = std::string();
    body_filled_ = 0;
    if (body_hash_) {
      req.body_sha256 = body_hash_->FinishHex();
      body_hash_.reset();
    }
    auto self = this->shared_from_this();
    (*handler())(std::move(req), [self](http::Response&& resp) {
      // May run on any thread: hop back onto this connection's strand.
      asio::dispatch(self->stream_.get_executor(),
                     [self, r = std::move(resp)]() mutable { self->Write(std::move(r)); });
    });
  }
  const http::Handler* handler() const { return &shared_->handler; }
  template <class Msg>
  void Fill(Msg& msg, http::Response& r) {
    msg.result(static_cast<unsigned>(r.status));
    msg.version(11);
    msg.keep_alive(keep_alive_);
    for (auto& [k, v] : r.headers) msg.set(k, v);
    if (!msg.has_content_length()) {
      msg.set(bhttp::field::server, "hydrant");
    }
  }

  void Write(http::Response&& r) {
    // A streamed body the handler answered before reading it to its end: the
    // rest is still on the wire, so this connection cannot carry another request.
    if (streamed_ && !body_complete_) {
      keep_alive_ = false;
      unread_body_ = true;
    }
    if (r.file) {
      Slice slice = is_head_ ? Slice::kLoaded : LoadFileSlice(&r);
      if (slice == Slice::kReadFailed) return WriteReadError();
      if (slice == Slice::kWholeFile) {
        // Whole object: stream it from the file without loading it.
        auto msg = std::make_shared<bhttp::response<bhttp::file_body>>();
        Fill(*msg, r);
        beast::error_code ec;
        beast::file f;
        f.native_handle(r.file.Release());
        msg->body().reset(std::move(f), ec);
        if (ec) return WriteReadError();
        msg->prepare_payload();
        auto self = this->shared_from_this();
        bhttp::async_write(stream_, *msg, [self, msg](beast::error_code ec, size_t) {
          self->AfterWrite(ec);
        });
        return;
      }
      if (is_head_) r.content_length_override = r.file_length;
      r.file.Reset();
    }
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
    Fill(*msg, r);
    msg->body() = std::move(r.body);
    if (r.content_length_override) {
      msg->content_length(*r.content_length_override);
      msg->body().clear();
      auto self = this->shared_from_this();
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*msg);
      bhttp::async_write_header(stream_, *sr, [self, msg, sr](beast::error_code ec, size_t) {
        self->AfterWrite(ec);
      });
      return;
    }
    msg->prepare_payload();
    if (is_head_) {
      // A HEAD answer keeps the headers a GET would have, without the body.
      auto self = this->shared_from_this();
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*msg);
      bhttp::async_write_header(stream_, *sr, [self, msg, sr](beast::error_code ec, size_t) {
        self->AfterWrite(ec);
      });
      return;
    }
    auto self = this->shared_from_this();
    bhttp::async_write(stream_, *msg,
                       [self, msg](beast::error_code ec, size_t) { self->AfterWrite(ec); });
  }

  enum class Slice { kWholeFile, kLoaded, kReadFailed };

  // A byte range that is not the whole file is read into the body (ranges are
  // what clients ask for in pieces); a whole file is left to be streamed.
  Slice LoadFileSlice(http::Response* r) {
    struct stat st;
    if (::fstat(r->file.get(), &st) != 0) return Slice::kReadFailed;
    if (r->file_offset == 0 && static_cast<uint64_t>(st.st_size) == r->file_length) {
      return Slice::kWholeFile;
    }
    r->body.resize(r->file_length);
    size_t got = 0;
    while (got < r->file_length) {
      ssize_t n = ::pread(r->file.get(), r->body.data() + got, r->file_length - got,
                          static_cast<off_t>(r->file_offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    return got == r->file_length ? Slice::kLoaded : Slice::kReadFailed;
  }

  void WriteReadError() {
    http::Response err;
    err.status = 500;
    err.SetHeader("Content-Type", "text/plain");
    err.body = "could not read object\n";
    Write(std::move(err));
  }

  void AfterWrite(beast::error_code ec) {
    if (ec) return Close(ec);
    if (!keep_alive_ && unread_body_) return LingeringClose();
    if (!keep_alive_) return Close({});
    ReadHeader();
  }

  // Answered before the body was read (too large, an upload refused midway):
  // closing now, with the body's bytes still arriving, would reset the
  // connection and could destroy the answer before the client reads it. So
  // stop sending, read and discard up to kMaxDrainBytes (each read within the
  // body timeout), then close.
  void LingeringClose() {
    unread_body_ = false;
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_left_ = kMaxDrainBytes;
    Drain();
  }

  void Drain() {
    if (drain_left_ == 0) return Close({});
    buffer_.consume(buffer_.size());
    Tcp().expires_after(shared_->body_timeout);
    stream_.async_read_some(buffer_.prepare(kReadBufferBytes),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close(ec);
                              self->drain_left_ -= std::min<uint64_t>(n, self->drain_left_);
                              self->Drain();
                            });
  }

  // ec empty: an orderly end (TLS says goodbye first, within kTlsShutdownTimeout).
  void Close(beast::error_code ec) {
    closed_ = true;
    ReleaseBudget();
    if constexpr (kTls) {
      if (!ec && handshake_done_ && !shutting_down_) {
        shutting_down_ = true;
        Tcp().expires_after(kTlsShutdownTimeout);
        stream_.async_shutdown(
            [self = this->shared_from_this()](beast::error_code) { self->CloseSocket(); });
        return;
      }
    }
    CloseSocket();
  }

  void CloseSocket() {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().socket().close(ignored);
  }

  static constexpr std::chrono::seconds kTlsShutdownTimeout{5};
  std::shared_ptr<ssl::context> tls_context_;  // null for plain HTTP
  Stream stream_;
  std::string remote_;  // the peer's IP
  bool handshake_done_ = false;
  bool shutting_down_ = false;
  std::shared_ptr<Shared> shared_;
  // Room after a body for simdjson's padding (SIMDJSON_PADDING, 64; simdjson is not
  // included here).
  static constexpr size_t kBodyPadding = 64;
  // The header read asks the socket for the buffer's free capacity (at least 512
  // bytes): with this much, one read takes a request's headers and the start of its
  // body.
  static constexpr size_t kReadBufferBytes = 16 * 1024;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  http::Request head_;       // the request being read, without its body
  http::BodyPolicy policy_;  // how its body is taken
  std::string body_;         // a body of known length, read directly (StartFixedBody)
  std::unique_ptr<Sha256Stream> body_hash_;  // body_'s SHA-256 so far (hash_signed_bodies)
  uint64_t body_length_ = 0;
  size_t body_filled_ = 0;
  BodyBudget::Id budget_id_ = 0;  // 0: holds nothing in the budget
  uint64_t budget_gen_ = 0;       // tells a late cut from one for the current body
  size_t budget_charged_ = 0;
  bool keep_alive_ = true;
  bool is_head_ = false;
  bool streamed_ = false;       // the body goes to the handler as a BodyReader
  bool body_complete_ = false;  // ... and it has read all of it
  bool closed_ = false;
  bool unread_body_ = false;  // answered with body bytes still to come: LingeringClose
  uint64_t drain_left_ = 0;
  static constexpr uint64_t kMaxDrainBytes = 64ull << 20;
};

Result<size_t> StreamedBody::Read(char* dst, size_t n) {
  std::unique_lock lk(mu_);
  if (!error_.empty()) return Status::IoError(error_);
  if (remaining_ == 0 || n == 0) return size_t{0};
  n = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
  pending_ = true;
  lk.unlock();
  session_->ReadStreamedAsync(shared_from_this(), dst, n);
  lk.lock();
  // Waits in slices: a server stopping runs no more handlers, so Done may never come.
  while (pending_) {
    if (session_->shared().stopped) return Status::IoError("the server is stopping");
    cv_.wait_for(lk, std::chrono::milliseconds(100));
  }
  if (!error_.empty()) return Status::IoError(error_);
  return got_;
}

void StreamedBody::Done(beast::error_code ec, size_t got) {
  std::lock_guard lk(mu_);
  pending_ = false;
  got_ = 0;
  if (ec || got == 0) {
    error_ = "the request body ended after " + std::to_string(length_ - remaining_) + " of " +
             std::to_string(length_) + " bytes" + (ec ? ": " + ec.message() : "");
  } else {
    got_ = got;
    remaining_ -= got;
    if (remaining_ == 0) session_->StreamedBodyComplete();
  }
  cv_.notify_all();
}

// One listening socket: plain HTTP or HTTPS.
struct Listener {
  Listener(asio::io_context& ioc, bool tls) : acceptor(ioc), retry(ioc), tls(tls) {}
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  const bool tls;
  // accept() failures (EMFILE, ENFILE, ENOBUFS...): retried after a backoff
  // that doubles from kFirstRetry to kLastRetry, logged once per second.
  std::chrono::milliseconds retry_delay{0};
  RateLimitedLog failures;
};

}  // namespace

struct HttpServer::Impl {
  explicit Impl(int threads) : ioc(threads) {}
  asio::io_context ioc;
  std::vector<std::unique_ptr<Listener>> listeners;  // [0]: host:port; [1]: the plain one
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  static constexpr std::chrono::milliseconds kFirstRetry{5}, kLastRetry{1000};
  // TLS: the files, and the context new connections get (replaced by ReloadTls).
  std::optional<TlsFiles> tls_files;
  std::mutex tls_mu;
  std::shared_ptr<ssl::context> tls_context;

  std::shared_ptr<ssl::context> TlsContext() {
    std::lock_guard lk(tls_mu);
    return tls_context;
  }

  void Accept(Listener& l) {
    l.acceptor.async_accept(asio::make_strand(ioc), [this, &l](beast::error_code ec, tcp::socket s) {
      if (stopped) return;
      if (ec) return AcceptFailed(l, ec);
      l.retry_delay = std::chrono::milliseconds(0);
      s.set_option(tcp::no_delay(true), ec);
      if (l.tls) {
        std::make_shared<Session<TlsStream>>(std::move(s), shared, TlsContext())->Start();
      } else {
        std::make_shared<Session<PlainStream>>(std::move(s), shared)->Start();
      }
      Accept(l);
    });
  }

  void AcceptFailed(Listener& l, beast::error_code ec) {
    l.retry_delay =
        l.retry_delay.count() == 0 ? kFirstRetry : std::min(2 * l.retry_delay, kLastRetry);
    if (uint64_t n = l.failures.Count()) {
      spdlog::warn("event=accept_failed error={} failures={} retry_in_ms={}",
                   LogQuote(ec.message()), n, l.retry_delay.count());
    }
    l.retry.expires_after(l.retry_delay);
    l.retry.async_wait([this, &l](beast::error_code wait_ec) {
      if (!wait_ec && !stopped) Accept(l);
    });
  }

  Status Listen(Listener& l, const std::string& host, uint16_t port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) {
      // Accept host names such as "localhost".
      tcp::resolver res(ioc);
      auto results = res.resolve(host, std::to_string(port), ec);
      if (ec || results.empty()) {
        return Status::InvalidArgument("cannot resolve listen address '" + host + "'");
      }
      addr = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(addr, port);
    l.acceptor.open(ep.protocol(), ec);
    if (!ec) l.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l.acceptor.bind(ep, ec);
    if (!ec) l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                 ec.message());
    }
    return Status::Ok();
  }
};

Status CheckTlsFiles(const TlsFiles& files) { return LoadTlsContext(files).status(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& opts,
                                                      http::Handler handler) {
  std::unique_ptr<HttpServer> srv(new HttpServer());
  srv->impl_ = std::make_unique<Impl>(opts.threads);
  auto& impl = *srv->impl_;
  auto& shared = *impl.shared;
  shared.handler = std::move(handler);
  shared.classify = opts.classify;
  shared.default_body_limit = opts.default_body_limit;
  shared.hash_signed_bodies = opts.hash_signed_bodies;
  shared.budget = std::make_unique<BodyBudget>(opts.partial_body_budget);
  shared.idle_timeout = std::chrono::seconds(opts.idle_timeout_seconds);
  shared.header_timeout = std::chrono::seconds(opts.header_timeout_seconds);
  shared.body_timeout = std::chrono::seconds(opts.body_timeout_seconds);
  if (opts.tls) {
    auto ctx = LoadTlsContext(*opts.tls);
    if (!ctx.ok()) return ctx.status();
    impl.tls_files = *opts.tls;
    impl.tls_context = std::move(*ctx);
  }
  impl.listeners.push_back(std::make_unique<Listener>(impl.ioc, opts.tls.has_value()));
  HYDRANT_RETURN_IF_ERROR(impl.Listen(*impl.listeners.back(), opts.host, opts.port));
  if (!opts.plain_host.empty()) {
    impl.listeners.push_back(std::make_unique<Listener>(impl.ioc, false));
    HYDRANT_RETURN_IF_ERROR(impl.Listen(*impl.listeners.back(), opts.plain_host, opts.plain_port));
  }
  for (auto& l : impl.listeners) impl.Accept(*l);
  for (int i = 0; i < std::max(1, opts.threads); ++i) {
    impl.threads.emplace_back([&impl] { impl.ioc.run(); });
  }
  return srv;
}

uint16_t HttpServer::port() const {
  return impl_->listeners.front()->acceptor.local_endpoint().port();
}

uint16_t HttpServer::plain_port() const {
  if (impl_->listeners.size() < 2) return 0;
  return impl_->listeners[1]->acceptor.local_endpoint().port();
}

Status HttpServer::ReloadTls() {
  if (!impl_->tls_files) return Status::InvalidArgument("the listener does not serve TLS");
  auto ctx = LoadTlsContext(*impl_->tls_files);
  if (!ctx.ok()) return ctx.status();
  std::lock_guard lk(impl_->tls_mu);
  impl_->tls_context = std::move(*ctx);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->shared->stopped = true;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    for (auto& l : impl_->listeners) {
      l->acceptor.close(ec);
      l->retry.cancel();
    }
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace hydrant::server
