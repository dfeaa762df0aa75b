#include "destinations/sink_errors.h"

namespace hydrant::store {
namespace {

constexpr std::string_view kCodes[] = {
    kS3AccessDenied,   kS3NoSuchBucket,   kS3KmsNotFound,        kS3KmsRequestLimitExceeded,
    kS3AccountProblem, kS3AllAccessDisabled, kS3InvalidPayer,    kS3NotSignedUp,
    kS3MethodNotAllowed, kInternalError, kS3KmsDisabled, kS3KmsInvalidState, kS3KmsAccessDenied,
};

// The known code `c` is, as a constant of static storage ("" when unknown).
std::string_view KnownCode(std::string_view c) {
  for (std::string_view k : kCodes) {
    if (k == c) return k;
  }
  return {};
}

}  // namespace

std::string_view FirehoseErrorCode(const Status& st) {
  if (st.ok()) return {};
  if (std::string_view c = KnownCode(st.error_code()); !c.empty()) return c;
  return st.code() == StatusCode::kNotFound ? kS3NoSuchBucket : kInternalError;
}

Status SinkError(std::string_view firehose_code, std::string_view message, StatusCode code) {
  if (firehose_code == kS3NoSuchBucket) code = StatusCode::kNotFound;
  std::string_view known = KnownCode(firehose_code);
  return Status(code, std::string(message)).WithErrorCode(known.empty() ? kInternalError : known);
}

bool HasFirehoseErrorCode(const Status& st) { return !KnownCode(st.error_code()).empty(); }

std::string_view S3KmsCode(std::string_view kms_exception) {
  if (kms_exception.empty()) return {};
  return KnownCode("S3.KMS." + std::string(kms_exception));
}


}  // namespace hydrant::store
