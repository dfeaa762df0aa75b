#pragma once
// Parsed policies kept between requests, so that the request path parses a
// principal's policy documents once per change rather than once per request
// (iam/policy.h: parse once, evaluate many times).
//
// Keyed by the principal's ARN and policy_version (principal.h: it changes
// whenever policy_documents may have), or, for resource policies, by a name the
// caller chooses (the bucket's ARN) and a version it bumps on each change.
//
// A document that no longer parses fails the lookup (the caller denies): an
// identity policy skipped silently could hide a Deny.
//
// Thread-safety: all methods may be called concurrently. Lookups take a mutex
// for a hash lookup and a shared_ptr copy; a full cache is emptied and refilled
// (policies change rarely; there is no LRU bookkeeping on the hot path).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "iam/policy.h"
#include "iam/principal.h"

namespace hydrant::iam {

using PolicyList = std::vector<std::shared_ptr<const Policy>>;

class PolicyCache {
 public:
  explicit PolicyCache(size_t max_entries = 10000) : max_entries_(max_entries) {}

  // The parsed identity policies of `p` (its policy_documents, in order).
  Result<std::shared_ptr<const PolicyList>> IdentityPolicies(const Principal& p);

  // One resource (or trust) policy document, cached under (name, version).
  Result<std::shared_ptr<const Policy>> ResourcePolicy(std::string_view name, uint64_t version,
                                                       std::string_view json, PolicyKind kind);

 private:
  struct Entry {
    uint64_t version = 0;
    std::shared_ptr<const PolicyList> policies;
  };
  std::shared_ptr<const PolicyList> Find(const std::string& key, uint64_t version);
  void Put(std::string key, uint64_t version, std::shared_ptr<const PolicyList> policies);

  const size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace hydrant::iam
