// RoleCheckedInvoker (server/delivery_role.h): a Lambda processor's function runs
// only when Firehose may assume the processor's role and the role is allowed both
// lambda:InvokeFunction and lambda:GetFunctionConfiguration on the function; a
// refusal is kFatal with Firehose's code and text, and the function is not
// called. The doctor's static checks (observability::NeededActions) require the
// same actions with the same code.
#include "server/delivery_role.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "observability/doctor_iam.h"

namespace hydrant::server {
namespace {

namespace json = boost::json;

constexpr char kRole[] = "arn:aws:iam::000000000000:role/invoker";
constexpr char kFnArn[] = "arn:aws:lambda:us-east-1:000000000000:function:upper";

std::string Allow(const std::vector<std::string>& actions, const std::string& resource) {
  json::array a;
  for (const auto& x : actions) a.emplace_back(x);
  return json::serialize(json::object{
      {"Version", "2012-10-17"},
      {"Statement",
       json::array{json::object{{"Effect", "Allow"}, {"Action", a}, {"Resource", resource}}}}});
}

// Roles by ARN, each with its identity policies; a role not listed cannot be
// assumed (as the IAM store answers for a missing role).
class FakeRoles final : public iam::ServiceRoles {
 public:
  Result<iam::Principal> ServiceSession(std::string_view service,
                                        std::string_view role_arn) const override {
    EXPECT_EQ(service, iam::kFirehoseService);
    auto it = policies.find(std::string(role_arn));
    if (it == policies.end()) {
      return Status::NotFound("The role with name invoker cannot be found.");
    }
    iam::Principal p;
    p.kind = iam::Principal::Kind::kAssumedRole;
    p.account_id = "000000000000";
    p.role_arn = std::string(role_arn);
    p.arn = "arn:aws:sts::000000000000:assumed-role/invoker/firehose";
    p.policy_documents = it->second;
    p.policy_version = ++version_;  // never a stale parse between tests' changes
    return p;
  }
  std::map<std::string, std::vector<std::string>> policies;

 private:
  mutable uint64_t version_ = 0;
};

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

}  // namespace
}  // namespace hydrant::server
