#include "kms/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "common/file_util.h"
#include "kms/crypto.h"
#include "kms/format.h"
#include "kms/key_policy.h"
#include "testing/temp_dir.h"

namespace hydrant::kms {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class KeyStoreTest : public ::testing::Test {
 protected:
  KeyStoreOptions Options() {
    KeyStoreOptions o;
    o.dir = dir_.Sub("kms");
    o.account.account_id = "111122223333";
    o.account.region = "eu-west-1";
    o.clock = &clock_;
    return o;
  }
  std::unique_ptr<KeyStore> OpenStore() {
    auto s = KeyStore::Open(Options());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  testing::TempDir dir_;
  FakeClock clock_{kT0};
};

TEST_F(KeyStoreTest, CreatesMasterKeyAndFilesWithOwnerOnlyModes) {
  auto s = OpenStore();
  auto k = s->CreateKey("first", "");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(ModeOf(dir_.Sub("kms")), 0700u);
  EXPECT_EQ(ModeOf(dir_.Sub("kms/keys")), 0700u);
  EXPECT_EQ(ModeOf(dir_.Sub("kms/master.key")), 0600u);
  EXPECT_EQ(ModeOf(dir_.Sub("kms/keys/" + k->key_id + ".json")), 0600u);
  ASSERT_TRUE(s->CreateAlias("alias/a", k->key_id).ok());
  EXPECT_EQ(ModeOf(dir_.Sub("kms/aliases.json")), 0600u);
  EXPECT_EQ(k->arn, "arn:aws:kms:eu-west-1:111122223333:key/" + k->key_id);
  EXPECT_EQ(k->state, KeyState::kEnabled);
  EXPECT_EQ(k->creation_ms, kT0);
}

TEST_F(KeyStoreTest, KeyMaterialIsNotStoredInTheClear) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  ASSERT_TRUE(k.ok());
  auto text = fs::ReadFile(dir_.Sub("kms/keys/" + k->key_id + ".json"));
  ASSERT_TRUE(text.ok());
  auto rec = ParseKeyRecord(*text);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  auto master = ParseMasterKey(fs::ReadFile(dir_.Sub("kms/master.key")).value());
  ASSERT_TRUE(master.ok());
  auto material = OpenMaterial(*master, k->key_id, rec->sealed_material);
  ASSERT_TRUE(material.has_value());
  EXPECT_EQ(material->size(), 32u);
  EXPECT_EQ(text->find(*material), std::string::npos);
  // Moved into another key's record, the sealed material does not open.
  EXPECT_FALSE(OpenMaterial(*master, "other-key", rec->sealed_material).has_value());
}

TEST_F(KeyStoreTest, DurableAcrossReopen) {
  std::string id, blob;
  {
    auto s = OpenStore();
    auto k = s->CreateKey("kept", "");
    ASSERT_TRUE(k.ok());
    id = k->key_id;
    ASSERT_TRUE(s->CreateAlias("alias/kept", id).ok());
    ASSERT_TRUE(s->DisableKey(id).ok());
    ASSERT_TRUE(s->EnableKey(id).ok());
    auto e = s->Encrypt("alias/kept", "secret", {{"a", "b"}});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    blob = e->ciphertext_blob;
    auto other = s->CreateKey("disabled", "");
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(s->DisableKey(other->key_id).ok());
  }
  auto s = OpenStore();
  auto d = s->Decrypt(blob, {{"a", "b"}});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->plaintext, "secret");
  auto meta = s->DescribeKey("alias/kept");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->key_id, id);
  EXPECT_EQ(meta->description, "kept");
  auto keys = s->ListKeys();
  ASSERT_EQ(keys.size(), 2u);
  int disabled = 0;
  for (const auto& k : keys) disabled += k.state == KeyState::kDisabled;
  EXPECT_EQ(disabled, 1);
}

TEST_F(KeyStoreTest, WrongMasterKeyRefusesToStartNamingTheFile) {
  {
    auto s = OpenStore();
    ASSERT_TRUE(s->CreateKey("", "").ok());
  }
  ASSERT_TRUE(fs::WriteFileAtomic(dir_.Sub("kms/master.key"), SerializeMasterKey(RandomBytes(32)), 0600).ok());
  auto s = KeyStore::Open(Options());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(dir_.Sub("kms/master.key")), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("is not the one the KMS keys were stored under"), std::string::npos);
}

