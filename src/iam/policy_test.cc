#include "iam/policy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace hydrant::iam {
namespace {

constexpr char kAcct[] = "111122223333";

Principal User(const std::string& name = "alice") {
  Principal p;
  p.kind = Principal::Kind::kUser;
  p.account_id = kAcct;
  p.arn = std::string("arn:aws:iam::") + kAcct + ":user/" + name;
  p.user_name = name;
  p.user_id = "AIDAEXAMPLE" + name;
  return p;
}

Principal RoleSession(const std::string& role = "writer", const std::string& session = "s1") {
  Principal p;
  p.kind = Principal::Kind::kAssumedRole;
  p.account_id = kAcct;
  p.role_arn = std::string("arn:aws:iam::") + kAcct + ":role/" + role;
  p.arn = std::string("arn:aws:sts::") + kAcct + ":assumed-role/" + role + "/" + session;
  p.user_id = "AROAEXAMPLE:" + session;
  return p;
}

Principal Root() {
  Principal p;
  p.kind = Principal::Kind::kRoot;
  p.account_id = kAcct;
  p.arn = std::string("arn:aws:iam::") + kAcct + ":root";
  p.user_id = kAcct;
  return p;
}

Principal Service(const std::string& name = "firehose.amazonaws.com") {
  Principal p;
  p.kind = Principal::Kind::kService;
  p.account_id = kAcct;
  p.arn = name;
  return p;
}

std::shared_ptr<const Policy> P(std::string_view json, PolicyKind kind = PolicyKind::kIdentity) {
  auto r = ParsePolicy(json, kind);
  EXPECT_TRUE(r.ok()) << r.status().message() << "\n" << json;
  return r.ok() ? r.value() : nullptr;
}

std::string Error(std::string_view json, PolicyKind kind = PolicyKind::kIdentity) {
  auto r = ParsePolicy(json, kind);
  if (r.ok()) return "(parsed)";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

struct Request {
  Principal principal = User();
  std::string action = "firehose:PutRecordBatch";
  std::string resource = "arn:aws:firehose:us-east-1:111122223333:deliverystream/s1";
  std::vector<std::pair<std::string, std::string>> keys;
  int64_t now_ms = 1700000000000;  // 2023-11-14T22:13:20Z
};

Evaluation Eval(const Request& r, std::vector<std::shared_ptr<const Policy>> identity,
                const Policy* resource = nullptr) {
  AuthzContext ctx;
  ctx.principal = &r.principal;
  ctx.action = r.action;
  ctx.resource = r.resource;
  ctx.keys = r.keys;
  ctx.now_ms = r.now_ms;
  return Evaluate(ctx, identity, resource);
}

Decision D(const Request& r, std::vector<std::shared_ptr<const Policy>> identity,
           const Policy* resource = nullptr) {
  return Eval(r, std::move(identity), resource).decision;
}

// The decision for `who` making request `r` under resource policy `res` alone.
Decision As(Principal who, Request r, const Policy* res) {
  r.principal = std::move(who);
  return D(r, {}, res);
}

std::string Stmt(std::string_view body) {
  return std::string(R"({"Version":"2012-10-17","Statement":[)") + std::string(body) + "]}";
}

// A policy allowing everything under one condition block.
std::shared_ptr<const Policy> WithCondition(std::string_view condition) {
  return P(Stmt(std::string(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":)") +
                std::string(condition) + "}"));
}

// Whether `condition` allows a request carrying `keys`.
bool Cond(std::string_view condition, std::vector<std::pair<std::string, std::string>> keys,
          Principal principal = User()) {
  auto p = WithCondition(condition);
  if (p == nullptr) return false;
  Request r;
  r.principal = std::move(principal);
  r.keys = std::move(keys);
  return D(r, {p}) == Decision::kAllow;
}

// ------------------------------------------------------------- elements ---

TEST(PolicyTest, AllowsWhatAnIdentityPolicyAllows) {
  auto p = P(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
      "Action":"firehose:PutRecordBatch","Resource":"*"}})");
  Request r;
  EXPECT_EQ(D(r, {p}), Decision::kAllow);
  r.action = "firehose:DeleteDeliveryStream";
  EXPECT_EQ(D(r, {p}), Decision::kImplicitDeny);
  EXPECT_EQ(D(r, {}), Decision::kImplicitDeny);
}

// Each (action, resource) against `identity`: the decision expected.
struct Case {
  const char* action;
  const char* resource;
  Decision want;
};
void ExpectCases(const std::vector<std::shared_ptr<const Policy>>& identity, std::vector<Case> cases) {
  for (const Case& c : cases) {
    Request r;
    r.action = c.action;
    r.resource = c.resource;
    EXPECT_EQ(D(r, identity), c.want) << c.action << " " << c.resource;
  }
}

TEST(PolicyTest, ActionsAreCaseInsensitiveWithWildcardsAndLists) {
  auto p = P(Stmt(R"({"Effect":"Allow","Action":["FIREHOSE:put*","s3:Get?bject"],"Resource":"*"})"));
  ExpectCases({p}, {{"firehose:PutRecord", "*", Decision::kAllow},
                    {"s3:GetObject", "*", Decision::kAllow},
                    {"s3:GetObjectAcl", "*", Decision::kImplicitDeny},
                    {"firehose:ListDeliveryStreams", "*", Decision::kImplicitDeny}});
}

TEST(PolicyTest, NotActionAppliesToEveryOtherAction) {
  auto p = P(Stmt(R"({"Effect":"Allow","NotAction":"iam:*","Resource":"*"})"));
  ExpectCases({p}, {{"firehose:PutRecord", "*", Decision::kAllow},
                    {"iam:CreateUser", "*", Decision::kImplicitDeny}});
}

TEST(PolicyTest, ResourcesAreCaseSensitiveArnPatterns) {
  auto p = P(Stmt(R"({"Effect":"Allow","Action":"s3:*",
      "Resource":["arn:aws:s3:::logs","arn:aws:s3:::logs/*"]})"));
  ExpectCases({p}, {{"s3:GetObject", "arn:aws:s3:::logs/2024/01/x.gz", Decision::kAllow},
                    {"s3:GetObject", "arn:aws:s3:::logs", Decision::kAllow},
                    {"s3:GetObject", "arn:aws:s3:::LOGS/x", Decision::kImplicitDeny},
                    {"s3:GetObject", "arn:aws:s3:::logs-other/x", Decision::kImplicitDeny}});
}

