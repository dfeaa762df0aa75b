// SseSink (server/sse_sink.h) in front of a real embedded store and KMS: a
// stream's SSE-KMS objects are stored encrypted and decrypt to what was
// written; a missing, disabled or pending-deletion key fails the put with
// Firehose's S3.KMS.* code (retryable) and leaves no object; the key enabled
// again, puts work again. Without a stream key the bucket's default encryption
// applies (SSE-KMS under its key, with the same failures; SSE-S3). With roles
// enforced, the role needs kms:GenerateDataKey, and kms:Decrypt as well for an
// object delivered as a multipart upload.
#include "server/sse_sink.h"

#include <gtest/gtest.h>

#include "destinations/object_store.h"
#include "destinations/sink_errors.h"
#include "kms/key_store.h"
#include "observability/doctor_iam.h"
#include "server/delivery_role.h"
#include "server/delivery_role_test_util.h"
#include "server/sse_keys.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

using testing_roles::Allow;
constexpr char kRole[] = "arn:aws:iam::000000000000:role/deliverer";

class SseSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing_roles::StoreWithLake(dir_.Sub("s3"));
    ASSERT_TRUE(store_);
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
    sink_ = std::make_unique<SseSink>(store_.get(), keys_.get(), nullptr, "us-east-1", store_.get());
  }

  Status Put(const std::string& key, const std::string& data, const std::string& kms_key,
             SseSink* sink = nullptr) {
    store::ObjectMeta m;
    m.sse_kms_key_id = kms_key;
    m.role_arn = kRole;
    auto w = (sink ? sink : sink_.get())->BeginPut("lake", key, m);
    if (!w.ok()) return w.status();
    HYDRANT_RETURN_IF_ERROR((*w)->Write(data.substr(0, 10)));
    HYDRANT_RETURN_IF_ERROR((*w)->Write(data.substr(10)));
    auto info = (*w)->Commit();
    if (!info.ok()) return info.status();
    EXPECT_EQ(info->size, data.size());  // the plaintext's size
    return Status::Ok();
  }

  // The plaintext of a stored object, decrypted as GetObject does; it must be
  // encrypted with `algorithm` under `key_arn` ("" = the stream's key).
  std::string Read(const std::string& key, std::string_view algorithm = sse::kAwsKms,
                   std::string key_arn = "") {
    auto obj = store_->OpenObject("lake", key);
    EXPECT_TRUE(obj.ok());
    auto record = sse::DecodeRecord(obj->info.meta.encryption);
    EXPECT_TRUE(record);
    if (!record) return "";
    EXPECT_EQ(record->algorithm, algorithm);
    if (algorithm == sse::kAwsKms) EXPECT_EQ(record->key_arn, key_arn.empty() ? key_arn_ : key_arn);
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

// PutBucketEncryption's rule as the store keeps it (s3_sse.cc: "<algorithm>
// <key or -> <bucket key 0|1>").
void SetBucketDefault(store::ObjectStore* s, const std::string& algorithm, const std::string& key) {
  ASSERT_TRUE(s->SetBucketEncryption("lake", algorithm + " " + (key.empty() ? "-" : key) + " 0").ok());
}

TEST_F(SseSinkTest, TheBucketsDefaultSseKmsAppliesWithoutAStreamKey) {
  auto other = keys_->CreateKey("bucket default", "");
  ASSERT_TRUE(other.ok());
  SetBucketDefault(store_.get(), sse::kAwsKms, other->arn);
  const std::string data = "defaulted\n" + std::string(70000, 'd');
  ASSERT_TRUE(Put("d", data, "").ok());
  EXPECT_EQ(Read("d", sse::kAwsKms, other->arn), data);
  EXPECT_EQ(store_->HeadObject("lake", "d")->size, sse::CipherSize(data.size()));
  // The stream's key wins over the default, as request headers do.
  ASSERT_TRUE(Put("s", data, key_arn_).ok());
  EXPECT_EQ(Read("s"), data);
  // A default without a key id: hydrant's aws/s3 key.
  SetBucketDefault(store_.get(), sse::kAwsKms, "");
  ASSERT_TRUE(Put("aws-s3", data, "").ok());
  auto owned = keys_->OwnedKeyArn(sse::kOwnedKmsDefaultPurpose);
  ASSERT_TRUE(owned.ok());
  EXPECT_EQ(Read("aws-s3", sse::kAwsKms, *owned), data);
  // No default: plaintext.
  ASSERT_TRUE(store_->SetBucketEncryption("lake", "").ok());
  ASSERT_TRUE(Put("plain", data, "").ok());
  EXPECT_EQ(store_->HeadObject("lake", "plain")->meta.encryption, "");
}

TEST_F(SseSinkTest, AnSseS3DefaultNeedsNoKmsPermission) {
  SetBucketDefault(store_.get(), sse::kAes256, "");
  testing_roles::FakeRoles roles;
  roles.policies[kRole] = {Allow({"s3:PutObject"}, "*")};  // no kms:*
  SseSink enforced(store_.get(), keys_.get(), &roles, "us-east-1", store_.get());
  const std::string data(kDeliveryMultipartThreshold + 5, 'e');  // multipart too
  ASSERT_TRUE(Put("sse-s3", data, "", &enforced).ok());
  EXPECT_EQ(Read("sse-s3", sse::kAes256), data);
}

TEST_F(SseSinkTest, ADisabledDefaultKeyFailsDeliveryUntilEnabled) {
  auto other = keys_->CreateKey("bucket default", "");
  ASSERT_TRUE(other.ok());
  SetBucketDefault(store_.get(), sse::kAwsKms, other->arn);
  ASSERT_TRUE(keys_->DisableKey(other->arn).ok());
  const std::string data = "defaulted data";
  Status st = Put("d", data, "");
  EXPECT_EQ(store::FirehoseErrorCode(st), store::kS3KmsDisabled) << st.ToString();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store_->HeadObject("lake", "d").ok());
  store::ObjectMeta m;
  EXPECT_EQ(store::FirehoseErrorCode(sink_->CheckAccess("lake", m)), store::kS3KmsDisabled);
  ASSERT_TRUE(keys_->EnableKey(other->arn).ok());
  ASSERT_TRUE(Put("d", data, "").ok());
  EXPECT_EQ(Read("d", sse::kAwsKms, other->arn), data);
}

