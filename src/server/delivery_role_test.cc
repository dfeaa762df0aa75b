// RoleCheckedSink (server/delivery_role.h) in front of a real embedded store:
// an object is written only when the stream's role may s3:PutObject on it by its
// identity policies and the bucket policy (an explicit Deny in either wins), and
// Firehose can assume the role; each part of a multipart-sized object is
// authorized again, and a multipart upload given up on is aborted with
// s3:AbortMultipartUpload or, when the role may not, left in the bucket. The
// doctor's S3 needs (observability::NeededActions) agree: required exactly when
// delivery fails without them.
//
// RoleCheckedInvoker (server/delivery_role.h): a Lambda processor's function runs
// only when Firehose may assume the processor's role and the role is allowed both
// lambda:InvokeFunction and lambda:GetFunctionConfiguration on the function; a
// refusal is kFatal with Firehose's code and text, and the function is not
// called. The doctor's static checks (observability::NeededActions) require the
// same actions with the same code.
#include "server/delivery_role.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "destinations/object_store.h"
#include "destinations/sink_errors.h"
#include "observability/doctor_iam.h"
#include "server/delivery_role_test_util.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

namespace json = boost::json;

constexpr char kRole[] = "arn:aws:iam::000000000000:role/invoker";
constexpr char kFnArn[] = "arn:aws:lambda:us-east-1:000000000000:function:upper";

using testing_roles::Allow;
using testing_roles::FakeRoles;

class CountingInvoker final : public processing::FunctionInvoker {
 public:
  processing::InvokeResult Invoke(const processing::FunctionRef&, const std::string&,
                                  std::chrono::milliseconds) override {
    ++calls;
    processing::InvokeResult r;
    r.payload = R"({"records":[]})";
    return r;
  }
  int calls = 0;
};

class RoleCheckedInvokerTest : public ::testing::Test {
 protected:
  processing::InvokeResult Invoke(const std::string& lambda_arn = kFnArn) {
    processing::FunctionRef fn;
    EXPECT_TRUE(processing::ParseFunctionRef(lambda_arn, &fn));
    fn.role_arn = kRole;
    return invoker_.Invoke(fn, "{}", std::chrono::seconds(1));
  }

  FakeRoles roles_;
  Authorizer authz_{nullptr};
  CountingInvoker inner_;
  RoleCheckedInvoker invoker_{&inner_, &roles_, &authz_, AccountContext{}};
};

TEST_F(RoleCheckedInvokerTest, ARoleAllowedBothActionsInvokes) {
  roles_.policies[kRole] = {
      Allow({"lambda:InvokeFunction", "lambda:GetFunctionConfiguration"}, kFnArn)};
  processing::InvokeResult r = Invoke();
  EXPECT_EQ(r.kind, processing::InvokeResult::Kind::kOk) << r.error_message;
  EXPECT_EQ(inner_.calls, 1);
  // A bare name is completed with hydrant's region and account.
  r = Invoke("upper");
  EXPECT_EQ(r.kind, processing::InvokeResult::Kind::kOk) << r.error_message;
  EXPECT_EQ(inner_.calls, 2);
}

