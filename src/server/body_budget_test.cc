#include "server/body_budget.h"

#include <gtest/gtest.h>

#include <vector>

namespace hydrant::server {
namespace {

TEST(BodyBudgetTest, GrantsWithinTheCapAndReleasesOnClose) {
  BodyBudget b(100);
  auto a = b.Open(nullptr);
  EXPECT_TRUE(b.Grow(a, 60));
  EXPECT_TRUE(b.Grow(a, 40));
  EXPECT_EQ(b.total(), 100u);
  b.Close(a);
  EXPECT_EQ(b.total(), 0u);
  EXPECT_EQ(b.cuts(), 0u);
}

TEST(BodyBudgetTest, CutsTheOldestFirstWhenTheCapIsReached) {
  BodyBudget b(100);
  std::vector<int> cut;
  auto first = b.Open([&] { cut.push_back(1); });
  auto second = b.Open([&] { cut.push_back(2); });
  auto third = b.Open([&] { cut.push_back(3); });
  ASSERT_TRUE(b.Grow(first, 40));
  ASSERT_TRUE(b.Grow(second, 40));
  // 80 + 30 > 100: the oldest (first) goes, the second stays.
  EXPECT_TRUE(b.Grow(third, 30));
  EXPECT_EQ(cut, std::vector<int>({1}));
  EXPECT_EQ(b.total(), 70u);
  // A cut body is refused from then on, and its Close is a no-op.
  EXPECT_FALSE(b.Grow(first, 1));
  b.Close(first);
  EXPECT_EQ(b.total(), 70u);
  EXPECT_EQ(b.cuts(), 1u);
}

TEST(BodyBudgetTest, TheAskingBodyIsCutWhenItIsTheOldest) {
  BodyBudget b(100);
  bool young_cut = false;
  auto old = b.Open(nullptr);
  auto young = b.Open([&] { young_cut = true; });
  ASSERT_TRUE(b.Grow(old, 50));
  ASSERT_TRUE(b.Grow(young, 40));
  EXPECT_FALSE(b.Grow(old, 20));
  EXPECT_FALSE(young_cut);
  EXPECT_EQ(b.total(), 40u);
}

TEST(BodyBudgetTest, ABodyLargerThanTheCapIsRefusedAfterCuttingEveryOlderOne) {
  BodyBudget b(100);
  int cuts = 0;
  auto a = b.Open([&] { ++cuts; });
  auto big = b.Open(nullptr);
  ASSERT_TRUE(b.Grow(a, 10));
  EXPECT_FALSE(b.Grow(big, 200));
  EXPECT_EQ(cuts, 1);
  EXPECT_EQ(b.total(), 0u);
}

}  // namespace
}  // namespace hydrant::server
