#pragma once
// `hydrant cert --out DIR [--host NAME]...`: makes what HTTPS on a private
// network needs, with OpenSSL 3 (EC P-256 keys, SHA-256 signatures):
//   DIR/ca.pem      a new local certificate authority (10 years), for clients
//                   (AWS_CA_BUNDLE, --ca-bundle, curl --cacert, boto3 verify=)
//   DIR/cert.pem    a server certificate signed by it (825 days, serverAuth),
//                   for every --host plus localhost, 127.0.0.1 and ::1
//   DIR/key.pem     its private key (0600)          -> tls.cert / tls.key
//   DIR/ca-key.pem  the CA's private key (0600), to sign more certificates
// Existing files are never overwritten without `force` (then all four are
// replaced). docs/security.md, "TLS and secure defaults".
// Exit codes of RunCertCommand: 0 written, 1 could not write, 2 usage error.

#include <iosfwd>
#include <string>
#include <vector>

#include "common/status.h"

namespace hydrant::app {

struct CertCommandOptions {
  std::string out_dir;
  std::vector<std::string> hosts;  // DNS names ("*.example.com" too) or IP addresses
  bool force = false;
  int ca_days = 3650;
  int cert_days = 825;  // the longest validity Apple's clients accept
};

// The files written into out_dir.
inline constexpr const char* kCaCertFile = "ca.pem";
inline constexpr const char* kCertFile = "cert.pem";
inline constexpr const char* kKeyFile = "key.pem";
inline constexpr const char* kCaKeyFile = "ca-key.pem";

// The certificate's subject alternative names: the hosts in order, then
// localhost, 127.0.0.1 and ::1, each once. InvalidArgument for a host that is
// neither an IP address nor a DNS name.
Result<std::vector<std::string>> CertificateNames(const std::vector<std::string>& hosts);

// Writes the four files. AlreadyExists (naming the file) when one exists and
// !force; nothing is written then.
Status WriteCertificates(const CertCommandOptions& opts);

int RunCertCommand(const CertCommandOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace hydrant::app
