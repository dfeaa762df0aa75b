#include "server/iam_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>

#include "common/clock.h"
#include "common/strings.h"
#include "iam/principal.h"
#include "server/aws_query.h"
#include "server/sts_api.h"
#include "server/xml_reader.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr std::string_view kDoc =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";

std::string Enc(std::string_view s) { return PercentEncode(s, false); }

class QueryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iam::IdentityStoreOptions o;
    o.dir = dir_.Sub("iam");
    o.account_id = "111122223333";
    o.clock = &clock_;
    o.validate_policy = [](std::string_view doc, bool) -> Status {
      if (doc.empty() || doc.front() != '{')
        return Status::InvalidArgument("Syntax errors in policy.");
      return Status::Ok();
    };
    auto s = iam::IdentityStore::Open(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    iam_ = std::make_unique<IamApi>(store_.get());
    sts_ = std::make_unique<StsApi>(
        store_.get(), [this](const iam::Principal&, const std::string&, const std::string&,
                             const http::Request&) { return allow_assume_; });
  }
  http::Request Post(std::string body, std::shared_ptr<const iam::Principal> who = nullptr) {
    http::Request r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = std::move(body);
    r.principal = std::move(who);
    return r;
  }
  http::Response Iam(const std::string& form, std::shared_ptr<const iam::Principal> who = nullptr) {
    return iam_->Handle(Post(form + "&Version=2010-05-08", std::move(who)));
  }
  http::Response Sts(const std::string& form, std::shared_ptr<const iam::Principal> who = nullptr) {
    return sts_->Handle(Post(form + "&Version=2011-06-15", std::move(who)));
  }
  // The body with its request id replaced.
  static std::string Body(const http::Response& r) {
    return std::regex_replace(r.body, std::regex("<RequestId>[0-9a-f-]{36}</RequestId>"),
                              "<RequestId>ID</RequestId>");
  }
  static std::string Between(const std::string& s, const std::string& open,
                             const std::string& close) {
    size_t a = s.find(open);
    if (a == std::string::npos) return {};
    a += open.size();
    return s.substr(a, s.find(close, a) - a);
  }

  // The error message, unescaped.
  static std::string Message(const http::Response& r) {
    return XmlUnescape(Between(r.body, "<Message>", "</Message>")).value_or("?");
  }

  testing::TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<iam::IdentityStore> store_;
  std::unique_ptr<IamApi> iam_;
  std::unique_ptr<StsApi> sts_;
  bool allow_assume_ = true;
};

TEST_F(QueryApiTest, CreateUserAnswersTheModelsShape) {
  auto r =
      Iam("Action=CreateUser&UserName=alice&Path=%2Fteam%2F&Tags.member.1.Key=k&Tags.member.1."
          "Value=v+w");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string id = store_->GetUser("alice")->id;
  EXPECT_EQ(Body(r),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
            "<CreateUserResult><User><Path>/team/</Path><UserName>alice</UserName><UserId>" +
                id +
                "</UserId><Arn>arn:aws:iam::111122223333:user/team/alice</Arn>"
                "<CreateDate>2027-01-15T08:00:00Z</CreateDate>"
                "<Tags><member><Key>k</Key><Value>v w</Value></member></Tags></User>"
                "</CreateUserResult><ResponseMetadata><RequestId>ID</RequestId>"
                "</ResponseMetadata></CreateUserResponse>");
  EXPECT_EQ(r.headers.size(), 2u);
  // Without output: only the metadata.
  auto d = Iam("Action=DeleteUser&UserName=alice");
  EXPECT_EQ(Body(d),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
            "<ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></DeleteUserResponse>");
}

