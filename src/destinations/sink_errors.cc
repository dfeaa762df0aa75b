#include "destinations/sink_errors.h"

namespace hydrant::store {
namespace {

constexpr std::string_view kCodes[] = {
    kS3AccessDenied,   kS3NoSuchBucket,   kS3KmsNotFound,        kS3KmsRequestLimitExceeded,
    kS3AccountProblem, kS3AllAccessDisabled, kS3InvalidPayer,    kS3NotSignedUp,
    kS3MethodNotAllowed, kInternalError,
};

// The known code the message starts with ("CODE: ..."), or "".
std::string_view PrefixCode(std::string_view msg) {
  for (std::string_view c : kCodes) {
    if (msg.size() >= c.size() + 2 && msg.substr(0, c.size()) == c &&
        msg.substr(c.size(), 2) == ": ") {
      return c;
    }
  }
  return {};
}

}  // namespace

std::string_view FirehoseErrorCode(const Status& st) {
  if (st.ok()) return {};
  if (std::string_view c = PrefixCode(st.message()); !c.empty()) return c;
  return st.code() == StatusCode::kNotFound ? kS3NoSuchBucket : kInternalError;
}

Status SinkError(std::string_view firehose_code, std::string_view message, StatusCode code) {
  if (firehose_code == kS3NoSuchBucket) code = StatusCode::kNotFound;
  std::string m;
  m.reserve(firehose_code.size() + 2 + message.size());
  m.append(firehose_code).append(": ").append(message);
  return Status(code, std::move(m));
}

std::string_view SinkErrorText(const Status& st) {
  std::string_view msg = st.message();
  std::string_view c = PrefixCode(msg);
  return c.empty() ? msg : msg.substr(c.size() + 2);
}

}  // namespace hydrant::store
