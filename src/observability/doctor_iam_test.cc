#include "observability/doctor_iam.h"

#include <map>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "iam/identity_store.h"
#include "kms/key_store.h"
#include "stream/probe.h"
#include "testing/temp_dir.h"

namespace hydrant::observability {
namespace {

namespace json = boost::json;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr char kRole[] = "arn:aws:iam::000000000000:role/deliverer";
constexpr char kLambdaRole[] = "arn:aws:iam::000000000000:role/invoker";
constexpr char kFn[] = "arn:aws:lambda:us-east-1:000000000000:function:fn";
constexpr char kTrustFirehose[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
constexpr char kTrustLambda[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})";

std::string Allow(std::string actions, std::string resource = "\"*\"") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":)" + actions +
         R"(,"Resource":)" + resource + "}]}";
}

// The doctor's IAM checks against a real IAM store and KMS in a temporary folder.
class DoctorIamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iam::IdentityStoreOptions io;
    io.dir = dir_.Sub("iam");
    io.clock = &clock_;
    auto ids = iam::IdentityStore::Open(io);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    ids_ = std::move(ids).value();
    kms::KeyStoreOptions ko;
    ko.dir = dir_.Sub("kms");
    ko.clock = &clock_;
    auto keys = kms::KeyStore::Open(ko);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(keys).value();
    ASSERT_TRUE(ids_->CreateRole("deliverer", "/", kTrustFirehose, "", 3600, {}).ok());
    Destination({});
    target_.meta.name = "s";
    target_.meta.arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/s";
    target_.meta.incarnation = "inc";
    target_.probe = &probe_;
  }
  // The stream's destination, with extra members.
  void Destination(json::object extra) {
    json::object d{{"BucketARN", "arn:aws:s3:::b"},
                   {"RoleARN", kRole},
                   {"BufferingHints", json::object{{"SizeInMBs", 1}, {"IntervalInSeconds", 60}}},
                   {"CloudWatchLoggingOptions", json::object{{"Enabled", false}}},
                   {"S3BackupMode", "Disabled"}};
    for (auto& [k, v] : extra) d[k] = v;
    target_.meta.SetDestination(std::move(d));
  }
  void PutPolicy(std::string_view name, const std::string& doc, std::string_view role = "deliverer") {
    ASSERT_TRUE(ids_->PutInlinePolicy(iam::EntityKind::kRole, role, name, doc).ok());
  }
  DoctorReport Run(bool enforce = true) {
    DoctorDeps d;
    d.clock = &clock_;
    d.bucket_is_remote = [](std::string_view) { return false; };
    d.iam.enforce_roles = enforce;
    d.iam.role = [this](std::string_view arn) { return RoleDocumentsOf(*ids_, arn); };
    d.iam.bucket_policy = [this](std::string_view bucket) -> std::shared_ptr<const std::string> {
      auto it = bucket_policies_.find(std::string(bucket));
      return it == bucket_policies_.end() ? nullptr : std::make_shared<std::string>(it->second);
    };
    d.iam.keys = keys_.get();
    d.iam.key_policy = [this](std::string_view key) { return keys_->GetKeyPolicy(key); };
    return Doctor(std::move(d)).Run(target_);
  }
  static const CheckResult& Get(const DoctorReport& r, std::string_view id) {
    static const CheckResult none;
    const CheckResult* c = r.Find(id);
    if (c == nullptr) ADD_FAILURE() << "no check " << id;
    return c != nullptr ? *c : none;
  }
  static bool Has(const CheckResult& c, std::string_view text) {
    return c.evidence.find(text) != std::string::npos;
  }
  // A new key of the KMS, in effect for the stream's encryption at rest (ENABLED).
  Result<kms::KeyMetadata> EncryptAtRestWithANewKey() {
    auto key = keys_->CreateKey("", "");
    if (!key.ok()) return key;
    target_.meta.key_at_rest = key->arn;
    target_.meta.encryption = json::object{
        {"KeyType", "CUSTOMER_MANAGED_CMK"}, {"KeyARN", key->arn}, {"Status", "ENABLED"}};
    return key;
  }

  FakeClock clock_{kT0};
  ::hydrant::testing::TempDir dir_;
  std::unique_ptr<iam::IdentityStore> ids_;
  std::unique_ptr<kms::KeyStore> keys_;
  std::map<std::string, std::string> bucket_policies_;
  stream::StreamProbe probe_;
  DoctorTarget target_;
};

