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
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "common/log_fields.h"
#include "server/body_budget.h"

namespace hydrant::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// What every connection shares: the handler, the limits and the body budget.
struct Shared {
  http::Handler handler;
  http::Classifier classify;
  uint64_t default_body_limit = 0;
  std::chrono::seconds idle_timeout{300}, header_timeout{30}, body_timeout{30};
  std::unique_ptr<BodyBudget> budget;
  // Set at Stop: a worker waiting in BodyReader::Read gives up.
  std::atomic<bool> stopped{false};
};

// The most header bytes a request may have (431 past it).
constexpr uint32_t kHeaderLimit = 64 * 1024;
// An in-memory body of known length starts with this much room (or its length,
// if smaller) and doubles as bytes fill it: memory follows what arrives.
constexpr size_t kFirstBodyWindow = 256 * 1024;

class Session;

// Hands a streamed body to the handler's thread: each Read posts one socket
// read onto the connection's strand and waits for it.
class StreamedBody final : public http::BodyReader,
                           public std::enable_shared_from_this<StreamedBody> {
 public:
  StreamedBody(std::shared_ptr<Session> session, uint64_t length)
      : session_(std::move(session)), length_(length), remaining_(length) {}
  Result<size_t> Read(char* dst, size_t n) override;
  uint64_t length() const override { return length_; }
  // From the strand: a read finished.
  void Done(beast::error_code ec, size_t got);

 private:
  std::shared_ptr<Session> session_;
  const uint64_t length_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t remaining_;
  bool pending_ = false;
  size_t got_ = 0;
  std::string error_;
};

// One connection: read a request, hand it to the handler, write the answer, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}
  ~Session() { ReleaseBudget(); }

  void Start() {
    buffer_.reserve(kReadBufferBytes);
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
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
    stream_.expires_after(shared_->body_timeout);
    stream_.async_read_some(asio::buffer(dst, n),
                            [reader](beast::error_code ec, size_t got) { reader->Done(ec, got); });
  }
  auto executor() { return stream_.get_executor(); }
  const Shared& shared() const { return *shared_; }
  void StreamedBodyComplete() { body_complete_ = true; }

 private:
  void ReadHeader() {
    is_head_ = false;
    streamed_ = false;
    body_complete_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(boost::none);  // each API's limit is applied once the head is known
    if (buffer_.size() > 0) return ReadRestOfHeader();
    // An idle keep-alive connection: wait for the next request's first bytes.
    stream_.expires_after(shared_->idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadBufferBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close(ec);
                              self->buffer_.commit(n);
                              self->ReadRestOfHeader();
                            });
  }

  // From a request's first byte, all of its headers must arrive within header_timeout.
  void ReadRestOfHeader() {
    stream_.expires_after(shared_->header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
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
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
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
    stream_.expires_after(shared_->body_timeout);
    stream_.async_read_some(asio::buffer(body_.data() + body_filled_, body_.size() - body_filled_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close(ec);
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
    stream_.expires_after(shared_->body_timeout);
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
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
    std::weak_ptr<Session> weak = weak_from_this();
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
    Close({});
  }

  // A streamed body goes to the handler as it arrives; the connection reads
  // nothing else until the answer is written.
  void StartStreamedBody(uint64_t length) {
    streamed_ = true;
    head_.body_reader = std::make_shared<StreamedBody>(shared_from_this(), length);
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
    stream_.expires_never();
    http::Request req = std::move(head_);
    head_ = http::Request();
    req.body = std::move(body_);
    body_ = std::string();
    body_filled_ = 0;
    auto self = shared_from_this();
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
        auto self = shared_from_this();
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
      auto self = shared_from_this();
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*msg);
      bhttp::async_write_header(stream_, *sr, [self, msg, sr](beast::error_code ec, size_t) {
        self->AfterWrite(ec);
      });
      return;
    }
    msg->prepare_payload();
    if (is_head_) {
      // A HEAD answer keeps the headers a GET would have, without the body.
      auto self = shared_from_this();
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*msg);
      bhttp::async_write_header(stream_, *sr, [self, msg, sr](beast::error_code ec, size_t) {
        self->AfterWrite(ec);
      });
      return;
    }
    auto self = shared_from_this();
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
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_left_ = kMaxDrainBytes;
    Drain();
  }

  void Drain() {
    if (drain_left_ == 0) return Close({});
    buffer_.consume(buffer_.size());
    stream_.expires_after(shared_->body_timeout);
    stream_.async_read_some(buffer_.prepare(kReadBufferBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close(ec);
                              self->drain_left_ -= std::min<uint64_t>(n, self->drain_left_);
                              self->Drain();
                            });
  }

  void Close(beast::error_code) {
    closed_ = true;
    ReleaseBudget();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  friend class StreamedBody;

  beast::tcp_stream stream_;
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
  auto self = shared_from_this();
  asio::dispatch(session_->executor(),
                 [self, dst, n] { self->session_->ReadStreamed(self, dst, n); });
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

}  // namespace