TEST_F(RoleCheckedInvokerTest, WithoutGetFunctionConfigurationItIsInvokeAccessDenied) {
  roles_.policies[kRole] = {Allow({"lambda:InvokeFunction"}, kFnArn)};
  const processing::InvokeResult r = Invoke();
  EXPECT_EQ(r.kind, processing::InvokeResult::Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.InvokeAccessDenied");
  EXPECT_EQ(r.error_message.rfind(std::string(kLambdaInvokeDeniedText) + " (", 0), 0u)
      << r.error_message;
  EXPECT_NE(r.error_message.find("not authorized to perform: lambda:GetFunctionConfiguration on "
                                 "resource: " +
                                 std::string(kFnArn)),
            std::string::npos)
      << r.error_message;
  EXPECT_EQ(inner_.calls, 0);
}

TEST_F(RoleCheckedInvokerTest, WithoutInvokeFunctionItIsInvokeAccessDenied) {
  roles_.policies[kRole] = {Allow({"lambda:GetFunctionConfiguration"}, kFnArn)};
  const processing::InvokeResult r = Invoke();
  EXPECT_EQ(r.kind, processing::InvokeResult::Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.InvokeAccessDenied");
  EXPECT_NE(r.error_message.find("lambda:InvokeFunction"), std::string::npos) << r.error_message;
  EXPECT_EQ(inner_.calls, 0);
}

TEST_F(RoleCheckedInvokerTest, AQualifiedFunctionNeedsBothOnItsQualifiedArn) {
  roles_.policies[kRole] = {
      Allow({"lambda:InvokeFunction"}, std::string(kFnArn) + ":*"),
      Allow({"lambda:GetFunctionConfiguration"}, kFnArn)};  // unqualified only
  processing::InvokeResult r = Invoke(std::string(kFnArn) + ":live");
  EXPECT_EQ(r.error_code, "Lambda.InvokeAccessDenied");
  EXPECT_NE(r.error_message.find(
                "lambda:GetFunctionConfiguration on resource: " + std::string(kFnArn) + ":live"),
            std::string::npos)
      << r.error_message;
  roles_.policies[kRole].push_back(
      Allow({"lambda:GetFunctionConfiguration"}, std::string(kFnArn) + ":live"));
  r = Invoke(std::string(kFnArn) + ":live");
  EXPECT_EQ(r.kind, processing::InvokeResult::Kind::kOk) << r.error_message;
  EXPECT_EQ(inner_.calls, 1);
}

TEST_F(RoleCheckedInvokerTest, ARoleFirehoseCannotAssumeIsAssumeRoleAccessDenied) {
  const processing::InvokeResult r = Invoke();  // no such role
  EXPECT_EQ(r.kind, processing::InvokeResult::Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.AssumeRoleAccessDenied");
  EXPECT_EQ(r.error_message.rfind(std::string(kLambdaAssumeRoleDeniedText), 0), 0u);
  EXPECT_EQ(inner_.calls, 0);
}

// What the doctor requires of a processor's role is what delivery checks: each
// Lambda action the doctor lists is required, and a role allowed all of them but
// that one fails delivery with the code the doctor reports.
TEST_F(RoleCheckedInvokerTest, AgreesWithTheDoctorsNeededActions) {
  stream::StreamMeta meta;
  meta.name = "s";
  meta.SetDestination(json::parse(R"({
      "BucketARN": "arn:aws:s3:::b", "RoleARN": "arn:aws:iam::000000000000:role/deliverer",
      "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
      "CloudWatchLoggingOptions": {"Enabled": false}, "S3BackupMode": "Disabled",
      "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "Lambda",
          "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": ")" +
                                  std::string(kFnArn) + R"("},
                         {"ParameterName": "RoleArn", "ParameterValue": ")" +
                                  kRole + R"("}]}]}})")
                          .as_object());
  std::vector<observability::NeededAction> lambda;
  for (const auto& n : observability::NeededActions(meta, AccountContext{})) {
    if (n.action.starts_with("lambda:")) lambda.push_back(n);
  }
  std::vector<std::string> doctor_actions, delivery_actions;
  for (const auto& n : lambda) doctor_actions.push_back(n.action);
  for (std::string_view a : kLambdaProcessorActions) delivery_actions.emplace_back(a);
  EXPECT_EQ(doctor_actions, delivery_actions);
  for (const auto& missing : lambda) {
    EXPECT_TRUE(missing.required) << missing.action;
    EXPECT_EQ(missing.role_arn, kRole);
    std::vector<std::string> others;
    for (const auto& n : lambda) {
      EXPECT_EQ(n.resource, kFnArn);
      if (n.action != missing.action) others.push_back(n.action);
    }
    roles_.policies[kRole] = {Allow(others, kFnArn)};
    const processing::InvokeResult r = Invoke();
    EXPECT_EQ(r.error_code, missing.error_code) << missing.action;
    EXPECT_NE(r.error_message.find(missing.action), std::string::npos) << r.error_message;
  }
  EXPECT_EQ(inner_.calls, 0);
}

constexpr char kDeliveryRole[] = "arn:aws:iam::000000000000:role/deliverer";

class RoleCheckedSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing_roles::StoreWithLake(dir_.Sub("s3"));
    ASSERT_TRUE(store_);
    policies_ = std::make_unique<StoreBucketPolicies>(store_.get());
    authz_ = std::make_unique<Authorizer>(policies_.get());
    sink_ = std::make_unique<RoleCheckedSink>(store_.get(), &roles_, authz_.get(), store_.get());
  }

  // Writes `size` bytes as `key` in writes of at most 1 MiB; commits when `commit`.
  Status Put(const std::string& key, uint64_t size, bool commit = true) {
    store::ObjectMeta m;
    m.role_arn = kDeliveryRole;
    auto w = sink_->BeginPut("lake", key, m);
    if (!w.ok()) return w.status();
    const std::string chunk(1 << 20, 'd');
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min<uint64_t>(chunk.size(), size - done);
      HYDRANT_RETURN_IF_ERROR((*w)->Write(std::string_view(chunk).substr(0, n)));
      done += n;
    }
    if (!commit) return Status::Ok();  // the writer is dropped: an abort
    auto info = (*w)->Commit();
    return info.ok() ? Status::Ok() : info.status();
  }

  void ExpectDenied(const Status& st, const std::string& why) {
    EXPECT_EQ(store::FirehoseErrorCode(st), store::kS3AccessDenied) << st.ToString();
    EXPECT_EQ(st.code(), StatusCode::kUnavailable);  // retried by delivery
    EXPECT_EQ(st.message().rfind(std::string(kS3AccessDeniedText) + " (", 0), 0u) << st.message();
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
  }

  size_t Uploads() {
    auto l = store_->ListMultipartUploads("lake", {});
    EXPECT_TRUE(l.ok());
    return l.ok() ? l->uploads.size() : 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<StoreBucketPolicies> policies_;
  std::unique_ptr<Authorizer> authz_;
  FakeRoles roles_;
  std::unique_ptr<RoleCheckedSink> sink_;
};

TEST_F(RoleCheckedSinkTest, PutObjectAllowedByTheRolesPolicyWrites) {
  roles_.policies[kDeliveryRole] = {Allow({"s3:PutObject"}, "arn:aws:s3:::lake/in/*")};
  ASSERT_TRUE(Put("in/a", 100).ok());
  EXPECT_EQ(store_->HeadObject("lake", "in/a")->size, 100u);
  // Outside the resource the policy names: implicitly denied, nothing written.
  ExpectDenied(Put("out/a", 100), "s3:PutObject on resource: arn:aws:s3:::lake/out/a");
  EXPECT_FALSE(store_->HeadObject("lake", "out/a").ok());
}

TEST_F(RoleCheckedSinkTest, WithoutPutObjectNothingIsWritten) {
  roles_.policies[kDeliveryRole] = {Allow({"s3:ListBucket", "s3:GetObject"}, "*")};
  ExpectDenied(Put("a", 10), "s3:PutObject");
  EXPECT_FALSE(store_->HeadObject("lake", "a").ok());
}

TEST_F(RoleCheckedSinkTest, ABucketPolicyDenyWinsOverTheRolesAllow) {
  roles_.policies[kDeliveryRole] = {Allow({"s3:*"}, "*")};
  ASSERT_TRUE(store_->SetBucketPolicy("lake", R"({"Version":"2012-10-17","Statement":[{
      "Sid":"NoFirehose","Effect":"Deny","Principal":{"AWS":")" + std::string(kDeliveryRole) +
                                                   R"("},"Action":"s3:PutObject",
      "Resource":"arn:aws:s3:::lake/*"}]})")
                  .ok());
  ExpectDenied(Put("a", 10), "explicit deny in a resource-based policy");
  EXPECT_FALSE(store_->HeadObject("lake", "a").ok());
  ASSERT_TRUE(store_->SetBucketPolicy("lake", "").ok());
  EXPECT_TRUE(Put("a", 10).ok());
}

TEST_F(RoleCheckedSinkTest, ARoleFirehoseCannotAssumeIsAccessDenied) {
  ExpectDenied(Put("a", 10), "cannot be found");  // no such role
  EXPECT_FALSE(store_->HeadObject("lake", "a").ok());
  store::ObjectMeta m;
  m.role_arn = kDeliveryRole;
  EXPECT_EQ(store::FirehoseErrorCode(sink_->CheckAccess("lake", m)), store::kS3AccessDenied);
}

