#include "server/tls_stream.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace hydrant::server {

namespace asio = boost::asio;

TlsStream::TlsStream(asio::ip::tcp::socket socket, SSL_CTX* ctx)
    : tcp_(std::move(socket)), ssl_(SSL_new(ctx)) {
  if (ssl_ == nullptr) return;  // RunStep reports it
  BIO* bio = BIO_new(Method());
  if (bio == nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one reference, for both directions
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

BIO_METHOD* TlsStream::Method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hydrant socket");
    BIO_meth_set_read_ex(m, &TlsStream::BioRead);
    BIO_meth_set_write_ex(m, &TlsStream::BioWrite);
    BIO_meth_set_ctrl(m, &TlsStream::BioCtrl);
    return m;
  }();
  return method;
}

int TlsStream::BioRead(BIO* bio, char* data, size_t len, size_t* read) {
  auto* s = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  *read = 0;
  if (s->wait_pos_ < s->wait_len_) {
    size_t n = std::min(len, s->wait_len_ - s->wait_pos_);
    std::memcpy(data, s->wait_buf_.get() + s->wait_pos_, n);
    s->wait_pos_ += n;
    *read = n;
    return 1;
  }
  if (s->peer_closed_) return 0;  // the end of the stream: OpenSSL judges it
  for (;;) {
    ssize_t n = ::recv(s->tcp_.socket().native_handle(), data, len, MSG_DONTWAIT);
    if (n > 0) {
      *read = static_cast<size_t>(n);
      return 1;
    }
    if (n == 0) {
      s->peer_closed_ = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BIO_set_retry_read(bio);  // SSL_ERROR_WANT_READ: the operation waits
      return 0;
    }
    s->socket_errno_ = errno;
    return 0;
  }
}

int TlsStream::BioWrite(BIO* bio, const char* data, size_t len, size_t* written) {
  auto* s = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  s->out_.append(data, len);
  *written = len;
  return 1;
}

long TlsStream::BioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // out_ is sent by the operation
}

TlsStream::error_code TlsStream::SslError(int ret) {
  const int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // the peer's close_notify
  if (err == SSL_ERROR_SSL) {
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ERR_clear_error();
      return asio::ssl::error::stream_truncated;
    }
    ERR_clear_error();
    return error_code(static_cast<int>(e), asio::error::get_ssl_category());
  }
  if (err == SSL_ERROR_SYSCALL) {
    ERR_clear_error();
    if (socket_errno_ != 0) return error_code(socket_errno_, boost::system::system_category());
    return asio::ssl::error::stream_truncated;  // the socket ended mid-record
  }
  ERR_clear_error();
  return asio::error::fault;
}

TlsStream::Next TlsStream::RunStep(Step step, error_code* ec) {
  if (ssl_ == nullptr) {
    *ec = asio::error::no_memory;
    return Next::kFailed;
  }
  ERR_clear_error();
  if (step == Step::kShutdown) {
    // Sends close_notify; the peer's answer is not waited for (the socket closes).
    SSL_shutdown(ssl_);
    ERR_clear_error();
    return Next::kDone;
  }
  int r = SSL_do_handshake(ssl_);
  if (r == 1) return Next::kDone;
  if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ && !peer_closed_) return Next::kWaitRead;
  *ec = SslError(r);
  if (!*ec) *ec = asio::ssl::error::stream_truncated;
  return Next::kFailed;
}

TlsStream::Next TlsStream::ReadInto(char* dst, size_t n, size_t* got, error_code* ec) {
  while (*got < n) {
    ERR_clear_error();
    size_t r = 0;
    if (SSL_read_ex(ssl_, dst + *got, n - *got, &r) == 1) {
      *got += r;
      continue;
    }
    const int err = SSL_get_error(ssl_, 0);
    if (err == SSL_ERROR_WANT_READ) {
      if (*got > 0) return Next::kDone;  // what was there; the next read waits
      return Next::kWaitRead;
    }
    if (*got > 0) {
      ERR_clear_error();
      return Next::kDone;  // the error comes again at the next read
    }
    *ec = SslError(0);
    return Next::kFailed;
  }
  return Next::kDone;
}

size_t TlsStream::EncryptBytes(const char* p, size_t n, error_code* ec) {
  if (n == 0) return 0;
  ERR_clear_error();
  size_t written = 0;
  if (SSL_write_ex(ssl_, p, n, &written) != 1) {
    *ec = SslError(0);
    if (!*ec) *ec = asio::error::broken_pipe;
    return 0;
  }
  return written;
}

}  // namespace hydrant::server
