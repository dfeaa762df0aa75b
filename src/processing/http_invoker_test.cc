#include "processing/http_invoker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "testing/test_http_server.h"
#include "common/clock.h"

namespace hydrant::processing {
namespace {

using hydrant::testing::TestHttpRequest;
using hydrant::testing::TestHttpResponse;
using hydrant::testing::TestHttpServer;
using std::chrono::milliseconds;
using Kind = InvokeResult::Kind;

constexpr char kFnError[] = "Lambda.FunctionError";
constexpr char kFnErrorMessage[] =
    "The Lambda function was successfully invoked but it returned an error result.";

FunctionRef Fn(std::string name, std::string qualifier = "") {
  FunctionRef f;
  f.name = name;
  f.qualifier = qualifier;
  f.arn = qualifier.empty() ? name : name + ":" + qualifier;
  return f;
}

FunctionRef ArnFn(std::string region, std::string name, std::string qualifier = "") {
  FunctionRef f;
  f.region = region;
  f.account = "123456789012";
  f.name = name;
  f.qualifier = qualifier;
  f.arn = "arn:aws:lambda:" + region + ":123456789012:function:" + name +
          (qualifier.empty() ? "" : ":" + qualifier);
  return f;
}

HttpInvokerOptions Local(const TestHttpServer& srv) {
  HttpInvokerOptions o;
  o.endpoint = srv.url("");
  return o;
}

// A server answering each request with a fixed response.
TestHttpServer::Handler Reply(int status, std::vector<std::pair<std::string, std::string>> headers,
                              std::string body) {
  return [=](const TestHttpRequest&) { return TestHttpResponse{status, headers, body}; };
}

TEST(HttpLambdaInvoker, OkReturnsThePayloadAndSendsTheInvokeRequest) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    TestHttpResponse resp{200, {{"X-Amz-Executed-Version", "$LATEST"}}, "{\"records\":[]}"};
    resp.delay = milliseconds(50);
    return resp;
  });
  HttpLambdaInvoker inv(Local(srv));
  const std::string event = "{\"invocationId\":\"i\",\"records\":[]}";
  InvokeResult r = inv.Invoke(Fn("svc-dev-transform"), event, milliseconds(5000));
  EXPECT_EQ(r.kind, Kind::kOk);
  EXPECT_EQ(r.payload, "{\"records\":[]}");
  EXPECT_TRUE(r.error_code.empty());
  EXPECT_GE(r.duration_ms, 50);
  EXPECT_LT(r.duration_ms, 5000);

  auto seen = srv.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/2015-03-31/functions/svc-dev-transform/invocations");
  EXPECT_EQ(seen[0].body, event);
  ASSERT_NE(seen[0].Header("x-amz-invocation-type"), nullptr);
  EXPECT_EQ(*seen[0].Header("x-amz-invocation-type"), "RequestResponse");
  EXPECT_EQ(seen[0].Header("authorization"), nullptr);  // no credentials configured
  EXPECT_EQ(seen[0].Header("expect"), nullptr);
}

TEST(HttpLambdaInvoker, QualifierGoesInTheQueryAndLocalEndpointsGetTheName) {
  TestHttpServer srv(Reply(200, {}, "{}"));
  HttpLambdaInvoker inv(Local(srv));
  EXPECT_EQ(inv.Invoke(Fn("f", "$LATEST"), "{}", milliseconds(5000)).kind, Kind::kOk);
  EXPECT_EQ(inv.Invoke(ArnFn("eu-west-1", "g", "prod"), "{}", milliseconds(5000)).kind, Kind::kOk);
  auto seen = srv.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/2015-03-31/functions/f/invocations?Qualifier=%24LATEST");
  EXPECT_EQ(seen[1].target, "/2015-03-31/functions/g/invocations?Qualifier=prod");
}

