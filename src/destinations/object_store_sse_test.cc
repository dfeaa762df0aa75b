// The store keeps an object's encryption record (ObjectMeta::encryption) with
// the object and its upload, across a reopen, in HeadObject and in listings,
// and the bucket's default encryption document; it never interprets either.
#include <gtest/gtest.h>

#include "destinations/object_store.h"
#include "destinations/object_store_test_util.h"
#include "testing/temp_dir.h"

namespace hydrant::store {
namespace {

TEST(ObjectStoreSseTest, EncryptionRecordIsKeptWithDefaultAttributes) {
  testing::TempDir dir;
  const std::string root = dir.Sub("s3");
  {
    auto s = OpenOrDie(root);
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    ObjectMeta m;  // delivery's defaults, plus a record
    m.encryption = "sse1 aws:kms arn:aws:kms:r:1:key/k QUJD -";
    ASSERT_TRUE(s->PutObject("bkt", "enc", "ciphertext", m).ok());
    ASSERT_TRUE(s->PutObject("bkt", "plain", "x", ObjectMeta()).ok());
    auto head = s->HeadObject("bkt", "enc");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->meta.encryption, m.encryption);
    auto up = s->CreateMultipartUpload("bkt", "mp", m);
    ASSERT_TRUE(up.ok());
    auto parts = s->ListParts("bkt", "mp", up->upload_id, ListPartsRequest());
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->upload.meta.encryption, m.encryption);
    ASSERT_TRUE(s->SetBucketEncryption("bkt", "aws:kms - 0").ok());
  }
  auto s = OpenOrDie(root);  // and after a reopen
  auto head = s->HeadObject("bkt", "enc");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->meta.encryption, "sse1 aws:kms arn:aws:kms:r:1:key/k QUJD -");
  auto list = s->List("bkt", ListRequest());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->objects.size(), 2u);
  EXPECT_EQ(list->objects[0].key, "enc");
  EXPECT_EQ(list->objects[0].meta.encryption, head->meta.encryption);
  EXPECT_EQ(list->objects[1].meta.encryption, "");
  auto def = s->BucketEncryption("bkt");
  ASSERT_TRUE(def.ok() && *def);
  EXPECT_EQ(**def, "aws:kms - 0");
  ASSERT_TRUE(s->SetBucketEncryption("bkt", "").ok());
  auto gone = s->BucketEncryption("bkt");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, nullptr);
  EXPECT_EQ(s->BucketEncryption("nope").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace hydrant::store