struct HttpServer::Impl {
  explicit Impl(int threads) : ioc(threads), acceptor(ioc), accept_retry(ioc) {}
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  // accept() failures (EMFILE, ENFILE, ENOBUFS...): retried after a backoff
  // that doubles from kFirstRetry to kLastRetry, logged once per kLogEvery.
  static constexpr std::chrono::milliseconds kFirstRetry{5}, kLastRetry{1000}, kLogEvery{1000};
  asio::steady_timer accept_retry;
  std::chrono::milliseconds retry_delay{0};
  uint64_t failures_unlogged = 0;
  std::chrono::steady_clock::time_point last_failure_log;

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (stopped) return;
      if (ec) return AcceptFailed(ec);
      retry_delay = std::chrono::milliseconds(0);
      s.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(s), shared)->Start();
      Accept();
    });
  }

  void AcceptFailed(beast::error_code ec) {
    retry_delay = retry_delay.count() == 0 ? kFirstRetry : std::min(2 * retry_delay, kLastRetry);
    ++failures_unlogged;
    auto now = std::chrono::steady_clock::now();
    if (failures_unlogged == 1 || now - last_failure_log >= kLogEvery) {
      spdlog::warn("event=accept_failed error={} failures={} retry_in_ms={}",
                   LogQuote(ec.message()), failures_unlogged, retry_delay.count());
      failures_unlogged = 0;
      last_failure_log = now;
    }
    accept_retry.expires_after(retry_delay);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopped) Accept();
    });
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& opts,
                                                      http::Handler handler) {
  std::unique_ptr<HttpServer> srv(new HttpServer());
  srv->impl_ = std::make_unique<Impl>(opts.threads);
  auto& impl = *srv->impl_;
  auto& shared = *impl.shared;
  shared.handler = std::move(handler);
  shared.classify = opts.classify;
  shared.default_body_limit = opts.default_body_limit;
  shared.budget = std::make_unique<BodyBudget>(opts.partial_body_budget);
  shared.idle_timeout = std::chrono::seconds(opts.idle_timeout_seconds);
  shared.header_timeout = std::chrono::seconds(opts.header_timeout_seconds);
  shared.body_timeout = std::chrono::seconds(opts.body_timeout_seconds);
  beast::error_code ec;
  auto addr = asio::ip::make_address(opts.host, ec);
  if (ec) {
    // Accept host names such as "localhost".
    tcp::resolver res(impl.ioc);
    auto results = res.resolve(opts.host, std::to_string(opts.port), ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve listen address '" + opts.host + "'");
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, opts.port);
  impl.acceptor.open(ep.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(ep, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + opts.host + ":" + std::to_string(opts.port) +
                               ": " + ec.message());
  }
  impl.Accept();
  for (int i = 0; i < std::max(1, opts.threads); ++i) {
    impl.threads.emplace_back([&impl] { impl.ioc.run(); });
  }
  return srv;
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->shared->stopped = true;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->accept_retry.cancel();
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace hydrant::server
