#pragma once
// The Condition element of IAM policies: its operators (String*, Numeric*,
// Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null, each
// ...IfExists form, ForAllValues:/ForAnyValue:), their values compiled at parse,
// and their evaluation against a request's condition keys, as AWS documents it
// (docs/security.md "Policies and their evaluation"):
//  - several values of one key in the policy: OR; several keys in one operator
//    block, and several operator blocks: AND (policy.cc);
//  - a key missing from the request: false, except for the negated operators
//    (StringNotEquals, ..., NotIpAddress, ArnNotLike) which are true, ...IfExists
//    which is true, ForAllValues: which is true and Null which tests for it;
//  - negated operators are true when the request value matches none of the
//    policy values.
//
// Evaluation does not allocate. Thread-safety: a compiled ConditionClause is
// immutable.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "iam/policy.h"
#include "iam/principal.h"
#include "iam/wildcard.h"

namespace hydrant::iam {

// The condition keys of one request: the caller's (AuthzContext::keys, which
// win) and the global keys the evaluator knows from the principal and the clock
// (aws:username, aws:userid, aws:PrincipalArn, aws:PrincipalAccount,
// aws:PrincipalType, aws:CurrentTime, aws:EpochTime, aws:PrincipalServiceName,
// aws:PrincipalIsAWSService). Key names are case-insensitive. Also resolves
// policy variables. Lives on the evaluator's stack for one request.
class RequestKeys final : public VariableResolver {
 public:
  explicit RequestKeys(const AuthzContext& ctx);

  // Calls fn(value) for each value of `key_lower` until fn returns false;
  // returns the number of values visited.
  template <typename Fn>
  size_t ForEach(std::string_view key_lower, Fn&& fn) const;

  bool Resolve(std::string_view key_lower, std::string_view* value) const override;

 private:
  // The global key's value, if the principal or clock supplies it.
  bool Global(std::string_view key_lower, std::string_view* value) const;

  const AuthzContext& ctx_;
  mutable char time_buf_[32];
  mutable char epoch_buf_[24];
};

// One operator applied to one key: {"StringLike": {"s3:prefix": ["a/*", "b/*"]}}
// is one clause (key "s3:prefix", two values).
class ConditionClause {
 public:
  enum class Op {
    kStringEquals, kStringNotEquals, kStringEqualsIgnoreCase, kStringNotEqualsIgnoreCase,
    kStringLike, kStringNotLike,
    kNumericEquals, kNumericNotEquals, kNumericLessThan, kNumericLessThanEquals,
    kNumericGreaterThan, kNumericGreaterThanEquals,
    kDateEquals, kDateNotEquals, kDateLessThan, kDateLessThanEquals,
    kDateGreaterThan, kDateGreaterThanEquals,
    kBool, kBinaryEquals, kIpAddress, kNotIpAddress,
    kArnEquals, kArnLike, kArnNotEquals, kArnNotLike,
    kNull,
  };
  enum class SetQualifier { kNone, kForAllValues, kForAnyValue };

  // Parses an operator name ("ForAnyValue:StringLikeIfExists"); false when it
  // is not one.
  static bool ParseOperator(std::string_view name, Op* op, bool* if_exists, SetQualifier* set);

  // Compiles one clause. `values` are the policy's values as text (JSON numbers
  // and booleans already turned into text). `variables`: Version 2012-10-17.
  // InvalidArgument (a MalformedPolicyDocument message) on a value the operator
  // cannot take (a bad date, number, CIDR, base64 or Null value).
  static Result<ConditionClause> Compile(std::string_view op_name, std::string_view key,
                                         const std::vector<std::string>& values,
                                         bool variables);

  bool Evaluate(const RequestKeys& keys) const;

  Op op() const { return op_; }
  const std::string& key() const { return key_; }

 private:
  struct Cidr {
    bool v6 = false;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  // Whether one request value matches one of the policy values under the
  // positive form of the operator.
  bool MatchesAny(std::string_view request_value, const RequestKeys& keys) const;
  bool Negated() const;
  template <typename T>
  bool CompareAny(T x, const std::vector<T>& policy_values) const;

  Op op_ = Op::kStringEquals;
  bool if_exists_ = false;
  SetQualifier set_ = SetQualifier::kNone;
  std::string key_;  // lower case
  std::vector<WildcardPattern> patterns_;  // String*, Arn*, Bool
  std::vector<double> numbers_;            // Numeric*
  std::vector<int64_t> times_ms_;          // Date*
  std::vector<std::string> binaries_;      // BinaryEquals (decoded)
  std::vector<Cidr> cidrs_;                // IpAddress
  std::vector<bool> nulls_;                // Null
};

// ISO 8601 ("2024-01-02", "2024-01-02T03:04:05Z", "...05.123+02:00") or epoch
// seconds, as Unix milliseconds. false when it is neither.
bool ParsePolicyDate(std::string_view s, int64_t* ms);

template <typename Fn>
size_t RequestKeys::ForEach(std::string_view key_lower, Fn&& fn) const {
  size_t n = 0;
  for (const auto& [k, v] : ctx_.keys) {
    if (k.size() != key_lower.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size(); ++i) {
      char c = k[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != key_lower[i]) {
        same = false;
        break;
      }
    }
    if (!same) continue;
    ++n;
    if (!fn(std::string_view(v))) return n;
  }
  if (n > 0) return n;  // the caller's values replace a global key's
  std::string_view global;
  if (Global(key_lower, &global)) {
    fn(global);
    return 1;
  }
  return 0;
}

}  // namespace hydrant::iam
