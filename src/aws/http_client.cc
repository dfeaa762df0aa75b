#include "aws/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "common/strings.h"

namespace hydrant::aws {
namespace {

// The error code of a timeout (machine-readable); the message keeps saying
// "HTTP timeout: ..." for the people who read it (error events, the doctor).
constexpr std::string_view kTimeoutCode = "HttpTimeout";

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Exchange {
  HttpResponse* resp;
  size_t cap;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * n;
  if (ex->resp->body.size() + len > ex->cap) {
    ex->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  ex->resp->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line (after a 1xx interim response): keep only the final headers.
    ex->resp->headers.clear();
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  ex->resp->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return len;
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.first, name)) return &h.second;
  }
  return nullptr;
}

Status HttpTimeoutError(std::string_view detail) {
  return Status::Unavailable("HTTP timeout: " + std::string(detail)).WithErrorCode(kTimeoutCode);
}

bool IsTimeout(const Status& s) {
  return s.code() == StatusCode::kUnavailable && s.error_code() == kTimeoutCode;
}

std::string UrlParts::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 0) h += ":" + std::to_string(port);
  return h;
}

bool ParseUrl(std::string_view url, UrlParts* out) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = url.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view tail = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  UrlParts p;
  p.scheme = scheme;
  std::string_view port_str;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    p.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port_str = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    p.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_str = authority.substr(colon + 1);
  }
  if (p.host.empty()) return false;
  if (!port_str.empty()) {
    int port = 0;
    for (char c : port_str) {
      if (c < '0' || c > '9') return false;
      port = port * 10 + (c - '0');
      if (port > 65535) return false;
    }
    p.port = port;
  }
  size_t hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  p.path = std::string(tail.substr(0, q));
  if (p.path.empty()) p.path = "/";
  if (q != std::string_view::npos) p.query = std::string(tail.substr(q + 1));
  *out = std::move(p);
  return true;
}

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions opts) : opts_(std::move(opts)) {
  GlobalInitOnce();
}

CurlHttpClient::~CurlHttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlHttpClient::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlHttpClient::Release(void* h) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < opts_.max_idle_handles) {
      idle_.push_back(h);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(h));
}

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& req,
                                          std::chrono::milliseconds timeout) {
  UrlParts parts;
  if (!ParseUrl(req.url, &parts)) return Status::InvalidArgument("bad URL: " + req.url);
  if (req.method.empty()) return Status::InvalidArgument("empty HTTP method");

  CURL* h = static_cast<CURL*>(Acquire());
  if (h == nullptr) return Status::Internal("curl_easy_init failed");
  // reset() clears options but keeps the handle's live connections and DNS cache.
  curl_easy_reset(h);

  HttpResponse resp;
  Exchange ex{&resp,
              req.max_response_bytes != 0 ? req.max_response_bytes : opts_.max_response_bytes};

  curl_slist* headers = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : req.headers) {
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "expect")) continue;
    if (EqualsIgnoreCase(name, "content-type")) has_content_type = true;
    std::string line = name;
    // "Name;" is curl's way to send a header with an empty value.
    line += value.empty() ? ";" : ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  // With a body, curl would invent "Content-Type: application/x-www-form-urlencoded".
  if (!has_content_type) headers = curl_slist_append(headers, "Content-Type:");

  const long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count()));
  const long connect_ms =
      std::min<long>(timeout_ms, static_cast<long>(opts_.connect_timeout.count()));

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, nullptr);  // bodies arrive as sent
  curl_easy_setopt(h, CURLOPT_USERAGENT, opts_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts_.verify_tls ? 2L : 0L);
  if (!opts_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opts_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);

  if (req.method == "GET" && req.body.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS sends the body with a Content-Length; CUSTOMREQUEST sets the verb.
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  // Detach pointers to this call's stack before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);

  if (rc != CURLE_OK) {
    std::string detail = req.method + " " + req.url + ": " +
                         (errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc));
    // A failed transfer may leave the connection in an unknown state: drop the handle.
    curl_easy_cleanup(h);
    if (ex.too_large) {
      return Status::ResourceExhausted("response body exceeds " + std::to_string(ex.cap) +
                                       " bytes: " + req.method + " " + req.url);
    }
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return HttpTimeoutError(detail);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Status::InvalidArgument(detail);
      default:
        return Status::Unavailable(detail);
    }
  }
  Release(h);
  resp.status = static_cast<int>(status);
  return resp;
}

}  // namespace hydrant::aws
