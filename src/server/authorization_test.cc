// Authorization: each API request's IAM action and resource, and the Authorizer
// deciding them with the caller's policies and S3 bucket policies.

#include "server/authorization.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "iam/principal.h"
#include "server/s3_api_test_util.h"
#include "server/aws_query.h"
#include "server/s3_operations.h"

namespace hydrant::server {
namespace {

AccountContext Account() {
  AccountContext a;
  a.region = "eu-west-1";
  a.account_id = "111122223333";
  return a;
}

TEST(AccessMappingTest, Firehose) {
  Access a = FirehoseAccess("PutRecordBatch", "orders", Account());
  EXPECT_EQ(a.action, "firehose:PutRecordBatch");
  EXPECT_EQ(a.resource, "arn:aws:firehose:eu-west-1:111122223333:deliverystream/orders");
  EXPECT_TRUE(a.bucket.empty());
  EXPECT_EQ(FirehoseAccess("ListDeliveryStreams", "", Account()).resource, "*");
}

TEST(AccessMappingTest, Logs) {
  const std::string base = "arn:aws:logs:eu-west-1:111122223333:log-group:";
  EXPECT_EQ(LogsAccess("PutLogEvents", "g", "s", Account()).resource, base + "g:log-stream:s");
  EXPECT_EQ(LogsAccess("GetLogEvents", "g", "s", Account()).resource, base + "g:log-stream:s");
  EXPECT_EQ(LogsAccess("CreateLogStream", "g", "s", Account()).resource, base + "g:log-stream:");
  EXPECT_EQ(LogsAccess("DescribeLogGroups", "", "", Account()).resource, base + ":log-stream:");
  EXPECT_EQ(LogsAccess("FilterLogEvents", "g", "", Account()).action, "logs:FilterLogEvents");
}

TEST(AccessMappingTest, Lambda) {
  EXPECT_EQ(LambdaAccess("ListFunctions", "").resource, "*");
  Access a = LambdaAccess("InvokeFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f");
  EXPECT_EQ(a.action, "lambda:InvokeFunction");
  EXPECT_EQ(a.resource, "arn:aws:lambda:eu-west-1:111122223333:function:f");
}

// The parameters of an IAM Query request with this form body, as the API reads them.
query::Params Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  http::Request req;
  req.method = "POST";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  for (const auto& [k, v] : fields) {
    if (!req.body.empty()) req.body += "&";
    req.body += PercentEncode(k, false) + "=" + PercentEncode(v, false);
  }
  return query::Params(req);
}

TEST(AccessMappingTest, Iam) {
  iam::Principal bob;
  bob.kind = iam::Principal::Kind::kUser;
  bob.arn = "arn:aws:iam::111122223333:user/bob";
  const std::string p = "arn:aws:iam::111122223333:";
  EXPECT_EQ(IamAccess("CreateUser", Form({{"UserName", "al"}, {"Path", "/ops/"}}), &bob, Account()).resource,
            p + "user/ops/al");
  EXPECT_EQ(IamAccess("GetUser", Form({}), &bob, Account()).resource, bob.arn) << "the caller's own user";
  EXPECT_EQ(IamAccess("CreateAccessKey", Form({{"UserName", "al"}}), &bob, Account()).resource, p + "user/al");
  EXPECT_EQ(IamAccess("ListUsers", Form({}), &bob, Account()).resource, p + "user/");
  EXPECT_EQ(IamAccess("ListRoles", Form({{"PathPrefix", "/svc/"}}), &bob, Account()).resource, p + "role/svc/");
  EXPECT_EQ(IamAccess("ListPolicies", Form({}), &bob, Account()).resource, p + "policy/");
  EXPECT_EQ(IamAccess("CreatePolicy", Form({{"PolicyName", "ro"}}), &bob, Account()).resource, p + "policy/ro");
  EXPECT_EQ(IamAccess("GetPolicy", Form({{"PolicyArn", p + "policy/ro"}}), &bob, Account()).resource,
            p + "policy/ro");
  EXPECT_EQ(IamAccess("UpdateAssumeRolePolicy", Form({{"RoleName", "r"}}), &bob, Account()).resource,
            p + "role/r");
  Access attach = IamAccess("AttachRolePolicy", Form({{"RoleName", "r"}, {"PolicyArn", p + "policy/ro"}}),
                            &bob, Account());
  EXPECT_EQ(attach.action, "iam:AttachRolePolicy");
  EXPECT_EQ(attach.resource, p + "role/r");
  ASSERT_EQ(attach.keys.size(), 1u);
  // A repeated name: the last value, which is the one the API acts on.
  EXPECT_EQ(IamAccess("CreateAccessKey", Form({{"UserName", "bob"}, {"UserName", "admin"}}), &bob,
                      Account()).resource,
            p + "user/admin");
  EXPECT_EQ(attach.keys[0], std::make_pair(std::string("iam:PolicyARN"), p + "policy/ro"));
}

// S3: the operation of each request shape and what it asks for.
struct S3Case {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;
  s3::Op op;
  std::vector<std::pair<std::string, std::string>> access;  // action, resource
};

TEST(AccessMappingTest, S3OperationsAndTheirActions) {
  const std::vector<S3Case> cases = {
      {"GET", "/", {}, s3::Op::kListBuckets, {{"s3:ListAllMyBuckets", "*"}}},
      {"PUT", "/b", {}, s3::Op::kCreateBucket, {{"s3:CreateBucket", "arn:aws:s3:::b"}}},
      {"DELETE", "/b", {}, s3::Op::kDeleteBucket, {{"s3:DeleteBucket", "arn:aws:s3:::b"}}},
      {"HEAD", "/b", {}, s3::Op::kHeadBucket, {{"s3:ListBucket", "arn:aws:s3:::b"}}},
      {"GET", "/b?location", {}, s3::Op::kGetBucketLocation, {{"s3:GetBucketLocation", "arn:aws:s3:::b"}}},
      {"GET", "/b?list-type=2&prefix=a%2F", {}, s3::Op::kListObjectsV2, {{"s3:ListBucket", "arn:aws:s3:::b"}}},
      {"GET", "/b", {}, s3::Op::kListObjectsV1, {{"s3:ListBucket", "arn:aws:s3:::b"}}},
      {"POST", "/b?delete", {}, s3::Op::kDeleteObjects, {}},
      {"GET", "/b?policy", {}, s3::Op::kGetBucketPolicy, {{"s3:GetBucketPolicy", "arn:aws:s3:::b"}}},
      {"PUT", "/b?policy", {}, s3::Op::kPutBucketPolicy, {{"s3:PutBucketPolicy", "arn:aws:s3:::b"}}},
      {"DELETE", "/b?policy", {}, s3::Op::kDeleteBucketPolicy, {{"s3:DeleteBucketPolicy", "arn:aws:s3:::b"}}},
      {"GET", "/b/k/1", {}, s3::Op::kGetObject, {{"s3:GetObject", "arn:aws:s3:::b/k/1"}}},
      {"HEAD", "/b/k", {}, s3::Op::kGetObject, {{"s3:GetObject", "arn:aws:s3:::b/k"}}},
      {"PUT", "/b/k", {}, s3::Op::kPutObject, {{"s3:PutObject", "arn:aws:s3:::b/k"}}},
      {"PUT", "/b/k", {{"x-amz-copy-source", "/src/a%20b?versionId=1"}}, s3::Op::kCopyObject,
       {{"s3:PutObject", "arn:aws:s3:::b/k"}, {"s3:GetObject", "arn:aws:s3:::src/a b"}}},
      // A leading '/' encoded as %2F is the same source for the check and the copy.
      {"PUT", "/b/k", {{"x-amz-copy-source", "%2Fsecret%2Fk"}}, s3::Op::kCopyObject,
       {{"s3:PutObject", "arn:aws:s3:::b/k"}, {"s3:GetObject", "arn:aws:s3:::secret/k"}}},
      // A source the copy refuses (no key) asks for the target only.
      {"PUT", "/b/k", {{"x-amz-copy-source", "/secret"}}, s3::Op::kCopyObject,
       {{"s3:PutObject", "arn:aws:s3:::b/k"}}},
      {"DELETE", "/b/k", {}, s3::Op::kDeleteObject, {{"s3:DeleteObject", "arn:aws:s3:::b/k"}}},
      {"POST", "/b/k?uploads", {}, s3::Op::kCreateMultipartUpload, {{"s3:PutObject", "arn:aws:s3:::b/k"}}},
      {"PUT", "/b/k?partNumber=1&uploadId=u", {}, s3::Op::kUploadPart, {{"s3:PutObject", "arn:aws:s3:::b/k"}}},
      {"POST", "/b/k?uploadId=u", {}, s3::Op::kCompleteMultipartUpload, {{"s3:PutObject", "arn:aws:s3:::b/k"}}},
      {"DELETE", "/b/k?uploadId=u", {}, s3::Op::kAbortMultipartUpload,
       {{"s3:AbortMultipartUpload", "arn:aws:s3:::b/k"}}},
      {"GET", "/b/k?uploadId=u", {}, s3::Op::kListParts, {{"s3:ListMultipartUploadParts", "arn:aws:s3:::b/k"}}},
      {"GET", "/b?uploads", {}, s3::Op::kListMultipartUploads,
       {{"s3:ListBucketMultipartUploads", "arn:aws:s3:::b"}}},
      {"POST", "/b/k", {}, s3::Op::kMethodNotAllowed, {}},
  };
  for (const auto& t : cases) {
    http::Request req;
    req.method = t.method;
    req.target = t.target;
    req.headers = t.headers;
    http::Response resp;
    s3::Context c{req, &resp, "rid", "", false, {}, {}, {}};
    c.query.items = http::ParseQuery(req.Query());
    std::string_view path = req.Path().substr(1);
    size_t slash = path.find('/');
    c.bucket = *http::PercentDecode(path.substr(0, slash));
    c.key = slash == std::string_view::npos ? "" : *http::PercentDecode(path.substr(slash + 1));
    EXPECT_EQ(s3::Classify(c), t.op) << t.method << " " << t.target;
    std::vector<std::pair<std::string, std::string>> got;
    for (const Access& a : s3::AccessFor(t.op, c)) got.emplace_back(a.action, a.resource);
    EXPECT_EQ(got, t.access) << t.method << " " << t.target;
  }
}

TEST(AccessMappingTest, S3ListKeysAreTheParametersSent) {
  http::Request req;
  req.method = "GET";
  req.target = "/b?list-type=2&prefix=logs%2F&max-keys=10";
  http::Response resp;
  s3::Context c{req, &resp, "rid", "", false, {}, "b", ""};
  c.query.items = http::ParseQuery(req.Query());
  auto access = s3::AccessFor(s3::Op::kListObjectsV2, c);
  ASSERT_EQ(access.size(), 1u);
  EXPECT_EQ(access[0].bucket, "b");
  std::map<std::string, std::string> keys(access[0].keys.begin(), access[0].keys.end());
  EXPECT_EQ(keys, (std::map<std::string, std::string>{{"s3:prefix", "logs/"}, {"s3:max-keys", "10"}}))
      << "a parameter not sent (delimiter) is not a key";
}

// ---- the Authorizer, with real policies ----

std::shared_ptr<iam::Principal> User(const std::string& name, std::vector<std::string> policies,
                                     uint64_t version = 1) {
  auto p = std::make_shared<iam::Principal>();
  p->kind = iam::Principal::Kind::kUser;
  p->account_id = "111122223333";
  p->arn = "arn:aws:iam::111122223333:user/" + name;
  p->user_name = name;
  p->policy_documents = std::move(policies);
  p->policy_version = version;
  return p;
}

http::Request SignedBy(std::shared_ptr<iam::Principal> p) {
  http::Request req;
  req.principal = std::move(p);
  req.remote_address = "10.1.2.3";
  return req;
}

class MapBucketPolicies : public BucketPolicySource {
 public:
  std::shared_ptr<const std::string> BucketPolicy(std::string_view bucket) const override {
    auto it = docs.find(std::string(bucket));
    return it == docs.end() ? nullptr : it->second;
  }
  std::map<std::string, std::shared_ptr<const std::string>> docs;
};

constexpr char kPutToOrders[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":["firehose:PutRecord","firehose:PutRecordBatch"],
  "Resource":"arn:aws:firehose:eu-west-1:111122223333:deliverystream/orders"}]})";