// S3 asks KMS for kms:GenerateDataKey at CreateMultipartUpload and kms:Decrypt
// at each UploadPart: an object past kDeliveryMultipartThreshold needs both.
TEST_F(SseSinkTest, AMultipartObjectNeedsKmsDecrypt) {
  testing_roles::FakeRoles roles;
  roles.policies[kRole] = {Allow({"kms:GenerateDataKey"}, "*")};
  SseSink enforced(store_.get(), keys_.get(), &roles, "us-east-1", store_.get());
  ASSERT_TRUE(Put("small", std::string(kDeliveryMultipartThreshold, 's'), key_arn_, &enforced).ok());
  const std::string big(kDeliveryMultipartThreshold + 1, 'b');
  Status st = Put("big", big, key_arn_, &enforced);
  EXPECT_EQ(store::FirehoseErrorCode(st), store::kS3KmsAccessDenied) << st.ToString();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("allow kms:Decrypt."), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("kms:Decrypt"), st.message().rfind("kms:Decrypt")) << st.message();
  EXPECT_FALSE(store_->HeadObject("lake", "big").ok());
  // The same for the bucket default's key.
  SetBucketDefault(store_.get(), sse::kAwsKms, key_arn_);
  st = Put("big-default", big, "", &enforced);
  EXPECT_EQ(store::FirehoseErrorCode(st), store::kS3KmsAccessDenied) << st.ToString();
  // Without kms:GenerateDataKey nothing starts.
  roles.policies[kRole] = {Allow({"kms:Decrypt"}, "*")};
  st = Put("small", std::string(20, 'x'), key_arn_, &enforced);
  EXPECT_EQ(store::FirehoseErrorCode(st), store::kS3KmsAccessDenied) << st.ToString();
  EXPECT_NE(st.message().find("allow kms:GenerateDataKey."), std::string::npos) << st.message();
  roles.policies[kRole] = {Allow({"kms:GenerateDataKey", "kms:Decrypt"}, "*")};
  ASSERT_TRUE(Put("big", big, key_arn_, &enforced).ok());
  EXPECT_EQ(Read("big"), big);
  // A key disabled while the object is written fails its next part.
  store::ObjectMeta m;
  m.sse_kms_key_id = key_arn_;
  m.role_arn = kRole;
  auto w = enforced.BeginPut("lake", "cut", m);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(std::string(kDeliveryMultipartThreshold, 'c')).ok());
  ASSERT_TRUE(keys_->DisableKey(key_arn_).ok());
  EXPECT_EQ(store::FirehoseErrorCode((*w)->Write("c")), store::kS3KmsDisabled);
}

// The doctor's KMS needs (observability::KmsNeeds, the kms-key check) agree with
// delivery: for a stream whose objects are small and one whose objects are
// multipart uploads, an action the doctor requires fails delivery of such an
// object when it is the one missing, with the doctor's code; one it only warns
// about does not.
TEST_F(SseSinkTest, AgreesWithTheDoctorsKmsNeeds) {
  testing_roles::FakeRoles roles;
  SseSink enforced(store_.get(), keys_.get(), &roles, "us-east-1", store_.get());
  int round = 0;
  for (uint64_t mib : {1, 9}) {
    api::S3DestinationSpec spec;
    spec.bucket = "lake";
    spec.role_arn = kRole;
    spec.kms_key_arn = key_arn_;
    spec.buffer_size_bytes = mib << 20;
    const std::vector<observability::NeededAction> needs = observability::KmsNeeds(spec);
    ASSERT_EQ(needs.size(), 2u);
    // A buffer's worth and the record that filled it.
    const std::string object(spec.buffer_size_bytes + 1, 'o');
    for (const auto& missing : needs) {
      std::vector<std::string> others;
      for (const auto& n : needs) {
        if (n.action != missing.action) others.push_back(n.action);
      }
      roles.policies[kRole] = {Allow(others, "*")};
      Status st = Put("agree-" + std::to_string(round++), object, key_arn_, &enforced);
      if (missing.required) {
        EXPECT_EQ(store::FirehoseErrorCode(st), missing.error_code) << mib << " " << missing.action;
        EXPECT_NE(st.message().find(missing.action), std::string::npos) << st.message();
      } else {
        EXPECT_TRUE(st.ok()) << mib << " " << missing.action << ": " << st.ToString();
      }
    }
  }
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
