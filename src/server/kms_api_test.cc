#include "server/kms_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "common/base64.h"
#include "iam/principal.h"
#include "kms/key_store.h"
#include "server/authorization.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

namespace json = boost::json;

class KmsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kms::KeyStoreOptions o;
    o.dir = dir_.Sub("kms");
    o.account.account_id = "111122223333";
    o.account.region = "us-west-2";
    o.clock = &clock_;
    auto s = kms::KeyStore::Open(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    api_ = std::make_unique<KmsApi>(store_.get(), &authz_);
  }
  // Calls `op`; returns the status and the parsed body.
  std::pair<int, json::object> Call(std::string_view op, json::object in,
                                    std::shared_ptr<const iam::Principal> who = nullptr) {
    http::Request r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"X-Amz-Target", "TrentService." + std::string(op)},
                 {"Content-Type", "application/x-amz-json-1.1"}};
    r.body = json::serialize(in);
    r.principal = std::move(who);
    http::Response resp = api_->Handle(r);
    json::value v = json::parse(resp.body);
    return {resp.status, v.as_object()};
  }
  static std::string Type(const json::object& o) {
    return o.contains("__type") ? std::string(o.at("__type").as_string()) : "";
  }
  static std::string Msg(const json::object& o) {
    return o.contains("message") ? std::string(o.at("message").as_string()) : "";
  }
  std::string NewKey() {
    auto [st, out] = Call("CreateKey", {});
    EXPECT_EQ(st, 200) << json::serialize(out);
    return std::string(out.at("KeyMetadata").at("KeyId").as_string());
  }

  testing::TempDir dir_;
  FakeClock clock_{1'800'000'000'000};
  Authorizer authz_{nullptr, &clock_};
  std::unique_ptr<kms::KeyStore> store_;
  std::unique_ptr<KmsApi> api_;
};

