#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

namespace hydrant::aws {
namespace {

// Decodes %XX escapes; a malformed escape is kept literally ('+' is not a space:
// SigV4 canonicalization treats it as a plain character).
std::string PercentDecodeLenient(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Trims and collapses runs of spaces/tabs to one space (AWS "Trimall").
std::string TrimAll(std::string_view v) {
  size_t b = 0, e = v.size();
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (b < e && ws(v[b])) ++b;
  while (e > b && ws(v[e - 1])) --e;
  std::string out;
  out.reserve(e - b);
  bool in_space = false;
  for (size_t i = b; i < e; ++i) {
    if (ws(v[i])) {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(v[i]);
      in_space = false;
    }
  }
  return out;
}

// Headers the signer leaves out: hop-by-hop or rewritten by proxies and HTTP stacks.
bool SkipWhenSigning(std::string_view lower_name) {
  static constexpr std::string_view kSkip[] = {
      "authorization",     "user-agent", "expect", "content-length", "connection",     "keep-alive",
      "transfer-encoding", "upgrade",    "te",     "trailer",        "x-amzn-trace-id"};
  for (auto s : kSkip) {
    if (lower_name == s) return true;
  }
  return lower_name.starts_with("proxy-");
}

const std::string* FindHeader(std::span<const Header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.first, name)) return &h.second;
  }
  return nullptr;
}


// Builds the canonical request; `missing` receives the first signed header absent
// from the request (an error for the verifier).
std::string BuildCanonicalRequest(const RequestView& req,
                                  std::span<const std::string> signed_headers, PathRules rules,
                                  std::string* missing) {
  std::string out;
  out.reserve(256 + req.payload_hash.size());
  out.append(req.method).push_back('\n');
  out.append(CanonicalUri(req.path, rules)).push_back('\n');
  out.append(CanonicalQuery(req.query)).push_back('\n');
  for (const auto& name : signed_headers) {
    std::string value;
    bool found = false;
    for (const auto& h : req.headers) {
      if (!EqualsIgnoreCase(h.first, name)) continue;
      if (found) value.push_back(',');
      value += TrimAll(h.second);
      found = true;
    }
    if (!found && missing != nullptr && missing->empty()) *missing = name;
    out.append(AsciiLower(name)).push_back(':');
    out.append(value).push_back('\n');
  }
  out.push_back('\n');
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) out.push_back(';');
    out.append(AsciiLower(signed_headers[i]));
  }
  out.push_back('\n');
  out.append(req.payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string s(kAlgorithm);
  s.push_back('\n');
  s.append(amz_date).push_back('\n');
  s.append(scope).push_back('\n');
  s.append(Sha256Hex(canonical_request));
  return s;
}

bool ParseAmzDate(std::string_view s, int64_t* unix_ms) {
  // YYYYMMDDTHHMMSSZ
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;
  }
  *unix_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return true;
}

}  // namespace

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string s;
  s.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return s;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string k = "AWS4";
  k.append(secret);
  std::string k_date = HmacSha256(k, date);
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  return HmacSha256(k_service, "aws4_request");
}

std::string FormatAmzDate(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

bool ParseRequestDate(std::string_view s, int64_t* unix_ms) {
  if (ParseAmzDate(s, unix_ms)) return true;
  // RFC 1123: "Fri, 24 May 2013 00:00:00 GMT".
  std::string copy(s);
  std::tm tm{};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return false;
  *unix_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return true;
}


PathRules ResolvePathRules(PathRules rules, std::string_view service) {
  if (rules != PathRules::kAuto) return rules;
  return (service == "s3" || service.starts_with("s3-") || service == "s3express")
             ? PathRules::kS3
             : PathRules::kDefault;
}

std::string CanonicalUri(std::string_view path, PathRules rules) {
  if (path.empty()) return "/";
  if (rules == PathRules::kS3) {
    return UriEncode(PercentDecodeLenient(path), /*keep_slash=*/true);
  }
  // Remove dot segments and empty segments (RFC 3986 5.2.4, plus collapsing "//").
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string normalized = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized.push_back('/');
    normalized.append(segments[i]);
  }
  const bool trailing = path.back() == '/' || path.ends_with("/.") || path.ends_with("/..");
  if (trailing && normalized.size() > 1) normalized.push_back('/');
  return UriEncode(normalized, /*keep_slash=*/true);
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(pos, amp - pos);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string_view k = item.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      params.emplace_back(UriEncode(PercentDecodeLenient(k), false),
                          UriEncode(PercentDecodeLenient(v), false));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append(params[i].first).push_back('=');
    out.append(params[i].second);
  }
  return out;
}

