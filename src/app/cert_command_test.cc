#include "app/cert_command.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testing/temp_dir.h"

namespace hydrant::app {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

std::unique_ptr<X509, Free> ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return std::unique_ptr<X509, Free>(x);
}

std::unique_ptr<EVP_PKEY, Free> ReadKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return std::unique_ptr<EVP_PKEY, Free>(k);
}

// The subject alternative names as "DNS:x" / "IP:1.2.3.4" / "IP:::1".
std::vector<std::string> Sans(X509* x) {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, Free> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(
                                 ASN1_STRING_get0_data(n->d.dNSName))));
    } else if (n->type == GEN_IPADD) {
      char buf[64];
      const int len = ASN1_STRING_length(n->d.iPAddress);
      const unsigned char* p = ASN1_STRING_get0_data(n->d.iPAddress);
      inet_ntop(len == 4 ? AF_INET : AF_INET6, p, buf, sizeof buf);
      out.push_back("IP:" + std::string(buf));
    }
  }
  return out;
}

// Days between now and t (negative in the past).
double DaysFromNow(const ASN1_TIME* t) {
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, nullptr, t);
  return days + secs / 86400.0;
}

// Verifies cert against ca as a TLS client would for `host` (a name or an IP).
int Verify(X509* ca, X509* cert, const std::string& host) {
  std::unique_ptr<X509_STORE, Free> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca);
  std::unique_ptr<X509_STORE_CTX, Free> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  if (host.find_first_not_of("0123456789.:") == std::string::npos) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(CertCommand, WritesACaAndAServerCertificateThatVerify) {
  testing::TempDir dir;
  CertCommandOptions o;
  o.out_dir = dir.Sub("tls");  // made if missing
  o.hosts = {"hydrant.example.internal", "10.1.2.3"};
  ASSERT_TRUE(WriteCertificates(o).ok());

  auto ca = ReadCert(o.out_dir + "/ca.pem");
  auto cert = ReadCert(o.out_dir + "/cert.pem");
  auto key = ReadKey(o.out_dir + "/key.pem");
  auto ca_key = ReadKey(o.out_dir + "/ca-key.pem");
  ASSERT_TRUE(ca && cert && key && ca_key);

  EXPECT_EQ(Sans(cert.get()),
            (std::vector<std::string>{"DNS:hydrant.example.internal", "IP:10.1.2.3",
                                      "DNS:localhost", "IP:127.0.0.1", "IP:::1"}));
  for (const std::string host :
       {"hydrant.example.internal", "10.1.2.3", "localhost", "127.0.0.1", "::1"}) {
    EXPECT_EQ(Verify(ca.get(), cert.get(), host), X509_V_OK) << host;
  }
  EXPECT_EQ(Verify(ca.get(), cert.get(), "other.example.internal"), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(Verify(ca.get(), cert.get(), "10.1.2.4"), X509_V_ERR_IP_ADDRESS_MISMATCH);

  // Validity: the CA 10 years, the server certificate 825 days (both from ~now).
  EXPECT_NEAR(DaysFromNow(X509_get0_notAfter(ca.get())), 3650, 0.01);
  EXPECT_NEAR(DaysFromNow(X509_get0_notAfter(cert.get())), 825, 0.01);
  EXPECT_LT(DaysFromNow(X509_get0_notBefore(cert.get())), 0);
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get()));
  EXPECT_EQ(days, 825);
  EXPECT_EQ(secs, 0);

  // Roles: the CA is a CA; the server certificate is not, and is for serverAuth.
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER);
  EXPECT_FALSE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT);
  // Keys: EC P-256, each matching its certificate.
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_check_private_key(ca.get(), ca_key.get()), 1);
  EXPECT_EQ(X509_check_private_key(cert.get(), ca_key.get()), 0);

  EXPECT_EQ(ModeOf(o.out_dir + "/key.pem"), 0600u);
  EXPECT_EQ(ModeOf(o.out_dir + "/ca-key.pem"), 0600u);
  EXPECT_EQ(ModeOf(o.out_dir + "/cert.pem"), 0644u);
}

TEST(CertCommand, RefusesToOverwriteWithoutForce) {
  testing::TempDir dir;
  CertCommandOptions o;
  o.out_dir = dir.path();
  ASSERT_TRUE(WriteCertificates(o).ok());
  auto first = ReadCert(o.out_dir + "/cert.pem");
  auto st = WriteCertificates(o);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("--force"), std::string::npos) << st.message();
  EXPECT_EQ(X509_cmp(first.get(), ReadCert(o.out_dir + "/cert.pem").get()), 0);

  // --force replaces all four; a key made world-readable meanwhile is 0600 again.
  ::chmod((o.out_dir + "/key.pem").c_str(), 0644);
  o.force = true;
  ASSERT_TRUE(WriteCertificates(o).ok());
  auto second = ReadCert(o.out_dir + "/cert.pem");
  EXPECT_NE(X509_cmp(first.get(), second.get()), 0);
  EXPECT_EQ(ModeOf(o.out_dir + "/key.pem"), 0600u);
  auto ca = ReadCert(o.out_dir + "/ca.pem");
  EXPECT_EQ(Verify(ca.get(), second.get(), "localhost"), X509_V_OK);
}

TEST(CertCommand, NamesAreCheckedAndDeduplicated) {
  auto names = CertificateNames({"localhost", "api.local", "api.local", "*.svc.local", "fe80::1"});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"localhost", "api.local", "*.svc.local", "fe80::1",
                                              "127.0.0.1", "::1"}));
  // A comma would add names of its own choosing to the certificate.
  for (const std::string bad : {"a.example,DNS:evil.example", "bad host", "", "a..b", "x/y"}) {
    EXPECT_FALSE(CertificateNames({bad}).ok()) << bad;
  }
  std::ostringstream out, err;
  CertCommandOptions o;
  o.out_dir = "/nonexistent-never-written";
  o.hosts = {"no spaces"};
  EXPECT_EQ(RunCertCommand(o, out, err), 2);
  EXPECT_NE(err.str().find("neither an IP address nor a DNS name"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::app
