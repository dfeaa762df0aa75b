#pragma once
// Authorization of API requests: what each request asks for in IAM terms (the
// action and resource ARN of AWS's Service Authorization Reference, and the
// condition keys the service adds), and the Authorizer that decides it with
// iam::Evaluate over the caller's identity policies and, for S3, the bucket's
// policy. Requests without a principal, or with the anonymous one of open mode,
// are always allowed. docs/security.md lists the mapping.
//
// Thread-safe; Check runs on the I/O threads for puts, so parsed policies are
// cached (by principal ARN and policy version, by bucket policy document).

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/account.h"
#include "common/clock.h"
#include "server/http_types.h"

namespace hydrant::iam {
class Policy;
}
namespace hydrant::server::query {
class Params;
}
namespace hydrant::store {
class ObjectStore;
}

namespace hydrant::server {

// One permission a request needs.
struct Access {
  std::string action;    // "firehose:PutRecordBatch"
  std::string resource;  // an ARN, or "*"
  std::vector<std::pair<std::string, std::string>> keys;  // service condition keys
  std::string bucket;    // S3: the bucket whose policy also applies ("" = none)
};

// firehose:<op> on the delivery stream's ARN ("*" for ListDeliveryStreams).
Access FirehoseAccess(std::string_view op, std::string_view stream_name, const AccountContext& account);
// logs:<op>: on the log stream for PutLogEvents/GetLogEvents, else on the log
// group (ARNs ending ":log-stream:" as CloudWatch Logs reports them, so that the
// usual "log-group:NAME:*" matches), DescribeLogGroups on "log-group::log-stream:".
Access LogsAccess(std::string_view op, std::string_view group, std::string_view stream,
                  const AccountContext& account);
// lambda:<action> on the function's ARN ("*" for ListFunctions).
Access LambdaAccess(std::string_view action, std::string_view function_arn);
// iam:<action> on the user, role or policy the parameters name (the caller's own
// user when UserName is absent), with iam:PolicyARN for the Attach/Detach calls;
// the List calls on "user/", "role/" or "policy/" plus PathPrefix.
// `params` must be the very parameters the IAM API reads (query::Params: the
// last value of a repeated name, the body only for POST), so that what is
// authorized is what runs.
Access IamAccess(std::string_view action, const query::Params& params,
                 const iam::Principal* caller, const AccountContext& account);

// Where S3 bucket policies come from (the embedded store).
class BucketPolicySource {
 public:
  virtual ~BucketPolicySource() = default;
  // The bucket's policy document; null when it has none or does not exist.
  virtual std::shared_ptr<const std::string> BucketPolicy(std::string_view bucket) const = 0;
};

// The embedded store's bucket policies.
class StoreBucketPolicies final : public BucketPolicySource {
 public:
  explicit StoreBucketPolicies(store::ObjectStore* store) : store_(store) {}
  std::shared_ptr<const std::string> BucketPolicy(std::string_view bucket) const override;

 private:
  store::ObjectStore* store_;  // may be null: no policies
};

class Authorizer {
 public:
  // `buckets` may be null (no bucket policies); both must outlive the Authorizer.
  explicit Authorizer(const BucketPolicySource* buckets, const Clock* clock = &SystemClock::Get());
  ~Authorizer();

  // nullopt when allowed; otherwise AWS's AccessDenied message for it ("User: ARN
  // is not authorized to perform: ACTION on resource: ARN because ...").
  // aws:SourceIp and aws:SecureTransport come from the request.
  std::optional<std::string> Check(const http::Request& req, const Access& access) const;
  // The same decision for `p` acting outside any request (Firehose delivering
  // with a stream's role, iam::ServiceRoles), with the context's condition keys.
  // The anonymous principal is allowed.
  std::optional<std::string> Decide(const iam::Principal& p, const Access& access,
                                    std::vector<std::pair<std::string, std::string>> keys) const;
  // Whether Check can deny anything for this request (a signed principal).
  static bool Applies(const http::Request& req);

 private:
  using Policies = std::vector<std::shared_ptr<const iam::Policy>>;
  // The principal's parsed identity policies; null when one of them no longer
  // parses (it could hold a Deny: the request is then denied).
  std::shared_ptr<const Policies> IdentityPolicies(const iam::Principal& p) const;
  // The bucket's parsed policy (null: none); *unreadable when it has one that
  // does not parse (denied, for the same reason).
  std::shared_ptr<const iam::Policy> BucketPolicyOf(const std::string& bucket, bool* unreadable) const;

  const BucketPolicySource* buckets_;
  const Clock* clock_;
  struct CachedIdentity {
    uint64_t version = 0;
    std::shared_ptr<const Policies> policies;
  };
  struct CachedBucket {
    std::shared_ptr<const std::string> document;
    std::shared_ptr<const iam::Policy> policy;
  };
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, CachedIdentity> identities_;  // by principal ARN
  mutable std::unordered_map<std::string, CachedBucket> bucket_policies_;
};

// The most parsed identities and bucket policies kept (each cache is emptied when
// it would pass this; a parse costs microseconds).
inline constexpr size_t kAuthorizerCacheEntries = 10000;

}  // namespace hydrant::server