TEST_F(QueryApiTest, ErrorsAreQueryErrorXmlWithIamStatuses) {
  auto r = Iam("Action=GetUser&UserName=nobody");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
            "<Type>Sender</Type><Code>NoSuchEntity</Code>"
            "<Message>The user with name nobody cannot be found.</Message></Error>"
            "<RequestId>ID</RequestId></ErrorResponse>");
  ASSERT_EQ(Iam("Action=CreateUser&UserName=a").status, 200);
  auto dup = Iam("Action=CreateUser&UserName=a");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Between(dup.body, "<Code>", "</Code>"), "EntityAlreadyExists");
  auto bad = Iam("Action=PutUserPolicy&UserName=a&PolicyName=p&PolicyDocument=oops");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Between(bad.body, "<Code>", "</Code>"), "MalformedPolicyDocument");
  EXPECT_EQ(Between(bad.body, "<Message>", "</Message>"), "Syntax errors in policy.");
  ASSERT_EQ(Iam("Action=CreateAccessKey&UserName=a").status, 200);
  auto conflict = Iam("Action=DeleteUser&UserName=a");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Between(conflict.body, "<Code>", "</Code>"), "DeleteConflict");
  ASSERT_EQ(Iam("Action=CreateAccessKey&UserName=a").status, 200);
  auto limit = Iam("Action=CreateAccessKey&UserName=a");
  EXPECT_EQ(limit.status, 409);
  EXPECT_EQ(Between(limit.body, "<Code>", "</Code>"), "LimitExceeded");
  auto unknown = Iam("Action=CreateGroup&GroupName=g");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Between(unknown.body, "<Code>", "</Code>"), "InvalidAction");
}

TEST_F(QueryApiTest, ValidationErrorsUseAwsMessages) {
  auto r = Iam("Action=CreateUser&UserName=bad%20name");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Between(r.body, "<Code>", "</Code>"), "ValidationError");
  EXPECT_EQ(Message(r),
            "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  auto two = Iam("Action=CreateUser&UserName=" + std::string(65, 'x') + "&Path=nopath");
  EXPECT_EQ(Message(two),
            "2 validation errors detected: Value '" + std::string(65, 'x') +
                "' at 'userName' failed to satisfy constraint: Member must have length less "
                "than or equal to 64; Value 'nopath' at 'path' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: "
                "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  auto missing = Iam("Action=DeleteUser");
  EXPECT_EQ(Message(missing),
            "1 validation error detected: Value null at 'userName' failed to satisfy "
            "constraint: Member must not be null");
  auto items = Iam("Action=ListUsers&MaxItems=0");
  EXPECT_EQ(Message(items),
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1");
}

TEST_F(QueryApiTest, ListUsersPaginates) {
  for (const char* n : {"c", "a", "B", "d", "e"}) {
    ASSERT_EQ(Iam(std::string("Action=CreateUser&UserName=") + n).status, 200);
  }
  std::vector<std::string> names;
  std::string marker;
  int pages = 0;
  do {
    auto r = Iam("Action=ListUsers&MaxItems=2" + (marker.empty() ? "" : "&Marker=" + Enc(marker)));
    ASSERT_EQ(r.status, 200) << r.body;
    std::string b = r.body;
    for (size_t at = 0; (at = b.find("<UserName>", at)) != std::string::npos; ++at) {
      names.push_back(Between(b.substr(at), "<UserName>", "</UserName>"));
    }
    bool truncated = Between(b, "<IsTruncated>", "</IsTruncated>") == "true";
    marker = truncated ? Between(b, "<Marker>", "</Marker>") : "";
    EXPECT_EQ(truncated, !marker.empty());
    ++pages;
  } while (!marker.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "B", "c", "d", "e"}));
}

TEST_F(QueryApiTest, InlinePolicyDocumentsComeBackUrlEncoded) {
  ASSERT_EQ(Iam("Action=CreateUser&UserName=u").status, 200);
  auto put = Iam("Action=PutUserPolicy&UserName=u&PolicyName=p&PolicyDocument=" + Enc(kDoc));
  ASSERT_EQ(put.status, 200) << put.body;
  auto get = Iam("Action=GetUserPolicy&UserName=u&PolicyName=p");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(Between(get.body, "<GetUserPolicyResult>", "</GetUserPolicyResult>"),
            "<UserName>u</UserName><PolicyName>p</PolicyName><PolicyDocument>" + Enc(kDoc) +
                "</PolicyDocument>");
  auto list = Iam("Action=ListUserPolicies&UserName=u");
  EXPECT_EQ(Between(list.body, "<ListUserPoliciesResult>", "</ListUserPoliciesResult>"),
            "<PolicyNames><member>p</member></PolicyNames><IsTruncated>false</IsTruncated>");
}

