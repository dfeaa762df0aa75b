#include "iam/policy_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <cstdlib>
#include <new>

// Counts this thread's allocations, so a test can show Evaluate makes none.
namespace {
thread_local long g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace hydrant::iam {
namespace {

Principal Alice(uint64_t version, std::vector<std::string> docs) {
  Principal p;
  p.kind = Principal::Kind::kUser;
  p.account_id = "111122223333";
  p.arn = "arn:aws:iam::111122223333:user/alice";
  p.user_name = "alice";
  p.policy_documents = std::move(docs);
  p.policy_version = version;
  return p;
}

constexpr char kAllowPut[] =
    R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"firehose:Put*","Resource":"*"}})";
constexpr char kDenyAll[] =
    R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}})";

TEST(PolicyCacheTest, ParsesOncePerVersion) {
  PolicyCache cache;
  auto first = cache.IdentityPolicies(Alice(1, {kAllowPut}));
  ASSERT_TRUE(first.ok());
  auto again = cache.IdentityPolicies(Alice(1, {kAllowPut}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first.value().get(), again.value().get());  // the same parsed list
  // A new version re-reads the documents.
  Principal changed = Alice(2, {kAllowPut, kDenyAll});
  auto second = cache.IdentityPolicies(changed);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second.value()->size(), 2u);
  AuthzContext ctx;
  ctx.principal = &changed;
  ctx.action = "firehose:PutRecord";
  ctx.resource = "*";
  EXPECT_EQ(Evaluate(ctx, *second.value(), nullptr).decision, Decision::kExplicitDeny);
}

TEST(PolicyCacheTest, ABrokenDocumentFailsTheLookup) {
  PolicyCache cache;
  auto r = cache.IdentityPolicies(Alice(1, {kAllowPut, "{"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Syntax errors in policy.");
}

TEST(PolicyCacheTest, ResourcePoliciesAndEviction) {
  PolicyCache cache(2);
  const char* bucket =
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}})";
  auto a = cache.ResourcePolicy("arn:aws:s3:::a", 1, bucket, PolicyKind::kResource);
  ASSERT_TRUE(a.ok());
  auto a2 = cache.ResourcePolicy("arn:aws:s3:::a", 1, "ignored: cached", PolicyKind::kResource);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a.value().get(), a2.value().get());
  auto bad = cache.ResourcePolicy("arn:aws:s3:::a", 2, R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})",
                                  PolicyKind::kResource);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Missing required field Principal");
  // Past max_entries the cache starts over; lookups still answer.
  ASSERT_TRUE(cache.ResourcePolicy("arn:aws:s3:::b", 1, bucket, PolicyKind::kResource).ok());
  ASSERT_TRUE(cache.ResourcePolicy("arn:aws:s3:::c", 1, bucket, PolicyKind::kResource).ok());
  auto a3 = cache.ResourcePolicy("arn:aws:s3:::a", 1, bucket, PolicyKind::kResource);
  ASSERT_TRUE(a3.ok());
  EXPECT_NE(a.value().get(), a3.value().get());  // evicted and parsed again
}

TEST(PolicyCacheTest, EvaluateDoesNotAllocate) {
  PolicyCache cache;
  Principal alice = Alice(1, {R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":["firehose:PutRecord","firehose:PutRecordBatch"],
       "Resource":"arn:aws:firehose:*:111122223333:deliverystream/app-*"},
      {"Effect":"Deny","Action":"firehose:*","Resource":"*",
       "Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"},
                    "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}},
      {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*",
       "Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}]})"});
  auto policies = cache.IdentityPolicies(alice);
  ASSERT_TRUE(policies.ok());
  AuthzContext ctx;
  ctx.principal = &alice;
  ctx.action = "firehose:PutRecordBatch";
  ctx.resource = "arn:aws:firehose:us-east-1:111122223333:deliverystream/app-logs";
  ctx.keys = {{"aws:SourceIp", "10.1.2.3"}, {"s3:prefix", "alice/x"}};
  ctx.now_ms = 1700000000000;
  AuthzContext s3 = ctx;
  s3.action = "s3:GetObject";
  s3.resource = "arn:aws:s3:::home/alice/x";
  // Warm the per-thread buffer of variable patterns once.
  ASSERT_TRUE(Evaluate(s3, *policies.value(), nullptr).allowed());
  long before = g_allocations;
  auto probe = std::make_unique<std::string>(100, 'x');  // the counter does count
  ASSERT_GT(g_allocations, before);
  before = g_allocations;
  bool all = true;
  for (int i = 0; i < 1000; ++i) {
    all = all && Evaluate(ctx, *policies.value(), nullptr).allowed();
    all = all && Evaluate(s3, *policies.value(), nullptr).allowed();
  }
  EXPECT_TRUE(all);
  EXPECT_EQ(g_allocations - before, 0);
}

}  // namespace
}  // namespace hydrant::iam