TEST(AuthorizerTest, IdentityPolicyAllowsOneStreamAndNotAnother) {
  Authorizer authz(nullptr);
  http::Request req = SignedBy(User("producer", {kPutToOrders}));
  EXPECT_FALSE(authz.Check(req, FirehoseAccess("PutRecordBatch", "orders", Account())));
  auto denied = authz.Check(req, FirehoseAccess("PutRecordBatch", "audit", Account()));
  ASSERT_TRUE(denied);
  EXPECT_EQ(*denied,
            "User: arn:aws:iam::111122223333:user/producer is not authorized to perform: "
            "firehose:PutRecordBatch on resource: "
            "arn:aws:firehose:eu-west-1:111122223333:deliverystream/audit because no "
            "identity-based policy allows the firehose:PutRecordBatch action");
  EXPECT_TRUE(authz.Check(req, FirehoseAccess("DeleteDeliveryStream", "orders", Account())));
}

TEST(AuthorizerTest, OpenModeAndUnsignedRequestsAreNotChecked) {
  Authorizer authz(nullptr);
  http::Request none;
  EXPECT_FALSE(Authorizer::Applies(none));
  EXPECT_FALSE(authz.Check(none, FirehoseAccess("DeleteDeliveryStream", "x", Account())));
  auto anon = std::make_shared<iam::Principal>();
  http::Request open = SignedBy(anon);
  EXPECT_FALSE(Authorizer::Applies(open));
  EXPECT_FALSE(authz.Check(open, FirehoseAccess("DeleteDeliveryStream", "x", Account())));
}

