// Failures of the file system under an object's data, injected through
// testing/fault_env.h: whatever fails (a write, the write-back of a step, the final
// fsync), the object is not published, nothing of it stays in the store's folders,
// and the next put works.

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "destinations/object_store.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace hydrant::store {
namespace {

using Op = FaultEnv::Op;

class ObjectFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ObjectStore::Open(dir_.Sub("s3"), &env_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    Status created = store_->CreateBucket("bkt");
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  // Writes `bytes` in 256 KiB pieces and commits; the first error.
  Status Put(const std::string& key, size_t bytes) {
    auto w = store_->BeginPut("bkt", key, {});
    if (!w.ok()) return w.status();
    const std::string piece(256 << 10, 'x');
    for (size_t done = 0; done < bytes; done += piece.size()) {
      HYDRANT_RETURN_IF_ERROR((*w)->Write(std::string_view(piece).substr(0, bytes - done)));
    }
    auto info = (*w)->Commit();
    return info.ok() ? Status::Ok() : info.status();
  }

  // Files left in the store's .tmp folder (an object that failed leaves none).
  size_t TempFiles() {
    size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Sub("s3/.tmp"))) {
      n += e.is_regular_file();
    }
    return n;
  }

  void ExpectNothingPublished(const std::string& key) {
    EXPECT_FALSE(store_->HeadObject("bkt", key).ok());
    EXPECT_EQ(TempFiles(), 0u);
  }

  testing::TempDir dir_;
  FaultEnv env_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(ObjectFaultTest, AWriteBackErrorFailsTheObject) {
  // The waiting sync_file_range consumes a write-back error for the file: the final
  // fsync would not see it, so the object must fail there.
  env_.FailAlways(Op::kSyncFileRange, EIO);
  Status st = Put("k", 3 << 20);  // three write-back steps of 1 MiB
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("write back"), std::string::npos) << st.message();
  EXPECT_GE(env_.calls(Op::kSyncFileRange), 1u);
  ExpectNothingPublished("k");
  env_.Clear(Op::kSyncFileRange);
  ASSERT_TRUE(Put("k", 3 << 20).ok());
  EXPECT_EQ(store_->HeadObject("bkt", "k")->size, 3u << 20);
}

TEST_F(ObjectFaultTest, AnUnsupportedWriteBackFallsBackToThePlainFsync) {
  env_.FailAlways(Op::kSyncFileRange, ENOSYS);
  ASSERT_TRUE(Put("k", 3 << 20).ok());
  EXPECT_EQ(env_.calls(Op::kSyncFileRange), 1u);  // tried once, then not again
  EXPECT_EQ(store_->HeadObject("bkt", "k")->size, 3u << 20);
}

TEST_F(ObjectFaultTest, AFailedFsyncFailsTheObject) {
  env_.FailNext(Op::kFsync, EIO);
  Status st = Put("k", 100);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("fsync"), std::string::npos) << st.message();
  ExpectNothingPublished("k");
  ASSERT_TRUE(Put("k", 100).ok());
}

TEST_F(ObjectFaultTest, AFullDiskFailsTheObjectAndLeavesNothing) {
  env_.LimitSpace(1 << 20);
  Status st = Put("k", 3 << 20);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("No space left"), std::string::npos) << st.message();
  ExpectNothingPublished("k");
  env_.Clear(Op::kPwrite);
  ASSERT_TRUE(Put("k", 3 << 20).ok());
}

}  // namespace
}  // namespace hydrant::store
