// The listener over real sockets: what it tells handlers about the connection
// (peer address, TLS or not) on both kinds of listener, and the TLS context's
// loading and reloading. The HTTP behaviour itself is covered by the
// integration tests (tests/integration/test_http_*.py, test_tls.py).
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

}  // namespace
}  // namespace hydrant::server