TEST(PolicyTest, NotResourceAppliesToEveryOtherResource) {
  auto p = P(Stmt(R"({"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::public/*"},
                      {"Effect":"Allow","Action":"s3:*","Resource":"*"})"));
  ExpectCases({p}, {{"s3:GetObject", "arn:aws:s3:::public/a", Decision::kAllow},
                    {"s3:GetObject", "arn:aws:s3:::private/a", Decision::kExplicitDeny}});
}

TEST(PolicyTest, ExplicitDenyWinsAcrossStatementsAndPolicies) {
  auto allow = P(Stmt(R"({"Effect":"Allow","Action":"firehose:*","Resource":"*"})"));
  auto deny = P(Stmt(R"({"Sid":"NoDelete","Effect":"Deny","Action":"firehose:Delete*","Resource":"*"})"));
  Request r;
  r.action = "firehose:DeleteDeliveryStream";
  Evaluation e = Eval(r, {allow, deny});
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  EXPECT_EQ(e.deny_source, Evaluation::Source::kIdentity);
  e = Eval(r, {deny, allow});
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  r.action = "firehose:PutRecord";
  EXPECT_EQ(D(r, {allow, deny}), Decision::kAllow);
}

TEST(PolicyTest, VersionDecidesWhetherVariablesAreVariables) {
  const char* body = R"("Statement":{"Effect":"Allow","Action":"s3:*",
      "Resource":"arn:aws:s3:::home/${aws:username}/*"}})";
  auto v2012 = P(std::string(R"({"Version":"2012-10-17",)") + body);
  auto v2008 = P(std::string(R"({"Version":"2008-10-17",)") + body);
  auto none = P(std::string("{") + body);
  Request r;
  r.action = "s3:PutObject";
  r.resource = "arn:aws:s3:::home/alice/f";
  EXPECT_EQ(D(r, {v2012}), Decision::kAllow);
  EXPECT_EQ(D(r, {v2008}), Decision::kImplicitDeny);
  EXPECT_EQ(D(r, {none}), Decision::kImplicitDeny);
  r.resource = "arn:aws:s3:::home/${aws:username}/f";
  EXPECT_EQ(D(r, {v2008}), Decision::kAllow);
  r.resource = "arn:aws:s3:::home/bob/f";
  EXPECT_EQ(D(r, {v2012}), Decision::kImplicitDeny);
  // A role session has no aws:username: the variable matches nothing.
  r.principal = RoleSession();
  r.resource = "arn:aws:s3:::home//f";
  EXPECT_EQ(D(r, {v2012}), Decision::kImplicitDeny);
}

TEST(PolicyTest, VariablesInConditionsAndDefaults) {
  auto p = WithCondition(R"({"StringLike":{"s3:prefix":["home/${aws:username}/*"]}})");
  Request r;
  r.keys = {{"s3:prefix", "home/alice/docs"}};
  EXPECT_EQ(D(r, {p}), Decision::kAllow);
  r.keys = {{"s3:prefix", "home/bob/docs"}};
  EXPECT_EQ(D(r, {p}), Decision::kImplicitDeny);
  auto d = P(Stmt(R"({"Effect":"Allow","Action":"s3:*",
      "Resource":"arn:aws:s3:::t/${aws:PrincipalTag/team, 'none'}/*"})"));
  r.action = "s3:GetObject";
  r.resource = "arn:aws:s3:::t/none/x";
  EXPECT_EQ(D(r, {d}), Decision::kAllow);
  r.keys = {{"aws:PrincipalTag/team", "blue"}};
  EXPECT_EQ(D(r, {d}), Decision::kImplicitDeny);
  r.resource = "arn:aws:s3:::t/blue/x";
  EXPECT_EQ(D(r, {d}), Decision::kAllow);
}

// ---------------------------------------------------- resource policies ---

TEST(PolicyTest, ResourcePolicyAllowsNamedUserAlone) {
  auto bucket = P(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
      "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]})",
                  PolicyKind::kResource);
  Request r;
  r.action = "s3:GetObject";
  r.resource = "arn:aws:s3:::b/k";
  EXPECT_EQ(D(r, {}, bucket.get()), Decision::kAllow);
  EXPECT_EQ(As(User("bob"), r, bucket.get()), Decision::kImplicitDeny);
}

TEST(PolicyTest, ResourcePolicyNamingTheAccountNeedsAnIdentityAllow) {
  for (const char* who : {R"("111122223333")", R"("arn:aws:iam::111122223333:root")"}) {
    auto bucket = P(std::string(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":)") + who +
                        R"(},"Action":"s3:*","Resource":"*"}]})",
                    PolicyKind::kResource);
    auto identity = P(Stmt(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"})"));
    Request r;
    r.action = "s3:GetObject";
    r.resource = "arn:aws:s3:::b/k";
    EXPECT_EQ(D(r, {}, bucket.get()), Decision::kImplicitDeny) << who;
    EXPECT_EQ(D(r, {identity}, bucket.get()), Decision::kAllow) << who;
  }
}

TEST(PolicyTest, ResourcePolicyDenyBeatsIdentityAllow) {
  auto bucket = P(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject",
      "Resource":"arn:aws:s3:::b/*"}]})",
                  PolicyKind::kResource);
  auto identity = P(Stmt(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})"));
  Request r;
  r.action = "s3:DeleteObject";
  r.resource = "arn:aws:s3:::b/k";
  Evaluation e = Eval(r, {identity}, bucket.get());
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  EXPECT_EQ(e.deny_source, Evaluation::Source::kResource);
  r.action = "s3:GetObject";
  EXPECT_EQ(D(r, {identity}, bucket.get()), Decision::kAllow);
}

TEST(PolicyTest, PublicResourcePolicyAllowsAnyone) {
  auto bucket = P(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},
      "Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"}]})",
                  PolicyKind::kResource);
  Request r;
  r.principal = RoleSession();
  r.action = "s3:GetObject";
  r.resource = "arn:aws:s3:::pub/x";
  EXPECT_EQ(D(r, {}, bucket.get()), Decision::kAllow);
}

TEST(PolicyTest, RoleArnMatchesItsSessions) {
  auto bucket = P(R"({"Statement":[{"Effect":"Allow",
      "Principal":{"AWS":["arn:aws:iam::111122223333:role/writer"]},
      "Action":"s3:PutObject","Resource":"*"}]})",
                  PolicyKind::kResource);
  Request r;
  r.action = "s3:PutObject";
  EXPECT_EQ(As(RoleSession("writer", "any-session"), r, bucket.get()), Decision::kAllow);
  EXPECT_EQ(As(RoleSession("reader", "any-session"), r, bucket.get()), Decision::kImplicitDeny);
  // A session ARN names that session only.
  auto session = P(R"({"Statement":[{"Effect":"Allow",
      "Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/writer/s1"},
      "Action":"s3:PutObject","Resource":"*"}]})",
                   PolicyKind::kResource);
  EXPECT_EQ(As(RoleSession("writer", "s1"), r, session.get()), Decision::kAllow);
  EXPECT_EQ(As(RoleSession("writer", "s2"), r, session.get()), Decision::kImplicitDeny);
}

TEST(PolicyTest, NotPrincipalExemptsOnlyFullyListedPrincipals) {
  auto bucket = P(R"({"Statement":[
      {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice",
                                              "111122223333"]},
       "Action":"s3:*","Resource":"*"},
      {"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]})",
                  PolicyKind::kResource);
  Request r;
  r.action = "s3:GetObject";
  r.resource = "arn:aws:s3:::b/k";
  EXPECT_EQ(D(r, {}, bucket.get()), Decision::kAllow);
  EXPECT_EQ(As(User("bob"), r, bucket.get()), Decision::kExplicitDeny);
  // Without the account in the list, even alice is denied (AWS's documented rule).
  auto no_account = P(R"({"Statement":[
      {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
       "Action":"s3:*","Resource":"*"}]})",
                      PolicyKind::kResource);
  EXPECT_EQ(As(User("alice"), r, no_account.get()), Decision::kExplicitDeny);
  // A role session is exempt only with its account, role and session listed.
  auto role = P(R"({"Statement":[
      {"Effect":"Deny","NotPrincipal":{"AWS":["111122223333",
          "arn:aws:iam::111122223333:role/writer",
          "arn:aws:sts::111122223333:assumed-role/writer/s1"]},
       "Action":"s3:*","Resource":"*"}]})",
                PolicyKind::kResource);
  EXPECT_EQ(As(RoleSession("writer", "s1"), r, role.get()), Decision::kImplicitDeny);
  EXPECT_EQ(As(RoleSession("writer", "s2"), r, role.get()), Decision::kExplicitDeny);
}

TEST(PolicyTest, ServicePrincipals) {
  auto bucket = P(R"({"Statement":[{"Effect":"Allow",
      "Principal":{"Service":["firehose.amazonaws.com"]},
      "Action":"s3:PutObject","Resource":"*"},
      {"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},
       "Action":"s3:GetObject","Resource":"*"}]})",
                  PolicyKind::kResource);
  Request r;
  r.action = "s3:PutObject";
  EXPECT_EQ(As(Service(), r, bucket.get()), Decision::kAllow);
  EXPECT_EQ(As(Service("lambda.amazonaws.com"), r, bucket.get()), Decision::kImplicitDeny);
  EXPECT_EQ(As(User(), r, bucket.get()), Decision::kImplicitDeny);  // a user is not the service
  r.action = "s3:GetObject";  // Federated principals never match
  EXPECT_EQ(D(r, {}, bucket.get()), Decision::kImplicitDeny);
}

TEST(PolicyTest, RootIsAllowedUnlessAResourcePolicyDenies) {
  auto deny_all = P(Stmt(R"({"Effect":"Deny","Action":"*","Resource":"*"})"));
  Request r;
  r.principal = Root();
  EXPECT_EQ(D(r, {}), Decision::kAllow);
  EXPECT_EQ(D(r, {deny_all}), Decision::kAllow);  // root has no identity policies
  auto bucket = P(R"({"Statement":[{"Effect":"Deny","Principal":{"AWS":"111122223333"},
      "Action":"firehose:*","Resource":"*"}]})",
                  PolicyKind::kResource);
  Evaluation e = Eval(r, {}, bucket.get());
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  EXPECT_EQ(e.deny_source, Evaluation::Source::kResource);
}

TEST(PolicyTest, AnonymousIsAlwaysAllowed) {
  auto deny_all = P(Stmt(R"({"Effect":"Deny","Action":"*","Resource":"*"})"));
  Request r;
  r.principal = Principal{};
  EXPECT_EQ(D(r, {deny_all}), Decision::kAllow);
  AuthzContext ctx;
  ctx.action = "firehose:PutRecord";
  EXPECT_TRUE(Evaluate(ctx, {}, nullptr).allowed());  // no principal at all
}

TEST(PolicyTest, TrustPolicyForRoleAssumption) {
  auto trust = P(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Principal":{"AWS":"arn:aws:iam::111122223333:user/alice","Service":"firehose.amazonaws.com"},
      "Action":["sts:AssumeRole","sts:TagSession"]}]})",
                 PolicyKind::kTrust);
  Request r;
  r.action = "sts:AssumeRole";
  r.resource = "arn:aws:iam::111122223333:role/writer";
  EXPECT_EQ(D(r, {}, trust.get()), Decision::kAllow);
  EXPECT_EQ(As(Service(), r, trust.get()), Decision::kAllow);
  EXPECT_EQ(As(User("bob"), r, trust.get()), Decision::kImplicitDeny);
  // Trusting the account delegates to the caller's identity policies.
  auto account = P(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},
      "Action":"sts:AssumeRole"}})",
                   PolicyKind::kTrust);
  auto can_assume = P(Stmt(R"({"Effect":"Allow","Action":"sts:AssumeRole",
      "Resource":"arn:aws:iam::111122223333:role/*"})"));
  EXPECT_EQ(D(r, {}, account.get()), Decision::kImplicitDeny);
  EXPECT_EQ(D(r, {can_assume}, account.get()), Decision::kAllow);
}

// ----------------------------------------------------------- conditions ---

TEST(ConditionTest, StringOperators) {
  EXPECT_TRUE(Cond(R"({"StringEquals":{"s3:prefix":["a","b"]}})", {{"s3:prefix", "b"}}));
  EXPECT_FALSE(Cond(R"({"StringEquals":{"s3:prefix":"a"}})", {{"s3:prefix", "A"}}));
  EXPECT_FALSE(Cond(R"({"StringEquals":{"s3:prefix":"a*"}})", {{"s3:prefix", "ab"}}));
  EXPECT_TRUE(Cond(R"({"StringNotEquals":{"s3:prefix":["a","b"]}})", {{"s3:prefix", "c"}}));
  EXPECT_FALSE(Cond(R"({"StringNotEquals":{"s3:prefix":["a","b"]}})", {{"s3:prefix", "a"}}));
  EXPECT_TRUE(Cond(R"({"StringEqualsIgnoreCase":{"s3:prefix":"ABC"}})", {{"s3:prefix", "abc"}}));
  EXPECT_FALSE(Cond(R"({"StringNotEqualsIgnoreCase":{"s3:prefix":"ABC"}})", {{"s3:prefix", "abc"}}));
  EXPECT_TRUE(Cond(R"({"StringNotEqualsIgnoreCase":{"s3:prefix":"ABC"}})", {{"s3:prefix", "abd"}}));
  EXPECT_TRUE(Cond(R"({"StringLike":{"s3:prefix":"home/*/x?"}})", {{"s3:prefix", "home/a/b/x1"}}));
  EXPECT_FALSE(Cond(R"({"StringLike":{"s3:prefix":"home/*/x?"}})", {{"s3:prefix", "home/a/x12"}}));
  EXPECT_TRUE(Cond(R"({"StringNotLike":{"s3:prefix":"tmp/*"}})", {{"s3:prefix", "home/x"}}));
  EXPECT_FALSE(Cond(R"({"StringNotLike":{"s3:prefix":"tmp/*"}})", {{"s3:prefix", "tmp/x"}}));
}

TEST(ConditionTest, MissingKeys) {
  // Positive operators are false without the key, negated ones true (AWS).
  EXPECT_FALSE(Cond(R"({"StringEquals":{"s3:prefix":"a"}})", {}));
  EXPECT_TRUE(Cond(R"({"StringNotEquals":{"s3:prefix":"a"}})", {}));
  EXPECT_TRUE(Cond(R"({"StringNotLike":{"s3:prefix":"a"}})", {}));
  EXPECT_TRUE(Cond(R"({"NumericNotEquals":{"s3:max-keys":"1"}})", {}));
  EXPECT_TRUE(Cond(R"({"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", {}));
  EXPECT_TRUE(Cond(R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::x"}})", {}));
  EXPECT_FALSE(Cond(R"({"Bool":{"aws:SecureTransport":"true"}})", {}));
  EXPECT_FALSE(Cond(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", {}));
}

TEST(ConditionTest, IfExists) {
  const char* c = R"({"StringEqualsIfExists":{"s3:x-amz-server-side-encryption":"AES256"}})";
  EXPECT_TRUE(Cond(c, {}));
  EXPECT_TRUE(Cond(c, {{"s3:x-amz-server-side-encryption", "AES256"}}));
  EXPECT_FALSE(Cond(c, {{"s3:x-amz-server-side-encryption", "aws:kms"}}));
  EXPECT_TRUE(Cond(R"({"NumericLessThanIfExists":{"s3:max-keys":"10"}})", {}));
  EXPECT_FALSE(Cond(R"({"NumericLessThanIfExists":{"s3:max-keys":"10"}})", {{"s3:max-keys", "11"}}));
  EXPECT_TRUE(Cond(R"({"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}})", {}));
  EXPECT_TRUE(Cond(R"({"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::*"}})", {}));
  EXPECT_TRUE(Cond(R"({"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateGreaterThanIfExists":{"aws:TokenIssueTime":"2020-01-01"}})", {}));
}

TEST(ConditionTest, KeyNamesAreCaseInsensitive) {
  EXPECT_TRUE(Cond(R"({"StringEquals":{"AWS:SOURCEVPCE":"vpce-1"}})", {{"aws:sourcevpce", "vpce-1"}}));
  EXPECT_TRUE(Cond(R"({"StringEquals":{"aws:username":"alice"}})", {}));
}

TEST(ConditionTest, SeveralKeysAndOperatorsAreAnded) {
  const char* c = R"({"StringEquals":{"s3:prefix":"a","s3:delimiter":"/"},
                      "NumericLessThan":{"s3:max-keys":"100"}})";
  EXPECT_TRUE(Cond(c, {{"s3:prefix", "a"}, {"s3:delimiter", "/"}, {"s3:max-keys", "5"}}));
  EXPECT_FALSE(Cond(c, {{"s3:prefix", "a"}, {"s3:delimiter", "/"}, {"s3:max-keys", "500"}}));
  EXPECT_FALSE(Cond(c, {{"s3:prefix", "a"}, {"s3:max-keys", "5"}}));
}

TEST(ConditionTest, NumericOperators) {
  auto n = [](const char* op, const char* policy, const char* request) {
    return Cond(std::string(R"({")") + op + R"(":{"s3:max-keys":)" + policy + "}}",
                {{"s3:max-keys", request}});
  };
  EXPECT_TRUE(n("NumericEquals", "\"10\"", "10"));
  EXPECT_TRUE(n("NumericEquals", "10", "10.0"));  // a JSON number is accepted too
  EXPECT_FALSE(n("NumericEquals", "\"10\"", "11"));
  EXPECT_TRUE(n("NumericNotEquals", "\"10\"", "11"));
  EXPECT_FALSE(n("NumericNotEquals", "[\"10\",\"11\"]", "11"));
  EXPECT_TRUE(n("NumericLessThan", "\"10\"", "9.5"));
  EXPECT_FALSE(n("NumericLessThan", "\"10\"", "10"));
  EXPECT_TRUE(n("NumericLessThanEquals", "\"10\"", "10"));
  EXPECT_TRUE(n("NumericGreaterThan", "\"-1.5\"", "0"));
  EXPECT_FALSE(n("NumericGreaterThan", "\"10\"", "10"));
  EXPECT_TRUE(n("NumericGreaterThanEquals", "\"10\"", "10"));
  EXPECT_FALSE(n("NumericGreaterThanEquals", "\"10\"", "abc"));  // not a number: no match
}

TEST(ConditionTest, DateOperatorsAndTheClock) {
  // now = 2023-11-14T22:13:20Z = epoch 1700000000.
  EXPECT_TRUE(Cond(R"({"DateGreaterThan":{"aws:CurrentTime":"2023-11-14T22:13:19Z"}})", {}));
  EXPECT_FALSE(Cond(R"({"DateGreaterThan":{"aws:CurrentTime":"2023-11-14T22:13:20Z"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateGreaterThanEquals":{"aws:CurrentTime":"2023-11-14T22:13:20Z"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateEquals":{"aws:CurrentTime":"2023-11-14T23:13:20+01:00"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateEquals":{"aws:EpochTime":"1700000000"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateLessThan":{"aws:CurrentTime":"2023-11-15"}})", {}));
  EXPECT_FALSE(Cond(R"({"DateLessThan":{"aws:CurrentTime":"2023-11-14"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateLessThanEquals":{"aws:EpochTime":"2023-11-14T22:13:20.000Z"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}})", {}));
  EXPECT_TRUE(Cond(R"({"DateLessThan":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}})",
                   {{"aws:TokenIssueTime", "2023-06-01T10:00:00Z"}}));
  // A caller's value of a global key replaces the evaluator's.
  EXPECT_FALSE(Cond(R"({"DateGreaterThan":{"aws:CurrentTime":"2023-01-01T00:00:00Z"}})",
                    {{"aws:CurrentTime", "2022-01-01T00:00:00Z"}}));
}

TEST(ConditionTest, BoolBinaryAndNull) {
  EXPECT_TRUE(Cond(R"({"Bool":{"aws:SecureTransport":"true"}})", {{"aws:SecureTransport", "true"}}));
  EXPECT_TRUE(Cond(R"({"Bool":{"aws:SecureTransport":true}})", {{"aws:SecureTransport", "TRUE"}}));
  EXPECT_FALSE(Cond(R"({"Bool":{"aws:SecureTransport":"true"}})", {{"aws:SecureTransport", "false"}}));
  EXPECT_TRUE(Cond(R"({"BinaryEquals":{"s3:blob":"QmluYXJ5"}})", {{"s3:blob", "Binary"}}));
  EXPECT_FALSE(Cond(R"({"BinaryEquals":{"s3:blob":"QmluYXJ5"}})", {{"s3:blob", "binary"}}));
  EXPECT_TRUE(Cond(R"({"Null":{"aws:TokenIssueTime":"true"}})", {}));
  EXPECT_FALSE(Cond(R"({"Null":{"aws:TokenIssueTime":"true"}})", {{"aws:TokenIssueTime", "x"}}));
  EXPECT_TRUE(Cond(R"({"Null":{"aws:TokenIssueTime":false}})", {{"aws:TokenIssueTime", "x"}}));
  EXPECT_FALSE(Cond(R"({"Null":{"aws:TokenIssueTime":"false"}})", {}));
}

TEST(ConditionTest, IpAddressV4AndV6) {
  const char* c = R"({"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.7","2001:db8::/32"]}})";
  EXPECT_TRUE(Cond(c, {{"aws:SourceIp", "192.0.2.200"}}));
  EXPECT_TRUE(Cond(c, {{"aws:SourceIp", "203.0.113.7"}}));
  EXPECT_FALSE(Cond(c, {{"aws:SourceIp", "203.0.113.8"}}));
  EXPECT_FALSE(Cond(c, {{"aws:SourceIp", "192.0.3.1"}}));
  EXPECT_TRUE(Cond(c, {{"aws:SourceIp", "2001:db8:1::5"}}));
  EXPECT_FALSE(Cond(c, {{"aws:SourceIp", "2001:db9::5"}}));
  EXPECT_TRUE(Cond(c, {{"aws:SourceIp", "::ffff:192.0.2.1"}}));  // IPv4-mapped
  EXPECT_FALSE(Cond(c, {{"aws:SourceIp", "not-an-ip"}}));
  EXPECT_TRUE(Cond(R"({"IpAddress":{"aws:SourceIp":"10.1.2.3/12"}})", {{"aws:SourceIp", "10.15.0.1"}}));
  EXPECT_FALSE(Cond(R"({"IpAddress":{"aws:SourceIp":"10.1.2.3/12"}})", {{"aws:SourceIp", "10.16.0.1"}}));
  EXPECT_TRUE(Cond(R"({"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", {{"aws:SourceIp", "11.0.0.1"}}));
  EXPECT_FALSE(Cond(R"({"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", {{"aws:SourceIp", "10.0.0.1"}}));
}

TEST(ConditionTest, ArnOperators) {
  const std::string k = "aws:SourceArn";
  EXPECT_TRUE(Cond(R"({"ArnLike":{"aws:SourceArn":"arn:aws:firehose:*:111122223333:deliverystream/*"}})",
                   {{k, "arn:aws:firehose:us-east-1:111122223333:deliverystream/s"}}));
  EXPECT_FALSE(Cond(R"({"ArnLike":{"aws:SourceArn":"arn:aws:firehose:*:111122223333:deliverystream/*"}})",
                    {{k, "arn:aws:firehose:us-east-1:444455556666:deliverystream/s"}}));
  EXPECT_TRUE(Cond(R"({"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::b"}})", {{k, "arn:aws:s3:::b"}}));
  EXPECT_FALSE(Cond(R"({"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::b"}})", {{k, "arn:aws:s3:::B"}}));
  EXPECT_TRUE(Cond(R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b"}})", {{k, "arn:aws:s3:::c"}}));
  EXPECT_FALSE(Cond(R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::*"}})", {{k, "arn:aws:s3:::c"}}));
  EXPECT_TRUE(Cond(R"({"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/writer"}})", {},
                   RoleSession()));
}

TEST(ConditionTest, SetOperators) {
  const char* all = R"({"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}})";
  EXPECT_TRUE(Cond(all, {{"aws:TagKeys", "env"}, {"aws:TagKeys", "team"}}));
  EXPECT_FALSE(Cond(all, {{"aws:TagKeys", "env"}, {"aws:TagKeys", "owner"}}));
  EXPECT_TRUE(Cond(all, {}));  // AWS: true when the key is missing
  const char* any = R"({"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}})";
  EXPECT_TRUE(Cond(any, {{"aws:TagKeys", "owner"}, {"aws:TagKeys", "team"}}));
  EXPECT_FALSE(Cond(any, {{"aws:TagKeys", "owner"}}));
  EXPECT_FALSE(Cond(any, {}));
  // Negated operators under a set qualifier: per request value.
  const char* any_not = R"({"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}})";
  EXPECT_TRUE(Cond(any_not, {{"aws:TagKeys", "env"}, {"aws:TagKeys", "x"}}));
  EXPECT_FALSE(Cond(any_not, {{"aws:TagKeys", "env"}}));
  const char* all_not = R"({"ForAllValues:StringNotLike":{"aws:TagKeys":["sys*"]}})";
  EXPECT_TRUE(Cond(all_not, {{"aws:TagKeys", "env"}, {"aws:TagKeys", "x"}}));
  EXPECT_FALSE(Cond(all_not, {{"aws:TagKeys", "env"}, {"aws:TagKeys", "system"}}));
  EXPECT_TRUE(Cond(R"({"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"e*"}})", {}));
  // Without a qualifier, a multi-valued key matches when any value does.
  EXPECT_TRUE(Cond(R"({"StringEquals":{"aws:TagKeys":"env"}})", {{"aws:TagKeys", "x"}, {"aws:TagKeys", "env"}}));
  EXPECT_FALSE(Cond(R"({"StringNotEquals":{"aws:TagKeys":"env"}})", {{"aws:TagKeys", "x"}, {"aws:TagKeys", "env"}}));
}

TEST(ConditionTest, GlobalKeysFromThePrincipal) {
  EXPECT_TRUE(Cond(R"({"StringEquals":{"aws:username":"alice","aws:userid":"AIDAEXAMPLEalice",
      "aws:PrincipalAccount":"111122223333","aws:PrincipalType":"User",
      "aws:PrincipalArn":"arn:aws:iam::111122223333:user/alice"}})", {}));
  EXPECT_TRUE(Cond(R"({"StringEquals":{"aws:PrincipalType":"AssumedRole",
      "aws:PrincipalArn":"arn:aws:iam::111122223333:role/writer","aws:userid":"AROAEXAMPLE:s1"},
      "Null":{"aws:username":"true"}})", {}, RoleSession()));
  EXPECT_TRUE(Cond(R"({"StringEquals":{"aws:PrincipalType":"Account","aws:userid":"111122223333"}})",
                   {}, Root()));
  // Service principals carry aws:PrincipalServiceName and aws:PrincipalIsAWSService.
  auto bucket = P(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:PutObject",
      "Resource":"*","Condition":{"StringEquals":{"aws:PrincipalServiceName":"firehose.amazonaws.com"},
      "Bool":{"aws:PrincipalIsAWSService":"true"}}}})",
                  PolicyKind::kResource);
  Request r;
  r.action = "s3:PutObject";
  EXPECT_EQ(As(Service(), r, bucket.get()), Decision::kAllow);
  EXPECT_EQ(As(User(), r, bucket.get()), Decision::kImplicitDeny);
}

// ----------------------------------------------------------- validation ---

TEST(PolicyValidationTest, MessagesIamGives) {
  const std::string syntax = "Syntax errors in policy.";
  EXPECT_EQ(Error("not json"), syntax);
  EXPECT_EQ(Error("[]"), syntax);
  EXPECT_EQ(Error(R"({"Version":"2012-10-17"})"), syntax);  // no Statement
  EXPECT_EQ(Error(R"({"Version":"2012-10-17","Statement":[]})"), syntax);
  EXPECT_EQ(Error(R"({"Version":"2012-10-17","Statement":[1]})"), syntax);
  EXPECT_EQ(Error(R"({"Version":"2013-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})"),
            syntax);
  EXPECT_EQ(Error(R"({"Version":"2012-10-17","Extra":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})"),
            syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Bogus":"x"})")), syntax);
  EXPECT_EQ(Error(Stmt(R"({"Action":"*","Resource":"*"})")), syntax);  // no Effect
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Permit","Action":"*","Resource":"*"})")), syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"allow","Action":"*","Resource":"*"})")),
            "The policy failed legacy parsing");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"})")),
            syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"})")), syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":[1],"Resource":"*"})")), syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}})")),
            syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}})")),
            syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":{"x":1}}}})")),
            syntax);
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Resource":"*"})")), "Policy statement must contain actions.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":[],"Resource":"*"})")),
            "Policy statement must contain actions.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*"})")), "Policy statement must contain resources.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"PutRecord","Resource":"*"})")),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"a:b:c","Resource":"*"})")),
            "Actions/Condition can contain only one colon.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"s 3:Get","Resource":"*"})")), "Vendor s 3 is not valid");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"nokey":"x"}}})")),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"bucket"})")),
            "Resource bucket must be in ARN format or \"*\".");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"arn:foo:s3:::b"})")),
            "Partition \"foo\" is not valid for resource \"arn:foo:s3:::b\".");
  EXPECT_EQ(Error(Stmt(R"({"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},
                          {"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"})")),
            "Statement IDs (SID) in a single policy must be unique.");
  EXPECT_EQ(Error(Stmt(R"({"Sid":"not ok","Effect":"Allow","Action":"*","Resource":"*"})")),
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
            "expression [0-9A-Za-z]*");
}

TEST(PolicyValidationTest, PrincipalRules) {
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"})")),
            "Policy document should not specify a principal.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"*","Resource":"*"})")),
            "Policy document should not specify a principal.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})"), PolicyKind::kResource),
            "Missing required field Principal");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Action":"sts:AssumeRole"})"), PolicyKind::kTrust),
            "Missing required field Principal");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:*","Resource":"*"})"),
                  PolicyKind::kResource),
            "Invalid principal in policy: \"AWS\":\"alice\"");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"s3:*","Resource":"*"})"),
                  PolicyKind::kResource),
            "Syntax errors in policy.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"})"),
                  PolicyKind::kTrust),
            "AssumeRole policy may only specify STS AssumeRole actions.");
  EXPECT_EQ(Error(Stmt(R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"})"),
                  PolicyKind::kTrust),
            "Has prohibited field Resource");
  // Resource policies may name their statements freely.
  EXPECT_NE(P(Stmt(R"({"Sid":"Allow the writer","Effect":"Allow","Principal":{"AWS":"111122223333"},
                       "Action":"s3:*","Resource":"*"})"),
              PolicyKind::kResource),
            nullptr);
}

TEST(PolicyValidationTest, ConditionValues) {
  auto err = [](const char* cond) {
    return Error(Stmt(std::string(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":)") + cond + "}"));
  };
  EXPECT_EQ(err(R"({"DateLessThan":{"aws:CurrentTime":"yesterday"}})"), "The policy failed legacy parsing");
  EXPECT_EQ(err(R"({"DateLessThan":{"aws:CurrentTime":"2020-13-01T00:00:00Z"}})"),
            "The policy failed legacy parsing");
  EXPECT_EQ(err(R"({"NumericLessThan":{"s3:max-keys":"ten"}})"),
            "Invalid value \"ten\" for key s3:max-keys of condition operator NumericLessThan: not a number.");
  EXPECT_EQ(err(R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}})"),
            "Invalid value \"10.0.0.0/33\" for key aws:SourceIp of condition operator IpAddress: not an IPv4 "
            "or IPv6 address or CIDR block.");
  EXPECT_EQ(err(R"({"NotIpAddress":{"aws:SourceIp":"10.0.0/8"}})"),
            "Invalid value \"10.0.0/8\" for key aws:SourceIp of condition operator NotIpAddress: not an IPv4 "
            "or IPv6 address or CIDR block.");
  EXPECT_EQ(err(R"({"BinaryEquals":{"s3:blob":"!!"}})"),
            "Invalid value \"!!\" for key s3:blob of condition operator BinaryEquals: not base64.");
  EXPECT_EQ(err(R"({"Null":{"s3:x":"maybe"}})"),
            "Invalid value \"maybe\" for key s3:x of condition operator Null: Null takes true or false.");
}

// ------------------------------------------------- AWS documentation ---

// Policies as the IAM User Guide and S3 docs give them, parsed as given.
TEST(PolicyExamplesTest, AwsDocumentationExamples) {
  // IAM: "Allows access to a specific Amazon S3 bucket's home folder" (variables).
  auto home = P(R"({
    "Version": "2012-10-17",
    "Statement": [
      {"Sid": "ListYourObjects", "Effect": "Allow", "Action": "s3:ListBucket",
       "Resource": ["arn:aws:s3:::bucket-name"],
       "Condition": {"StringLike": {"s3:prefix": ["cognito/application-name/${cognito-identity.amazonaws.com:sub}/*"]}}},
      {"Sid": "ReadWriteDeleteYourObjects", "Effect": "Allow",
       "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
       "Resource": ["arn:aws:s3:::bucket-name/cognito/application-name/${cognito-identity.amazonaws.com:sub}",
                    "arn:aws:s3:::bucket-name/cognito/application-name/${cognito-identity.amazonaws.com:sub}/*"]}
    ]})");
  Request r;
  r.action = "s3:GetObject";
  r.keys = {{"cognito-identity.amazonaws.com:sub", "us-east-1:1234"}};
  r.resource = "arn:aws:s3:::bucket-name/cognito/application-name/us-east-1:1234/f";
  EXPECT_EQ(D(r, {home}), Decision::kAllow);
  r.resource = "arn:aws:s3:::bucket-name/cognito/application-name/us-east-1:9999/f";
  EXPECT_EQ(D(r, {home}), Decision::kImplicitDeny);

  // IAM: "Denies access to AWS based on the source IP".
  auto by_ip = P(R"({
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {
            "NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
            "Bool": {"aws:ViaAWSService": "false"}
        }
    }})");
  auto all = P(Stmt(R"({"Effect":"Allow","Action":"*","Resource":"*"})"));
  r = Request();
  r.keys = {{"aws:SourceIp", "198.51.100.1"}, {"aws:ViaAWSService", "false"}};
  EXPECT_EQ(D(r, {all, by_ip}), Decision::kExplicitDeny);
  r.keys = {{"aws:SourceIp", "192.0.2.7"}, {"aws:ViaAWSService", "false"}};
  EXPECT_EQ(D(r, {all, by_ip}), Decision::kAllow);

  // IAM: "Allows access within specific dates" (DateGreaterThan / DateLessThan).
  auto dates = P(R"({
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "ec2:*",
            "Resource": "*",
            "Condition": {
                "DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}
            }
        }
    ]})");
  r = Request();
  r.action = "ec2:RunInstances";
  r.now_ms = 1590000000000;  // 2020-05-20
  EXPECT_EQ(D(r, {dates}), Decision::kAllow);
  r.now_ms = 1700000000000;
  EXPECT_EQ(D(r, {dates}), Decision::kImplicitDeny);

  // S3: "Requiring HTTPS" (a bucket policy denying aws:SecureTransport=false).
  auto https = P(R"({
    "Id": "ExamplePolicy",
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowSSLRequestsOnly",
            "Action": "s3:*",
            "Effect": "Deny",
            "Resource": [
                "arn:aws:s3:::amzn-s3-demo-bucket",
                "arn:aws:s3:::amzn-s3-demo-bucket/*"
            ],
            "Condition": {
                "Bool": {
                     "aws:SecureTransport": "false"
                }
            },
            "Principal": "*"
        }
    ]})",
                 PolicyKind::kResource);
  auto s3 = P(Stmt(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})"));
  r = Request();
  r.action = "s3:PutObject";
  r.resource = "arn:aws:s3:::amzn-s3-demo-bucket/k";
  r.keys = {{"aws:SecureTransport", "false"}};
  EXPECT_EQ(D(r, {s3}, https.get()), Decision::kExplicitDeny);
  r.keys = {{"aws:SecureTransport", "true"}};
  EXPECT_EQ(D(r, {s3}, https.get()), Decision::kAllow);

  // Firehose: the delivery role's trust policy (Firehose developer guide).
  auto trust = P(R"({
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Principal": {
        "Service": "firehose.amazonaws.com"
      },
      "Action": "sts:AssumeRole",
      "Condition": {
        "StringEquals": {
          "sts:ExternalId": "111122223333"
        }
      }
    }
  ]})",
                 PolicyKind::kTrust);
  r = Request();
  r.principal = Service();
  r.action = "sts:AssumeRole";
  r.resource = "arn:aws:iam::111122223333:role/firehose_delivery_role";
  r.keys = {{"sts:ExternalId", "111122223333"}};
  EXPECT_EQ(D(r, {}, trust.get()), Decision::kAllow);
  r.keys.clear();
  EXPECT_EQ(D(r, {}, trust.get()), Decision::kImplicitDeny);

  // IAM: ForAllValues with tag keys, and a NotAction "deny all but IAM" policy.
  auto tags = P(R"({
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment","cost-center"]}}
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": ["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser",
                          "iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice",
                          "sts:GetSessionToken"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
        }
    ]})");
  r = Request();
  r.action = "ec2:CreateTags";
  r.keys = {{"aws:TagKeys", "environment"}, {"aws:MultiFactorAuthPresent", "true"}};
  EXPECT_EQ(D(r, {tags}), Decision::kAllow);
  r.keys = {{"aws:TagKeys", "environment"}};  // no MFA key: BoolIfExists denies
  EXPECT_EQ(D(r, {tags}), Decision::kExplicitDeny);
}

// ----------------------------------------------------------- messages ---

TEST(AccessDeniedMessageTest, AsAwsWritesIt) {
  Request r;
  AuthzContext ctx;
  ctx.principal = &r.principal;
  ctx.action = "firehose:PutRecordBatch";
  ctx.resource = "arn:aws:firehose:us-east-1:111122223333:deliverystream/s1";
  Evaluation e;
  EXPECT_EQ(AccessDeniedMessage(ctx, e),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: "
            "firehose:PutRecordBatch on resource: arn:aws:firehose:us-east-1:111122223333:"
            "deliverystream/s1 because no identity-based policy allows the "
            "firehose:PutRecordBatch action");
  e.decision = Decision::kExplicitDeny;
  e.deny_source = Evaluation::Source::kIdentity;
  EXPECT_EQ(AccessDeniedMessage(ctx, e),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: "
            "firehose:PutRecordBatch on resource: arn:aws:firehose:us-east-1:111122223333:"
            "deliverystream/s1 with an explicit deny in an identity-based policy");
  e.deny_source = Evaluation::Source::kResource;
  ctx.resource = "*";
  EXPECT_EQ(AccessDeniedMessage(ctx, e),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: "
            "firehose:PutRecordBatch with an explicit deny in a resource-based policy");
  e.decision = Decision::kAllow;
  EXPECT_EQ(AccessDeniedMessage(ctx, e), "");
}

// -------------------------------------------------------------- cost ---

// Not a benchmark (no timed assertion): prints what one evaluation costs for a
// realistic identity policy, so a change that makes it slower shows up in logs.
TEST(PolicyCostTest, EvaluateLoop) {
  auto p = P(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["firehose:PutRecord","firehose:PutRecordBatch"],
     "Resource":"arn:aws:firehose:*:111122223333:deliverystream/app-*"},
    {"Effect":"Deny","Action":"firehose:*","Resource":"*",
     "Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
    {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]})");
  Request r;
  r.resource = "arn:aws:firehose:us-east-1:111122223333:deliverystream/app-logs";
  r.keys = {{"aws:SourceIp", "10.1.2.3"}};
  AuthzContext ctx;
  ctx.principal = &r.principal;
  ctx.action = r.action;
  ctx.resource = r.resource;
  ctx.keys = r.keys;
  std::vector<std::shared_ptr<const Policy>> policies{p};
  ASSERT_TRUE(Evaluate(ctx, policies, nullptr).allowed());
  constexpr int kIterations = 200000;
  int allowed = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) allowed += Evaluate(ctx, policies, nullptr).allowed();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
                .count();
  EXPECT_EQ(allowed, kIterations);
  std::printf("Evaluate: %.0f ns per request (3 statements, 1 condition)\n",
              static_cast<double>(ns) / kIterations);
}

TEST(PolicyTest, AnExplicitDenyNamesItsPolicyAndStatement) {
  auto allow = P(Stmt(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})"));
  auto deny = P(R"({"Version":"2012-10-17","Statement":[
      {"Sid":"Other","Effect":"Deny","Action":"s3:GetObject","Resource":"*"},
      {"Sid":"NoPut","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]})");
  Request r;
  r.action = "s3:PutObject";
  r.resource = "arn:aws:s3:::b/k";
  Evaluation e = Eval(r, {allow, deny});
  EXPECT_EQ(e.deny_policy, 1);
  EXPECT_EQ(e.deny_statement, 1);
  // A single Statement object is statement 0; the resource policy is policy 0.
  auto bucket = P(R"({"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:PutObject",
      "Resource":"arn:aws:s3:::b/*"}})",
                  PolicyKind::kResource);
  e = Eval(r, {allow}, bucket.get());
  EXPECT_EQ(e.deny_source, Evaluation::Source::kResource);
  EXPECT_EQ(e.deny_policy, 0);
  EXPECT_EQ(e.deny_statement, 0);
}

TEST(PolicyTest, NoExplicitDenyLeavesTheIndexesUnset) {
  auto allow = P(Stmt(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"})"));
  Request r;
  r.action = "s3:PutObject";
  r.resource = "arn:aws:s3:::b/k";
  for (const Evaluation& e : {Eval(r, {allow}), Eval(r, {}), Eval(r, {allow, allow})}) {
    EXPECT_EQ(e.decision, Decision::kImplicitDeny);
    EXPECT_EQ(e.deny_policy, -1);
    EXPECT_EQ(e.deny_statement, -1);
  }
  r.action = "s3:GetObject";
  Evaluation e = Eval(r, {allow});
  EXPECT_TRUE(e.allowed());
  EXPECT_EQ(e.deny_statement, -1);
}

TEST(PolicyTest, ATrustPolicyDenyNamesItsStatement) {
  auto trust = P(R"({"Statement":[
      {"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"},
      {"Sid":"NotFirehose","Effect":"Deny","Principal":{"Service":"firehose.amazonaws.com"},
       "Action":"sts:AssumeRole"}]})",
                 PolicyKind::kTrust);
  Principal svc = Service();
  AuthzContext ctx;
  ctx.principal = &svc;
  ctx.action = "sts:AssumeRole";
  ctx.resource = "arn:aws:iam::111122223333:role/r";
  Evaluation e = EvaluateRoleTrust(ctx, {}, *trust);
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  EXPECT_EQ(e.deny_source, Evaluation::Source::kResource);
  EXPECT_EQ(e.deny_statement, 1);
}

}  // namespace
}  // namespace hydrant::iam