TEST_F(DoctorIamTest, WithoutEnforcedRolesTheRoleChecksAreNotApplicable) {
  DoctorReport r = Run(false);
  EXPECT_EQ(Get(r, "role-trust").status, CheckStatus::kNotApplicable);
  EXPECT_EQ(Get(r, "role-permissions").status, CheckStatus::kNotApplicable);
}

TEST_F(DoctorIamTest, ARoleAllowedEverythingPasses) {
  PutPolicy("s3", Allow(R"(["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation",
      "s3:ListBucket"])", R"(["arn:aws:s3:::b","arn:aws:s3:::b/*"])"));
  DoctorReport r = Run();
  EXPECT_EQ(Get(r, "role-trust").status, CheckStatus::kPassed) << r.ToText();
  EXPECT_EQ(Get(r, "role-permissions").status, CheckStatus::kPassed) << r.ToText();
  EXPECT_TRUE(Has(Get(r, "role-permissions"), "all 4 actions"));
}

TEST_F(DoctorIamTest, AMissingRoleOrATrustWithoutFirehoseFails) {
  Destination({{"RoleARN", "arn:aws:iam::000000000000:role/gone"}});
  DoctorReport r = Run();
  EXPECT_EQ(Get(r, "role-trust").status, CheckStatus::kFailed);
  EXPECT_TRUE(Has(Get(r, "role-trust"), "arn:aws:iam::000000000000:role/gone does not exist"));
  EXPECT_EQ(Get(r, "role-permissions").status, CheckStatus::kFailed);

  ASSERT_TRUE(ids_->CreateRole("lambdaonly", "/", kTrustLambda, "", 3600, {}).ok());
  Destination({{"RoleARN", "arn:aws:iam::000000000000:role/lambdaonly"}});
  r = Run();
  const CheckResult& trust = Get(r, "role-trust");
  EXPECT_EQ(trust.status, CheckStatus::kFailed);
  EXPECT_TRUE(Has(trust, "role/lambdaonly: its trust policy has no statement allowing "
                         "sts:AssumeRole to {\"Service\": \"firehose.amazonaws.com\"}"))
      << trust.evidence;
  EXPECT_NE(trust.fix.find("update-assume-role-policy"), std::string::npos);
}

TEST_F(DoctorIamTest, ATrustPolicyDenyIsNamed) {
  ASSERT_TRUE(ids_->UpdateAssumeRolePolicy("deliverer", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"},
      {"Sid":"NoFirehose","Effect":"Deny","Principal":{"Service":"firehose.amazonaws.com"},
       "Action":"sts:AssumeRole"}]})").ok());
  const CheckResult& trust = Get(Run(), "role-trust");
  EXPECT_EQ(trust.status, CheckStatus::kFailed);
  EXPECT_TRUE(Has(trust, "statement \"NoFirehose\" (#2)")) << trust.evidence;
  EXPECT_TRUE(Has(trust, "the trust policy of " + std::string(kRole))) << trust.evidence;
}