// Past kDeliveryMultipartThreshold each part is an UploadPart: s3:PutObject is
// asked again as it begins (a policy changed mid-object stops the object).
TEST_F(RoleCheckedSinkTest, EachPartOfAMultipartObjectIsAuthorized) {
  roles_.policies[kDeliveryRole] = {Allow({"s3:PutObject", "s3:AbortMultipartUpload"}, "*")};
  ASSERT_TRUE(Put("big", kDeliveryMultipartThreshold + 1).ok());
  EXPECT_EQ(store_->HeadObject("lake", "big")->size, kDeliveryMultipartThreshold + 1);

  store::ObjectMeta m;
  m.role_arn = kDeliveryRole;
  auto w = sink_->BeginPut("lake", "revoked", m);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(std::string(kDeliveryMultipartThreshold, 'x')).ok());
  roles_.policies[kDeliveryRole] = {Allow({"s3:AbortMultipartUpload"}, "*")};
  ExpectDenied((*w)->Write("y"), "s3:PutObject");
  w->reset();  // aborted, allowed: nothing is left
  EXPECT_FALSE(store_->HeadObject("lake", "revoked").ok());
  EXPECT_EQ(Uploads(), 0u);
}

// A multipart upload given up on is aborted; a role that may not abort leaves
// the upload in the bucket (as S3 does), and the put's own failure stands.
TEST_F(RoleCheckedSinkTest, ADeniedAbortLeavesTheUpload) {
  roles_.policies[kDeliveryRole] = {Allow({"s3:PutObject", "s3:AbortMultipartUpload"}, "*")};
  ASSERT_TRUE(Put("aborted", kDeliveryMultipartThreshold + 10, /*commit=*/false).ok());
  EXPECT_EQ(Uploads(), 0u);
  // Not yet multipart when dropped: a plain put, nothing to abort.
  roles_.policies[kDeliveryRole] = {Allow({"s3:PutObject"}, "*")};
  ASSERT_TRUE(Put("small", kDeliveryMultipartThreshold, /*commit=*/false).ok());
  EXPECT_EQ(Uploads(), 0u);
  ASSERT_TRUE(Put("left", kDeliveryMultipartThreshold + 10, /*commit=*/false).ok());
  auto l = store_->ListMultipartUploads("lake", {});
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->uploads.size(), 1u);
  EXPECT_EQ(l->uploads[0].key, "left");
  EXPECT_FALSE(store_->HeadObject("lake", "left").ok());
  // A committed multipart object is not aborted.
  ASSERT_TRUE(Put("done", kDeliveryMultipartThreshold + 10).ok());
  EXPECT_EQ(Uploads(), 1u);
}

// The doctor decides which objects are multipart uploads with its own copy of
// the threshold.
static_assert(kDeliveryMultipartThreshold == observability::kMultipartObjectBytes);

// The doctor's S3 needs for a destination agree with delivery: an action the
// doctor requires fails delivery when it is the one missing (with the doctor's
// code); one it only warns about does not (delivery of an object of every size,
// and its abort, succeed or leave an upload without failing anything).
TEST_F(RoleCheckedSinkTest, AgreesWithTheDoctorsNeededActions) {
  stream::StreamMeta meta;
  meta.name = "s";
  meta.SetDestination(json::parse(R"({
      "BucketARN": "arn:aws:s3:::lake", "RoleARN": ")" + std::string(kDeliveryRole) + R"(",
      "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
      "CloudWatchLoggingOptions": {"Enabled": false}, "S3BackupMode": "Disabled"})")
                          .as_object());
  std::vector<observability::NeededAction> s3;
  for (const auto& n : observability::NeededActions(meta, AccountContext{})) {
    if (n.action.starts_with("s3:")) s3.push_back(n);
  }
  ASSERT_FALSE(s3.empty());
  int round = 0;
  for (const auto& missing : s3) {
    std::vector<std::string> others;
    for (const auto& n : s3) {
      if (n.action != missing.action) others.push_back(n.action);
    }
    roles_.policies[kDeliveryRole] = {Allow(others, "*")};
    const std::string key = "agree/" + std::to_string(round++);
    Status small = Put(key + "-small", 100);
    Status big = Put(key + "-big", kDeliveryMultipartThreshold + 100);
    Status dropped = Put(key + "-dropped", kDeliveryMultipartThreshold + 100, /*commit=*/false);
    if (missing.required) {
      EXPECT_EQ(store::FirehoseErrorCode(small), missing.error_code) << missing.action;
      EXPECT_EQ(store::FirehoseErrorCode(big), missing.error_code) << missing.action;
    } else {
      EXPECT_TRUE(small.ok()) << missing.action << ": " << small.ToString();
      EXPECT_TRUE(big.ok()) << missing.action << ": " << big.ToString();
      EXPECT_TRUE(dropped.ok()) << missing.action << ": " << dropped.ToString();
    }
  }
}

}  // namespace
}  // namespace hydrant::server
