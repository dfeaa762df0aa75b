#pragma once
// AWS's Query protocol, shared by the APIs that speak it (IAM, STS): requests are
// form fields (Action=...&Version=...) in a POST body or a GET query; answers are
// XML in the service's namespace —
//   <ActionResponse xmlns=NS><ActionResult>...</ActionResult>
//     <ResponseMetadata><RequestId>UUID</RequestId></ResponseMetadata></ActionResponse>
// and errors
//   <ErrorResponse xmlns=NS><Error><Type>Sender</Type><Code>C</Code><Message>M</Message>
//     </Error><RequestId>UUID</RequestId></ErrorResponse>
// with the error's HTTP status. Pure functions, no state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http_types.h"

namespace hydrant::server::query {

enum class Service { kNone, kIam, kSts };

inline constexpr std::string_view kIamVersion = "2010-05-08";
inline constexpr std::string_view kStsVersion = "2011-06-15";
inline constexpr std::string_view kIamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/";
inline constexpr std::string_view kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

// Which Query API a request is for: the service of its SigV4 scope (Authorization
// header or X-Amz-Credential) when it names iam or sts; otherwise, for an
// unsigned request to "/", its Action and Version (GET query, or POST form body).
// Anything else (S3's requests among them) is kNone.
Service Detect(const http::Request& req);
// The same from the head alone (before the body is read): a signed scope of
// iam/sts, or POST / with a form body, or GET / with Action and Version.
bool MayBeQuery(const http::Request& head);

// The request's fields: the query's, then the form body's. '+' decodes to a space.
class Params {
 public:
  explicit Params(const http::Request& req);
  // The last value of `name`; nullopt when absent.
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // List members "Name.member.N" (N from 1, in order) of a list field, e.g.
  // Tags.member.1.Key: Members("Tags", {"Key", "Value"}).
  std::vector<std::vector<std::string>> Members(std::string_view list,
                                                const std::vector<std::string_view>& fields) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Decodes application/x-www-form-urlencoded text ('+' is a space).
std::vector<std::pair<std::string, std::string>> ParseForm(std::string_view body);

struct Error {
  int status = 400;
  std::string code;
  std::string message;
  bool sender = true;  // <Type>Sender</Type>, else Receiver
};

// The result XML of `action`: `result` is the inner XML of <ActionResult> (nullopt:
// an action without output writes no result element).
http::Response Reply(std::string_view action, std::string_view xmlns,
                     const std::optional<std::string>& result, const std::string& request_id);
http::Response ErrorReply(std::string_view xmlns, const Error& e, const std::string& request_id);

// 2026-12-07T14:40:41Z (IAM's and STS's timestamps, seconds).
std::string FormatTime(int64_t ms);

// Validation of request fields with AWS's messages: "1 validation error
// detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must
// satisfy regular expression pattern: [\w+=,.@-]+" (several joined by "; ").
class Validator {
 public:
  // Required field: absent → "Value null at 'field' ... Member must not be null".
  void Required(std::string_view field, const std::optional<std::string>& value);
  void Length(std::string_view field, const std::optional<std::string>& value, size_t min,
              size_t max);
  // `ok(c)` says whether a character may appear; `pattern` is AWS's regex text.
  void Chars(std::string_view field, const std::optional<std::string>& value,
             bool (*ok)(unsigned char), std::string_view pattern);
  void Pattern(std::string_view field, const std::optional<std::string>& value, bool matches,
               std::string_view pattern);
  // An integer in [min, max]; nullopt when absent or invalid (then an error is added
  // if it was present).
  std::optional<int64_t> Int(std::string_view field, const std::optional<std::string>& value,
                             int64_t min, int64_t max);
  void Enum(std::string_view field, const std::optional<std::string>& value,
            const std::vector<std::string_view>& allowed);
  bool ok() const { return errors_.empty(); }
  // ValidationError with every message; OK when none.
  std::optional<Error> Result() const;

 private:
  void Add(std::string_view field, const std::optional<std::string>& value, std::string constraint);
  std::vector<std::string> errors_;
};

// IAM/STS error → HTTP: by the Status's error_code (NoSuchEntity 404,
// EntityAlreadyExists/LimitExceeded/DeleteConflict 409, AccessDenied 403, other
// sender errors 400); a Status without one is a ServiceFailure (500) whose
// message does not repeat the internal detail.
Error FromStatus(const Status& st);

}  // namespace hydrant::server::query