Result<SigningResult> SignWithHeaders(const RequestView& req,
                                      std::span<const std::string> signed_headers,
                                      const Credentials& creds, const SigningOptions& opts,
                                      std::string_view amz_date) {
  if (creds.empty()) return Status::InvalidArgument("SigV4: empty credentials");
  if (opts.region.empty() || opts.service.empty()) {
    return Status::InvalidArgument("SigV4: region and service are required");
  }
  if (amz_date.size() != 16) return Status::InvalidArgument("SigV4: bad X-Amz-Date");
  std::string missing;
  SigningResult r;
  r.canonical_request = BuildCanonicalRequest(
      req, signed_headers, ResolvePathRules(opts.path_rules, opts.service), &missing);
  if (!missing.empty()) {
    return Status::InvalidArgument("SigV4: signed header '" + missing + "' is not in the request");
  }
  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, opts.region, opts.service);
  r.string_to_sign = StringToSign(amz_date, scope, r.canonical_request);
  r.signature = HexEncode(
      HmacSha256(DeriveSigningKey(creds.secret_access_key, date, opts.region, opts.service),
                 r.string_to_sign));
  r.authorization.append(kAlgorithm).append(" Credential=").append(creds.access_key_id);
  r.authorization.append("/").append(scope).append(", SignedHeaders=");
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) r.authorization.push_back(';');
    r.authorization.append(AsciiLower(signed_headers[i]));
  }
  r.authorization.append(", Signature=").append(r.signature);
  return r;
}

Result<SigningResult> Sign(SignableRequest* req, const Credentials& creds,
                           const SigningOptions& opts, int64_t now_unix_ms) {
  if (creds.empty()) return Status::InvalidArgument("SigV4: empty credentials");
  if (FindHeader(req->headers, "host") == nullptr) {
    return Status::InvalidArgument("SigV4: the request has no Host header");
  }
  if (req->payload_hash.empty()) req->payload_hash = std::string(kEmptyPayloadHash);
  auto remove_header = [&](std::string_view name) {
    auto it = std::remove_if(req->headers.begin(), req->headers.end(),
                             [&](const Header& h) { return EqualsIgnoreCase(h.first, name); });
    req->headers.erase(it, req->headers.end());
  };
  auto set_header = [&](std::string_view name, std::string value) {
    remove_header(name);
    req->headers.emplace_back(std::string(name), std::move(value));
  };
  const std::string amz_date = FormatAmzDate(now_unix_ms);
  set_header("X-Amz-Date", amz_date);
  if (!creds.session_token.empty()) set_header("X-Amz-Security-Token", creds.session_token);
  if (opts.add_content_sha256_header) set_header("x-amz-content-sha256", req->payload_hash);
  remove_header("Authorization");  // a stale signature from an earlier attempt

  std::vector<std::string> names;
  for (const auto& h : req->headers) {
    std::string n = AsciiLower(h.first);
    if (SkipWhenSigning(n)) continue;
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  auto r = SignWithHeaders(ViewOf(*req), names, creds, opts, amz_date);
  if (!r.ok()) return r.status();
  req->headers.emplace_back("Authorization", r->authorization);
  return r;
}

Result<ParsedAuthorization> ParseAuthorization(std::string_view v, AuthorizationError* why) {
  AuthorizationError scratch;
  if (why == nullptr) why = &scratch;
  const std::string whole(v);
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  v = trim(v);
  if (!v.starts_with(kAlgorithm) || v.size() == kAlgorithm.size() ||
      (v[kAlgorithm.size()] != ' ' && v[kAlgorithm.size()] != '\t')) {
    *why = AuthorizationError::kNotSigV4;
    return Status::InvalidArgument("Authorization header is not " + std::string(kAlgorithm));
  }
  v = trim(v.substr(kAlgorithm.size()));
  std::string_view credential, signed_headers, signature;
  bool have_c = false, have_h = false, have_s = false;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view part = trim(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      *why = AuthorizationError::kMissingComponent;
      return Status::InvalidArgument("Authorization header requires each component to be of the "
                                     "form key=value. Authorization=" + whole);
    }
    std::string_view key = trim(part.substr(0, eq));
    std::string_view val = trim(part.substr(eq + 1));
    if (key == "Credential") {
      credential = val, have_c = true;
    } else if (key == "SignedHeaders") {
      signed_headers = val, have_h = true;
    } else if (key == "Signature") {
      signature = val, have_s = true;
    }
  }
  std::string missing;
  if (!have_c) missing += "Authorization header requires 'Credential' parameter. ";
  if (!have_s) missing += "Authorization header requires 'Signature' parameter. ";
  if (!have_h) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) {
    *why = AuthorizationError::kMissingComponent;
    return Status::InvalidArgument(missing + "Authorization=" + whole);
  }
  ParsedAuthorization out;
  // Credential=AKID/DATE/REGION/SERVICE/aws4_request; the key id itself has no '/'.
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t slash = credential.find('/', pos);
    parts.push_back(credential.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (parts.size() != 5 || parts[0].empty() || parts[1].size() != 8 || parts[2].empty() ||
      parts[3].empty() || parts[4] != "aws4_request") {
    *why = AuthorizationError::kMalformedCredential;
    return Status::InvalidArgument(
        "Credential should be scoped to a valid region, service and terminated by aws4_request: '" +
        std::string(credential) + "'");
  }
  out.access_key_id = std::string(parts[0]);
  out.date = std::string(parts[1]);
  out.region = std::string(parts[2]);
  out.service = std::string(parts[3]);
  pos = 0;
  while (pos <= signed_headers.size()) {
    size_t semi = signed_headers.find(';', pos);
    if (semi == std::string_view::npos) semi = signed_headers.size();
    std::string_view h = signed_headers.substr(pos, semi - pos);
    if (!h.empty()) out.signed_headers.emplace_back(h);
    pos = semi + 1;
  }
  if (out.signed_headers.empty() || signature.empty()) {
    *why = AuthorizationError::kMissingComponent;
    return Status::InvalidArgument(std::string(out.signed_headers.empty() ? "SignedHeaders"
                                                                          : "Signature") +
                                   " is empty. Authorization=" + whole);
  }
  out.signature = std::string(signature);
  return out;
}