TEST_F(QueryApiTest, ManagedPoliciesAndAttachments) {
  ASSERT_EQ(Iam("Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=" + Enc(kDoc)).status, 200);
  auto c = Iam("Action=CreatePolicy&PolicyName=m&Path=%2Fp%2F&Description=d&PolicyDocument=" +
               Enc(kDoc));
  ASSERT_EQ(c.status, 200) << c.body;
  std::string arn = "arn:aws:iam::111122223333:policy/p/m";
  EXPECT_EQ(Between(c.body, "<Arn>", "</Arn>"), arn);
  EXPECT_TRUE(Between(c.body, "<PolicyId>", "</PolicyId>").starts_with("ANPA"));
  EXPECT_EQ(Between(c.body, "<DefaultVersionId>", "</DefaultVersionId>"), "v1");
  ASSERT_EQ(Iam("Action=AttachRolePolicy&RoleName=r&PolicyArn=" + Enc(arn)).status, 200);
  auto got = Iam("Action=GetPolicy&PolicyArn=" + Enc(arn));
  EXPECT_EQ(Between(got.body, "<AttachmentCount>", "</AttachmentCount>"), "1");
  EXPECT_EQ(Between(got.body, "<Description>", "</Description>"), "d");
  auto v = Iam("Action=GetPolicyVersion&VersionId=v1&PolicyArn=" + Enc(arn));
  EXPECT_EQ(Between(v.body, "<Document>", "</Document>"), Enc(kDoc));
  EXPECT_EQ(Iam("Action=GetPolicyVersion&VersionId=v2&PolicyArn=" + Enc(arn)).status, 404);
  auto attached = Iam("Action=ListAttachedRolePolicies&RoleName=r");
  EXPECT_EQ(Between(attached.body, "<AttachedPolicies>", "</AttachedPolicies>"),
            "<member><PolicyName>m</PolicyName><PolicyArn>" + arn + "</PolicyArn></member>");
  EXPECT_NE(Iam("Action=ListPolicies&OnlyAttached=true").body.find(arn), std::string::npos);
  EXPECT_EQ(Iam("Action=ListPolicies&Scope=AWS").body.find(arn), std::string::npos);
  EXPECT_EQ(Iam("Action=DeletePolicy&PolicyArn=" + Enc(arn)).status, 409);
  ASSERT_EQ(Iam("Action=DetachRolePolicy&RoleName=r&PolicyArn=" + Enc(arn)).status, 200);
  EXPECT_EQ(Iam("Action=ListPolicies&OnlyAttached=true").body.find(arn), std::string::npos);
  EXPECT_EQ(Iam("Action=DeletePolicy&PolicyArn=" + Enc(arn)).status, 200);
}

TEST_F(QueryApiTest, RoleShapeCarriesTheEncodedTrustPolicy) {
  auto r =
      Iam("Action=CreateRole&RoleName=r&MaxSessionDuration=7200&Description=x&"
          "AssumeRolePolicyDocument=" +
          Enc(kDoc));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string id = store_->GetRole("r")->id;
  EXPECT_EQ(Between(r.body, "<Role>", "</Role>"),
            "<Path>/</Path><RoleName>r</RoleName><RoleId>" + id +
                "</RoleId><Arn>arn:aws:iam::111122223333:role/r</Arn>"
                "<CreateDate>2027-01-15T08:00:00Z</CreateDate><AssumeRolePolicyDocument>" +
                Enc(kDoc) +
                "</AssumeRolePolicyDocument><Description>x</Description>"
                "<MaxSessionDuration>7200</MaxSessionDuration>");
  EXPECT_EQ(Iam("Action=CreateRole&RoleName=r2&MaxSessionDuration=100&AssumeRolePolicyDocument=" +
                Enc(kDoc))
                .status,
            400);
}