TEST_F(KeyStoreTest, MissingMasterKeyWithStoredKeysRefusesToStart) {
  {
    auto s = OpenStore();
    ASSERT_TRUE(s->CreateKey("", "").ok());
  }
  KeyStoreOptions o = Options();
  o.master_key_file = dir_.Sub("elsewhere/master.key");
  auto s = KeyStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(o.master_key_file), std::string::npos) << s.status().message();
  EXPECT_FALSE(fs::Exists(o.master_key_file));
}

TEST_F(KeyStoreTest, ConfiguredMasterKeyFileIsCreatedAndUsed) {
  KeyStoreOptions o = Options();
  o.master_key_file = dir_.Sub("secrets/master.key");
  std::string blob;
  {
    auto s = KeyStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto k = (*s)->CreateKey("", "");
    blob = (*s)->Encrypt(k->key_id, "x", {})->ciphertext_blob;
  }
  EXPECT_EQ(ModeOf(o.master_key_file), 0600u);
  EXPECT_FALSE(fs::Exists(dir_.Sub("kms/master.key")));
  auto s = KeyStore::Open(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Decrypt(blob, {})->plaintext, "x");
}

TEST_F(KeyStoreTest, DamagedMasterKeyFileIsRefused) {
  ASSERT_TRUE(fs::MakeDirs(dir_.Sub("kms")).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(dir_.Sub("kms/master.key"), "garbage\n", 0600).ok());
  auto s = KeyStore::Open(Options());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("master.key is not valid"), std::string::npos) << s.status().message();
}

TEST_F(KeyStoreTest, DamagedKeyFileIsCorruption) {
  std::string id;
  {
    auto s = OpenStore();
    id = s->CreateKey("", "")->key_id;
  }
  const std::string path = dir_.Sub("kms/keys/" + id + ".json");
  auto rec = ParseKeyRecord(fs::ReadFile(path).value());
  ASSERT_TRUE(rec.ok());
  rec->sealed_material[20] ^= 1;
  ASSERT_TRUE(fs::WriteFileAtomic(path, SerializeKeyRecord(*rec), 0600).ok());
  auto s = KeyStore::Open(Options());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("damaged"), std::string::npos);
}

TEST_F(KeyStoreTest, StatesFollowAws) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  const std::string id = k->key_id, arn = k->arn;
  ASSERT_TRUE(s->CheckUsable(id).ok());

  ASSERT_TRUE(s->DisableKey(id).ok());
  Status st = s->CheckUsable(id);
  EXPECT_EQ(st.error_code(), kDisabledException);
  EXPECT_EQ(st.message(), arn + " is disabled.");
  EXPECT_EQ(s->GenerateDataKey(id, {}).status().error_code(), kDisabledException);

  // ScheduleKeyDeletion: 7..30 days.
  EXPECT_EQ(s->ScheduleKeyDeletion(id, 6).status().error_code(), kValidationException);
  EXPECT_EQ(s->ScheduleKeyDeletion(id, 31).status().error_code(), kValidationException);
  auto sched = s->ScheduleKeyDeletion(id, 7);
  ASSERT_TRUE(sched.ok());
  EXPECT_EQ(sched->state, KeyState::kPendingDeletion);
  EXPECT_EQ(sched->deletion_ms, kT0 + 7 * kDayMs);
  st = s->CheckUsable(arn);
  EXPECT_EQ(st.error_code(), kInvalidStateException);
  EXPECT_EQ(st.message(), arn + " is pending deletion.");
  EXPECT_EQ(s->EnableKey(id).error_code(), kInvalidStateException);
  EXPECT_EQ(s->ScheduleKeyDeletion(id, 10).status().error_code(), kInvalidStateException);

  // Cancel: back to Disabled, as AWS does.
  auto cancelled = s->CancelKeyDeletion(id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, KeyState::kDisabled);
  EXPECT_EQ(cancelled->deletion_ms, 0);
  auto again = s->CancelKeyDeletion(id);
  EXPECT_EQ(again.status().error_code(), kInvalidStateException);
  EXPECT_EQ(again.status().message(), arn + " is not pending deletion.");
  ASSERT_TRUE(s->EnableKey(id).ok());
  EXPECT_TRUE(s->CheckUsable(id).ok());
}

