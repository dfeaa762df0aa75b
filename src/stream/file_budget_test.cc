#include "stream/file_budget.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace hydrant::stream {
namespace {

struct FakeHolder : FileBudget::Holder {
  static std::shared_ptr<FakeHolder> Make() {
    auto h = std::make_shared<FakeHolder>();
    h->BindBudgetSelf(h);
    return h;
  }
  void ReleaseFiles() override { ++released; }
  int released = 0;
};

TEST(FileBudgetTest, PastTheBoundTheLeastRecentlyUsedRelease) {
  FileBudget budget(8);
  std::vector<std::shared_ptr<FakeHolder>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(FakeHolder::Make());
    budget.Use(*hs.back());
  }
  EXPECT_EQ(budget.listed(), 8u);
  for (auto& h : hs) EXPECT_EQ(h->released, 0);
  budget.Use(*hs[0]);  // 0 is now the most recent; 1 the least
  auto late = FakeHolder::Make();
  budget.Use(*late);  // ninth: over by one, plus an eighth of the bound (1) goes
  EXPECT_EQ(budget.listed(), 7u);
  EXPECT_EQ(budget.evictions(), 2u);
  EXPECT_EQ(hs[0]->released, 0) << "used again: not the least recent";
  EXPECT_EQ(hs[1]->released, 1);
  EXPECT_EQ(hs[2]->released, 1);
  for (int i = 3; i < 8; ++i) EXPECT_EQ(hs[i]->released, 0) << i;
  EXPECT_EQ(late->released, 0) << "the holder being used is never released";
  // A released holder that comes back is listed again.
  budget.Use(*hs[1]);
  EXPECT_EQ(budget.listed(), 8u);
}

TEST(FileBudgetTest, ReleasedAndDestroyedHoldersLeaveTheList) {
  FileBudget budget(4);
  auto a = FakeHolder::Make(), b = FakeHolder::Make();
  budget.Use(*a);
  budget.Use(*b);
  EXPECT_EQ(budget.listed(), 2u);
  budget.Released(*a);
  EXPECT_EQ(budget.listed(), 1u);
  budget.Released(*a);  // twice is harmless
  b.reset();            // gone without Released: skipped when the bound is reached
  std::vector<std::shared_ptr<FakeHolder>> more;
  for (int i = 0; i < 5; ++i) {
    more.push_back(FakeHolder::Make());
    budget.Use(*more.back());
  }
  EXPECT_LE(budget.listed(), 4u);
  EXPECT_EQ(a->released, 0) << "released by itself, not by the budget";
}

TEST(FileBudgetTest, AnUnboundHolderIsNotListed) {
  FileBudget budget(1);
  FakeHolder h;  // not owned by a shared_ptr
  budget.Use(h);
  EXPECT_EQ(budget.listed(), 0u);
}

TEST(FileBudgetTest, BoundFromTheFileLimit) {
  EXPECT_EQ(FileBudget::ForFileLimit(1024, 4), 128u);
  EXPECT_EQ(FileBudget::ForFileLimit(64, 4), 16u) << "at least 16";
  EXPECT_EQ(FileBudget::ForFileLimit(1 << 20, 4), 131072u);
}

}  // namespace
}  // namespace hydrant::stream