TEST_F(QueryApiTest, CallerDefaultsForUserlessCalls) {
  ASSERT_EQ(Iam("Action=CreateUser&UserName=me").status, 200);
  auto key = store_->CreateAccessKey("me");
  auto me = std::make_shared<iam::Principal>(store_->Lookup(key->access_key_id)->principal);
  auto get = Iam("Action=GetUser", me);
  EXPECT_EQ(Between(get.body, "<UserName>", "</UserName>"), "me");
  auto root = Iam("Action=GetUser");  // open mode: the account root
  EXPECT_EQ(Between(root.body, "<Arn>", "</Arn>"), "arn:aws:iam::111122223333:root");
  auto created = Iam("Action=CreateAccessKey", me);
  EXPECT_EQ(Between(created.body, "<UserName>", "</UserName>"), "me");
  auto anon = Iam("Action=CreateAccessKey");
  EXPECT_EQ(anon.status, 400);
  // The key's owner when no user is named and the caller is not a user.
  std::string kid = Between(created.body, "<AccessKeyId>", "</AccessKeyId>");
  EXPECT_EQ(Iam("Action=UpdateAccessKey&Status=Inactive&AccessKeyId=" + kid).status, 200);
  EXPECT_FALSE(store_->Lookup(kid)->active);
  auto listed = Iam("Action=ListAccessKeys&UserName=me");
  EXPECT_NE(listed.body.find("<Status>Inactive</Status>"), std::string::npos);
  EXPECT_EQ(listed.body.find("SecretAccessKey"), std::string::npos);
}

TEST_F(QueryApiTest, GetCallerIdentity) {
  auto r = Sts("Action=GetCallerIdentity");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:root</Arn>"
            "<UserId>111122223333</UserId><Account>111122223333</Account>"
            "</GetCallerIdentityResult><ResponseMetadata><RequestId>ID</RequestId>"
            "</ResponseMetadata></GetCallerIdentityResponse>");
  ASSERT_EQ(Iam("Action=CreateUser&UserName=u").status, 200);
  auto key = store_->CreateAccessKey("u");
  auto who = std::make_shared<iam::Principal>(store_->Lookup(key->access_key_id)->principal);
  auto u = Sts("Action=GetCallerIdentity", who);
  EXPECT_EQ(Between(u.body, "<Arn>", "</Arn>"), "arn:aws:iam::111122223333:user/u");
  EXPECT_EQ(Between(u.body, "<UserId>", "</UserId>"), who->user_id);
}

TEST_F(QueryApiTest, AssumeRoleAndTheSessionsIdentity) {
  ASSERT_EQ(Iam("Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=" + Enc(kDoc)).status, 200);
  std::string role_arn = "arn:aws:iam::111122223333:role/r";
  auto r = Sts("Action=AssumeRole&RoleSessionName=s1&DurationSeconds=900&RoleArn=" + Enc(role_arn));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string key = Between(r.body, "<AccessKeyId>", "</AccessKeyId>");
  EXPECT_TRUE(key.starts_with("ASIA"));
  EXPECT_EQ(Between(r.body, "<Expiration>", "</Expiration>"), "2027-01-15T08:15:00Z");
  EXPECT_EQ(Between(r.body, "<AssumedRoleUser>", "</AssumedRoleUser>"),
            "<AssumedRoleId>" + store_->GetRole("r")->id +
                ":s1</AssumedRoleId><Arn>arn:aws:sts::111122223333:assumed-role/r/s1</Arn>");
  auto l = store_->Lookup(key);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->secret_access_key, Between(r.body, "<SecretAccessKey>", "</SecretAccessKey>"));
  EXPECT_EQ(l->session_token, Between(r.body, "<SessionToken>", "</SessionToken>"));
  auto who = std::make_shared<iam::Principal>(l->principal);
  auto id = Sts("Action=GetCallerIdentity", who);
  EXPECT_EQ(Between(id.body, "<Arn>", "</Arn>"), "arn:aws:sts::111122223333:assumed-role/r/s1");

  allow_assume_ = false;
  auto denied = Sts("Action=AssumeRole&RoleSessionName=s2&RoleArn=" + Enc(role_arn));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(Between(denied.body, "<Code>", "</Code>"), "AccessDenied");
  EXPECT_EQ(Message(denied),
            "User: arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole "
            "on resource: " +
                role_arn);
  auto short_duration =
      Sts("Action=AssumeRole&RoleSessionName=s2&DurationSeconds=899&RoleArn=" + Enc(role_arn));
  EXPECT_EQ(short_duration.status, 400);
  EXPECT_EQ(Between(short_duration.body, "<Code>", "</Code>"), "ValidationError");
}

