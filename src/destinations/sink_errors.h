#pragma once
// The error codes of a failed object write, as Firehose reports them
// (DeliveryToS3 error logs, the doctor): S3.AccessDenied, S3.NoSuchBucket,
// S3.KMS.NotFoundException, ..., else InternalError.
//
// How a code travels in a Status: an ObjectSink that knows the code sets it as the
// Status's error_code() (SinkError builds such a Status). A Status without one
// maps by its StatusCode: NotFound is a missing bucket (the embedded store's
// BeginPut), anything else is InternalError. docs/remote-s3.md has the table from
// S3's own error codes.

#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant::store {

inline constexpr std::string_view kS3AccessDenied = "S3.AccessDenied";
inline constexpr std::string_view kS3NoSuchBucket = "S3.NoSuchBucket";
inline constexpr std::string_view kS3KmsNotFound = "S3.KMS.NotFoundException";
inline constexpr std::string_view kS3KmsRequestLimitExceeded = "S3.KMS.RequestLimitExceeded";
// SSE-KMS delivery into the embedded store (server/sse_sink.h): a disabled key,
// a key pending deletion, a role KMS does not allow. Firehose's published list
// names only the two codes above (Amazon Data Firehose Developer Guide,
// "Monitoring with CloudWatch Logs" > "Amazon S3 data delivery errors",
// https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-logs.html;
// also its source, github.com/awsdocs/amazon-kinesis-data-firehose-developer-guide,
// doc_source/monitoring-with-cloudwatch-logs.md); these three are not documented
// and follow its S3.KMS.<KMS exception> form.
inline constexpr std::string_view kS3KmsDisabled = "S3.KMS.DisabledException";
inline constexpr std::string_view kS3KmsInvalidState = "S3.KMS.KMSInvalidStateException";
inline constexpr std::string_view kS3KmsAccessDenied = "S3.KMS.AccessDeniedException";
inline constexpr std::string_view kS3AccountProblem = "S3.AccountProblem";
inline constexpr std::string_view kS3AllAccessDisabled = "S3.AllAccessDisabled";
inline constexpr std::string_view kS3InvalidPayer = "S3.InvalidPayer";
inline constexpr std::string_view kS3NotSignedUp = "S3.NotSignedUp";
inline constexpr std::string_view kS3MethodNotAllowed = "S3.MethodNotAllowed";
inline constexpr std::string_view kInternalError = "InternalError";

// Firehose's error code for a failed BeginPut / Write / Commit / CheckAccess.
// Never empty for a non-OK status; "" for OK.
std::string_view FirehoseErrorCode(const Status& st);

// A Status carrying `firehose_code` (one of the constants above) as its
// error_code(). NoSuchBucket is NotFound, the others `code` (Unavailable by
// default: the delivery loop retries them).
Status SinkError(std::string_view firehose_code, std::string_view message,
                 StatusCode code = StatusCode::kUnavailable);

// Firehose's code for KMS's exception `kms_exception` (kms/key_service.h:
// "DisabledException" -> S3.KMS.DisabledException, ...), as delivery of an
// SSE-KMS object reports it; "" when it is not one of the codes above.
std::string_view S3KmsCode(std::string_view kms_exception);

// Whether the Status carries one of the codes above (not another module's code).
bool HasFirehoseErrorCode(const Status& st);

}  // namespace hydrant::store
