#pragma once
// Test helpers for delivery's role checks (delivery_role_test.cc,
// sse_sink_test.cc): roles as iam::ServiceRoles answers for them, an
// identity policy document allowing actions on a resource, a store with a bucket.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "destinations/object_store.h"
#include "iam/service_roles.h"

namespace hydrant::server::testing_roles {

inline std::string Allow(const std::vector<std::string>& actions, const std::string& resource) {
  namespace json = boost::json;
  json::array a;
  for (const auto& x : actions) a.emplace_back(x);
  return json::serialize(json::object{
      {"Version", "2012-10-17"},
      {"Statement",
       json::array{json::object{{"Effect", "Allow"}, {"Action", a}, {"Resource", resource}}}}});
}

// An embedded store under `dir` with the bucket "lake".
inline std::unique_ptr<store::ObjectStore> StoreWithLake(const std::string& dir) {
  auto s = store::ObjectStore::Open(dir);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  EXPECT_TRUE((*s)->CreateBucket("lake").ok());
  return std::move(s).value();
}

// Roles by ARN, each with its identity policies; a role not listed cannot be
// assumed (as the IAM store answers for a missing role). Sessions are Firehose's.
class FakeRoles final : public iam::ServiceRoles {
 public:
  Result<iam::Principal> ServiceSession(std::string_view service,
                                        std::string_view role_arn) const override {
    EXPECT_EQ(service, iam::kFirehoseService);
    auto it = policies.find(std::string(role_arn));
    if (it == policies.end()) {
      return Status::NotFound("The role with name " + Leaf(role_arn) + " cannot be found.");
    }
    iam::Principal p;
    p.kind = iam::Principal::Kind::kAssumedRole;
    p.account_id = "000000000000";
    p.role_arn = std::string(role_arn);
    p.arn = "arn:aws:sts::000000000000:assumed-role/" + Leaf(role_arn) + "/firehose";
    p.policy_documents = it->second;
    p.policy_version = ++version_;  // never a stale parse between tests' changes
    return p;
  }
  std::map<std::string, std::vector<std::string>> policies;

 private:
  static std::string Leaf(std::string_view arn) {
    return std::string(arn.substr(arn.rfind('/') + 1));
  }
  mutable uint64_t version_ = 0;
};

}  // namespace hydrant::server::testing_roles
