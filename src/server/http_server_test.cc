// The listener over real sockets: what it tells handlers about the connection
// (peer address, TLS or not) on both kinds of listener, the TLS context's
// loading and reloading, and the TLS stream (server/tls_stream.h): large
// bodies both ways, pipelined requests, a connection cut mid-body. The HTTP behaviour itself is covered by the
// integration tests (tests/integration/test_http_*.py, test_tls.py).
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/digest.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

// A self-signed EC certificate for CN=localhost and its key, as PEM files.
TlsFiles WriteSelfSigned(const testing::TempDir& dir, const std::string& name) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_set_pubkey(x, key);
  X509_sign(x, key, EVP_sha256());
  TlsFiles f{dir.Sub(name + "-cert.pem"), dir.Sub(name + "-key.pem")};
  FILE* c = std::fopen(f.cert_file.c_str(), "w");
  PEM_write_X509(c, x);
  std::fclose(c);
  FILE* k = std::fopen(f.key_file.c_str(), "w");
  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(key);
  return f;
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

constexpr const char* kRequest = "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

// The whole answer of a plain request.
std::string PlainGet(uint16_t port) {
  int fd = Connect(port);
  EXPECT_GT(::write(fd, kRequest, std::strlen(kRequest)), 0);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// The same over TLS (no verification: these tests are about the server), with
// the subject CN of the certificate the server showed.
std::string TlsGet(uint16_t port, std::string* peer_cn, int max_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL* ssl = SSL_new(ctx);
  int fd = Connect(port);
  SSL_set_fd(ssl, fd);
  std::string out;
  if (SSL_connect(ssl) == 1) {
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
      if (peer_cn) *peer_cn = cn;
      X509_free(cert);
    }
    SSL_write(ssl, kRequest, static_cast<int>(std::strlen(kRequest)));
    char buf[4096];
    for (int n; (n = SSL_read(ssl, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

std::string BodyOf(const std::string& answer) {
  size_t p = answer.find("\r\n\r\n");
  return p == std::string::npos ? "" : answer.substr(p + 4);
}

// Answers "<remote_address> <secure>".
void WhoAmI(http::Request&& req, http::Respond respond) {
  http::Response r;
  r.body = req.remote_address + (req.secure ? " secure" : " plain");
  respond(std::move(r));
}

TEST(HttpServer, RequestsCarryThePeerAndWhetherTheyCameOverTls) {
  testing::TempDir dir;
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.tls = WriteSelfSigned(dir, "first");
  o.plain_host = "127.0.0.1";
  o.plain_port = 0;
  auto srv = HttpServer::Start(o, WhoAmI);
  ASSERT_TRUE(srv.ok()) << srv.status().ToString();
  ASSERT_NE((*srv)->plain_port(), 0);
  ASSERT_NE((*srv)->plain_port(), (*srv)->port());
  std::string cn;
  EXPECT_EQ(BodyOf(TlsGet((*srv)->port(), &cn)), "127.0.0.1 secure");
  EXPECT_EQ(cn, "first");
  EXPECT_EQ(BodyOf(PlainGet((*srv)->plain_port())), "127.0.0.1 plain");
  // TLS 1.2 is served too; plain HTTP on the TLS port is not.
  EXPECT_EQ(BodyOf(TlsGet((*srv)->port(), nullptr, TLS1_2_VERSION)), "127.0.0.1 secure");
  EXPECT_EQ(PlainGet((*srv)->port()), "");
  EXPECT_EQ(BodyOf(TlsGet((*srv)->port(), nullptr)), "127.0.0.1 secure");
}

TEST(HttpServer, ReloadTlsTakesNewFilesAndKeepsTheOldOnError) {
  testing::TempDir dir;
  HttpServerOptions o;
  o.port = 0;
  o.tls = WriteSelfSigned(dir, "first");
  auto srv = HttpServer::Start(o, WhoAmI);
  ASSERT_TRUE(srv.ok()) << srv.status().ToString();
  const uint16_t port = (*srv)->port();

  // Replace the files with a certificate and a key that do not match.
  TlsFiles second = WriteSelfSigned(dir, "second");
  std::rename(second.cert_file.c_str(), o.tls->cert_file.c_str());
  auto st = (*srv)->ReloadTls();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not match"), std::string::npos) << st.message();
  std::string cn;
  EXPECT_EQ(BodyOf(TlsGet(port, &cn)), "127.0.0.1 secure");
  EXPECT_EQ(cn, "first");

  std::rename(second.key_file.c_str(), o.tls->key_file.c_str());
  ASSERT_TRUE((*srv)->ReloadTls().ok());
  EXPECT_EQ(BodyOf(TlsGet(port, &cn)), "127.0.0.1 secure");
  EXPECT_EQ(cn, "second");
}

TEST(HttpServer, TlsFilesThatDoNotLoadAreNamed) {
  testing::TempDir dir;
  TlsFiles good = WriteSelfSigned(dir, "good");
  EXPECT_TRUE(CheckTlsFiles(good).ok());
  auto st = CheckTlsFiles({dir.Sub("missing.pem"), good.key_file});
  EXPECT_NE(st.message().find("cannot load the TLS certificate " + dir.Sub("missing.pem")),
            std::string::npos)
      << st.message();
  st = CheckTlsFiles({good.cert_file, good.cert_file});  // a certificate is not a key
  EXPECT_NE(st.message().find("cannot load the TLS key"), std::string::npos) << st.message();
  HttpServerOptions o;
  o.port = 0;
  o.tls = TlsFiles{dir.Sub("missing.pem"), good.key_file};
  EXPECT_FALSE(HttpServer::Start(o, WhoAmI).ok());
  // Without TLS there is nothing to reload.
  o.tls.reset();
  auto srv = HttpServer::Start(o, WhoAmI);
  ASSERT_TRUE(srv.ok());
  EXPECT_FALSE((*srv)->ReloadTls().ok());
  EXPECT_EQ((*srv)->plain_port(), 0);
}

// A client TLS connection that writes in pieces of the given sizes (cycled)
// and reads until the server closes.
class TlsClient {
 public:
  explicit TlsClient(uint16_t port) : ctx_(SSL_CTX_new(TLS_client_method())) {
    ssl_ = SSL_new(ctx_);
    fd_ = Connect(port);
    SSL_set_fd(ssl_, fd_);
    connected_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes, const std::vector<size_t>& pieces) {
    size_t at = 0, i = 0;
    while (at < bytes.size()) {
      size_t n = std::min(pieces[i++ % pieces.size()], bytes.size() - at);
      size_t w = 0;
      if (SSL_write_ex(ssl_, bytes.data() + at, n, &w) != 1) return false;
      at += w;
    }
    return true;
  }
  std::string ReadAll() {
    std::string out;
    char buf[65536];
    size_t n = 0;
    while (SSL_read_ex(ssl_, buf, sizeof buf, &n) == 1) out.append(buf, n);
    return out;
  }
  // Ends the TCP connection without a TLS close_notify.
  void Cut() { ::shutdown(fd_, SHUT_RDWR); }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_;
  int fd_;
  bool connected_ = false;
};

std::string Post(const std::string& body, bool close) {
  return "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
}

// Bytes that differ everywhere, so that a byte out of place is seen.
std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    s[i] = static_cast<char>(seed >> 24);
  }
  return s;
}

// Answers with the request's body, reversed (so an echo of the wrong bytes,
// or of bytes in the wrong order, is told from the right one).
http::Handler ReverseEcho(std::atomic<int>* calls) {
  return [calls](http::Request&& req, http::Respond respond) {
    ++*calls;
    http::Response r;
    r.body.assign(req.body.rbegin(), req.body.rend());
    respond(std::move(r));
  };
}

struct TlsServer {
  testing::TempDir dir;
  std::atomic<int> calls{0};
  std::unique_ptr<HttpServer> srv;
  TlsServer() {
    HttpServerOptions o;
    o.port = 0;
    o.tls = WriteSelfSigned(dir, "stream");
    o.body_timeout_seconds = 2;
    auto s = HttpServer::Start(o, ReverseEcho(&calls));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) srv = std::move(*s);
  }
};

TEST(TlsStream, LargeBodiesBothWaysWhateverTheClientsWriteSizes) {
  TlsServer t;
  ASSERT_TRUE(t.srv);
  // Pieces smaller than a record, record-sized, and larger than the server's
  // read buffer; the answer is as large as the body.
  for (const auto& pieces : std::vector<std::vector<size_t>>{
           {1, 7, 4096, 333}, {16384}, {1 << 20}, {70000, 5}}) {
    const std::string body = Pattern(3'000'001, static_cast<uint32_t>(pieces[0]));
    TlsClient c(t.srv->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(Post(body, true), pieces));
    const std::string answer = c.ReadAll();
    ASSERT_EQ(BodyOf(answer).size(), body.size()) << answer.substr(0, 200);
    EXPECT_TRUE(BodyOf(answer) == std::string(body.rbegin(), body.rend()));
  }
  EXPECT_EQ(t.calls.load(), 4);
}

TEST(TlsStream, PipelinedRequestsInOneWriteAreEachAnswered) {
  TlsServer t;
  ASSERT_TRUE(t.srv);
  TlsClient c(t.srv->port());
  ASSERT_TRUE(c.connected());
  // Three requests in one record: what OpenSSL already decrypted for the
  // first is where the second and third are read from.
  ASSERT_TRUE(c.Send(Post("abc", false) + Post(Pattern(100000, 1), false) + Post("xyz", true),
                     {1 << 20}));
  const std::string all = c.ReadAll();
  EXPECT_EQ(t.calls.load(), 3);
  size_t first = all.find("\r\n\r\ncba");
  size_t last = all.rfind("\r\n\r\nzyx");
  EXPECT_NE(first, std::string::npos) << all.substr(0, 300);
  EXPECT_NE(last, std::string::npos);
  const std::string big = Pattern(100000, 1);
  EXPECT_NE(all.find(std::string(big.rbegin(), big.rend())), std::string::npos);
}

TEST(TlsStream, ABodyCutMidwayReachesNoHandler) {
  TlsServer t;
  ASSERT_TRUE(t.srv);
  {
    TlsClient c(t.srv->port());
    ASSERT_TRUE(c.connected());
    std::string req = Post(Pattern(500000, 2), true);
    req.resize(req.size() / 2);
    ASSERT_TRUE(c.Send(req, {65536}));
    c.Cut();
  }
  // The server is still there for the next client; the cut request ran nothing.
  TlsClient c(t.srv->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Post("ok", true), {4096}));
  EXPECT_EQ(BodyOf(c.ReadAll()), "ko");
  EXPECT_EQ(t.calls.load(), 1);
}

// Answers with the SHA-256 the listener computed while the body arrived ("-"
// when it computed none) and, to compare, the one of the body it delivered.
void HashesOfBody(http::Request&& req, http::Respond respond) {
  http::Response r;
  r.body = (req.body_sha256.empty() ? std::string("-") : req.body_sha256) + " " +
           Sha256Hex(req.body);
  respond(std::move(r));
}

std::string SignedPost(const std::string& body, const std::string& authorization) {
  return "POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
         (authorization.empty() ? "" : "Authorization: " + authorization + "\r\n") +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Writes the request in pieces (the body arrives in several reads) and returns
// the answer's body.
std::string PlainSendInPieces(uint16_t port, const std::string& request) {
  int fd = Connect(port);
  for (size_t at = 0; at < request.size();) {
    const size_t n = std::min<size_t>(request.size() - at, at == 0 ? 200 : 300'000);
    EXPECT_EQ(::write(fd, request.data() + at, n), static_cast<ssize_t>(n));
    at += n;
    ::usleep(2000);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return BodyOf(out);
}

TEST(HttpServer, SignedBodiesAreHashedAsTheyArrive) {
  testing::TempDir dir;
  HttpServerOptions o;
  o.port = 0;
  o.tls = WriteSelfSigned(dir, "hash");
  o.plain_host = "127.0.0.1";
  o.plain_port = 0;
  o.hash_signed_bodies = true;
  auto srv = HttpServer::Start(o, HashesOfBody);
  ASSERT_TRUE(srv.ok()) << srv.status().ToString();
  const std::string body = Pattern(2'500'000, 7);
  const std::string want = Sha256Hex(body);
  const std::string sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/"
                            "aws4_request, SignedHeaders=host, Signature=00";
  // Plain HTTP, the body in many reads; TLS, in pieces of every size.
  EXPECT_EQ(PlainSendInPieces((*srv)->plain_port(), SignedPost(body, sigv4)), want + " " + want);
  TlsClient c((*srv)->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(SignedPost(body, sigv4), {1, 7, 4096, 70000}));
  EXPECT_EQ(BodyOf(c.ReadAll()), want + " " + want);
  // Neither an unsigned request nor another scheme is hashed.
  EXPECT_EQ(PlainSendInPieces((*srv)->plain_port(), SignedPost(body, "")), "- " + want);
  EXPECT_EQ(PlainSendInPieces((*srv)->plain_port(), SignedPost(body, "Bearer x")), "- " + want);
  // Nor anything when the option is off (open mode).
  o.hash_signed_bodies = false;
  o.tls.reset();
  o.plain_port = 0;
  o.plain_host.clear();
  auto open = HttpServer::Start(o, HashesOfBody);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(PlainSendInPieces((*open)->port(), SignedPost(body, sigv4)), "- " + want);
}

TEST(TlsStream, AClientThatIsNotTlsIsRefusedAndTheListenerGoesOn) {
  TlsServer t;
  ASSERT_TRUE(t.srv);
  EXPECT_EQ(PlainGet(t.srv->port()), "");
  TlsClient c(t.srv->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Post("hello", true), {2}));
  EXPECT_EQ(BodyOf(c.ReadAll()), "olleh");
}

}  // namespace
}  // namespace hydrant::server