TEST(HttpLambdaInvoker, UrlsForAwsAndForcedModes) {
  HttpInvokerOptions aws_opts;
  aws_opts.region = "us-west-2";
  HttpLambdaInvoker aws(aws_opts);
  EXPECT_EQ(aws.InvokeUrl(ArnFn("eu-west-1", "my-fn", "prod")),
            "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/"
            "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Amy-fn/"
            "invocations?Qualifier=prod");
  EXPECT_EQ(aws.InvokeUrl(Fn("bare")),
            "https://lambda.us-west-2.amazonaws.com/2015-03-31/functions/bare/invocations");
  EXPECT_EQ(aws.InvokeUrl(ArnFn("cn-north-1", "f")),
            "https://lambda.cn-north-1.amazonaws.com.cn/2015-03-31/functions/"
            "arn%3Aaws%3Alambda%3Acn-north-1%3A123456789012%3Afunction%3Af/invocations");

  HttpInvokerOptions forced;
  forced.endpoint = "http://127.0.0.1:3002/";
  forced.function_id = HttpInvokerOptions::FunctionId::kArn;
  EXPECT_EQ(HttpLambdaInvoker(forced).InvokeUrl(ArnFn("us-east-1", "f")),
            "http://127.0.0.1:3002/2015-03-31/functions/"
            "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations");
  HttpInvokerOptions by_name;
  by_name.endpoint = "https://lambda.us-east-1.amazonaws.com";
  by_name.function_id = HttpInvokerOptions::FunctionId::kName;
  EXPECT_EQ(HttpLambdaInvoker(by_name).InvokeUrl(ArnFn("us-east-1", "f")),
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/invocations");
}

TEST(HttpLambdaInvoker, FunctionErrorKeepsTheErrorDocument) {
  for (const char* kind : {"Unhandled", "Handled"}) {
    const std::string doc =
        "{\"errorType\":\"Error\",\"errorMessage\":\"boom at line 3\",\"trace\":[]}";
    TestHttpServer srv(Reply(200, {{"X-Amz-Function-Error", kind}}, doc));
    HttpLambdaInvoker inv(Local(srv));
    InvokeResult r = inv.Invoke(Fn("f"), "{}", milliseconds(5000));
    EXPECT_EQ(r.kind, Kind::kFunctionError) << kind;
    EXPECT_EQ(r.error_code, kFnError);
    EXPECT_EQ(r.error_message, kFnErrorMessage);
    EXPECT_EQ(r.payload, doc);
  }
}

struct StatusCase {
  int status;
  std::string error_type;  // x-amzn-ErrorType
  std::string body;
  Kind kind;
  std::string code;
  std::string message_part;
};

TEST(HttpLambdaInvoker, ErrorStatusesMapToFirehoseCodes) {
  const std::vector<StatusCase> cases = {
      {404, "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awsgirl/",
       "{\"Type\":\"User\",\"message\":\"Function not found: "
       "arn:aws:lambda:us-east-1:1:function:f\"}",
       Kind::kFatal, "Lambda.ResourceNotFound", "Function not found"},
      {403, "AccessDeniedException", "{\"Message\":\"User is not authorized\"}", Kind::kFatal,
       "Lambda.InvokeAccessDenied", "not authorized"},
      {401, "", "", Kind::kFatal, "Lambda.InvokeAccessDenied", "HTTP 401"},
      {429, "TooManyRequestsException",
       "{\"message\":\"Rate "
       "Exceeded.\",\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\"}",
       Kind::kRetryable, "Lambda.InvokeLimitExceeded", "Rate Exceeded."},
      {413, "RequestTooLargeException",
       "{\"message\":\"Request must be smaller than 6291456 bytes\"}", Kind::kFatal,
       "Lambda.FunctionError", "6291456"},
      // serverless-offline's answer to a 7 MB event.
      {413, "",
       "{\"statusCode\":413,\"error\":\"Request Entity Too Large\",\"message\":\"Payload "
       "content length greater than maximum allowed: 6291456\"}",
       Kind::kFatal, "Lambda.FunctionError", "6 MB"},
      {400, "InvalidRequestContentException",
       "{\"message\":\"Could not parse request body into json\"}", Kind::kFatal,
       "Lambda.JsonProcessingException", "Could not parse"},
      {400, "", "{\"__type\":\"com.amazonaws#InvalidParameterValueException\",\"message\":\"bad\"}",
       Kind::kFatal, "Lambda.InvalidParameterValueException", "bad"},
      {409, "", "", Kind::kFatal, "Lambda.InvalidRequest", "HTTP 409"},
      {500, "ServiceException", "{\"message\":\"internal\"}", Kind::kRetryable,
       "Lambda.ServiceException", "internal"},
      {502, "", "<html>bad gateway</html>", Kind::kRetryable, "Lambda.ServiceUnavailable",
       "bad gateway"},
      {502, "ENILimitReachedException", "{}", Kind::kRetryable, "Lambda.ENILimitReachedException",
       "HTTP 502"},
      {503, "", "", Kind::kRetryable, "Lambda.ServiceUnavailable", "HTTP 503"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.status) + " " + c.error_type);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.error_type.empty()) headers.emplace_back("x-amzn-ErrorType", c.error_type);
    TestHttpServer srv(Reply(c.status, headers, c.body));
    HttpLambdaInvoker inv(Local(srv));
    InvokeResult r = inv.Invoke(Fn("f"), "{}", milliseconds(5000));
    EXPECT_EQ(r.kind, c.kind);
    EXPECT_EQ(r.error_code, c.code);
    EXPECT_NE(r.error_message.find(c.message_part), std::string::npos) << r.error_message;
  }
}