TEST_F(KmsApiTest, CreateAndDescribeKeyShapes) {
  auto [st, out] = Call("CreateKey", {{"Description", "d"}});
  ASSERT_EQ(st, 200) << json::serialize(out);
  const json::object& m = out.at("KeyMetadata").as_object();
  const std::string id(m.at("KeyId").as_string());
  EXPECT_EQ(m.at("Arn").as_string(), "arn:aws:kms:us-west-2:111122223333:key/" + id);
  EXPECT_EQ(m.at("AWSAccountId").as_string(), "111122223333");
  EXPECT_EQ(m.at("KeyState").as_string(), "Enabled");
  EXPECT_EQ(m.at("Enabled").as_bool(), true);
  EXPECT_EQ(m.at("KeySpec").as_string(), "SYMMETRIC_DEFAULT");
  EXPECT_EQ(m.at("KeyUsage").as_string(), "ENCRYPT_DECRYPT");
  EXPECT_EQ(m.at("KeyManager").as_string(), "CUSTOMER");
  EXPECT_EQ(m.at("CreationDate").as_double(), 1'800'000'000.0);
  auto [st2, d] = Call("DescribeKey", {{"KeyId", m.at("Arn")}});
  ASSERT_EQ(st2, 200);
  EXPECT_EQ(d.at("KeyMetadata").at("Description").as_string(), "d");
}

TEST_F(KmsApiTest, Errors) {
  auto [st, out] = Call("DescribeKey", {});
  EXPECT_EQ(st, 400);
  EXPECT_EQ(Type(out), "ValidationException");
  EXPECT_EQ(Msg(out), "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
  std::tie(st, out) = Call("DescribeKey", {{"KeyId", "alias/missing"}});
  EXPECT_EQ(Type(out), "NotFoundException");
  EXPECT_EQ(Msg(out), "Alias 'arn:aws:kms:us-west-2:111122223333:alias/missing' is not found.");
  std::tie(st, out) = Call("CreateKey", {{"KeySpec", "RSA_2048"}});
  EXPECT_EQ(Type(out), "UnsupportedOperationException");
  std::tie(st, out) = Call("CreateKey", {{"KeyUsage", "SIGN_VERIFY"}});
  EXPECT_EQ(Type(out), "UnsupportedOperationException");
  std::tie(st, out) = Call("CreateKey", {{"Policy", "{}"}});
  EXPECT_EQ(Type(out), "MalformedPolicyDocumentException");
  std::tie(st, out) = Call("CreateGrant", {});
  EXPECT_EQ(Type(out), "UnsupportedOperationException");
  const std::string id = NewKey();
  std::tie(st, out) = Call("ScheduleKeyDeletion", {{"KeyId", id}, {"PendingWindowInDays", 6}});
  EXPECT_EQ(Type(out), "ValidationException");
  EXPECT_EQ(Msg(out), "1 validation error detected: Value '6' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7");
  std::tie(st, out) = Call("Encrypt", {{"KeyId", id}, {"Plaintext", base64::Encode(std::string(4097, 'x'))}});
  EXPECT_EQ(Type(out), "ValidationException");
  std::tie(st, out) = Call("GenerateDataKey", {{"KeyId", id}});
  EXPECT_EQ(Msg(out), "Please specify either number of bytes or key spec.");
  std::tie(st, out) = Call("GenerateDataKey", {{"KeyId", id}, {"NumberOfBytes", 1025}});
  EXPECT_EQ(Type(out), "ValidationException");
  std::tie(st, out) = Call("GetKeyPolicy", {{"KeyId", id}, {"PolicyName", "other"}});
  EXPECT_EQ(Type(out), "NotFoundException");
  std::tie(st, out) = Call("CreateAlias", {{"AliasName", "alias/aws/x"}, {"TargetKeyId", id}});
  EXPECT_EQ(Type(out), "InvalidAliasNameException");
}

TEST_F(KmsApiTest, EncryptDecryptWithContextAndStates) {
  const std::string id = NewKey();
  ASSERT_EQ(Call("CreateAlias", {{"AliasName", "alias/app"}, {"TargetKeyId", id}}).first, 200);
  json::object ctx{{"purpose", "test"}};
  auto [st, e] = Call("Encrypt", {{"KeyId", "alias/app"}, {"Plaintext", base64::Encode("hello")}, {"EncryptionContext", ctx}});
  ASSERT_EQ(st, 200) << json::serialize(e);
  const std::string arn = "arn:aws:kms:us-west-2:111122223333:key/" + id;
  EXPECT_EQ(e.at("KeyId").as_string(), arn);
  EXPECT_EQ(e.at("EncryptionAlgorithm").as_string(), "SYMMETRIC_DEFAULT");
  auto blob = e.at("CiphertextBlob");
  auto [st2, d] = Call("Decrypt", {{"CiphertextBlob", blob}, {"EncryptionContext", ctx}});
  ASSERT_EQ(st2, 200) << json::serialize(d);
  EXPECT_EQ(base64::Decode(d.at("Plaintext").as_string()), "hello");
  EXPECT_EQ(d.at("KeyId").as_string(), arn);
  std::tie(st2, d) = Call("Decrypt", {{"CiphertextBlob", blob}});
  EXPECT_EQ(Type(d), "InvalidCiphertextException");
  ASSERT_EQ(Call("DisableKey", {{"KeyId", id}}).first, 200);
  std::tie(st2, d) = Call("Decrypt", {{"CiphertextBlob", blob}, {"EncryptionContext", ctx}});
  EXPECT_EQ(Type(d), "DisabledException");
  EXPECT_EQ(Msg(d), arn + " is disabled.");
  auto [st3, s] = Call("ScheduleKeyDeletion", {{"KeyId", id}, {"PendingWindowInDays", 7}});
  ASSERT_EQ(st3, 200);
  EXPECT_EQ(s.at("KeyState").as_string(), "PendingDeletion");
  EXPECT_EQ(s.at("PendingWindowInDays").as_int64(), 7);
  EXPECT_EQ(s.at("KeyId").as_string(), arn);
  std::tie(st3, s) = Call("GenerateDataKey", {{"KeyId", id}, {"KeySpec", "AES_256"}});
  EXPECT_EQ(Type(s), "KMSInvalidStateException");
  EXPECT_EQ(Msg(s), arn + " is pending deletion.");
  std::tie(st3, s) = Call("CancelKeyDeletion", {{"KeyId", id}});
  EXPECT_EQ(st3, 200);
  std::tie(st3, s) = Call("DescribeKey", {{"KeyId", id}});
  EXPECT_EQ(s.at("KeyMetadata").at("KeyState").as_string(), "Disabled");
}

TEST_F(KmsApiTest, DataKeysAndLists) {
  const std::string id = NewKey();
  auto [st, g] = Call("GenerateDataKey", {{"KeyId", id}, {"KeySpec", "AES_128"}});
  ASSERT_EQ(st, 200);
  EXPECT_EQ(base64::Decode(g.at("Plaintext").as_string())->size(), 16u);
  auto [st2, w] = Call("GenerateDataKeyWithoutPlaintext", {{"KeyId", id}, {"NumberOfBytes", 64}});
  ASSERT_EQ(st2, 200);
  EXPECT_FALSE(w.contains("Plaintext"));
  auto [st3, d] = Call("Decrypt", {{"CiphertextBlob", w.at("CiphertextBlob")}});
  ASSERT_EQ(st3, 200);
  EXPECT_EQ(base64::Decode(d.at("Plaintext").as_string())->size(), 64u);
  NewKey();
  NewKey();
  auto [st4, l] = Call("ListKeys", {{"Limit", 2}});
  ASSERT_EQ(st4, 200);
  EXPECT_EQ(l.at("Keys").as_array().size(), 2u);
  EXPECT_TRUE(l.at("Truncated").as_bool());
  auto [st5, l2] = Call("ListKeys", {{"Marker", l.at("NextMarker")}});
  EXPECT_EQ(l2.at("Keys").as_array().size(), 1u);
  EXPECT_FALSE(l2.at("Truncated").as_bool());
}

std::shared_ptr<const iam::Principal> User(std::string name, std::string policy) {
  auto p = std::make_shared<iam::Principal>();
  p->kind = iam::Principal::Kind::kUser;
  p->account_id = "111122223333";
  p->arn = "arn:aws:iam::111122223333:user/" + name;
  p->user_name = name;
  p->policy_documents = {std::move(policy)};
  p->policy_version = 1;
  return p;
}

TEST_F(KmsApiTest, SignedCallersAreAuthorized) {
  const std::string id = NewKey();  // the default key policy: IAM policies decide
  auto encrypt_only = User("enc", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}]})");
  auto [st, e] = Call("Encrypt", {{"KeyId", id}, {"Plaintext", base64::Encode("x")}}, encrypt_only);
  ASSERT_EQ(st, 200) << json::serialize(e);
  auto [st2, d] = Call("Decrypt", {{"CiphertextBlob", e.at("CiphertextBlob")}}, encrypt_only);
  EXPECT_EQ(st2, 400);
  EXPECT_EQ(Type(d), "AccessDeniedException");
  EXPECT_NE(Msg(d).find("kms:Decrypt"), std::string::npos);
  std::tie(st2, d) = Call("CreateKey", {}, encrypt_only);
  EXPECT_EQ(Type(d), "AccessDeniedException");
  std::tie(st2, d) = Call("ListKeys", {}, encrypt_only);
  EXPECT_EQ(Type(d), "AccessDeniedException");
  // The lockout check: a policy that would lock the caller out is refused.
  auto admin = User("admin", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]})");
  const std::string no_root =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/other"},"Action":"kms:*","Resource":"*"}]})";
  std::tie(st2, d) = Call("PutKeyPolicy", {{"KeyId", id}, {"Policy", no_root}}, admin);
  EXPECT_EQ(Type(d), "MalformedPolicyDocumentException");
  EXPECT_EQ(Msg(d), "The new key policy will not allow you to update the key policy in the future.");
  std::tie(st2, d) = Call("PutKeyPolicy", {{"KeyId", id}, {"Policy", no_root}, {"BypassPolicyLockoutSafetyCheck", true}}, admin);
  ASSERT_EQ(st2, 200) << json::serialize(d);
  // Now identity policies are irrelevant: even kms:* is denied.
  std::tie(st2, d) = Call("DescribeKey", {{"KeyId", id}}, admin);
  EXPECT_EQ(Type(d), "AccessDeniedException");
  EXPECT_NE(Msg(d).find("no resource-based policy allows"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::server
