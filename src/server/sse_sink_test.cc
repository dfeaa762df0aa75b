// SseSink (server/sse_sink.h) in front of a real embedded store and KMS: a
// stream's SSE-KMS objects are stored encrypted and decrypt to what was
// written; a missing, disabled or pending-deletion key fails the put with
// Firehose's S3.KMS.* code (retryable) and leaves no object; the key enabled
// again, puts work again.
#include "server/sse_sink.h"

#include <gtest/gtest.h>

#include "destinations/object_store.h"
#include "destinations/sink_errors.h"
#include "kms/key_store.h"
#include "server/sse_keys.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

class SseSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::ObjectStore::Open(dir_.Sub("s3"));
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->CreateBucket("lake").ok());
    kms::KeyStoreOptions o;
    o.dir = dir_.Sub("kms");
    o.account.account_id = "000000000000";
    o.account.region = "us-east-1";
    auto k = kms::KeyStore::Open(o);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    keys_ = std::move(k).value();
    auto key = keys_->CreateKey("stream key", "");
    ASSERT_TRUE(key.ok());
    key_arn_ = key->arn;
    sink_ = std::make_unique<SseSink>(store_.get(), keys_.get(), nullptr, "us-east-1");
  }

  Status Put(const std::string& key, const std::string& data, const std::string& kms_key) {
    store::ObjectMeta m;
    m.sse_kms_key_id = kms_key;
    auto w = sink_->BeginPut("lake", key, m);
    if (!w.ok()) return w.status();
    HYDRANT_RETURN_IF_ERROR((*w)->Write(data.substr(0, 10)));
    HYDRANT_RETURN_IF_ERROR((*w)->Write(data.substr(10)));
    auto info = (*w)->Commit();
    if (!info.ok()) return info.status();
    EXPECT_EQ(info->size, data.size());  // the plaintext's size
    return Status::Ok();
  }

  // The plaintext of a stored object, decrypted as GetObject does.
  std::string Read(const std::string& key) {
    auto obj = store_->OpenObject("lake", key);
    EXPECT_TRUE(obj.ok());
    auto record = sse::DecodeRecord(obj->info.meta.encryption);
    EXPECT_TRUE(record);
    if (!record) return "";
    EXPECT_EQ(record->algorithm, sse::kAwsKms);
    EXPECT_EQ(record->key_arn, key_arn_);
    sse::KeyRequest req;
    req.bucket = "lake";
    req.object_key = key;
    auto dk = sse::OpenDataKey(keys_.get(), *record, req);
    EXPECT_TRUE(dk.ok()) << dk.status().ToString();
    auto total = sse::PlainTotal(obj->info.size, obj->info.part_sizes);
    auto plain = sse::ReadPlain(obj->data.get(), *dk, {obj->info.size}, 0, *total);
    EXPECT_TRUE(plain.ok());
    return plain.ok() ? *plain : "";
  }

  void ExpectRefused(const std::string& key, std::string_view code) {
    Status st = Put(key, std::string(100, 'x'), key_arn_);
    EXPECT_EQ(store::FirehoseErrorCode(st), code) << st.ToString();
    EXPECT_EQ(st.code(), StatusCode::kUnavailable);  // retried by delivery
    EXPECT_FALSE(store_->HeadObject("lake", key).ok());
    store::ObjectMeta m;
    m.sse_kms_key_id = key_arn_;
    EXPECT_EQ(store::FirehoseErrorCode(sink_->CheckAccess("lake", m)), code);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<kms::KeyStore> keys_;
  std::unique_ptr<SseSink> sink_;
  std::string key_arn_;
};

TEST_F(SseSinkTest, ObjectsAreStoredEncryptedUnderTheStreamsKey) {
  const std::string data = "record one\nrecord two\n" + std::string(70000, 'r');
  ASSERT_TRUE(Put("a", data, key_arn_).ok());
  auto head = store_->HeadObject("lake", "a");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, sse::CipherSize(data.size()));
  EXPECT_EQ(Read("a"), data);
  // Without a key, objects pass through as written.
  ASSERT_TRUE(Put("plain", data, "").ok());
  head = store_->HeadObject("lake", "plain");
  EXPECT_EQ(head->meta.encryption, "");
  EXPECT_EQ(head->size, data.size());
  // The probe passes.
  store::ObjectMeta m;
  m.sse_kms_key_id = key_arn_;
  EXPECT_TRUE(sink_->CheckAccess("lake", m).ok());
}

TEST_F(SseSinkTest, UnusableKeysFailWithFirehosesCodesUntilFixed) {
  ASSERT_TRUE(keys_->DisableKey(key_arn_).ok());
  ExpectRefused("disabled", store::kS3KmsDisabled);
  ASSERT_TRUE(keys_->ScheduleKeyDeletion(key_arn_, 7).ok());
  ExpectRefused("pending", store::kS3KmsInvalidState);
  ASSERT_TRUE(keys_->CancelKeyDeletion(key_arn_).ok());
  ASSERT_TRUE(keys_->EnableKey(key_arn_).ok());
  ASSERT_TRUE(Put("again", std::string(20, 'y'), key_arn_).ok());
  EXPECT_EQ(Read("again"), std::string(20, 'y'));

  Status st = Put("missing", std::string(20, 'z'),
                  "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(store::FirehoseErrorCode(st), store::kS3KmsNotFound);
  EXPECT_TRUE(st.message().starts_with("The provided AWS KMS key was not found.")) << st.message();
}

// The doctor names a key's problem with store::S3KmsCode; delivery with
// KmsDeliveryError. Both must give the same code for each of KMS's errors.
TEST(KmsDeliveryError, AgreesWithS3KmsCode) {
  for (std::string_view kms_code : {kms::kNotFoundException, kms::kDisabledException,
                                    kms::kInvalidStateException, kms::kAccessDeniedException}) {
    Status st = KmsDeliveryError(Status(StatusCode::kInvalidArgument, "x").WithErrorCode(kms_code));
    EXPECT_EQ(st.error_code(), store::S3KmsCode(kms_code)) << kms_code;
    EXPECT_FALSE(store::S3KmsCode(kms_code).empty()) << kms_code;
  }
  EXPECT_EQ(store::S3KmsCode("ValidationException"), "");
  EXPECT_EQ(store::S3KmsCode(""), "");
}

}  // namespace
}  // namespace hydrant::server
