// GET /health's body: "ok", or "degraded" with the streams that could not be
// opened and the damage found at start, in a bounded number of lines.

#include "observability/health.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/file_util.h"
#include "destinations/object_store.h"
#include "stream/registry.h"
#include "testing/temp_dir.h"

namespace hydrant::observability {
namespace {

class HealthTest : public ::testing::Test {
 protected:
  std::unique_ptr<stream::StreamRegistry> OpenRegistry() {
    stream::RegistryOptions ro;
    ro.data_dir = dir_.path();
    ro.quarantine_retry = std::chrono::milliseconds(0);
    auto reg = stream::StreamRegistry::Open(ro, store_.get(), &clock_);
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    return reg.ok() ? std::move(reg).value() : nullptr;
  }

  testing::TempDir dir_;
  FakeClock clock_{1'767'225'600'000};
  std::unique_ptr<store::ObjectStore> store_ =
      std::move(store::ObjectStore::Open(dir_.Sub("s3"))).value();
};

TEST_F(HealthTest, OkUntilAStreamCannotBeOpened) {
  EXPECT_EQ(HealthReport(*OpenRegistry()), "ok\n");
  for (int i = 0; i < 150; ++i) {
    const std::string dir = dir_.path() + "/streams/s-bad" + std::to_string(i);
    ASSERT_TRUE(fs::MakeDirs(dir).ok());
    ASSERT_TRUE(fs::WriteFileAtomic(dir + "/stream.json", "").ok());
  }
  std::string body = HealthReport(*OpenRegistry());
  EXPECT_TRUE(body.starts_with("degraded\nquarantined stream=bad")) << body;
  EXPECT_NE(body.find("stream.json is empty"), std::string::npos) << body;
  // Bounded: 150 streams, kMaxHealthLines lines and a count of the rest.
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 1 + kMaxHealthLines + 1) << body;
  EXPECT_NE(body.find("... 50 more lines"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::observability