TEST_F(KeyStoreTest, KeyPastItsDeletionDateIsDeletedWithItsAliases) {
  std::string id, blob;
  {
    auto s = OpenStore();
    id = s->CreateKey("", "")->key_id;
    blob = s->Encrypt(id, "x", {})->ciphertext_blob;
    ASSERT_TRUE(s->CreateAlias("alias/doomed", id).ok());
    ASSERT_TRUE(s->ScheduleKeyDeletion(id, 30).ok());
    clock_.Set(kT0 + 30 * kDayMs - 1);
    EXPECT_TRUE(s->DescribeKey(id).ok());
    clock_.Set(kT0 + 30 * kDayMs);
    auto gone = s->DescribeKey(id);
    EXPECT_EQ(gone.status().error_code(), kNotFoundException);
    EXPECT_EQ(gone.status().message(), "Key 'arn:aws:kms:eu-west-1:111122223333:key/" + id + "' does not exist");
    EXPECT_EQ(s->DescribeKey("alias/doomed").status().error_code(), kNotFoundException);
    EXPECT_EQ(s->Decrypt(blob, {}).status().error_code(), kNotFoundException);
    EXPECT_FALSE(fs::Exists(dir_.Sub("kms/keys/" + id + ".json")));
  }
  auto s = OpenStore();
  EXPECT_TRUE(s->ListKeys().empty());
  EXPECT_TRUE(s->ListAliases()->empty());
}

TEST_F(KeyStoreTest, AliasRules) {
  auto s = OpenStore();
  auto a = s->CreateKey("", "");
  auto b = s->CreateKey("", "");
  EXPECT_EQ(s->CreateAlias("noprefix", a->key_id).error_code(), kInvalidAliasNameException);
  EXPECT_EQ(s->CreateAlias("alias/aws/s3", a->key_id).error_code(), kInvalidAliasNameException);
  ASSERT_TRUE(s->CreateAlias("alias/one", a->key_id).ok());
  ASSERT_TRUE(s->CreateAlias("alias/two", a->arn).ok());  // a key may have several
  Status dup = s->CreateAlias("alias/one", b->key_id);  // one alias names one key
  EXPECT_EQ(dup.error_code(), kAlreadyExistsException);
  EXPECT_EQ(dup.message(), "An alias with the name arn:aws:kms:eu-west-1:111122223333:alias/one already exists");
  EXPECT_EQ(s->CreateAlias("alias/three", "alias/one").error_code(), kValidationException);
  EXPECT_EQ(s->CreateAlias("alias/four", "no-such-key").error_code(), kNotFoundException);
  EXPECT_EQ(s->ListAliases()->size(), 2u);
  EXPECT_EQ(s->ListAliases(b->key_id)->size(), 0u);
  auto of_a = s->ListAliases(a->arn);
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[0].arn, "arn:aws:kms:eu-west-1:111122223333:alias/one");
  // Resolution by alias name and alias ARN; not by alias where AWS takes keys only.
  EXPECT_EQ(s->DescribeKey("arn:aws:kms:eu-west-1:111122223333:alias/two")->key_id, a->key_id);
  EXPECT_EQ(s->DisableKey("alias/one").error_code(), kNotFoundException);
  Status missing = s->DeleteAlias("alias/none");
  EXPECT_EQ(missing.error_code(), kNotFoundException);
  EXPECT_EQ(missing.message(), "Alias 'arn:aws:kms:eu-west-1:111122223333:alias/none' is not found.");
  ASSERT_TRUE(s->DeleteAlias("alias/one").ok());
  EXPECT_EQ(s->DescribeKey("alias/one").status().error_code(), kNotFoundException);
  // Another account's or region's ARN is not found.
  EXPECT_EQ(s->DescribeKey("arn:aws:kms:us-east-1:111122223333:key/" + a->key_id).status().error_code(),
            kNotFoundException);
}