TEST(HttpLambdaInvoker, TimeoutIsRetryableWithTheDocumentedMessage) {
  TestHttpServer srv([](const TestHttpRequest&) {
    TestHttpResponse resp{200, {}, "{}"};
    resp.delay = milliseconds(3000);
    return resp;
  });
  HttpLambdaInvoker inv(Local(srv));
  InvokeResult r = inv.Invoke(Fn("slow"), "{}", milliseconds(200));
  EXPECT_EQ(r.kind, Kind::kRetryable);
  EXPECT_EQ(r.error_code, kFnError);
  EXPECT_EQ(r.error_message,
            "Firehose encountered timeout errors when calling AWS Lambda. The maximum supported "
            "function timeout is 5 minutes.");
  EXPECT_GE(r.duration_ms, 180);
  EXPECT_LT(r.duration_ms, 2000);
}

TEST(HttpLambdaInvoker, UnreachableEndpointIsRetryable) {
  int dead_port;
  {
    TestHttpServer srv(Reply(200, {}, ""));
    dead_port = srv.port();
  }
  HttpInvokerOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(dead_port);
  HttpLambdaInvoker inv(o);
  InvokeResult r = inv.Invoke(Fn("f"), "{}", milliseconds(2000));
  EXPECT_EQ(r.kind, Kind::kRetryable);
  EXPECT_EQ(r.error_code, "Lambda.ServiceUnavailable");
  EXPECT_NE(r.error_message.find("127.0.0.1"), std::string::npos) << r.error_message;
}

TEST(HttpLambdaInvoker, ResponseOverSixMegabytesIsAFunctionError) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    return TestHttpResponse{200, {}, std::string(std::stoul(r.body), 'a')};
  });
  HttpLambdaInvoker inv(Local(srv));
  InvokeResult at_limit = inv.Invoke(Fn("f"), "6291456", milliseconds(10000));
  EXPECT_EQ(at_limit.kind, Kind::kOk);
  EXPECT_EQ(at_limit.payload.size(), 6291456u);
  InvokeResult over = inv.Invoke(Fn("f"), "6291457", milliseconds(10000));
  EXPECT_EQ(over.kind, Kind::kFunctionError);
  EXPECT_EQ(over.error_code, kFnError);
  EXPECT_NE(over.error_message.find("6 MB"), std::string::npos) << over.error_message;
  EXPECT_TRUE(over.payload.empty());
}

