#pragma once
// RoleCheckedSink and RoleCheckedInvoker: the embedded store and the Lambda
// functions as Firehose's delivery role sees them.
//
// RoleCheckedSink: the embedded store as Firehose's delivery role sees it.
// With roles enforced (`[auth] mode = "sigv4"`, or `enforce_roles` in open
// mode), every request delivery makes of the embedded store is authorized
// first, as Firehose's requests to S3 are: the stream's RoleARN must exist and
// trust firehose.amazonaws.com (iam::ServiceRoles), and the role's session must
// be allowed the S3 action on the object by its identity policies and the
// bucket's policy (an explicit Deny in either wins; Authorizer::Decide). A
// denial is S3.AccessDenied with Firehose's message and the reason, as
// Unavailable: delivery retries it, logs it and counts it as for a remote
// bucket. Remote buckets are not wrapped: their service decides.
//
// What is checked: BeginPut needs s3:PutObject on
// arn:aws:s3:::BUCKET/KEY (with s3:x-amz-server-side-encryption when the
// stream's object is SSE-KMS). An object larger than kDeliveryMultipartThreshold
// is delivered as a multipart upload, as hydrant delivers to a remote S3
// (remote/remote_s3_sink.h, its default multipart_threshold and part_size): each
// part is an UploadPart (s3:PutObject again, checked as the part begins), and a
// writer given up on after that (a failed write or commit, or dropped) aborts
// the upload: s3:AbortMultipartUpload on the object. A denied abort fails
// nothing (the put has failed already): it is logged (event=
// multipart_abort_denied) and the upload is left in the bucket, as S3 leaves it,
// listed by ListMultipartUploads until someone aborts it (the store's upload
// has no parts: delivery's bytes are not kept). s3:GetBucketLocation and
// s3:ListBucket are not asked for: delivery makes no such request
// (docs/security.md, "Delivery roles"). CheckAccess (the doctor's probe) needs
// s3:ListBucket on the bucket and s3:PutObject on the probe object. Thread-safe;
// a writer is used by one thread.
//
// RoleCheckedInvoker: before a Lambda processor's function runs, the role it is
// invoked as (the processor's RoleArn, FunctionRef::role_arn) must be assumable
// by Firehose (else Lambda.AssumeRoleAccessDenied) and allowed both
// kLambdaProcessorActions on the function's ARN, as Firehose's documented role
// policy grants them (else Lambda.InvokeAccessDenied, the reason naming the
// action). Both are kFatal with Firehose's text and the reason, as a remote
// Lambda's 403 is: the records go to processing-failed/. Firehose documents no
// code of its own for a missing lambda:GetFunctionConfiguration; its list of
// Lambda invocation errors is closed and Lambda.InvokeAccessDenied's text ("the
// access policy allows access to the Lambda function") covers it
// (docs/security.md, "Delivery roles"). The doctor's role-permissions check
// requires the same actions with the same code (observability::NeededActions;
// delivery_role_test.cc holds them together). A function without a role is
// invoked as before.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/account.h"
#include "destinations/object_sink.h"
#include "iam/service_roles.h"
#include "processing/invoker.h"
#include "server/authorization.h"

namespace hydrant::store {
class ObjectStore;
}

namespace hydrant::server {

// The text Firehose writes with S3.AccessDenied.
inline constexpr std::string_view kS3AccessDeniedText =
    "Access was denied. Ensure that the trust policy for the provided IAM role allows Firehose to "
    "assume the role, and the access policy allows access to the S3 bucket.";

// Objects larger than this are delivered as a multipart upload of parts this
// large (the last smaller): remote::RemoteS3Options' defaults, so delivery asks
// the same of the embedded store as of a remote S3. The doctor's copy
// (observability::kMultipartObjectBytes) must equal it (delivery_role_test.cc).
inline constexpr uint64_t kDeliveryMultipartThreshold = 8ull << 20;

// Counts an object's bytes as they are written and says when a part of its
// multipart upload begins: Add(n) is true when those n bytes take the object past
// kDeliveryMultipartThreshold (parts 1 and 2 begin) or into a further part.
class MultipartTracker {
 public:
  bool Add(uint64_t n) {
    size_ += n;
    const uint64_t part = size_ > kDeliveryMultipartThreshold
                              ? (size_ - 1) / kDeliveryMultipartThreshold
                              : 0;
    if (part <= part_) return false;
    part_ = part;
    return true;
  }
  uint64_t size() const { return size_; }
  bool multipart() const { return part_ > 0; }

 private:
  uint64_t size_ = 0;
  uint64_t part_ = 0;  // the index of the last part begun; 0: not multipart (yet)
};

class RoleCheckedSink final : public store::ObjectSink {
 public:
  // None owned; all must outlive the sink and its writers. `uploads`: where a
  // multipart upload whose abort the role may not do is left (null: nowhere).
  RoleCheckedSink(store::ObjectSink* inner, const iam::ServiceRoles* roles, const Authorizer* authz,
                  store::ObjectStore* uploads = nullptr)
      : inner_(inner), roles_(roles), authz_(authz), uploads_(uploads) {}

  Result<std::unique_ptr<store::ObjectWriter>> BeginPut(std::string_view bucket,
                                                        std::string_view key,
                                                        const store::ObjectMeta& meta) override;
  Status CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) override;
  bool WritesLocalDisk(std::string_view bucket) const override {
    return inner_->WritesLocalDisk(bucket);
  }

  // Whether the role may do `access` now: OK, or S3.AccessDenied saying why.
  Status Authorize(std::string_view role_arn, const Access& access) const;

 private:
  class Writer;

  store::ObjectSink* inner_;
  const iam::ServiceRoles* roles_;
  const Authorizer* authz_;
  store::ObjectStore* uploads_;
};

inline constexpr std::string_view kLambdaAssumeRoleAccessDenied = "Lambda.AssumeRoleAccessDenied";
inline constexpr std::string_view kLambdaInvokeAccessDenied = "Lambda.InvokeAccessDenied";
// What a processor's role must be allowed on the function, in the order checked.
inline constexpr std::string_view kLambdaProcessorActions[] = {"lambda:InvokeFunction",
                                                               "lambda:GetFunctionConfiguration"};

inline constexpr std::string_view kLambdaAssumeRoleDeniedText =
    "Access was denied. Ensure that the trust policy for the provided IAM role allows Firehose to "
    "assume the role.";
inline constexpr std::string_view kLambdaInvokeDeniedText =
    "Access was denied. Ensure that the access policy allows access to the Lambda function.";

class RoleCheckedInvoker final : public processing::FunctionInvoker {
 public:
  // None owned; all must outlive the invoker. `account` completes function
  // names given without region and account.
  RoleCheckedInvoker(processing::FunctionInvoker* inner, const iam::ServiceRoles* roles,
                     const Authorizer* authz, AccountContext account)
      : inner_(inner), roles_(roles), authz_(authz), account_(std::move(account)) {}

  processing::InvokeResult Invoke(const processing::FunctionRef& fn, const std::string& event_json,
                                  std::chrono::milliseconds timeout) override;

 private:
  processing::FunctionInvoker* inner_;
  const iam::ServiceRoles* roles_;
  const Authorizer* authz_;
  const AccountContext account_;
};

}  // namespace hydrant::server