TEST_F(KeyStoreTest, BlobsDetectTamperingAndContextMismatch) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  EncryptionContext ctx{{"aws:s3:arn", "arn:aws:s3:::b/k"}, {"purpose", "test"}};
  auto e = s->Encrypt(k->key_id, "payload", ctx);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->key_arn, k->arn);
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob, ctx)->plaintext, "payload");
  // Every flipped byte fails (header, key id, IV, ciphertext, tag).
  for (size_t i = 0; i < e->ciphertext_blob.size(); ++i) {
    std::string bad = e->ciphertext_blob;
    bad[i] ^= 0x01;
    auto d = s->Decrypt(bad, ctx);
    ASSERT_FALSE(d.ok()) << "byte " << i;
    EXPECT_TRUE(d.status().error_code() == kInvalidCiphertextException ||
                d.status().error_code() == kNotFoundException)
        << "byte " << i << ": " << d.status().ToString();
  }
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob.substr(0, e->ciphertext_blob.size() - 1), ctx).status().error_code(),
            kInvalidCiphertextException);
  EXPECT_EQ(s->Decrypt("", ctx).status().error_code(), kInvalidCiphertextException);
  // A different, a smaller or no context fails.
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob, {{"aws:s3:arn", "arn:aws:s3:::b/other"}, {"purpose", "test"}})
                .status()
                .error_code(),
            kInvalidCiphertextException);
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob, {{"purpose", "test"}}).status().error_code(),
            kInvalidCiphertextException);
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob, {}).status().error_code(), kInvalidCiphertextException);
  // The expected key must be the blob's.
  auto other = s->CreateKey("", "");
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob, ctx, other->key_id).status().error_code(), kIncorrectKeyException);
  EXPECT_TRUE(s->Decrypt(e->ciphertext_blob, ctx, k->arn).ok());
  // A disabled key does not decrypt.
  ASSERT_TRUE(s->DisableKey(k->key_id).ok());
  EXPECT_EQ(s->Decrypt(e->ciphertext_blob, ctx).status().error_code(), kDisabledException);
}

TEST_F(KeyStoreTest, DataKeys) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  auto dk = s->GenerateDataKey(k->key_id, {{"c", "1"}}, 32);
  ASSERT_TRUE(dk.ok());
  EXPECT_EQ(dk->plaintext.size(), 32u);
  auto d = s->Decrypt(dk->ciphertext_blob, {{"c", "1"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->plaintext, dk->plaintext);
  EXPECT_EQ(s->GenerateDataKey(k->key_id, {}, 1024)->plaintext.size(), 1024u);
  EXPECT_EQ(s->GenerateDataKey(k->key_id, {}, 0).status().error_code(), kValidationException);
  EXPECT_EQ(s->GenerateDataKey(k->key_id, {}, 1025).status().error_code(), kValidationException);
  EXPECT_EQ(s->Encrypt(k->key_id, std::string(4097, 'x'), {}).status().error_code(), kValidationException);
  EXPECT_TRUE(s->Encrypt(k->key_id, std::string(4096, 'x'), {}).ok());
  auto arn = s->BlobKeyArn(dk->ciphertext_blob);
  ASSERT_TRUE(arn.ok());
  EXPECT_EQ(*arn, k->arn);
}

TEST_F(KeyStoreTest, KeyPolicies) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  auto p = s->GetKeyPolicy(k->key_id);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, DefaultKeyPolicy("111122223333"));
  EXPECT_NE(p->find("\"Sid\" : \"Enable IAM User Permissions\""), std::string::npos);
  EXPECT_NE(p->find("\"AWS\" : \"arn:aws:iam::111122223333:root\""), std::string::npos);
  Status bad = s->PutKeyPolicy(k->key_id, R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]})");
  EXPECT_EQ(bad.error_code(), kMalformedPolicyDocumentException);
  EXPECT_EQ(bad.message(), "Missing required field Principal");
  EXPECT_EQ(s->CreateKey("", "not json").status().error_code(), kMalformedPolicyDocumentException);
  const std::string mine =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*","Resource":"*"}]})";
  ASSERT_TRUE(s->PutKeyPolicy(k->arn, mine).ok());
  auto s2 = OpenStore();
  EXPECT_EQ(s2->GetKeyPolicy(k->key_id).value(), mine);
}