namespace {

using Outcome = VerifyResult::Outcome;

VerifyResult Fail(VerifyResult r, Outcome o, std::string m) {
  r.outcome = o;
  r.message = std::move(m);
  return r;
}

// Builds the canonical request and string to sign for a request dated `r->amz_date`
// and compares its signature with auth.signature in constant time.
VerifyResult CheckSignature(const RequestView& req, const ParsedAuthorization& auth,
                            std::string_view signing_key, PathRules rules, VerifyResult r) {
  bool has_host = false;
  for (const auto& h : auth.signed_headers) has_host |= EqualsIgnoreCase(h, "host");
  if (!has_host) {
    return Fail(std::move(r), Outcome::kMalformed,
                "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  std::string missing;
  r.canonical_request = BuildCanonicalRequest(req, auth.signed_headers,
                                              ResolvePathRules(rules, auth.service), &missing);
  if (!missing.empty()) {
    return Fail(std::move(r), Outcome::kMalformed,
                "The signed header '" + missing + "' is missing.");
  }
  const std::string scope = CredentialScope(auth.date, auth.region, auth.service);
  r.string_to_sign = StringToSign(r.amz_date, scope, r.canonical_request);
  if (auth.date != std::string_view(r.amz_date).substr(0, 8)) {
    return Fail(std::move(r), Outcome::kSignatureMismatch,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '" +
                    auth.date + "' != '" + r.amz_date.substr(0, 8) + "'");
  }
  const std::string expected = HexEncode(HmacSha256(signing_key, r.string_to_sign));
  if (expected.size() != auth.signature.size() ||
      CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    return Fail(std::move(r), Outcome::kSignatureMismatch,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
  }
  return r;
}

// Calls fn(item) for each non-empty "k=v" item of a raw query, in order.
template <typename Fn>
void ForEachQueryItem(std::string_view query, Fn fn) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (!item.empty()) fn(item);
  }
}

// The query's parameters, split and decoded, in order.
std::vector<std::pair<std::string, std::string>> SplitQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  ForEachQueryItem(query, [&](std::string_view item) {
    size_t eq = item.find('=');
    std::string_view v = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    out.emplace_back(PercentDecodeLenient(item.substr(0, eq)), PercentDecodeLenient(v));
  });
  return out;
}

// The raw query without its X-Amz-Signature parameter (what a presigner signed).
std::string QueryWithoutSignature(std::string_view query) {
  std::string out;
  ForEachQueryItem(query, [&](std::string_view item) {
    if (PercentDecodeLenient(item.substr(0, item.find('='))) == "X-Amz-Signature") return;
    if (!out.empty()) out.push_back('&');
    out.append(item);
  });
  return out;
}

}  // namespace