TEST(AuthorizerTest, ANewPolicyVersionIsParsedAgain) {
  Authorizer authz(nullptr);
  auto p = User("u", {kPutToOrders}, 1);
  EXPECT_FALSE(authz.Check(SignedBy(p), FirehoseAccess("PutRecord", "orders", Account())));
  auto q = User("u", {}, 2);  // the same ARN, its policy removed
  EXPECT_TRUE(authz.Check(SignedBy(q), FirehoseAccess("PutRecord", "orders", Account())));
}

TEST(AuthorizerTest, ConditionKeysFromTheRequest) {
  Authorizer authz(nullptr);
  const std::string tls_only = R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"firehose:*","Resource":"*"},
    {"Effect":"Deny","Action":"firehose:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
    {"Effect":"Deny","Action":"firehose:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]})";
  http::Request req = SignedBy(User("u", {tls_only}));
  req.secure = true;
  EXPECT_FALSE(authz.Check(req, FirehoseAccess("PutRecord", "s", Account())));
  req.secure = false;
  auto denied = authz.Check(req, FirehoseAccess("PutRecord", "s", Account()));
  ASSERT_TRUE(denied);
  EXPECT_NE(denied->find("with an explicit deny in an identity-based policy"), std::string::npos) << *denied;
  req.secure = true;
  req.remote_address = "192.0.2.1";
  EXPECT_TRUE(authz.Check(req, FirehoseAccess("PutRecord", "s", Account())));
}

TEST(AuthorizerTest, BucketPolicyAllowsAndItsDenyWins) {
  MapBucketPolicies buckets;
  Authorizer authz(&buckets);
  http::Request reader = SignedBy(User("reader", {}));
  Access get{"s3:GetObject", "arn:aws:s3:::data/a", {}, "data"};
  EXPECT_TRUE(authz.Check(reader, get)) << "no policy at all";
  buckets.docs["data"] = std::make_shared<const std::string>(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/reader"},
     "Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]})");
  EXPECT_FALSE(authz.Check(reader, get)) << "the bucket policy alone allows it (same account)";
  // An identity policy allowing everything does not beat the bucket policy's deny.
  http::Request admin = SignedBy(User("admin", {R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"*","Resource":"*"}]})"}));
  Access del{"s3:DeleteObject", "arn:aws:s3:::data/a", {}, "data"};
  EXPECT_FALSE(authz.Check(admin, del));
  buckets.docs["data"] = std::make_shared<const std::string>(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data/*"}]})");
  auto denied = authz.Check(admin, del);
  ASSERT_TRUE(denied);
  EXPECT_NE(denied->find("explicit deny in a resource-based policy"), std::string::npos) << *denied;
}

TEST(AuthorizerTest, RootMayAlwaysManageTheBucketPolicy) {
  MapBucketPolicies buckets;
  buckets.docs["b"] = std::make_shared<const std::string>(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]})");
  Authorizer authz(&buckets);
  auto root = std::make_shared<iam::Principal>();
  root->kind = iam::Principal::Kind::kRoot;
  root->account_id = "111122223333";
  root->arn = "arn:aws:iam::111122223333:root";
  http::Request req = SignedBy(root);
  EXPECT_TRUE(authz.Check(req, {"s3:GetObject", "arn:aws:s3:::b/k", {}, "b"}));
  EXPECT_FALSE(authz.Check(req, {"s3:DeleteBucketPolicy", "arn:aws:s3:::b", {}, "b"}));
  EXPECT_FALSE(authz.Check(req, {"s3:PutBucketPolicy", "arn:aws:s3:::b", {}, "b"}));
}

// ---- the S3 API with authorization and bucket policies ----

class S3AuthzTest : public S3ApiTest {
 protected:
  void SetUp() override {
    S3ApiTest::SetUp();
    buckets_ = std::make_unique<StoreBuckets>(store_.get());
    authz_ = std::make_unique<Authorizer>(buckets_.get());
    api_ = std::make_unique<S3Api>(store_.get(), "us-east-1", nullptr, authz_.get());
  }
  void TearDown() override {
    api_.reset();
    authz_.reset();
    S3ApiTest::TearDown();
  }
  http::Response As(std::shared_ptr<iam::Principal> who, std::string method, std::string target,
                    std::string body = "") {
    principal_ = std::move(who);
    http::Response r = Call(std::move(method), std::move(target), {}, std::move(body));
    principal_.reset();
    return r;
  }
  struct StoreBuckets : BucketPolicySource {
    explicit StoreBuckets(store::ObjectStore* s) : store(s) {}
    std::shared_ptr<const std::string> BucketPolicy(std::string_view bucket) const override {
      auto p = store->BucketPolicy(bucket);
      return p.ok() ? *p : nullptr;
    }
    store::ObjectStore* store;
  };
  std::unique_ptr<StoreBuckets> buckets_;
  std::unique_ptr<Authorizer> authz_;
};

TEST_F(S3AuthzTest, BucketPolicyOperationsAndTheirEffect) {
  MakeBucket("data");
  Put("data", "in/a", "A");
  Put("data", "out/b", "B");
  auto reader = User("reader", {});
  ExpectError(As(reader, "GET", "/data/in/a"), 403, "AccessDenied");
  ExpectError(Call("GET", "/data?policy"), 404, "NoSuchBucketPolicy");
  const std::string policy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Principal":{"AWS":"arn:aws:iam::000000000000:user/reader"},"Action":"s3:GetObject",
    "Resource":"arn:aws:s3:::data/in/*"}]})";
  EXPECT_EQ(Call("PUT", "/data?policy", {}, policy).status, 204);
  auto got = Call("GET", "/data?policy");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, policy);
  reader->account_id = "000000000000";
  reader->arn = "arn:aws:iam::000000000000:user/reader";
  EXPECT_EQ(BodyOf(As(reader, "GET", "/data/in/a")), "A");
  auto denied = As(reader, "GET", "/data/out/b");
  ExpectError(denied, 403, "AccessDenied");
  EXPECT_EQ(Tag1(denied.body, "Message"),
            "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: "
            "s3:GetObject on resource: &quot;arn:aws:s3:::data/out/b&quot; because no "
            "identity-based policy allows the s3:GetObject action");
  // Kept across a reopen of the store.
  api_.reset();
  authz_.reset();
  buckets_.reset();
  store_.reset();
  SetUp();
  EXPECT_EQ(Call("GET", "/data?policy").body, policy);
  EXPECT_EQ(Call("DELETE", "/data?policy").status, 204);
  ExpectError(Call("GET", "/data?policy"), 404, "NoSuchBucketPolicy");
  ExpectError(As(reader, "GET", "/data/in/a"), 403, "AccessDenied");
}

TEST_F(S3AuthzTest, MalformedBucketPolicies) {
  MakeBucket("data");
  ExpectError(Call("PUT", "/data?policy", {}, "not json"), 400, "MalformedPolicy");
  ExpectError(Call("PUT", "/data?policy", {}, R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]})"),
              400, "MalformedPolicy");  // no Principal in a resource policy
  auto other = Call("PUT", "/data?policy", {}, R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]})");
  ExpectError(other, 400, "MalformedPolicy");
  EXPECT_EQ(Tag1(other.body, "Message"), "Policy has invalid resource");
  ExpectError(Call("PUT", "/data?policy", {}, "{" + std::string(21 * 1024, ' ') + "}"), 400,
              "MalformedPolicy");
  ExpectError(Call("GET", "/data?policy"), 404, "NoSuchBucketPolicy");  // nothing was stored
  ExpectError(Call("PUT", "/nope?policy", {}, "{}"), 404, "NoSuchBucket");
}

TEST_F(S3AuthzTest, DeleteObjectsIsAuthorizedPerKey) {
  MakeBucket("data");
  Put("data", "tmp/a", "A");
  Put("data", "keep/b", "B");
  auto cleaner = User("cleaner", {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data/tmp/*"}]})"});
  auto r = As(cleaner, "POST", "/data?delete",
              "<Delete><Object><Key>tmp/a</Key></Object><Object><Key>keep/b</Key></Object></Delete>");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(TagValues(r.body, "Key"), (std::vector<std::string>{"tmp/a", "keep/b"}));
  EXPECT_EQ(Tag1(r.body, "Code"), "AccessDenied");
  EXPECT_EQ(Call("GET", "/data/tmp/a").status, 404);
  EXPECT_EQ(BodyOf(Call("GET", "/data/keep/b")), "B");
}

}  // namespace
}  // namespace hydrant::server