TEST_F(QueryApiTest, GetSessionTokenDefaultsAndBounds) {
  ASSERT_EQ(Iam("Action=CreateUser&UserName=u").status, 200);
  auto key = store_->CreateAccessKey("u");
  auto who = std::make_shared<iam::Principal>(store_->Lookup(key->access_key_id)->principal);
  auto r = Sts("Action=GetSessionToken", who);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Between(r.body, "<Expiration>", "</Expiration>"), "2027-01-15T20:00:00Z");  // 12 h
  EXPECT_EQ(Sts("Action=GetSessionToken&DurationSeconds=129601", who).status, 400);
  auto root = Sts("Action=GetSessionToken&DurationSeconds=7200");
  EXPECT_EQ(Between(root.body, "<Expiration>", "</Expiration>"), "2027-01-15T09:00:00Z");  // 1 h
}

TEST_F(QueryApiTest, SecretsStayOutOfErrors) {
  ASSERT_EQ(Iam("Action=CreateUser&UserName=u").status, 200);
  auto k = Iam("Action=CreateAccessKey&UserName=u");
  std::string secret = Between(k.body, "<SecretAccessKey>", "</SecretAccessKey>");
  ASSERT_EQ(secret.size(), 40u);
  for (const auto& form : {"Action=ListAccessKeys&UserName=u", "Action=GetUser&UserName=u",
                           "Action=DeleteUser&UserName=u"}) {
    EXPECT_EQ(Iam(form).body.find(secret), std::string::npos) << form;
  }
}

TEST(QueryDetectTest, RoutesIamAndStsButNotS3) {
  auto req = [](std::string method, std::string target, std::string body, std::string ct,
                std::string auth = "") {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (!ct.empty()) r.headers.emplace_back("Content-Type", ct);
    if (!auth.empty()) r.headers.emplace_back("Authorization", auth);
    return r;
  };
  const std::string form = "application/x-www-form-urlencoded; charset=utf-8";
  EXPECT_EQ(query::Detect(req("POST", "/", "Action=ListUsers&Version=2010-05-08", form)),
            query::Service::kIam);
  EXPECT_EQ(query::Detect(req("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", form)),
            query::Service::kSts);
  EXPECT_EQ(query::Detect(req("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", "")),
            query::Service::kSts);
  // The signature's scope says which, whatever the body.
  std::string sts_auth =
      "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20270115/us-east-1/sts/aws4_request, "
      "SignedHeaders=host, Signature=00";
  EXPECT_EQ(query::Detect(req("POST", "/", "Action=GetCallerIdentity", form, sts_auth)),
            query::Service::kSts);
  std::string s3_auth =
      "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20270115/us-east-1/s3/aws4_request, "
      "SignedHeaders=host, Signature=00";
  // S3: DeleteObjects, a bucket-level POST, a form-looking body to S3.
  EXPECT_EQ(query::Detect(req("POST", "/bucket?delete", "<Delete/>", "application/xml", s3_auth)),
            query::Service::kNone);
  EXPECT_EQ(query::Detect(req("POST", "/?delete", "<Delete/>", "application/xml", s3_auth)),
            query::Service::kNone);
  EXPECT_EQ(query::Detect(req("POST", "/", "Action=ListUsers&Version=2010-05-08", form, s3_auth)),
            query::Service::kNone);
  EXPECT_FALSE(query::MayBeQuery(req("POST", "/bucket?delete", "", "application/xml", s3_auth)));
  EXPECT_FALSE(query::MayBeQuery(req("PUT", "/", "", "")));
  // Unknown versions are not ours.
  EXPECT_EQ(query::Detect(req("POST", "/", "Action=ListUsers&Version=2099-01-01", form)),
            query::Service::kNone);
}

}  // namespace
}  // namespace hydrant::server