VerifyResult Verify(const RequestView& req, const ParsedAuthorization& auth,
                    std::string_view secret, const VerifyOptions& opts) {
  return VerifyWithKey(req, auth, DeriveSigningKey(secret, auth.date, auth.region, auth.service),
                       opts);
}

VerifyResult VerifyWithKey(const RequestView& req, const ParsedAuthorization& auth,
                           std::string_view signing_key, const VerifyOptions& opts) {
  VerifyResult r;
  const std::string* amz_date = FindHeader(req.headers, "x-amz-date");
  const std::string* date_header = amz_date ? amz_date : FindHeader(req.headers, "date");
  if (date_header == nullptr) {
    return Fail(std::move(r), Outcome::kMalformed,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header.");
  }
  if (!ParseRequestDate(*date_header, &r.request_ms)) {
    return Fail(std::move(r), Outcome::kMalformed,
                "Could not parse the request date '" + *date_header + "'");
  }
  // The string to sign carries the timestamp in X-Amz-Date form whichever header held it.
  r.amz_date = FormatAmzDate(r.request_ms);
  if (opts.max_skew_ms > 0) {
    const std::string now = FormatAmzDate(opts.now_unix_ms);
    const std::string minutes = std::to_string(opts.max_skew_ms / 60000);
    if (r.request_ms < opts.now_unix_ms - opts.max_skew_ms) {
      return Fail(std::move(r), Outcome::kTimeSkewed,
                  "Signature expired: " + FormatAmzDate(r.request_ms) + " is now earlier than " +
                      FormatAmzDate(opts.now_unix_ms - opts.max_skew_ms) + " (" + now + " - " +
                      minutes + " min.)");
    }
    if (r.request_ms > opts.now_unix_ms + opts.max_skew_ms) {
      return Fail(std::move(r), Outcome::kTimeSkewed,
                  "Signature not yet current: " + FormatAmzDate(r.request_ms) +
                      " is still later than " +
                      FormatAmzDate(opts.now_unix_ms + opts.max_skew_ms) + " (" + now + " + " +
                      minutes + " min.)");
    }
  }
  return CheckSignature(req, auth, signing_key, opts.path_rules, std::move(r));
}

bool IsPresignedQuery(std::string_view query) {
  for (const auto& [k, v] : SplitQuery(query)) {
    if (k == "X-Amz-Algorithm" || k == "X-Amz-Credential" || k == "X-Amz-Signature") return true;
  }
  return false;
}

Result<ParsedPresigned> ParsePresigned(std::string_view query) {
  const std::string* algorithm = nullptr;
  const std::string* credential = nullptr;
  const std::string* signature = nullptr;
  const std::string* date = nullptr;
  const std::string* signed_headers = nullptr;
  const std::string* expires = nullptr;
  ParsedPresigned out;
  auto params = SplitQuery(query);
  for (const auto& [k, v] : params) {
    if (k == "X-Amz-Algorithm") algorithm = &v;
    if (k == "X-Amz-Credential") credential = &v;
    if (k == "X-Amz-Signature") signature = &v;
    if (k == "X-Amz-Date") date = &v;
    if (k == "X-Amz-SignedHeaders") signed_headers = &v;
    if (k == "X-Amz-Expires") expires = &v;
    if (k == "X-Amz-Security-Token") out.security_token = v;
  }
  if (!algorithm || !credential || !signature || !date || !signed_headers || !expires) {
    return Status::InvalidArgument(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  }
  if (*algorithm != kAlgorithm) {
    return Status::InvalidArgument("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  }
  // The same rules as the header's Credential and SignedHeaders.
  AuthorizationError why;
  auto auth = ParseAuthorization("AWS4-HMAC-SHA256 Credential=" + *credential +
                                     ", SignedHeaders=" + *signed_headers +
                                     ", Signature=" + *signature,
                                 &why);
  if (!auth.ok()) {
    if (why == AuthorizationError::kMalformedCredential || credential->empty() ||
        credential->find(',') != std::string::npos) {
      return Status::InvalidArgument(
          "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
          "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
    }
    return Status::InvalidArgument(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  }
  out.auth = std::move(*auth);
  out.amz_date = *date;
  int64_t ms = 0;
  if (date->size() != 16 || !ParseRequestDate(*date, &ms)) {
    return Status::InvalidArgument(
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  out.date_ms = ms;
  if (expires->empty() || expires->size() > 18 ||
      !std::all_of(expires->begin() + ((*expires)[0] == '-' ? 1 : 0), expires->end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      *expires == "-") {
    return Status::InvalidArgument("X-Amz-Expires should be a number");
  }
  out.expires_seconds = std::stoll(*expires);
  if (out.expires_seconds < 0) {
    return Status::InvalidArgument("X-Amz-Expires must be non-negative");
  }
  if (out.expires_seconds > kMaxPresignedExpiresSeconds) {
    return Status::InvalidArgument(
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
        "must be less than 604800 seconds");
  }
  return out;
}

VerifyResult VerifyPresigned(const RequestView& req, const ParsedPresigned& p,
                             std::string_view signing_key, const VerifyOptions& opts) {
  VerifyResult r;
  r.request_ms = p.date_ms;
  r.amz_date = FormatAmzDate(p.date_ms);
  if (opts.now_unix_ms > p.date_ms + p.expires_seconds * 1000) {
    return Fail(std::move(r), Outcome::kExpired, "Request has expired");
  }
  if (opts.max_skew_ms > 0 && p.date_ms > opts.now_unix_ms + opts.max_skew_ms) {
    return Fail(std::move(r), Outcome::kNotYetValid, "Request is not valid yet");
  }
  const std::string query = QueryWithoutSignature(req.query);
  RequestView unsigned_query = req;
  unsigned_query.query = query;
  return CheckSignature(unsigned_query, p.auth, signing_key, opts.path_rules, std::move(r));
}

struct SigningKeyCache::Impl {
  size_t capacity;
  mutable std::mutex mu;
  std::unordered_map<std::string, std::string> keys;
  std::deque<std::string> order;  // oldest first
};

SigningKeyCache::SigningKeyCache(size_t capacity) : impl_(std::make_unique<Impl>()) {
  impl_->capacity = std::max<size_t>(1, capacity);
}
SigningKeyCache::~SigningKeyCache() {
  // The keys derive from secrets: wipe them before the memory goes back.
  for (auto& [k, v] : impl_->keys) OPENSSL_cleanse(v.data(), v.size());
}

std::string SigningKeyCache::Get(std::string_view secret, std::string_view date,
                                 std::string_view region, std::string_view service) {
  std::string id;
  id.reserve(secret.size() + date.size() + region.size() + service.size() + 3);
  id.append(date).push_back('/');
  id.append(region).push_back('/');
  id.append(service).push_back('\n');
  id.append(secret);
  {
    std::lock_guard lk(impl_->mu);
    auto it = impl_->keys.find(id);
    if (it != impl_->keys.end()) return it->second;
  }
  std::string key = DeriveSigningKey(secret, date, region, service);
  std::lock_guard lk(impl_->mu);
  if (impl_->keys.emplace(id, key).second) {
    impl_->order.push_back(std::move(id));
    while (impl_->order.size() > impl_->capacity) {
      auto old = impl_->keys.find(impl_->order.front());
      OPENSSL_cleanse(old->second.data(), old->second.size());
      impl_->keys.erase(old);
      impl_->order.pop_front();
    }
  }
  return key;
}

size_t SigningKeyCache::size() const {
  std::lock_guard lk(impl_->mu);
  return impl_->keys.size();
}

namespace {
std::string PayloadSignature(std::string_view algorithm, std::string_view signing_key,
                             std::string_view amz_date, std::string_view scope,
                             std::string_view previous, std::string_view extra,
                             std::string_view sha256_hex) {
  std::string sts(algorithm);
  sts.push_back('\n');
  sts.append(amz_date).push_back('\n');
  sts.append(scope).push_back('\n');
  sts.append(previous).push_back('\n');
  if (!extra.empty()) sts.append(extra).push_back('\n');
  sts.append(sha256_hex);
  return HexEncode(HmacSha256(signing_key, sts));
}
}  // namespace

std::string ChunkSignature(std::string_view signing_key, std::string_view amz_date,
                           std::string_view scope, std::string_view previous_signature,
                           std::string_view chunk_sha256_hex) {
  return PayloadSignature("AWS4-HMAC-SHA256-PAYLOAD", signing_key, amz_date, scope,
                          previous_signature, kEmptyPayloadHash, chunk_sha256_hex);
}

std::string TrailerSignature(std::string_view signing_key, std::string_view amz_date,
                             std::string_view scope, std::string_view previous_signature,
                             std::string_view trailer_sha256_hex) {
  return PayloadSignature("AWS4-HMAC-SHA256-TRAILER", signing_key, amz_date, scope,
                          previous_signature, "", trailer_sha256_hex);
}

}  // namespace hydrant::aws
