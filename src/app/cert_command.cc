#include "app/cert_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <ostream>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace hydrant::app {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;

constexpr long kDay = 24 * 3600;

Status OpenSslError(const std::string& what) {
  std::string detail;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail += detail.empty() ? "" : "; ";
    detail += buf;
  }
  return Status::Internal(what + (detail.empty() ? "" : ": " + detail));
}

bool IsIpAddress(const std::string& h) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// Letters, digits, '-' and '.', labels of 1-63 bytes, an optional leading "*.".
bool IsDnsName(std::string_view h) {
  if (h.starts_with("*.")) h.remove_prefix(2);
  if (h.empty() || h.size() > 253) return false;
  size_t label = 0;
  for (char c : h) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslError("cannot make an EC P-256 key");
  return key;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslError("cannot make extension " + std::string(OBJ_nid2sn(nid)));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpenSslError("cannot add extension " + std::string(OBJ_nid2sn(nid)));
  return Status::Ok();
}

// A certificate for `key` named `common_name`, valid `days` from a few minutes
// ago (clocks differ), without extensions or signature yet.
Result<CertPtr> NewCertificate(EVP_PKEY* key, const std::string& common_name, int days) {
  CertPtr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpenSslError("RAND_bytes");
  serial[0] &= 0x7f;  // positive, at most 20 bytes (RFC 5280)
  std::unique_ptr<BIGNUM, Free> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslError("serial number");
  }
  // Not before five minutes ago; the span is exactly `days` (Apple's clients
  // refuse a server certificate of more than 825 days).
  time_t start = std::time(nullptr) - 300;
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &start) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &start)) {
    return OpenSslError("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>("hydrant"), -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                  -1, 0)) {
    return OpenSslError("subject name");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return OpenSslError("public key");
  return cert;
}

Result<std::string> Pem(X509* cert, EVP_PKEY* key) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  const int ok = cert ? PEM_write_bio_X509(bio.get(), cert)
                      : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                 nullptr);
  if (ok != 1) return OpenSslError("PEM encoding");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Status WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno("cannot write " + path, errno);
  Status st;
  // An existing file (--force) keeps its old mode through open: set it.
  if (::fchmod(fd, mode) != 0) st = Status::FromErrno("chmod " + path, errno);
  size_t done = 0;
  while (st.ok() && done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) st = Status::FromErrno("cannot write " + path, errno);
    if (w > 0) done += static_cast<size_t>(w);
  }
  if (st.ok() && ::fsync(fd) != 0) st = Status::FromErrno("fsync " + path, errno);
  ::close(fd);
  return st;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

Result<std::vector<std::string>> CertificateNames(const std::vector<std::string>& hosts) {
  std::vector<std::string> names;
  for (const auto& h : hosts) {
    if (!IsIpAddress(h) && !IsDnsName(h)) {
      return Status::InvalidArgument("--host '" + h +
                                     "' is neither an IP address nor a DNS name");
    }
    if (std::find(names.begin(), names.end(), h) == names.end()) names.push_back(h);
  }
  for (const char* d : {"localhost", "127.0.0.1", "::1"}) {
    if (std::find(names.begin(), names.end(), d) == names.end()) names.push_back(d);
  }
  return names;
}

