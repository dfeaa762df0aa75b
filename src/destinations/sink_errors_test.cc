#include "destinations/sink_errors.h"

#include <gtest/gtest.h>

#include "destinations/object_store.h"
#include "destinations/routing_sink.h"
#include "testing/temp_dir.h"

namespace hydrant::store {
namespace {

TEST(FirehoseErrorCode, FromErrorCodeOrStatusCode) {
  EXPECT_EQ(FirehoseErrorCode(Status::Ok()), "");
  for (std::string_view c :
       {kS3AccessDenied, kS3NoSuchBucket, kS3KmsNotFound, kS3KmsRequestLimitExceeded,
        kS3AccountProblem, kS3AllAccessDisabled, kS3InvalidPayer, kS3NotSignedUp,
        kS3MethodNotAllowed, kInternalError}) {
    Status st = SinkError(c, "PutObject s3://b/k failed");
    EXPECT_EQ(FirehoseErrorCode(st), c);
    EXPECT_EQ(st.message(), "PutObject s3://b/k failed");
    EXPECT_EQ(st.error_code(), c);
    EXPECT_NE(st.ToString().find(std::string(c) + ": PutObject s3://b/k failed"), std::string::npos)
        << st.ToString();
  }
  // An unknown code is InternalError.
  EXPECT_EQ(FirehoseErrorCode(SinkError("S3.Bogus", "x")), kInternalError);
  EXPECT_EQ(SinkError(kS3NoSuchBucket, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(SinkError(kS3AccessDenied, "x").code(), StatusCode::kUnavailable);
  // Without a prefix: the embedded store's NotFound is a missing bucket.
  EXPECT_EQ(FirehoseErrorCode(Status::NotFound("The specified bucket does not exist")),
            kS3NoSuchBucket);
  EXPECT_EQ(FirehoseErrorCode(Status::IoError("disk full")), kInternalError);
  // A code is never read out of the message text.
  EXPECT_EQ(FirehoseErrorCode(Status::IoError("S3.AccessDenied: y")), kInternalError);
  EXPECT_TRUE(HasFirehoseErrorCode(SinkError(kS3AccessDenied, "x")));
  EXPECT_FALSE(HasFirehoseErrorCode(Status::Unavailable("x").WithErrorCode("HttpTimeout")));
  EXPECT_FALSE(HasFirehoseErrorCode(Status::NotFound("no bucket")));
}

class EmbeddedStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ObjectStore::Open(dir_.Sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override { store_.reset(); }

  ::hydrant::testing::TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(EmbeddedStore, MissingBucketMapsToNoSuchBucket) {
  auto w = store_->BeginPut("nope", "k", {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(FirehoseErrorCode(w.status()), kS3NoSuchBucket);
  Status st = store_->CheckAccess("nope", {});
  EXPECT_EQ(FirehoseErrorCode(st), kS3NoSuchBucket);
  EXPECT_NE(st.message().find("nope"), std::string::npos);
}

TEST_F(EmbeddedStore, CheckAccessLeavesNoProbeBehind) {
  ASSERT_TRUE(store_->CreateBucket("bkt1").ok());
  ASSERT_TRUE(store_->PutObject("bkt1", "existing", "x", {}).ok());
  Status st = store_->CheckAccess("bkt1", {});
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto l = store_->List("bkt1", {});
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->objects.size(), 1u);
  EXPECT_EQ(l->objects[0].key, "existing");
}

// Records calls; answers BeginPut with NotFound naming itself.
class NamedSink final : public ObjectSink {
 public:
  explicit NamedSink(std::string name) : name_(std::move(name)) {}
  Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view, std::string_view,
                                                 const ObjectMeta&) override {
    return Status::NotFound(name_);
  }
  Status CheckAccess(std::string_view, const ObjectMeta&) override {
    return SinkError(kS3AccessDenied, name_);
  }

 private:
  std::string name_;
};

TEST_F(EmbeddedStore, RoutingSinkPicksPerBucket) {
  ASSERT_TRUE(store_->CreateBucket("local").ok());
  auto remote_a = std::make_shared<NamedSink>("a");
  std::map<std::string, std::shared_ptr<ObjectSink>, std::less<>> routes{{"bucket-a", remote_a}};
  RoutingSink no_default(store_.get(), nullptr, routes);
  EXPECT_EQ(no_default.Route("bucket-a"), remote_a.get());
  EXPECT_EQ(no_default.Route("local"), store_.get());
  EXPECT_EQ(no_default.BeginPut("bucket-a", "k", {}).status().message(), "a");
  EXPECT_TRUE(no_default.BeginPut("local", "k", {}).ok());
  EXPECT_TRUE(no_default.CheckAccess("local", {}).ok());
  EXPECT_EQ(FirehoseErrorCode(no_default.CheckAccess("bucket-a", {})), kS3AccessDenied);

  auto def = std::make_shared<NamedSink>("default");
  RoutingSink with_default(store_.get(), def, routes);
  EXPECT_EQ(with_default.Route("bucket-a"), remote_a.get());
  EXPECT_EQ(with_default.Route("local"), def.get());
  EXPECT_EQ(with_default.BeginPut("other", "k", {}).status().message(), "default");
}

}  // namespace
}  // namespace hydrant::store