iam::Principal User(std::string name, std::vector<std::string> policies) {
  iam::Principal p;
  p.kind = iam::Principal::Kind::kUser;
  p.account_id = "111122223333";
  p.arn = "arn:aws:iam::111122223333:user/" + name;
  p.user_name = name;
  p.policy_documents = std::move(policies);
  return p;
}

constexpr std::string_view kAllowKms =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:GenerateDataKey"],"Resource":"*"}]})";

TEST_F(KeyStoreTest, AuthorizeFollowsKmsRule) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  iam::Principal alice = User("alice", {std::string(kAllowKms)});
  // Default key policy: the account's identity policies decide.
  EXPECT_TRUE(s->Authorize({&alice, "kms:Encrypt", k->key_id, {}, {}}).ok());
  Status denied = s->Authorize({&alice, "kms:Decrypt", k->key_id, {}, {}});
  EXPECT_EQ(denied.error_code(), kAccessDeniedException);
  EXPECT_EQ(denied.message(), "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt "
                              "on resource: " + k->arn + " because no identity-based policy allows the kms:Decrypt action");
  // A key policy without the account statement: identity policies are irrelevant.
  ASSERT_TRUE(s->PutKeyPolicy(k->key_id, R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:Decrypt","Resource":"*"}]})").ok());
  denied = s->Authorize({&alice, "kms:Encrypt", k->key_id, {}, {}});
  EXPECT_EQ(denied.error_code(), kAccessDeniedException);
  EXPECT_NE(denied.message().find("because no resource-based policy allows the kms:Encrypt action"), std::string::npos);
  iam::Principal root;
  root.kind = iam::Principal::Kind::kRoot;
  root.account_id = "111122223333";
  root.arn = "arn:aws:iam::111122223333:root";
  EXPECT_EQ(s->Authorize({&root, "kms:Encrypt", k->key_id, {}, {}}).error_code(), kAccessDeniedException);
  // Named in the key policy: allowed with no identity policy at all.
  iam::Principal bob = User("bob", {});
  EXPECT_TRUE(s->Authorize({&bob, "kms:Decrypt", k->key_id, {}, {}}).ok());
  // An explicit deny in an identity policy wins.
  iam::Principal bob_denied = User("bob", {R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]})"});
  denied = s->Authorize({&bob_denied, "kms:Decrypt", k->key_id, {}, {}});
  EXPECT_EQ(denied.error_code(), kAccessDeniedException);
  EXPECT_NE(denied.message().find("explicit deny in an identity-based policy"), std::string::npos);
  // Anonymous (open mode) is allowed; a missing key is NotFound.
  iam::Principal anon;
  EXPECT_TRUE(s->Authorize({&anon, "kms:Decrypt", k->key_id, {}, {}}).ok());
  EXPECT_EQ(s->Authorize({&bob, "kms:Decrypt", "no-such", {}, {}}).error_code(), kNotFoundException);
}

TEST_F(KeyStoreTest, AuthorizeSeesEncryptionContextAndViaService) {
  auto s = OpenStore();
  auto k = s->CreateKey("", "");
  iam::Principal role;
  role.kind = iam::Principal::Kind::kAssumedRole;
  role.account_id = "111122223333";
  role.role_arn = "arn:aws:iam::111122223333:role/delivery";
  role.arn = "arn:aws:sts::111122223333:assumed-role/delivery/firehose";
  // The seed's policy: kms:ViaService and the S3 ARN in the encryption context.
  role.policy_documents = {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":")" +
                           k->arn +
                           R"(","Condition":{"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"},"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::bucket/prefix*"}}}]})"};
  KeyAccessRequest r{&role, "kms:GenerateDataKey", k->key_id, {{"aws:s3:arn", "arn:aws:s3:::bucket/prefix/o"}},
                     {{"kms:ViaService", "s3.eu-west-1.amazonaws.com"}}};
  EXPECT_TRUE(s->Authorize(r).ok());
  r.context = {{"aws:s3:arn", "arn:aws:s3:::other/o"}};
  EXPECT_EQ(s->Authorize(r).error_code(), kAccessDeniedException);
  r.context = {{"aws:s3:arn", "arn:aws:s3:::bucket/prefix/o"}};
  r.condition_keys.clear();
  EXPECT_EQ(s->Authorize(r).error_code(), kAccessDeniedException);
}

