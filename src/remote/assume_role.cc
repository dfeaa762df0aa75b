#include "remote/assume_role.h"

#include <cstdio>
#include <ctime>

#include "aws/sigv4.h"
#include "destinations/sink_errors.h"
#include "remote/s3_errors.h"

namespace hydrant::remote {
namespace {

constexpr int64_t kRefreshBeforeMs = 5 * 60 * 1000;

}  // namespace

bool ParseIso8601(std::string_view s, int64_t* unix_ms) {
  int y, mo, d, h, mi, sec;
  char rest[32] = {0};
  std::string str(s.substr(0, 60));
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%31s", &y, &mo, &d, &h, &mi, &sec, rest) < 6) {
    return false;
  }
  int64_t ms = 0;
  const char* r = rest;
  if (*r == '.') {
    ++r;
    int digits = 0;
    while (*r >= '0' && *r <= '9') {
      if (digits < 3) ms = ms * 10 + (*r - '0');
      ++digits;
      ++r;
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (*r != 'Z' && *r != '\0' && std::string_view(r) != "+00:00") return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *unix_ms = static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
  return true;
}

Result<AssumedCredentials> ParseAssumeRoleResponse(std::string_view xml) {
  std::string_view creds = xml;
  if (size_t p = xml.find("<Credentials>"); p != std::string_view::npos) creds = xml.substr(p);
  AssumedCredentials out;
  out.credentials.access_key_id = XmlElementText(creds, "AccessKeyId");
  out.credentials.secret_access_key = XmlElementText(creds, "SecretAccessKey");
  out.credentials.session_token = XmlElementText(creds, "SessionToken");
  std::string exp = XmlElementText(creds, "Expiration");
  if (out.credentials.empty() || out.credentials.session_token.empty() ||
      !ParseIso8601(exp, &out.expiration_ms)) {
    return Status::InvalidArgument("AssumeRole answer without complete credentials");
  }
  return out;
}

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(
    AssumeRoleOptions opts, std::shared_ptr<aws::CredentialsProvider> base,
    std::shared_ptr<aws::HttpClient> http, const Clock* clock)
    : opts_(std::move(opts)), base_(std::move(base)), http_(std::move(http)), clock_(clock) {
  if (opts_.sts_endpoint.empty()) opts_.sts_endpoint = "https://sts." + opts_.region + ".amazonaws.com";
  while (!opts_.sts_endpoint.empty() && opts_.sts_endpoint.back() == '/') opts_.sts_endpoint.pop_back();
}

Result<aws::Credentials> AssumeRoleCredentialsProvider::GetCredentials() {
  std::lock_guard lk(mu_);
  if (!cached_.credentials.empty() &&
      clock_->NowMillis() < cached_.expiration_ms - kRefreshBeforeMs) {
    return cached_.credentials;
  }
  auto fresh = Fetch();
  if (!fresh.ok()) return fresh.status();
  cached_ = std::move(*fresh);
  return cached_.credentials;
}

Result<AssumedCredentials> AssumeRoleCredentialsProvider::Fetch() {
  const std::string what = "sts:AssumeRole of " + opts_.role_arn + " at " + opts_.sts_endpoint;
  auto base = base_->GetCredentials();
  if (!base.ok()) {
    return store::SinkError(store::kS3AccessDenied,
                            what + ": no credentials to call STS with (" + base_->Name() +
                                "): " + base.status().message());
  }
  aws::HttpRequest req;
  req.method = "POST";
  req.url = opts_.sts_endpoint + "/";
  req.body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + aws::UriEncode(opts_.role_arn, false) +
             "&RoleSessionName=" + aws::UriEncode(opts_.session_name, false) +
             "&DurationSeconds=" + std::to_string(opts_.duration_seconds);
  aws::UrlParts parts;
  if (!aws::ParseUrl(req.url, &parts)) {
    return store::SinkError(store::kInternalError, what + ": bad STS endpoint URL",
                            StatusCode::kInvalidArgument);
  }
  aws::SignableRequest s;
  s.method = req.method;
  s.path = parts.path;
  s.headers = {{"Host", parts.HostHeader()},
               {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  s.payload_hash = aws::Sha256Hex(req.body);
  auto signed_req =
      aws::Sign(&s, *base, aws::SigningOptions{opts_.region, "sts"}, clock_->NowMillis());
  if (!signed_req.ok()) {
    return store::SinkError(store::kS3AccessDenied, what + ": " + signed_req.status().message());
  }
  req.headers = std::move(s.headers);
  auto resp = http_->Send(req, opts_.timeout);
  if (!resp.ok()) {
    return store::SinkError(store::kInternalError,
                            what + " failed: cannot reach the endpoint: " + resp.status().message());
  }
  if (resp->status / 100 != 2) {
    S3ErrorBody e = ParseS3ErrorBody(resp->body);
    std::string msg = what + " failed: HTTP " + std::to_string(resp->status);
    if (!e.code.empty()) msg += " " + e.code;
    if (!e.message.empty()) msg += ": " + e.message;
    return store::SinkError(FirehoseCodeForS3(e.code, resp->status), msg);
  }
  auto parsed = ParseAssumeRoleResponse(resp->body);
  if (!parsed.ok()) {
    return store::SinkError(store::kInternalError, what + ": " + parsed.status().message());
  }
  return parsed;
}

}  // namespace hydrant::remote