Status WriteCertificates(const CertCommandOptions& opts) {
  auto names = CertificateNames(opts.hosts);
  if (!names.ok()) return names.status();
  const std::string dir = opts.out_dir.empty() ? "." : opts.out_dir;
  const std::string ca_pem = dir + "/" + kCaCertFile, cert_pem = dir + "/" + kCertFile,
                    key_pem = dir + "/" + kKeyFile, ca_key_pem = dir + "/" + kCaKeyFile;
  if (!opts.force) {
    for (const auto* p : {&ca_pem, &cert_pem, &key_pem, &ca_key_pem}) {
      if (::access(p->c_str(), F_OK) == 0) {
        return Status::AlreadyExists(*p + " exists: pass --force to replace the certificates");
      }
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot make " + dir + ": " + ec.message());

  ERR_clear_error();
  // The CA: CA:TRUE, may sign server certificates only (pathlen 0).
  auto ca_key = NewKey();
  if (!ca_key.ok()) return ca_key.status();
  unsigned char tag[4];
  RAND_bytes(tag, sizeof tag);
  char tag_hex[9];
  std::snprintf(tag_hex, sizeof tag_hex, "%02x%02x%02x%02x", tag[0], tag[1], tag[2], tag[3]);
  auto ca = NewCertificate(ca_key->get(), std::string("hydrant local CA ") + tag_hex, opts.ca_days);
  if (!ca.ok()) return ca.status();
  X509* ca_cert = ca->get();
  X509_set_issuer_name(ca_cert, X509_get_subject_name(ca_cert));
  HYDRANT_RETURN_IF_ERROR(AddExtension(ca_cert, ca_cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  HYDRANT_RETURN_IF_ERROR(AddExtension(ca_cert, ca_cert, NID_key_usage, "critical,keyCertSign,cRLSign"));
  HYDRANT_RETURN_IF_ERROR(AddExtension(ca_cert, ca_cert, NID_subject_key_identifier, "hash"));
  if (X509_sign(ca_cert, ca_key->get(), EVP_sha256()) <= 0) return OpenSslError("signing the CA");

  // The server certificate.
  auto key = NewKey();
  if (!key.ok()) return key.status();
  auto cert = NewCertificate(key->get(), names->front(), opts.cert_days);
  if (!cert.ok()) return cert.status();
  X509* server = cert->get();
  X509_set_issuer_name(server, X509_get_subject_name(ca_cert));
  std::vector<std::string> sans;
  for (const auto& n : *names) sans.push_back((IsIpAddress(n) ? "IP:" : "DNS:") + n);
  HYDRANT_RETURN_IF_ERROR(AddExtension(server, ca_cert, NID_basic_constraints, "critical,CA:FALSE"));
  HYDRANT_RETURN_IF_ERROR(AddExtension(server, ca_cert, NID_key_usage, "critical,digitalSignature"));
  HYDRANT_RETURN_IF_ERROR(AddExtension(server, ca_cert, NID_ext_key_usage, "serverAuth"));
  HYDRANT_RETURN_IF_ERROR(AddExtension(server, ca_cert, NID_subject_alt_name, Join(sans, ",")));
  HYDRANT_RETURN_IF_ERROR(AddExtension(server, ca_cert, NID_subject_key_identifier, "hash"));
  HYDRANT_RETURN_IF_ERROR(AddExtension(server, ca_cert, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(server, ca_key->get(), EVP_sha256()) <= 0) {
    return OpenSslError("signing the certificate");
  }

  auto ca_text = Pem(ca_cert, nullptr);
  auto cert_text = Pem(server, nullptr);
  auto key_text = Pem(nullptr, key->get());
  auto ca_key_text = Pem(nullptr, ca_key->get());
  for (const auto* r : {&ca_text, &cert_text, &key_text, &ca_key_text}) {
    if (!r->ok()) return r->status();
  }
  // Keys first, so that a certificate is never left without its key.
  HYDRANT_RETURN_IF_ERROR(WriteFile(ca_key_pem, *ca_key_text, 0600));
  HYDRANT_RETURN_IF_ERROR(WriteFile(key_pem, *key_text, 0600));
  HYDRANT_RETURN_IF_ERROR(WriteFile(ca_pem, *ca_text, 0644));
  return WriteFile(cert_pem, *cert_text, 0644);
}

int RunCertCommand(const CertCommandOptions& opts, std::ostream& out, std::ostream& err) {
  auto names = CertificateNames(opts.hosts);
  if (!names.ok()) {
    err << "hydrant cert: " << names.status().message() << "\n";
    return 2;
  }
  if (auto st = WriteCertificates(opts); !st.ok()) {
    err << "hydrant cert: " << st.message() << "\n";
    return 1;
  }
  const std::string d = opts.out_dir.empty() ? "." : opts.out_dir;
  out << "Wrote " << d << "/" << kCaCertFile << " (a new local CA, " << opts.ca_days << " days), "
      << d << "/" << kCertFile << " (" << opts.cert_days << " days, for " << Join(*names, ", ")
      << "), " << d << "/" << kKeyFile << " and " << d << "/" << kCaKeyFile << " (private, 0600).\n"
      << "Serve HTTPS:  hydrant serve --tls-cert " << d << "/" << kCertFile << " --tls-key " << d
      << "/" << kKeyFile << "\n"
      << "Clients:      AWS_CA_BUNDLE=" << d << "/" << kCaCertFile
      << " (AWS CLI, SDKs), aws --ca-bundle, curl --cacert\n";
  return 0;
}

}  // namespace hydrant::app
