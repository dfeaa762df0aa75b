// TlsStream: a server-side TLS connection for Beast, in which OpenSSL reads the
// socket itself. Included by http_server.cc (and its test) only: it brings in
// Beast and OpenSSL.
//
// Why not asio::ssl::stream: its engine reads the socket into a 17 KiB buffer,
// copies that into an in-memory BIO pair, lets OpenSSL copy it into its record
// buffer, and completes each read with one TLS record (16 KiB at most). A 5.6 MB
// PutRecordBatch took ~340 reads, ~340 handler runs and three copies of every
// byte in user space. Here a custom BIO hands OpenSSL the socket: with
// read-ahead, one recv fills OpenSSL's record buffer with several records, the
// record is decrypted in place and copied once, into the caller's buffer; one
// read fills the caller's buffer with as many records as are already there.
// Timeouts stay Beast's: every wait and every write is an operation of the
// underlying beast::tcp_stream, so its expires_after applies.
//
// Contract: an AsyncReadStream and AsyncWriteStream for Beast's HTTP
// algorithms, with async_handshake (server side) and async_shutdown (sends
// close_notify; does not wait for the peer's). At most one operation at a time
// (the HTTP session reads a request, then writes its answer). Completion
// handlers never run inside the initiating call.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace hydrant::server {

class TlsStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using error_code = boost::system::error_code;

  // `ctx` must outlive the stream (the session holds it).
  TlsStream(boost::asio::ip::tcp::socket socket, SSL_CTX* ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() { return tcp_.get_executor(); }
  boost::beast::tcp_stream& next_layer() { return tcp_; }
  SSL* native_handle() { return ssl_; }

  template <class Token>
  auto async_handshake(Token&& token) {
    return boost::asio::async_compose<Token, void(error_code)>(
        StepOp(this, Step::kHandshake), token, tcp_);
  }

  template <class Token>
  auto async_shutdown(Token&& token) {
    return boost::asio::async_compose<Token, void(error_code)>(
        StepOp(this, Step::kShutdown), token, tcp_);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size() > 0) {
        first = b;
        break;
      }
    }
    return boost::asio::async_compose<Token, void(error_code, size_t)>(ReadOp(this, first), token,
                                                                       tcp_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    // Encrypted now, sent by the operation: what is taken is what completes.
    error_code ec;
    size_t taken = Encrypt(buffers, &ec);
    return boost::asio::async_compose<Token, void(error_code, size_t)>(WriteOp(this, ec, taken),
                                                                       token, tcp_);
  }

 private:
  // What an OpenSSL call left to do.
  enum class Next { kDone, kWaitRead, kFailed };
  enum class Step { kHandshake, kShutdown };
  // The most plaintext one async_write_some encrypts before sending.
  static constexpr size_t kWriteChunk = 256 * 1024;
  // The most bytes one wait for the socket reads (then OpenSSL reads the rest).
  static constexpr size_t kWaitBytes = 16 * 1024;

  // One handshake or shutdown step; kWaitRead after queueing output.
  Next RunStep(Step step, error_code* ec);
  // Reads decrypted bytes into dst (as many as are there without waiting).
  Next ReadInto(char* dst, size_t n, size_t* got, error_code* ec);
  size_t EncryptBytes(const char* p, size_t n, error_code* ec);
  template <class ConstBuffers>
  size_t Encrypt(const ConstBuffers& buffers, error_code* ec) {
    size_t sum = 0;
    int pieces = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      sum += boost::asio::const_buffer(*it).size();
      ++pieces;
    }
    if (pieces > 1 && sum <= kCoalesceBytes) {
      // Several small pieces (a response's head and body): one record.
      std::string flat(sum, '\0');
      boost::asio::buffer_copy(boost::asio::buffer(flat), buffers);
      return EncryptBytes(flat.data(), flat.size(), ec);
    }
    size_t total = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && total < kWriteChunk && !*ec; ++it) {
      boost::asio::const_buffer b(*it);
      total += EncryptBytes(static_cast<const char*>(b.data()),
                            std::min(b.size(), kWriteChunk - total), ec);
    }
    return total;
  }
  static constexpr size_t kCoalesceBytes = 16 * 1024;
  error_code SslError(int ret);

  // The BIO: reads come from wait_buf_ first, then straight from the socket;
  // writes are queued in out_.
  static int BioRead(BIO* bio, char* data, size_t len, size_t* read);
  static int BioWrite(BIO* bio, const char* data, size_t len, size_t* written);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);
  static BIO_METHOD* Method();

  // Sends out_; the operation resumes with (ec, bytes sent).
  template <class Self>
  void Flush(Self& self) {
    boost::asio::async_write(tcp_, boost::asio::buffer(out_), std::move(self));
  }
  // Waits for the socket to have bytes (reading up to kWaitBytes of them); the
  // operation resumes with (ec, n), which it passes to Waited.
  template <class Self>
  void WaitRead(Self& self) {
    if (!wait_buf_) wait_buf_ = std::make_unique<char[]>(kWaitBytes);
    wait_pos_ = wait_len_ = 0;
    tcp_.async_read_some(boost::asio::buffer(wait_buf_.get(), kWaitBytes), std::move(self));
  }
  // What a wait brought; the peer's end of the stream is left for OpenSSL to
  // judge (a close_notify before it, or a truncation).
  error_code Waited(error_code ec, size_t n) {
    wait_len_ = n;
    if (ec == boost::asio::error::eof) {
      peer_closed_ = true;
      return {};
    }
    return ec;
  }

  // Where a handshake, shutdown or read operation is.
  struct OpState {
    enum { kRun, kFlushed, kWaited, kPosted } at = kRun;
    Next last = Next::kDone;  // what the last OpenSSL call left to do
    bool async = false;       // it has waited for the socket: may complete directly
  };

  // An operation resumed (by a socket operation, or posted): true when it has
  // completed or waits again; false when it must call OpenSSL (again).
  template <class Self, class Complete>
  bool Resume(OpState& st, Self& self, error_code ec, size_t n, const error_code& failure,
              Complete complete) {
    switch (st.at) {
      case OpState::kPosted:
        complete(failure);
        return true;
      case OpState::kFlushed:
        out_.clear();
        if (ec || st.last != Next::kWaitRead) {
          complete(ec ? ec : failure);
          return true;
        }
        st.at = OpState::kWaited;
        WaitRead(self);
        return true;
      case OpState::kWaited:
        ec = Waited(ec, n);
        if (ec) complete(ec);
        return static_cast<bool>(ec);
      case OpState::kRun:
        break;
    }
    return false;
  }

  // After an OpenSSL call: send what it produced (an alert too), wait for the
  // socket when it needs more, or complete (posted if nothing was async yet:
  // a handler never runs inside the initiating call).
  template <class Self, class Complete>
  void Continue(OpState& st, Self& self, const error_code& failure, Complete complete) {
    if (!out_.empty()) {
      st.at = OpState::kFlushed;
      st.async = true;
      return Flush(self);
    }
    if (st.last == Next::kWaitRead) {
      st.at = OpState::kWaited;
      st.async = true;
      return WaitRead(self);
    }
    if (!st.async) {
      st.at = OpState::kPosted;
      return boost::asio::post(tcp_.get_executor(), std::move(self));
    }
    complete(failure);
  }

  // Handshake and shutdown: run the step until it is done or fails.
  struct StepOp {
    StepOp(TlsStream* stream, Step what) : s(stream), step(what) {}
    TlsStream* s;
    Step step;
    OpState st;
    error_code failure;

    template <class Self>
    void operator()(Self& self, error_code ec = {}, size_t n = 0) {
      auto complete = [&self](error_code e) { self.complete(e); };
      if (s->Resume(st, self, ec, n, failure, complete)) return;
      st.last = s->RunStep(step, &failure);
      s->Continue(st, self, failure, complete);
    }
  };

  // A read: decrypt what is there into the caller's buffer; wait for the
  // socket only when nothing is.
  struct ReadOp {
    ReadOp(TlsStream* stream, boost::asio::mutable_buffer into) : s(stream), dst(into) {}
    TlsStream* s;
    boost::asio::mutable_buffer dst;
    OpState st;
    size_t got = 0;
    error_code failure;

    template <class Self>
    void operator()(Self& self, error_code ec = {}, size_t n = 0) {
      auto complete = [&self, this](error_code e) { self.complete(e, got); };
      if (s->Resume(st, self, ec, n, failure, complete)) return;
      st.last = dst.size() == 0 ? Next::kDone
                                : s->ReadInto(static_cast<char*>(dst.data()), dst.size(), &got,
                                              &failure);
      s->Continue(st, self, failure, complete);
    }
  };

  // A write: what async_write_some encrypted is sent, then the plaintext
  // count completes.
  struct WriteOp {
    WriteOp(TlsStream* stream, error_code ec, size_t n) : s(stream), failure(ec), taken(n) {}
    TlsStream* s;
    error_code failure;
    size_t taken;
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}, size_t = 0) {
      if (!started) {
        started = true;
        return s->Flush(self);  // always a socket write: never completes inline
      }
      s->out_.clear();
      if (ec) return self.complete(ec, 0);
      self.complete(failure, failure ? 0 : taken);
    }
  };

  boost::beast::tcp_stream tcp_;
  SSL* ssl_ = nullptr;
  std::unique_ptr<char[]> wait_buf_;  // bytes a wait read, not yet taken by OpenSSL
  size_t wait_pos_ = 0, wait_len_ = 0;
  std::string out_;  // encrypted bytes to send
  bool peer_closed_ = false;
  int socket_errno_ = 0;
};

}  // namespace hydrant::server
