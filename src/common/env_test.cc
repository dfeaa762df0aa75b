// Env::Default() is the system calls themselves; FaultEnv fails what it is told
// to fail and passes everything else through.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/env.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace hydrant {
namespace {

// A fresh directory per test, removed with everything in it.
class EnvTest : public ::testing::Test {
 protected:
  std::string Path(const char* name) const { return dir_.Sub(name); }

  ::hydrant::testing::TempDir dir_;
};

std::string Contents(const std::string& path) {
  std::string s(std::filesystem::file_size(path), '\0');
  int fd = ::open(path.c_str(), O_RDONLY);
  ssize_t r = ::pread(fd, s.data(), s.size(), 0);
  ::close(fd);
  s.resize(r < 0 ? 0 : static_cast<size_t>(r));
  return s;
}

TEST_F(EnvTest, DefaultMakesTheSystemCalls) {
  Env* env = Env::Default();
  ASSERT_EQ(env, Env::Default());
  const std::string a = Path("a"), b = Path("b");
  int fd = env->Open(a.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(env->Pwrite(fd, "hello world", 11, 0), 11);
  char buf[5];
  EXPECT_EQ(env->Pread(fd, buf, 5, 6), 5);
  EXPECT_EQ(std::string(buf, 5), "world");
  EXPECT_EQ(env->Ftruncate(fd, 5), 0);
  EXPECT_EQ(env->Fdatasync(fd), 0);
  EXPECT_EQ(env->Fsync(fd), 0);
  ::close(fd);
  EXPECT_EQ(Contents(a), "hello");

  // O_EXCL, rename without replacing, unlink: each failure comes back with errno.
  EXPECT_EQ(env->Open(a.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(env->RenameNoReplace(a.c_str(), b.c_str()), 0);
  fd = env->Open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(env->RenameNoReplace(a.c_str(), b.c_str()), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(Contents(b), "hello");
  EXPECT_EQ(env->Rename(a.c_str(), b.c_str()), 0);  // replaces
  EXPECT_EQ(Contents(b), "");
  EXPECT_EQ(env->Unlink(b.c_str()), 0);
  EXPECT_EQ(env->Unlink(b.c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(EnvTest, FaultEnvFailsTheNextCallsThenPassesThrough) {
  FaultEnv env;
  const std::string a = Path("a");
  int fd = env.Open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  env.FailNext(FaultEnv::Op::kFdatasync, EIO, 2);
  EXPECT_EQ(env.Fdatasync(fd), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(env.Fdatasync(fd), -1);
  EXPECT_EQ(env.Fdatasync(fd), 0);
  EXPECT_EQ(env.calls(FaultEnv::Op::kFdatasync), 3u);
  EXPECT_EQ(env.Fsync(fd), 0);  // other calls are not affected

  // A failed write writes nothing.
  env.FailNext(FaultEnv::Op::kPwrite, ENOSPC);
  EXPECT_EQ(env.Pwrite(fd, "abc", 3, 0), -1);
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_EQ(Contents(a), "");
  EXPECT_EQ(env.Pwrite(fd, "abc", 3, 0), 3);
  ::close(fd);
  EXPECT_EQ(Contents(a), "abc");
}

TEST_F(EnvTest, FaultEnvFailsEveryCallUntilCleared) {
  FaultEnv env;
  const std::string a = Path("a"), b = Path("b");
  env.FailAlways(FaultEnv::Op::kRename, EIO);
  env.FailAlways(FaultEnv::Op::kOpen, EACCES);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(env.Open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644), -1);
    EXPECT_EQ(errno, EACCES);
  }
  EXPECT_FALSE(std::filesystem::exists(a));
  env.Clear(FaultEnv::Op::kOpen);
  int fd = env.Open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(env.Rename(a.c_str(), b.c_str()), -1);
  EXPECT_EQ(env.RenameNoReplace(a.c_str(), b.c_str()), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_TRUE(std::filesystem::exists(a));
  env.Clear(FaultEnv::Op::kRename);
  EXPECT_EQ(env.Rename(a.c_str(), b.c_str()), 0);
  EXPECT_EQ(env.calls(FaultEnv::Op::kRename), 3u);
}

TEST_F(EnvTest, FaultEnvLimitedSpaceWritesWhatFitsThenFailsWithEnospc) {
  FaultEnv env;
  const std::string a = Path("a");
  int fd = env.Open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  env.LimitSpace(5);
  EXPECT_EQ(env.Pwrite(fd, "abc", 3, 0), 3);
  EXPECT_EQ(env.Pwrite(fd, "defg", 4, 3), 2);  // a short write: what still fits
  EXPECT_EQ(env.Pwrite(fd, "g", 1, 5), -1);
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_EQ(Contents(a), "abcde");
  env.Clear(FaultEnv::Op::kPwrite);
  EXPECT_EQ(env.Pwrite(fd, "fg", 2, 5), 2);
  ::close(fd);
  EXPECT_EQ(Contents(a), "abcdefg");
}

}  // namespace
}  // namespace hydrant
