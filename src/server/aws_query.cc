#include "server/aws_query.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "aws/sigv4.h"
#include "common/strings.h"
#include "iam/identity_store.h"
#include "server/xml_writer.h"

namespace hydrant::server::query {

namespace {

// The service of a SigV4 credential scope "AKID/DATE/REGION/SERVICE/aws4_request".
std::string_view ScopeService(std::string_view credential) {
  size_t end = credential.rfind('/');
  if (end == std::string_view::npos) return {};
  size_t begin = credential.rfind('/', end - 1);
  if (begin == std::string_view::npos) return {};
  return credential.substr(begin + 1, end - begin - 1);
}

// The scope's service of a signed request: "" when unsigned.
std::string SignedService(const http::Request& req) {
  // Parsed exactly as authentication parses it (aws::ParseAuthorization): a
  // header the router read differently from the verifier could send a request
  // verified as S3 to IAM.
  if (std::string_view auth = req.Header("Authorization"); !auth.empty()) {
    auto parsed = aws::ParseAuthorization(auth);
    return parsed.ok() ? parsed->service : std::string();
  }
  std::string_view q = req.Query();
  if (q.find("X-Amz-Credential=") != std::string_view::npos) {
    for (const auto& [k, v] : http::ParseQuery(q)) {
      if (k == "X-Amz-Credential") return std::string(ScopeService(v));
    }
  }
  return {};
}

bool IsForm(const http::Request& req) {
  std::string_view ct = req.Header("Content-Type");
  return AsciiLower(ct.substr(0, ct.find(';'))) == "application/x-www-form-urlencoded";
}

Service ByVersion(std::string_view version) {
  if (version == kIamVersion) return Service::kIam;
  if (version == kStsVersion) return Service::kSts;
  return Service::kNone;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseForm(std::string_view body) {
  std::string plus_decoded(body);
  for (char& c : plus_decoded) {
    if (c == '+') c = ' ';
  }
  return http::ParseQuery(plus_decoded);
}

Service Detect(const http::Request& req) {
  std::string service = SignedService(req);
  if (service == "iam") return Service::kIam;
  if (service == "sts") return Service::kSts;
  if (!service.empty() || req.Path() != "/") return Service::kNone;
  if (req.method != "GET" && req.method != "POST") return Service::kNone;
  if (req.method == "POST" && !IsForm(req) &&
      req.Query().find("Action=") == std::string_view::npos) {
    return Service::kNone;
  }
  Params p(req);
  if (!p.Has("Action")) return Service::kNone;
  return ByVersion(p.Get("Version").value_or(""));
}

bool MayBeQuery(const http::Request& head) {
  std::string service = SignedService(head);
  if (service == "iam" || service == "sts") return true;
  if (!service.empty() || head.Path() != "/") return false;
  if (head.method == "POST") return IsForm(head);
  return head.method == "GET" && head.Query().find("Action=") != std::string_view::npos;
}

Params::Params(const http::Request& req) {
  items_ = ParseForm(req.Query());
  if (req.method == "POST") {
    for (auto& kv : ParseForm(req.body)) items_.push_back(std::move(kv));
  }
}

std::optional<std::string> Params::Get(std::string_view name) const {
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

std::vector<std::vector<std::string>> Params::Members(
    std::string_view list, const std::vector<std::string_view>& fields) const {
  std::vector<std::vector<std::string>> out;
  for (int n = 1;; ++n) {
    std::string prefix = std::string(list) + ".member." + std::to_string(n);
    std::vector<std::string> row;
    bool any = false;
    for (std::string_view f : fields) {
      auto v = Get(f.empty() ? prefix : prefix + "." + std::string(f));
      any = any || v.has_value();
      row.push_back(v.value_or(""));
    }
    if (!any) return out;
    out.push_back(std::move(row));
  }
}

http::Response Reply(std::string_view action, std::string_view xmlns,
                     const std::optional<std::string>& result, const std::string& request_id) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  body.append(action).append("Response xmlns=\"").append(xmlns).append("\">");
  if (result) {
    body.append("<").append(action).append("Result>").append(*result);
    body.append("</").append(action).append("Result>");
  }
  body.append("<ResponseMetadata><RequestId>").append(request_id);
  body.append("</RequestId></ResponseMetadata></").append(action).append("Response>");
  http::Response r;
  r.SetHeader("Content-Type", "text/xml");
  r.SetHeader("x-amzn-RequestId", request_id);
  r.body = std::move(body);
  return r;
}

http::Response ErrorReply(std::string_view xmlns, const Error& e, const std::string& request_id) {
  XmlWriter w;
  w.Declaration();
  w.Open("ErrorResponse", xmlns);
  w.Open("Error");
  w.Element("Type", e.sender ? "Sender" : "Receiver");
  w.Element("Code", e.code);
  w.Element("Message", e.message);
  w.Close();
  w.Element("RequestId", request_id);
  w.Close();
  http::Response r;
  r.status = e.status;
  r.SetHeader("Content-Type", "text/xml");
  r.SetHeader("x-amzn-RequestId", request_id);
  r.body = w.Take();
  return r;
}

std::string FormatTime(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void Validator::Add(std::string_view field, const std::optional<std::string>& value,
                    std::string constraint) {
  std::string v = value ? "'" + *value + "'" : "null";
  errors_.push_back("Value " + v + " at '" + std::string(field) +
                    "' failed to satisfy constraint: " + constraint);
}

void Validator::Required(std::string_view field, const std::optional<std::string>& value) {
  if (!value) Add(field, value, "Member must not be null");
}

void Validator::Length(std::string_view field, const std::optional<std::string>& value, size_t min,
                       size_t max) {
  if (!value) return;
  if (value->size() < min) {
    Add(field, value, "Member must have length greater than or equal to " + std::to_string(min));
  } else if (value->size() > max) {
    Add(field, value, "Member must have length less than or equal to " + std::to_string(max));
  }
}

void Validator::Chars(std::string_view field, const std::optional<std::string>& value,
                      bool (*ok)(unsigned char), std::string_view pattern) {
  if (!value) return;
  bool good = true;
  for (unsigned char c : *value) good = good && ok(c);
  Pattern(field, value, good, pattern);
}

void Validator::Pattern(std::string_view field, const std::optional<std::string>& value,
                        bool matches, std::string_view pattern) {
  if (value && !matches) {
    Add(field, value, "Member must satisfy regular expression pattern: " + std::string(pattern));
  }
}

std::optional<int64_t> Validator::Int(std::string_view field,
                                      const std::optional<std::string>& value, int64_t min,
                                      int64_t max) {
  if (!value) return std::nullopt;
  int64_t n = 0;
  if (!ParseWhole(*value, &n)) {
    Add(field, value, "Member must be a number");
    return std::nullopt;
  }
  if (n < min) {
    Add(field, value, "Member must have value greater than or equal to " + std::to_string(min));
    return std::nullopt;
  }
  if (n > max) {
    Add(field, value, "Member must have value less than or equal to " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

void Validator::Enum(std::string_view field, const std::optional<std::string>& value,
                     const std::vector<std::string_view>& allowed) {
  if (!value) return;
  for (auto a : allowed) {
    if (*value == a) return;
  }
  std::string set = "[";
  for (size_t i = 0; i < allowed.size(); ++i) {
    set += (i ? ", " : "") + std::string(allowed[i]);
  }
  Add(field, value, "Member must satisfy enum value set: " + set + "]");
}

std::optional<Error> Validator::Result() const {
  if (errors_.empty()) return std::nullopt;
  std::string m =
      std::to_string(errors_.size()) +
      (errors_.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (size_t i = 0; i < errors_.size(); ++i) m += (i ? "; " : "") + errors_[i];
  return Error{400, "ValidationError", m, true};
}

Error FromStatus(const Status& st) {
  std::string_view code = st.error_code();
  if (code == iam::kNoSuchEntity) return {404, std::string(code), st.message()};
  if (code == iam::kEntityAlreadyExists || code == iam::kLimitExceeded ||
      code == iam::kDeleteConflict) {
    return {409, std::string(code), st.message()};
  }
  if (code == iam::kAccessDenied) return {403, std::string(code), st.message()};
  if (!code.empty() && code != kDiskFullErrorCode) return {400, std::string(code), st.message()};
  // Internal detail (paths, errno) goes to the log, not to the client.
  spdlog::error("event=iam_failure error=\"{}\"", st.ToString());
  return {500, "ServiceFailure",
          "The request processing has failed because of an unknown error, exception or failure.",
          false};
}

}  // namespace hydrant::server::query