TEST(HttpLambdaInvoker, SignsWithSigV4ForLambdaInTheArnsRegion) {
  TestHttpServer srv(Reply(200, {}, "{}"));
  HttpInvokerOptions o = Local(srv);
  o.credentials = std::make_shared<aws::StaticCredentialsProvider>(
      aws::Credentials{"AKIDTEST", "secret/key", "the-token"});
  FakeClock clock(1700000000000);
  o.clock = &clock;
  o.function_id = HttpInvokerOptions::FunctionId::kArn;  // the path with %3A, as AWS gets it
  HttpLambdaInvoker inv(o);
  const std::string event = "{\"records\":[{\"recordId\":\"1\",\"data\":\"YQ==\"}]}";
  ASSERT_EQ(inv.Invoke(ArnFn("eu-west-1", "fn", "live"), event, milliseconds(5000)).kind,
            Kind::kOk);

  auto seen = srv.requests();
  ASSERT_EQ(seen.size(), 1u);
  const TestHttpRequest& req = seen[0];
  ASSERT_NE(req.Header("authorization"), nullptr);
  ASSERT_NE(req.Header("x-amz-security-token"), nullptr);
  EXPECT_EQ(*req.Header("x-amz-security-token"), "the-token");
  EXPECT_EQ(*req.Header("x-amz-date"), "20231114T221320Z");
  auto auth = aws::ParseAuthorization(*req.Header("authorization"));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->access_key_id, "AKIDTEST");
  EXPECT_EQ(auth->region, "eu-west-1");
  EXPECT_EQ(auth->service, "lambda");
  EXPECT_EQ(auth->date, "20231114");

  // Verify what actually went over the wire (as received by the server).
  const size_t q = req.target.find('?');
  const std::string path = req.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
  EXPECT_EQ(path,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Afn/"
            "invocations");
  EXPECT_EQ(query, "Qualifier=live");
  const std::string hash = aws::Sha256Hex(req.body);
  aws::RequestView view{req.method, path, query, req.headers, hash};
  aws::VerifyOptions vo{aws::PathRules::kAuto, clock.NowMillis(), 15 * 60 * 1000};
  EXPECT_TRUE(aws::Verify(view, *auth, "secret/key", vo).ok());
  EXPECT_FALSE(aws::Verify(view, *auth, "other", vo).ok());
}

class FailingProvider final : public aws::CredentialsProvider {
 public:
  explicit FailingProvider(Status s) : s_(std::move(s)) {}
  Result<aws::Credentials> GetCredentials() override { return s_; }
  std::string Name() const override { return "failing"; }

 private:
  Status s_;
};

TEST(HttpLambdaInvoker, CredentialProblems) {
  TestHttpServer srv(Reply(200, {}, "{}"));
  // A broken source: nothing is sent, the call fails for good.
  HttpInvokerOptions broken = Local(srv);
  broken.credentials = std::make_shared<FailingProvider>(
      Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
  InvokeResult r = HttpLambdaInvoker(broken).Invoke(Fn("f"), "{}", milliseconds(5000));
  EXPECT_EQ(r.kind, Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.AssumeRoleAccessDenied");
  EXPECT_NE(r.error_message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_TRUE(srv.requests().empty());

  // No credentials anywhere: the call goes out unsigned (local endpoints need none).
  HttpInvokerOptions none = Local(srv);
  none.credentials = std::make_shared<FailingProvider>(Status::NotFound("nothing"));
  EXPECT_EQ(HttpLambdaInvoker(none).Invoke(Fn("f"), "{}", milliseconds(5000)).kind, Kind::kOk);
  ASSERT_EQ(srv.requests().size(), 1u);
  EXPECT_EQ(srv.requests()[0].Header("authorization"), nullptr);
}

// An injected client: the invoker uses it instead of curl.
class CannedClient final : public aws::HttpClient {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpRequest& req, milliseconds timeout) override {
    last_url = req.url;
    last_timeout = timeout;
    aws::HttpResponse r;
    r.status = 200;
    r.body = "canned";
    return r;
  }
  std::string last_url;
  milliseconds last_timeout{0};
};

TEST(HttpLambdaInvoker, UsesTheInjectedClientAndTimeout) {
  auto client = std::make_shared<CannedClient>();
  HttpInvokerOptions o;
  o.endpoint = "http://lambda.local:9000";
  o.http = client;
  InvokeResult r = HttpLambdaInvoker(o).Invoke(Fn("f"), "{}", milliseconds(1234));
  EXPECT_EQ(r.kind, Kind::kOk);
  EXPECT_EQ(r.payload, "canned");
  EXPECT_EQ(client->last_url, "http://lambda.local:9000/2015-03-31/functions/f/invocations");
  EXPECT_EQ(client->last_timeout, milliseconds(1234));
}

}  // namespace
}  // namespace hydrant::processing