TEST_F(KeyStoreTest, OwnedKeysAreHiddenAndStable) {
  std::string arn;
  {
    auto s = OpenStore();
    auto a = s->OwnedKeyArn("firehose");
    ASSERT_TRUE(a.ok());
    arn = *a;
    EXPECT_EQ(s->OwnedKeyArn("firehose").value(), arn);
    EXPECT_TRUE(s->ListKeys().empty());
    EXPECT_EQ(s->ResolveArn(arn, true).status().error_code(), kNotFoundException);
    auto dk = s->GenerateDataKey(arn, {});
    ASSERT_TRUE(dk.ok());
    iam::Principal nobody = User("nobody", {});
    EXPECT_TRUE(s->Authorize({&nobody, "kms:Decrypt", arn, {}, {}}).ok());
  }
  auto s = OpenStore();
  EXPECT_EQ(s->OwnedKeyArn("firehose").value(), arn);
  EXPECT_TRUE(s->DescribeKey(arn)->aws_owned);
}

TEST(KmsFormat, BlobLayout) {
  const std::string material(32, 'k');
  std::string blob = SealBlob("key-1", material, "hello", {{"b", "2"}, {"a", "1"}});
  ASSERT_EQ(blob.size(), 2 + 5 + 12 + 5 + 16u);
  EXPECT_EQ(blob[0], 1);
  EXPECT_EQ(blob[1], 5);
  EXPECT_EQ(blob.substr(2, 5), "key-1");
  auto v = ParseBlob(blob);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->key_id, "key-1");
  // The context's order does not matter; its canonical form is fixed.
  EXPECT_EQ(OpenBlob(*v, material, {{"a", "1"}, {"b", "2"}}), "hello");
  EXPECT_EQ(CanonicalContext({{"b", "2"}, {"a", "1"}}),
            std::string("\0\0\0\1a\0\0\0\1" "1\0\0\0\1b\0\0\0\1" "2", 20));
  std::string v2 = blob;
  v2[0] = 2;
  EXPECT_FALSE(ParseBlob(v2).has_value());
  EXPECT_FALSE(ParseBlob(std::string("\x01\x00", 2)).has_value());
}

// A blob made outside hydrant from docs/security.md's description alone (Python's
// `cryptography` AESGCM, material 0x5a * 32, IV 00..0b, context {"a": "1"}):
// the document and the bytes agree.
TEST(KmsFormat, BlobFromTheDocumentOpens) {
  const std::string hex =
      "01056b65792d31000102030405060708090a0b25c441095106422ef2f88b16aaa3115a2aa87d589a";
  std::string blob;
  for (size_t i = 0; i < hex.size(); i += 2) blob.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  auto v = ParseBlob(blob);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->key_id, "key-1");
  EXPECT_EQ(OpenBlob(*v, std::string(32, '\x5a'), {{"a", "1"}}), "hello");
  EXPECT_FALSE(OpenBlob(*v, std::string(32, '\x5a'), {{"a", "2"}}).has_value());
}

TEST(KmsFormat, MasterKeyFile) {
  const std::string key(32, '\x07');
  const std::string text = SerializeMasterKey(key);
  EXPECT_TRUE(text.starts_with("hydrant-kms-master-key 1\n"));
  EXPECT_EQ(ParseMasterKey(text).value(), key);
  EXPECT_FALSE(ParseMasterKey("hydrant-kms-master-key 1\nAAAA\n").ok());
  EXPECT_EQ(MasterKeyFingerprint(key).size(), 16u);
  EXPECT_NE(MasterKeyFingerprint(key), MasterKeyFingerprint(std::string(32, '\x08')));
}

}  // namespace
}  // namespace hydrant::kms
