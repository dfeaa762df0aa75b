#include "server/http_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "common/log_fields.h"

namespace hydrant::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// One connection: read a request, hand it to the handler, write the answer, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const http::Handler* handler, uint64_t body_limit)
      : stream_(std::move(socket)), handler_(handler), body_limit_(body_limit) {}

  void Start() {
    buffer_.reserve(kReadBufferBytes);
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

 private:
  void ReadHeader() {
    is_head_ = false;
    parser_.emplace();
    parser_->body_limit(body_limit_);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(300));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return RejectTooLarge();
    if (ec) return Close(ec);
    auto& req = parser_->get();
    auto expect = req[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
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

  void ReadBody() {
    auto& p = *parser_;
    const auto length = p.content_length();
    if (!p.chunked() && length) {
      // A body of known length is read straight into its string: no copy out of the
      // parser's buffer, and reads as large as the socket gives. (Beast's parser reads
      // a body into the flat buffer in pieces of its free capacity, 512 bytes at
      // first: a 70 KB PutRecordBatch took ~140 recvmsg calls; BENCHMARKS.md.) The
      // string keeps room for the JSON parser's padding, so the put path does not
      // copy the body again to pad it.
      body_.reserve(*length + kBodyPadding);
      body_.resize(*length);
      size_t have = std::min<size_t>(buffer_.size(), *length);
      asio::buffer_copy(asio::buffer(body_.data(), have), buffer_.data());
      buffer_.consume(have);
      if (have == *length) return OnRequest({});
      asio::async_read(stream_, asio::buffer(body_.data() + have, *length - have),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         self->OnRequest(ec);
                       });
      return;
    }
    body_.clear();
    if (p.is_done()) return OnRequest({});  // no body
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRequest(ec);
                      });
  }

  // A body over the limit (Beast sees a too-large Content-Length already in the
  // header): answer 413 and close, so clients do not resend it on this connection.
  void RejectTooLarge() {
    http::Response r;
    r.status = 413;
    r.SetHeader("Content-Type", "text/plain");
    r.body = "request body too large: the limit is " + std::to_string(body_limit_) + " bytes\n";
    keep_alive_ = false;
    Write(std::move(r));
  }

  void OnRequest(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return RejectTooLarge();
    if (ec) return Close(ec);
    stream_.expires_never();
    auto req_msg = parser_->release();
    if (!body_.empty()) req_msg.body() = std::move(body_);
    body_ = std::string();
    keep_alive_ = req_msg.keep_alive();
    is_head_ = req_msg.method() == bhttp::verb::head;
    http::Request req;
    req.method = std::string(req_msg.method_string());
    req.target = std::string(req_msg.target());
    req.headers.reserve(16);
    for (const auto& f : req_msg) {
      req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    req.body = std::move(req_msg.body());
    auto self = shared_from_this();
    (*handler_)(std::move(req), [self](http::Response&& resp) {
      // May run on any thread: hop back onto this connection's strand.
      asio::dispatch(self->stream_.get_executor(),
                     [self, r = std::move(resp)]() mutable { self->Write(std::move(r)); });
    });
  }

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
    if (!keep_alive_) return Close({});
    ReadHeader();
  }

  void Close(beast::error_code) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  // Room after a body for simdjson's padding (SIMDJSON_PADDING, 64; simdjson is not
  // included here).
  static constexpr size_t kBodyPadding = 64;
  // The header read asks the socket for the buffer's free capacity (at least 512
  // bytes): with this much, one read takes a request's headers and the start of its
  // body.
  static constexpr size_t kReadBufferBytes = 16 * 1024;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string body_;  // a large body read directly (ReadBody)
  const http::Handler* handler_;
  uint64_t body_limit_;
  bool keep_alive_ = true;
  bool is_head_ = false;
};

}  // namespace

struct HttpServer::Impl {
  explicit Impl(int threads) : ioc(threads), acceptor(ioc) {}
  asio::io_context ioc;
  tcp::acceptor acceptor;
  http::Handler handler;
  uint64_t body_limit = 0;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (stopped) return;
        spdlog::warn("event=accept_failed error={}", LogQuote(ec.message()));
      } else {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(s), &handler, body_limit)->Start();
      }
      if (!stopped) Accept();
    });
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& opts,
                                                      http::Handler handler) {
  std::unique_ptr<HttpServer> srv(new HttpServer());
  srv->impl_ = std::make_unique<Impl>(opts.threads);
  auto& impl = *srv->impl_;
  impl.handler = std::move(handler);
  impl.body_limit = opts.body_limit;
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
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace hydrant::server
