#include "iam/assume_role.h"

#include <gtest/gtest.h>

namespace hydrant::iam {
namespace {

constexpr char kRole[] = "arn:aws:iam::111122223333:role/deliverer";

Principal User(const std::string& name, std::vector<std::string> policies = {}) {
  Principal p;
  p.kind = Principal::Kind::kUser;
  p.account_id = "111122223333";
  p.arn = "arn:aws:iam::111122223333:user/" + name;
  p.user_name = name;
  p.policy_documents = std::move(policies);
  return p;
}

std::string Trust(const std::string& principal) {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":")" +
         principal + R"("},"Action":"sts:AssumeRole"}]})";
}

constexpr char kMayAssume[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/deliverer"}]})";

TEST(MayAssumeRoleTest, TrustNamingTheCallerIsEnough) {
  EXPECT_TRUE(MayAssumeRole(User("alice"), kRole, Trust("arn:aws:iam::111122223333:user/alice"), 0));
  EXPECT_FALSE(MayAssumeRole(User("bob"), kRole, Trust("arn:aws:iam::111122223333:user/alice"), 0));
}

TEST(MayAssumeRoleTest, AnIdentityPolicyAloneIsNotEnough) {
  // Unlike a bucket policy, the trust policy must name the caller or its account.
  EXPECT_FALSE(MayAssumeRole(User("bob", {kMayAssume}), kRole,
                             Trust("arn:aws:iam::111122223333:user/alice"), 0));
}

TEST(MayAssumeRoleTest, TrustNamingTheAccountNeedsAnIdentityPolicy) {
  const std::string trust = Trust("arn:aws:iam::111122223333:root");
  EXPECT_FALSE(MayAssumeRole(User("bob"), kRole, trust, 0));
  EXPECT_TRUE(MayAssumeRole(User("bob", {kMayAssume}), kRole, trust, 0));
}

TEST(MayAssumeRoleTest, ADenyOrAnUnreadablePolicyRefuses) {
  const std::string deny = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
    "Action":"sts:*","Resource":"*"}]})";
  EXPECT_FALSE(MayAssumeRole(User("alice", {deny}), kRole,
                             Trust("arn:aws:iam::111122223333:user/alice"), 0));
  EXPECT_FALSE(MayAssumeRole(User("alice"), kRole, "{not json", 0));
  EXPECT_FALSE(MayAssumeRole(User("alice", {"{"}), kRole,
                             Trust("arn:aws:iam::111122223333:user/alice"), 0));
}

TEST(MayAssumeRoleTest, TheRequestsConditionKeysApply) {
  const std::string tls_only = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
    "Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})";
  const std::string trust = Trust("arn:aws:iam::111122223333:user/alice");
  EXPECT_FALSE(MayAssumeRole(User("alice", {tls_only}), kRole, trust, 0,
                             {{"aws:SecureTransport", "false"}}));
  EXPECT_TRUE(MayAssumeRole(User("alice", {tls_only}), kRole, trust, 0,
                            {{"aws:SecureTransport", "true"}}));
}

TEST(MayAssumeRoleTest, OpenModeCallerIsAllowed) {
  Principal anonymous;
  EXPECT_TRUE(MayAssumeRole(anonymous, kRole, Trust("arn:aws:iam::111122223333:user/alice"), 0));
}

}  // namespace
}  // namespace hydrant::iam
