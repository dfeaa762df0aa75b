#include "iam/policy_cache.h"

#include <utility>

namespace hydrant::iam {

std::shared_ptr<const PolicyList> PolicyCache::Find(const std::string& key, uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.version != version) return nullptr;
  return it->second.policies;
}

void PolicyCache::Put(std::string key, uint64_t version, std::shared_ptr<const PolicyList> policies) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_ && !entries_.contains(key)) entries_.clear();
  entries_[std::move(key)] = Entry{version, std::move(policies)};
}

Result<std::shared_ptr<const PolicyList>> PolicyCache::IdentityPolicies(const Principal& p) {
  // "i" and "r" keep identities and resources apart in one map.
  std::string key = "i" + p.arn;
  if (auto hit = Find(key, p.policy_version)) return hit;
  auto list = std::make_shared<PolicyList>();
  list->reserve(p.policy_documents.size());
  for (const std::string& doc : p.policy_documents) {
    auto parsed = ParsePolicy(doc, PolicyKind::kIdentity);
    if (!parsed.ok()) return parsed.status();
    list->push_back(std::move(parsed.value()));
  }
  std::shared_ptr<const PolicyList> out = std::move(list);
  Put(std::move(key), p.policy_version, out);
  return out;
}

Result<std::shared_ptr<const Policy>> PolicyCache::ResourcePolicy(std::string_view name, uint64_t version,
                                                                  std::string_view json, PolicyKind kind) {
  std::string key = "r" + std::string(name);
  if (auto hit = Find(key, version)) return hit->front();
  auto parsed = ParsePolicy(json, kind);
  if (!parsed.ok()) return parsed.status();
  auto list = std::make_shared<PolicyList>(1, parsed.value());
  Put(std::move(key), version, list);
  return parsed.value();
}

}  // namespace hydrant::iam