TEST_F(DoctorIamTest, AMissingPutObjectFailsAndTheOthersWarn) {
  PutPolicy("list", Allow(R"("s3:ListBucket")", R"("arn:aws:s3:::b")"));
  const CheckResult c = Get(Run(), "role-permissions");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "S3.AccessDenied");
  EXPECT_TRUE(Has(c, "missing: s3:PutObject on arn:aws:s3:::b/object")) << c.evidence;
  EXPECT_TRUE(Has(c, "no policy of the role allows it"));
  EXPECT_TRUE(Has(c, "also missing (warnings): s3:AbortMultipartUpload")) << c.evidence;
  EXPECT_FALSE(Has(c, "s3:ListBucket")) << c.evidence;

  PutPolicy("put", Allow(R"("s3:PutObject")", R"("arn:aws:s3:::b/*")"));
  const CheckResult w = Get(Run(), "role-permissions");
  EXPECT_EQ(w.status, CheckStatus::kWarning) << w.evidence;
  EXPECT_TRUE(Has(w, "s3:GetBucketLocation on arn:aws:s3:::b")) << w.evidence;
}

TEST_F(DoctorIamTest, ABucketPolicyDenyNamesTheStatementThePolicyAndTheDocument) {
  PutPolicy("s3", Allow(R"("s3:*")"));
  bucket_policies_["b"] = R"({"Version":"2012-10-17","Statement":[
      {"Sid":"DenyFirehose","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
       "Resource":"arn:aws:s3:::b/*"}]})";
  const CheckResult c = Get(Run(), "role-permissions");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_TRUE(Has(c, "s3:PutObject on arn:aws:s3:::b/object (destination bucket s3://b, role " +
                         std::string(kRole) +
                         "): denied explicitly by statement \"DenyFirehose\" (#1) {"))
      << c.evidence;
  EXPECT_TRUE(Has(c, "of bucket policy of b; document: {\"Version\":\"2012-10-17\""))
      << c.evidence;
}

TEST_F(DoctorIamTest, AnIdentityPolicyDenyNamesTheInlinePolicy) {
  PutPolicy("allow", Allow(R"("s3:*")"));
  PutPolicy("guard", R"({"Version":"2012-10-17","Statement":{"Effect":"Deny",
      "Action":"s3:PutObject","Resource":"*"}})");
  const CheckResult c = Get(Run(), "role-permissions");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_TRUE(Has(c, "denied explicitly by statement #1 {\"Effect\":\"Deny\"")) << c.evidence;
  EXPECT_TRUE(Has(c, "of inline policy guard of role deliverer")) << c.evidence;
}

TEST_F(DoctorIamTest, TheLambdaProcessorsRoleNeedsInvokeFunctionAndGetFunctionConfiguration) {
  PutPolicy("s3", Allow(R"("s3:*")"));
  ASSERT_TRUE(ids_->CreateRole("invoker", "/", kTrustFirehose, "", 3600, {}).ok());
  Destination({{"ProcessingConfiguration",
                json::object{{"Enabled", true},
                             {"Processors",
                              json::array{json::object{
                                  {"Type", "Lambda"},
                                  {"Parameters",
                                   json::array{json::object{{"ParameterName", "LambdaArn"},
                                                            {"ParameterValue", kFn}},
                                               json::object{{"ParameterName", "RoleArn"},
                                                            {"ParameterValue", kLambdaRole}}}}}}}}}});
  DoctorReport r = Run();
  EXPECT_EQ(Get(r, "role-trust").status, CheckStatus::kPassed) << r.ToText();
  const CheckResult c = Get(r, "role-permissions");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "Lambda.InvokeAccessDenied");
  EXPECT_TRUE(Has(c, "lambda:InvokeFunction on " + std::string(kFn))) << c.evidence;
  PutPolicy("invoke", Allow(R"("lambda:InvokeFunction")", "\"" + std::string(kFn) + "\""),
            "invoker");
  // Delivery checks lambda:GetFunctionConfiguration too (server::RoleCheckedInvoker):
  // without it every record still goes to processing-failed/.
  const CheckResult g = Get(Run(), "role-permissions");
  EXPECT_EQ(g.status, CheckStatus::kFailed) << g.evidence;
  EXPECT_EQ(g.error_code, "Lambda.InvokeAccessDenied");
  EXPECT_TRUE(Has(g, "lambda:GetFunctionConfiguration on " + std::string(kFn) +
                         " (Lambda processor " + kFn + ", role " + kLambdaRole +
                         "): no policy of the role allows it"))
      << g.evidence;
  EXPECT_FALSE(Has(g, "lambda:InvokeFunction on")) << g.evidence;
  PutPolicy("config", Allow(R"("lambda:GetFunctionConfiguration")", "\"" + std::string(kFn) + "\""),
            "invoker");
  const CheckResult ok = Get(Run(), "role-permissions");
  EXPECT_EQ(ok.status, CheckStatus::kPassed) << ok.evidence;
}

TEST_F(DoctorIamTest, ErrorLoggingNeedsPutLogEventsOnItsLogStream) {
  PutPolicy("s3", Allow(R"("s3:*")"));
  Destination({{"CloudWatchLoggingOptions", json::object{{"Enabled", true}}}});
  const CheckResult c = Get(Run(), "role-permissions");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_TRUE(Has(c, "logs:PutLogEvents on arn:aws:logs:us-east-1:000000000000:log-group:"
                     "/aws/kinesisfirehose/s:log-stream:DestinationDelivery"))
      << c.evidence;
  PutPolicy("logs", Allow(R"("logs:PutLogEvents")",
                          R"("arn:aws:logs:*:*:log-group:/aws/kinesisfirehose/*")"));
  EXPECT_EQ(Get(Run(), "role-permissions").status, CheckStatus::kPassed);
}

TEST_F(DoctorIamTest, ADisabledKeyFailsAndPassesOnceEnabled) {
  PutPolicy("s3", Allow(R"("s3:*")"));
  auto key = keys_->CreateKey("", "");
  ASSERT_TRUE(key.ok());
  Destination({{"EncryptionConfiguration",
                json::object{{"KMSEncryptionConfig", json::object{{"AWSKMSKeyARN", key->arn}}}}}});
  ASSERT_TRUE(keys_->DisableKey(key->key_id).ok());
  CheckResult c = Get(Run(), "kms-key");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "S3.KMS.DisabledException");
  EXPECT_TRUE(Has(c, "key " + key->arn + " is Disabled")) << c.evidence;
  EXPECT_NE(c.fix.find("enable-key --key-id " + key->key_id), std::string::npos);
  ASSERT_TRUE(keys_->EnableKey(key->key_id).ok());
  // The default key policy delegates to the account: the role's policies decide.
  c = Get(Run(), "kms-key");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_TRUE(Has(c, "kms:GenerateDataKey")) << c.evidence;
  PutPolicy("kms", Allow(R"(["kms:GenerateDataKey","kms:Decrypt"])"));
  c = Get(Run(), "kms-key");
  EXPECT_EQ(c.status, CheckStatus::kPassed) << c.evidence;
}

// kms:Decrypt is what each part of a multipart upload needs: required when the
// buffer makes objects delivery writes as multipart uploads, else a warning.
TEST_F(DoctorIamTest, KmsDecryptIsRequiredWhenObjectsAreMultipartUploads) {
  PutPolicy("s3", Allow(R"("s3:*")"));
  PutPolicy("kms", Allow(R"(["kms:GenerateDataKey"])"));
  auto key = keys_->CreateKey("", "");
  ASSERT_TRUE(key.ok());
  json::object enc{{"KMSEncryptionConfig", json::object{{"AWSKMSKeyARN", key->arn}}}};
  Destination({{"EncryptionConfiguration", enc}});  // SizeInMBs 1
  CheckResult c = Get(Run(), "kms-key");
  EXPECT_EQ(c.status, CheckStatus::kWarning) << c.evidence;
  EXPECT_TRUE(Has(c, "kms:Decrypt")) << c.evidence;
  EXPECT_TRUE(Has(c, "multipart uploads, over 8 MiB: BufferingHints.SizeInMBs is 1")) << c.evidence;
  Destination({{"EncryptionConfiguration", enc},
               {"BufferingHints", json::object{{"SizeInMBs", 8}, {"IntervalInSeconds", 60}}}});
  c = Get(Run(), "kms-key");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_EQ(c.error_code, "S3.KMS.AccessDeniedException");
  EXPECT_TRUE(Has(c, "kms:Decrypt")) << c.evidence;
  // The list the check uses says the same.
  std::vector<std::pair<std::string, bool>> needs;
  for (const NeededAction& n : KmsNeeds(target_.meta.spec().s3)) needs.emplace_back(n.action, n.required);
  EXPECT_EQ(needs, (std::vector<std::pair<std::string, bool>>{{"kms:GenerateDataKey", true},
                                                               {"kms:Decrypt", true}}));
  PutPolicy("kms", Allow(R"(["kms:GenerateDataKey","kms:Decrypt"])"));
  EXPECT_EQ(Get(Run(), "kms-key").status, CheckStatus::kPassed);
}

TEST_F(DoctorIamTest, AKeyPolicyDenyIsNamed) {
  PutPolicy("all", Allow(R"(["s3:*","kms:*"])"));
  auto key = keys_->CreateKey("", R"({"Version":"2012-10-17","Statement":[
      {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},
       "Action":"kms:*","Resource":"*"},
      {"Sid":"NoDataKeys","Effect":"Deny","Principal":"*","Action":"kms:GenerateDataKey",
       "Resource":"*"}]})");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  Destination({{"EncryptionConfiguration",
                json::object{{"KMSEncryptionConfig", json::object{{"AWSKMSKeyARN", key->arn}}}}}});
  const CheckResult c = Get(Run(), "kms-key");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "S3.KMS.AccessDeniedException");
  EXPECT_TRUE(Has(c, "statement \"NoDataKeys\" (#2)")) << c.evidence;
  EXPECT_TRUE(Has(c, "of key policy of " + key->arn)) << c.evidence;
}

TEST_F(DoctorIamTest, ReportRoundTripsTheNewChecksThroughJson) {
  DoctorReport r = Run();
  auto back = DoctorReport::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Get(*back, "role-permissions").evidence, Get(r, "role-permissions").evidence);
  EXPECT_EQ(Get(*back, "role-permissions").error_code, "S3.AccessDenied");
}

// --- stream-encryption: the key of the stream's encryption at rest ---

TEST_F(DoctorIamTest, StreamEncryptionIsNotApplicableWhenOffAndPassesWithHydrantsOwnKey) {
  target_.meta.encryption = json::object{{"Status", "DISABLED"}};
  CheckResult c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kNotApplicable) << c.evidence;
  EXPECT_TRUE(Has(c, "encryption at rest is off")) << c.evidence;

  target_.meta.key_at_rest = "";
  target_.meta.encryption = json::object{{"KeyType", "AWS_OWNED_CMK"}, {"Status", "ENABLED"}};
  c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kPassed) << c.evidence;
  EXPECT_TRUE(Has(c, "hydrant's own key (AWS_OWNED_CMK)")) << c.evidence;
}

TEST_F(DoctorIamTest, StreamEncryptionWithADisabledCustomerKeyFailsUntilEnabled) {
  auto key = EncryptAtRestWithANewKey();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  CheckResult c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kPassed) << c.evidence;
  EXPECT_TRUE(Has(c, key->arn + " (CUSTOMER_MANAGED_CMK), which is Enabled")) << c.evidence;

  ASSERT_TRUE(keys_->DisableKey(key->key_id).ok());
  DoctorReport r = Run();
  c = Get(r, "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_TRUE(r.HasFailure());
  EXPECT_EQ(c.error_code, "KMS.DisabledException");  // what delivery logs
  EXPECT_TRUE(Has(c, "key " + key->arn + " of the stream's encryption at rest "
                     "(CUSTOMER_MANAGED_CMK) is Disabled: "))
      << c.evidence;
  EXPECT_TRUE(Has(c, "puts fail with InvalidKMSResourceException and buffered records are not "
                     "delivered"))
      << c.evidence;
  EXPECT_NE(c.fix.find("aws kms enable-key --key-id " + key->key_id), std::string::npos) << c.fix;
  EXPECT_NE(r.ToText().find("FAIL  stream encryption"), std::string::npos) << r.ToText();

  ASSERT_TRUE(keys_->EnableKey(key->key_id).ok());
  EXPECT_EQ(Get(Run(), "stream-encryption").status, CheckStatus::kPassed);
}

TEST_F(DoctorIamTest, StreamEncryptionWithAKeyPendingDeletionOrDeletedFails) {
  auto key = EncryptAtRestWithANewKey();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_TRUE(keys_->ScheduleKeyDeletion(key->key_id, 7).ok());
  CheckResult c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "KMS.KMSInvalidStateException");
  EXPECT_TRUE(Has(c, "is PendingDeletion")) << c.evidence;
  EXPECT_NE(c.fix.find("aws kms cancel-key-deletion --key-id " + key->key_id + ", then aws kms "
                       "enable-key --key-id " + key->key_id),
            std::string::npos)
      << c.fix;

  clock_.Advance(8ll * 24 * 3600 * 1000);  // past the deletion date: the key is gone
  c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "KMS.NotFoundException");
  EXPECT_TRUE(Has(c, key->arn + " of the stream's encryption at rest (CUSTOMER_MANAGED_CMK) "
                                "does not exist"))
      << c.evidence;
  EXPECT_NE(c.fix.find("can never be decrypted"), std::string::npos) << c.fix;
}

TEST_F(DoctorIamTest, AFailedStartDeliveryStreamEncryptionWarnsAndStaysBehindAFailure) {
  auto key = keys_->CreateKey("", "");
  ASSERT_TRUE(key.ok());
  const std::string details = "Key '" + key->arn + "' is disabled.";
  // Encryption was off; a Start with a disabled key left it off.
  target_.meta.encryption = json::object{
      {"KeyType", "CUSTOMER_MANAGED_CMK"}, {"KeyARN", key->arn}, {"Status", "ENABLING_FAILED"},
      {"FailureDescription", json::object{{"Type", "DISABLED_KMS_KEY"}, {"Details", details}}}};
  CheckResult c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kWarning) << c.evidence;
  EXPECT_TRUE(Has(c, "the last StartDeliveryStreamEncryption failed: DISABLED_KMS_KEY: " +
                         details + "; encryption stays as it was"))
      << c.evidence;
  EXPECT_TRUE(Has(c, "encryption at rest is off")) << c.evidence;
  EXPECT_NE(c.fix.find("enable the key"), std::string::npos) << c.fix;
  EXPECT_NE(c.fix.find("start-delivery-stream-encryption again (key " + key->arn + ")"),
            std::string::npos)
      << c.fix;

  // The key still in effect is disabled too: the failure wins, both are shown.
  auto earlier = keys_->CreateKey("", "");
  ASSERT_TRUE(earlier.ok());
  target_.meta.key_at_rest = earlier->arn;
  ASSERT_TRUE(keys_->DisableKey(earlier->key_id).ok());
  c = Get(Run(), "stream-encryption");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_EQ(c.error_code, "KMS.DisabledException");
  EXPECT_TRUE(Has(c, earlier->arn + " of the stream's encryption at rest")) << c.evidence;
  EXPECT_TRUE(Has(c, "the last StartDeliveryStreamEncryption failed: DISABLED_KMS_KEY"))
      << c.evidence;
  EXPECT_NE(c.fix.find("enable-key --key-id " + earlier->key_id), std::string::npos) << c.fix;

  DoctorReport r = Run();
  auto back = DoctorReport::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Get(*back, "stream-encryption").status, CheckStatus::kFailed);
  EXPECT_EQ(Get(*back, "stream-encryption").error_code, "KMS.DisabledException");
  EXPECT_EQ(Get(*back, "stream-encryption").evidence, c.evidence);
}

}  // namespace
}  // namespace hydrant::observability
