// RemoteKinesisReader against a scripted HttpClient (request shapes, signing,
// paging, decoding, error mapping) and against testing/test_http_server.h
// through the real CurlHttpClient (size cap, timeout, refused connection).
// remote_kinesis_reader_test.cc reads a real kinesalite.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <mutex>

#include "aws/sigv4.h"
#include "common/base64.h"
#include "sources/remote_kinesis_reader.h"
#include "testing/test_http_server.h"

namespace hydrant::sources {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kArn[] = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kToken[] = "FQoGZXIvYXdzEXAMPLETOKEN";
constexpr int64_t kNow = 1700000000123;

// Answers from a script, in order; records what was sent.
class ScriptedHttp final : public aws::HttpClient {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpRequest& req, std::chrono::milliseconds) override {
    std::lock_guard lk(mu_);
    sent.push_back(req);
    if (answers.empty()) return Status::Internal("script ran out");
    Result<aws::HttpResponse> r = std::move(answers.front());
    answers.pop_front();
    return r;
  }
  void Answer(int status, std::string body,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    aws::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    answers.emplace_back(std::move(r));
  }
  void Fail(Status st) { answers.emplace_back(std::move(st)); }

  std::mutex mu_;
  std::deque<Result<aws::HttpResponse>> answers;
  std::vector<aws::HttpRequest> sent;
};

RemoteKinesisConfig Cfg() {
  RemoteKinesisConfig c;
  c.stream_arn = kArn;
  c.endpoint = "http://127.0.0.1:4567/";
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = kSecret;
  c.session_token = kToken;
  return c;
}

std::string HeaderOf(const aws::HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (strcasecmp(k.c_str(), std::string(name).c_str()) == 0) return v;
  }
  return "";
}

// The request's JSON body as a DOM (kept alive by the test's parser).
simdjson::dom::object Body(simdjson::dom::parser& p, const aws::HttpRequest& r) {
  return p.parse(r.body).get_object().value();
}

class RemoteKinesisReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RemoteKinesisReader::Create(Cfg(), kArn, &http_, nullptr, &clock_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reader_ = std::move(r).value();
  }
  FakeClock clock_{kNow};
  ScriptedHttp http_;
  std::unique_ptr<RemoteKinesisReader> reader_;
  simdjson::dom::parser parser_;
};

TEST_F(RemoteKinesisReaderTest, SignsEachCallForKinesisInTheStreamsRegion) {
  http_.Answer(200, R"({"Shards":[]})");
  ASSERT_TRUE(reader_->ListShards().ok());
  ASSERT_EQ(http_.sent.size(), 1u);
  const aws::HttpRequest& req = http_.sent[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:4567/");
  EXPECT_EQ(HeaderOf(req, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(HeaderOf(req, "X-Amz-Target"), "Kinesis_20131202.ListShards");
  EXPECT_EQ(HeaderOf(req, "Host"), "127.0.0.1:4567");
  EXPECT_EQ(HeaderOf(req, "X-Amz-Date"), "20231114T221320Z");
  EXPECT_EQ(HeaderOf(req, "X-Amz-Security-Token"), kToken);
  EXPECT_EQ(req.max_response_bytes, RemoteKinesisReader::kMaxControlResponseBytes);

  auto auth = aws::ParseAuthorization(HeaderOf(req, "Authorization"));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth->region, "eu-west-1");
  EXPECT_EQ(auth->service, "kinesis");
  EXPECT_THAT(auth->signed_headers,
              ::testing::IsSupersetOf(
                  {"host", "x-amz-target", "content-type", "x-amz-date", "x-amz-security-token"}));
  aws::SignableRequest s{"POST", "/", "", req.headers, aws::Sha256Hex(req.body)};
  aws::VerifyOptions vo;
  vo.now_unix_ms = kNow;
  EXPECT_TRUE(aws::Verify(aws::ViewOf(s), *auth, kSecret, vo).ok());
  // The signature covers the body: a changed body no longer verifies.
  s.payload_hash = aws::Sha256Hex(req.body + " ");
  EXPECT_FALSE(aws::Verify(aws::ViewOf(s), *auth, kSecret, vo).ok());
  s.payload_hash = aws::Sha256Hex(req.body);
  EXPECT_FALSE(aws::Verify(aws::ViewOf(s), *auth, "another secret", vo).ok());
}

TEST_F(RemoteKinesisReaderTest, ListShardsFollowsNextTokenThroughEveryPage) {
  http_.Answer(200, R"({"Shards":[
      {"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"},
       "SequenceNumberRange":{"StartingSequenceNumber":"1","EndingSequenceNumber":"9"}}],
      "NextToken":"page-2"})");
  http_.Answer(200, R"({"Shards":[
      {"ShardId":"shardId-000000000001","ParentShardId":"shardId-000000000000",
       "SequenceNumberRange":{"StartingSequenceNumber":"10"}}],
      "NextToken":"page-3"})");
  http_.Answer(200, R"({"Shards":[
      {"ShardId":"shardId-000000000002","ParentShardId":"shardId-000000000000",
       "AdjacentParentShardId":"shardId-000000000001",
       "SequenceNumberRange":{"StartingSequenceNumber":"11","EndingSequenceNumber":null}}]})");
  auto shards = reader_->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 3u);
  EXPECT_EQ((*shards)[0].id, "shardId-000000000000");
  EXPECT_TRUE((*shards)[0].closed);
  EXPECT_FALSE((*shards)[0].parent.has_value());
  EXPECT_EQ((*shards)[1].parent, "shardId-000000000000");
  EXPECT_FALSE((*shards)[1].adjacent_parent.has_value());
  EXPECT_FALSE((*shards)[1].closed);
  EXPECT_EQ((*shards)[2].adjacent_parent, "shardId-000000000001");
  EXPECT_FALSE((*shards)[2].closed);

  ASSERT_EQ(http_.sent.size(), 3u);
  auto first = Body(parser_, http_.sent[0]);
  EXPECT_EQ(std::string_view(first["StreamName"]), "orders");
  EXPECT_EQ(std::string_view(first["StreamARN"]), kArn);
  EXPECT_EQ(first.size(), 2u);
  // Later pages carry the token alone (AWS refuses StreamName with NextToken).
  for (int i = 1; i < 3; ++i) {
    auto later = Body(parser_, http_.sent[i]);
    EXPECT_EQ(later.size(), 1u);
    EXPECT_EQ(std::string_view(later["NextToken"]), i == 1 ? "page-2" : "page-3");
  }
}

TEST_F(RemoteKinesisReaderTest, ListShardsStopsOnARepeatedTokenAndOnPagingErrors) {
  http_.Answer(200, R"({"Shards":[],"NextToken":"t"})");
  http_.Answer(200, R"({"Shards":[],"NextToken":"t"})");
  auto loop = reader_->ListShards();
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().code(), StatusCode::kInternal);
  EXPECT_EQ(loop.status().error_code(), kKinesisBadResponse);
  EXPECT_THAT(loop.status().message(), HasSubstr("the same NextToken twice"));

  http_.Answer(200, R"({"Shards":[],"NextToken":"old"})");
  http_.Answer(400, R"({"__type":"ExpiredNextTokenException","message":"The token expired."})");
  auto expired = reader_->ListShards();
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(expired.status().error_code(), kKinesisExpiredNextToken);
}

TEST_F(RemoteKinesisReaderTest, ShardIteratorSendsEachStartingPosition) {
  for (int i = 0; i < 4; ++i)
    http_.Answer(200, R"({"ShardIterator":"it-)" + std::to_string(i) + "\"}");
  const std::string shard = "shardId-000000000001";
  auto a = reader_->ShardIterator(shard, StartAt::kTrimHorizon, "", 0);
  auto b = reader_->ShardIterator(shard, StartAt::kLatest, "", 0);
  auto c = reader_->ShardIterator(shard, StartAt::kAtTimestamp, "", 1700000000123);
  auto d = reader_->ShardIterator(shard, StartAt::kAfterSequenceNumber,
                                  "49590338271490256608559692538361571095921575989136588898", 0);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(*a, "it-0");
  EXPECT_EQ(*d, "it-3");
  ASSERT_EQ(http_.sent.size(), 4u);
  const char* types[] = {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", "AFTER_SEQUENCE_NUMBER"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(HeaderOf(http_.sent[i], "X-Amz-Target"), "Kinesis_20131202.GetShardIterator");
    auto o = Body(parser_, http_.sent[i]);
    EXPECT_EQ(std::string_view(o["ShardIteratorType"]), types[i]);
    EXPECT_EQ(std::string_view(o["ShardId"]), shard);
    EXPECT_EQ(std::string_view(o["StreamName"]), "orders");
    EXPECT_EQ(std::string_view(o["StreamARN"]), kArn);
    EXPECT_EQ(o["Timestamp"].error() == simdjson::SUCCESS, i == 2);
    EXPECT_EQ(o["StartingSequenceNumber"].error() == simdjson::SUCCESS, i == 3);
  }
  // Epoch seconds with the milliseconds as the fraction.
  double ts = Body(parser_, http_.sent[2])["Timestamp"];
  EXPECT_EQ(std::llround(ts * 1000), 1700000000123);
  EXPECT_EQ(std::string_view(Body(parser_, http_.sent[3])["StartingSequenceNumber"]),
            "49590338271490256608559692538361571095921575989136588898");

  http_.Answer(200, R"({"ShardIterator":""})");
  auto empty = reader_->ShardIterator(shard, StartAt::kLatest, "", 0);
  EXPECT_EQ(empty.status().error_code(), kKinesisBadResponse);
}

TEST_F(RemoteKinesisReaderTest, GetRecordsDecodesRecordsAndPositions) {
  const std::string binary("\x00\xff\x01hello\n", 8);
  http_.Answer(200, R"({"Records":[
      {"SequenceNumber":"1001","ApproximateArrivalTimestamp":1.700000000123E9,
       "Data":")" + base64::Encode(binary) +
                        R"(","PartitionKey":"pk-1"},
      {"SequenceNumber":"1002","ApproximateArrivalTimestamp":1700000001,
       "Data":"","PartitionKey":"pk-2","EncryptionType":"NONE"}],
      "NextShardIterator":"next-it","MillisBehindLatest":4200,"ChildShards":[]})");
  auto batch = reader_->GetRecords("it-0", 250);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->records.size(), 2u);
  EXPECT_EQ(batch->records[0].sequence_number, "1001");
  EXPECT_EQ(batch->records[0].data, binary);
  EXPECT_EQ(batch->records[0].partition_key, "pk-1");
  EXPECT_EQ(batch->records[0].arrival_ms, 1700000000123);
  EXPECT_EQ(batch->records[1].arrival_ms, 1700000001000);
  EXPECT_EQ(batch->records[1].data, "");
  EXPECT_EQ(batch->next_iterator, "next-it");
  EXPECT_EQ(batch->millis_behind, 4200);

  const aws::HttpRequest& req = http_.sent.back();
  EXPECT_EQ(HeaderOf(req, "X-Amz-Target"), "Kinesis_20131202.GetRecords");
  EXPECT_EQ(req.max_response_bytes, RemoteKinesisReader::kMaxGetRecordsResponseBytes);
  auto o = Body(parser_, req);
  EXPECT_EQ(std::string_view(o["ShardIterator"]), "it-0");
  EXPECT_EQ(int64_t(o["Limit"]), 250);
  EXPECT_EQ(std::string_view(o["StreamARN"]), kArn);
}

TEST_F(RemoteKinesisReaderTest, GetRecordsAtAClosedShardsEndHasNoNextIterator) {
  http_.Answer(200, R"({"Records":[],"MillisBehindLatest":0,
      "ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"]}]})");
  http_.Answer(200, R"({"Records":[],"NextShardIterator":null,"MillisBehindLatest":0})");
  for (int i = 0; i < 2; ++i) {
    auto batch = reader_->GetRecords("it", 10);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_TRUE(batch->records.empty());
    EXPECT_EQ(batch->next_iterator, "");
  }
}

TEST_F(RemoteKinesisReaderTest, GetRecordsClampsTheLimitToKinesisRange) {
  http_.Answer(200, R"({"Records":[],"NextShardIterator":"x"})");
  http_.Answer(200, R"({"Records":[],"NextShardIterator":"x"})");
  ASSERT_TRUE(reader_->GetRecords("it", 0).ok());
  ASSERT_TRUE(reader_->GetRecords("it", 1000000).ok());
  EXPECT_EQ(int64_t(Body(parser_, http_.sent[0])["Limit"]), 1);
  EXPECT_EQ(int64_t(Body(parser_, http_.sent[1])["Limit"]), 10000);
}

TEST_F(RemoteKinesisReaderTest, MalformedAnswersAreInternalErrors) {
  http_.Answer(200, "<html>proxy</html>");
  http_.Answer(200, R"({"Records":[{"SequenceNumber":"1","Data":"!!notbase64"}]})");
  http_.Answer(200, R"({"Records":[{"Data":"AA=="}]})");
  http_.Answer(200, R"({"NextShardIterator":"x"})");
  for (std::string_view why : {"not a JSON object", "is not base64",
                               "without SequenceNumber or Data", "no Records list"}) {
    auto r = reader_->GetRecords("it", 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInternal);
    EXPECT_EQ(r.status().error_code(), kKinesisBadResponse);
    EXPECT_THAT(r.status().message(), HasSubstr(why));
  }
  http_.Answer(200, R"({"Shards":[{"ParentShardId":"x"}]})");
  EXPECT_EQ(reader_->ListShards().status().error_code(), kKinesisBadResponse);
}

struct ErrorCase {
  int http;
  std::string body;
  std::string header_type;  // x-amzn-ErrorType, when the body says nothing
  StatusCode status;
  std::string_view code;
};

TEST_F(RemoteKinesisReaderTest, MapsEveryErrorAnswer) {
  const ErrorCase cases[] = {
      {400,
       R"({"__type":"ResourceNotFoundException","message":"Stream orders under account 123456789012 not found."})",
       "", StatusCode::kNotFound, kKinesisResourceNotFound},
      {400,
       R"({"__type":"com.amazonaws.kinesis.v20131202#ExpiredIteratorException","message":"Iterator expired."})",
       "", StatusCode::kInvalidArgument, kKinesisExpiredIterator},
      {400,
       R"({"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard"})",
       "", StatusCode::kResourceExhausted, kKinesisProvisionedThroughputExceeded},
      {400, R"({"__type":"LimitExceededException","message":"Rate exceeded for stream"})", "",
       StatusCode::kResourceExhausted, kKinesisLimitExceeded},
      {400, R"({"__type":"KMSThrottlingException","message":"slow"})", "",
       StatusCode::kResourceExhausted, kKinesisKMSThrottling},
      {400, R"({"__type":"ThrottlingException","Message":"Rate exceeded"})", "",
       StatusCode::kResourceExhausted, kKinesisThrottling},
      {400,
       R"({"__type":"AccessDeniedException","Message":"not authorized to perform kinesis:GetRecords"})",
       "", StatusCode::kUnavailable, kKinesisAccessDenied},
      {400, R"({"__type":"InvalidArgumentException","message":"bad shard"})", "",
       StatusCode::kInvalidArgument, kKinesisInvalidArgument},
      {400, R"({"__type":"ValidationException","message":"1 validation error"})", "",
       StatusCode::kInvalidArgument, kKinesisValidation},
      {400, R"({"__type":"KMSAccessDeniedException","message":"no"})", "", StatusCode::kUnavailable,
       kKinesisKMSAccessDenied},
      {400, R"({"__type":"KMSDisabledException"})", "", StatusCode::kUnavailable,
       kKinesisKMSDisabled},
      {400, R"({"__type":"KMSInvalidStateException"})", "", StatusCode::kUnavailable,
       kKinesisKMSInvalidState},
      {400, R"({"__type":"KMSNotFoundException"})", "", StatusCode::kUnavailable,
       kKinesisKMSNotFound},
      {400, R"({"__type":"KMSOptInRequired"})", "", StatusCode::kUnavailable,
       kKinesisKMSOptInRequired},
      {400,
       R"({"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."})",
       "", StatusCode::kUnavailable, kKinesisUnrecognizedClient},
      {403,
       R"({"__type":"InvalidSignatureException","message":"The request signature we calculated does not match"})",
       "", StatusCode::kUnavailable, kKinesisInvalidSignature},
      {400,
       R"({"__type":"ExpiredTokenException","message":"The security token included in the request is expired"})",
       "", StatusCode::kUnavailable, kKinesisExpiredToken},
      {403,
       R"({"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"})",
       "", StatusCode::kUnavailable, kKinesisMissingAuthenticationToken},
      {400, R"({"__type":"ResourceInUseException","message":"busy"})", "",
       StatusCode::kInvalidArgument, kKinesisResourceInUse},
      {500, R"({"__type":"InternalFailure"})", "", StatusCode::kUnavailable,
       kKinesisInternalFailure},
      {503, R"({"__type":"ServiceUnavailable"})", "", StatusCode::kResourceExhausted,
       kKinesisServiceUnavailable},
      // No known type: the HTTP status decides.
      {400, R"({"__type":"SomethingNewException","message":"?"})", "", StatusCode::kInvalidArgument,
       kKinesisOther},
      {429, "", "", StatusCode::kResourceExhausted, kKinesisOther},
      {503, "Service Unavailable", "", StatusCode::kResourceExhausted, kKinesisOther},
      {502, "<html>Bad Gateway</html>", "", StatusCode::kUnavailable, kKinesisOther},
      {403, "", "", StatusCode::kUnavailable, kKinesisOther},
      // The type in a header (and an AWS-style suffix) when the body has none.
      {400, "", "ExpiredIteratorException:http://internal.amazon.com/coral/com.amazonaws.kinesis/",
       StatusCode::kInvalidArgument, kKinesisExpiredIterator},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.body + c.header_type);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.header_type.empty()) headers.emplace_back("X-Amzn-ErrorType", c.header_type);
    http_.Answer(c.http, c.body, headers);
    auto r = reader_->GetRecords("it", 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.status);
    EXPECT_EQ(r.status().error_code(), c.code);
    const std::string& m = r.status().message();
    EXPECT_THAT(m, HasSubstr("Kinesis GetRecords on " + std::string(kArn) +
                             " at http://127.0.0.1:4567: HTTP " + std::to_string(c.http)));
    EXPECT_THAT(m, Not(HasSubstr(kSecret)));
    EXPECT_THAT(m, Not(HasSubstr(kToken)));
  }
  // The endpoint's own words are quoted.
  http_.Answer(
      400,
      R"({"__type":"ResourceNotFoundException","message":"Stream orders under account 123456789012 not found."})");
  EXPECT_THAT(reader_->ListShards().status().message(),
              HasSubstr("HTTP 400 ResourceNotFoundException: Stream orders under account "
                        "123456789012 not found."));
}

TEST_F(RemoteKinesisReaderTest, TransportFailuresAreUnavailable) {
  http_.Fail(aws::HttpTimeoutError("operation timed out after 30000 ms"));
  http_.Fail(Status::Unavailable("connection refused"));
  http_.Fail(Status::ResourceExhausted("response body exceeds 33554432 bytes"));
  auto timeout = reader_->GetRecords("it", 1);
  EXPECT_EQ(timeout.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(timeout.status().error_code(), kKinesisTimeout);
  auto refused = reader_->ListShards();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().error_code(), kKinesisUnreachable);
  EXPECT_THAT(refused.status().message(), HasSubstr("connection refused"));
  // A too-large answer is not throttling: the source must not just wait and retry.
  auto huge = reader_->GetRecords("it", 1);
  EXPECT_EQ(huge.status().code(), StatusCode::kInternal);
  EXPECT_EQ(huge.status().error_code(), kKinesisResponseTooLarge);
}

TEST_F(RemoteKinesisReaderTest, AnAnswerPastTheCapIsRefusedEvenIfTheClientDeliversIt) {
  http_.Answer(200, std::string(RemoteKinesisReader::kMaxControlResponseBytes + 1, ' '));
  auto r = reader_->ListShards();
  EXPECT_EQ(r.status().error_code(), kKinesisResponseTooLarge);
}

// Credentials that cannot be found fail the call before anything is sent, and the
// message names the provider, not a key.
class NoCredentials final : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> GetCredentials() override {
    return Status::NotFound("no AWS_ACCESS_KEY_ID");
  }
  std::string Name() const override { return "environment"; }
};

TEST(RemoteKinesisReader, MissingCredentialsFailWithoutSending) {
  ScriptedHttp http;
  FakeClock clock(kNow);
  auto r =
      RemoteKinesisReader::Create(Cfg(), kArn, &http, std::make_shared<NoCredentials>(), &clock);
  ASSERT_TRUE(r.ok());
  auto shards = (*r)->ListShards();
  EXPECT_EQ(shards.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(shards.status().error_code(), kKinesisAccessDenied);
  EXPECT_THAT(shards.status().message(), HasSubstr("no credentials (environment)"));
  EXPECT_TRUE(http.sent.empty());
}

TEST(RemoteKinesisReader, DefaultEndpointIsAwsInTheStreamsRegion) {
  RemoteKinesisConfig c;
  c.region = "eu-west-1";
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = kSecret;
  ScriptedHttp http;
  auto r = RemoteKinesisReader::Create(c, kArn, &http);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->endpoint(), "https://kinesis.eu-west-1.amazonaws.com");
  http.Answer(200, R"({"Shards":[]})");
  ASSERT_TRUE((*r)->ListShards().ok());
  EXPECT_EQ(http.sent[0].url, "https://kinesis.eu-west-1.amazonaws.com/");
  EXPECT_EQ(HeaderOf(http.sent[0], "Host"), "kinesis.eu-west-1.amazonaws.com");
  EXPECT_EQ(HeaderOf(http.sent[0], "X-Amz-Security-Token"), "");
  EXPECT_EQ(KinesisEndpointFor(c, "cn-north-1"), "https://kinesis.cn-north-1.amazonaws.com.cn");
}

TEST(RemoteKinesisReader, ABadStreamArnGivesAReaderThatSaysSo) {
  ScriptedHttp http;
  auto bad = RemoteKinesisReader::Create(Cfg(), "arn:aws:kinesis:eu-west-1:123:stream/x", &http);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto reader = MakeRemoteKinesisReader(
      Cfg(), "arn:aws:firehose:eu-west-1:123456789012:deliverystream/x", &http);
  ASSERT_NE(reader, nullptr);
  auto shards = reader->ListShards();
  EXPECT_EQ(shards.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(shards.status().message(), HasSubstr("the service is not 'kinesis'"));
  EXPECT_EQ(reader->GetRecords("it", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(http.sent.empty());
}

TEST(KinesisStreamArn, ParsesAndRefuses) {
  auto a = ParseKinesisStreamArn("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->partition, "aws-cn");
  EXPECT_EQ(a->region, "cn-north-1");
  EXPECT_EQ(a->account_id, "123456789012");
  EXPECT_EQ(a->name, "a.b_c-d");
  for (std::string_view bad :
       {"", "arn:aws:kinesis:us-east-1:123456789012",
        "arn:aws:kinesis:us-east-1:123456789012:stream/",
        "arn:aws:kinesis:us-east-1:12345678901:stream/s", "arn:aws:kinesis::123456789012:stream/s",
        "arn:aws:kinesis:US-EAST-1:123456789012:stream/s",
        "arn:aws:sqs:us-east-1:123456789012:stream/s",
        "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1",
        "arn:aws:kinesis:us-east-1:123456789012:table/s",
        "urn:aws:kinesis:us-east-1:123456789012:stream/s",
        "arn:gcp:kinesis:us-east-1:123456789012:stream/s"}) {
    EXPECT_FALSE(ParseKinesisStreamArn(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseKinesisStreamArn("arn:aws:kinesis:us-east-1:123456789012:stream/" +
                                     std::string(129, 'a'))
                   .ok());
}

TEST(RemoteKinesisConfig, ValidationSaysWhatIsWrong) {
  auto check = [](RemoteKinesisConfig c) {
    return ValidateRemoteKinesisConfig(c, "kinesis.sources[2]");
  };
  RemoteKinesisConfig ok;
  ok.region = "eu-west-1";
  EXPECT_TRUE(check(ok).ok());
  RemoteKinesisConfig neither;
  EXPECT_THAT(check(neither).message(), HasSubstr("kinesis.sources[2]: give stream_arn"));
  RemoteKinesisConfig both = ok;
  both.stream_arn = kArn;
  EXPECT_THAT(check(both).message(), HasSubstr("exactly one"));
  RemoteKinesisConfig bad_arn;
  bad_arn.stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:orders";
  EXPECT_THAT(check(bad_arn).message(), HasSubstr("kinesis.sources[2].stream_arn: "));
  RemoteKinesisConfig bad_region;
  bad_region.region = "Frankfurt";
  EXPECT_THAT(check(bad_region).message(), HasSubstr(".region must look like us-east-1"));
  RemoteKinesisConfig bad_endpoint = ok;
  bad_endpoint.endpoint = "127.0.0.1:4567";
  EXPECT_THAT(check(bad_endpoint).message(), HasSubstr(".endpoint must be http(s)://host[:port]"));
  bad_endpoint.endpoint = "http://127.0.0.1:4567/kinesis";
  EXPECT_FALSE(check(bad_endpoint).ok());
  RemoteKinesisConfig half_keys = ok;
  half_keys.access_key_id = "AKID";
  EXPECT_THAT(check(half_keys).message(), HasSubstr("go together"));
  RemoteKinesisConfig secret_only = ok;
  secret_only.secret_access_key = kSecret;
  Status st = check(secret_only);
  EXPECT_THAT(st.message(), HasSubstr("go together"));
  EXPECT_THAT(st.message(), Not(HasSubstr(kSecret)));
  RemoteKinesisConfig token_only = ok;
  token_only.session_token = kToken;
  EXPECT_THAT(check(token_only).message(), Not(HasSubstr(kToken)));
  EXPECT_FALSE(check(token_only).ok());
  RemoteKinesisConfig keys_and_profile = Cfg();
  keys_and_profile.profile = "prod";
  EXPECT_THAT(check(keys_and_profile).message(), HasSubstr("not both"));
}

// --- through the real CurlHttpClient ---------------------------------------------

TEST(RemoteKinesisReaderOverHttp, AHugeAnswerIsRefused) {
  testing::TestHttpServer srv([](const testing::TestHttpRequest&) {
    std::string body = R"({"Records":[{"SequenceNumber":"1","Data":")";
    body.append(RemoteKinesisReader::kMaxGetRecordsResponseBytes, 'A');
    body += R"("}],"NextShardIterator":"x"})";
    return testing::TestHttpResponse{200, {{"Content-Type", "application/x-amz-json-1.1"}}, body};
  });
  aws::CurlHttpClient http;
  RemoteKinesisConfig c = Cfg();
  c.endpoint = "http://127.0.0.1:" + std::to_string(srv.port());
  auto reader = RemoteKinesisReader::Create(c, kArn, &http);
  ASSERT_TRUE(reader.ok());
  auto r = (*reader)->GetRecords("it", 10000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().error_code(), kKinesisResponseTooLarge);
  EXPECT_THAT(r.status().message(), HasSubstr("larger than 33554432 bytes"));
}

TEST(RemoteKinesisReaderOverHttp, TimeoutAndRefusedConnection) {
  testing::TestHttpServer srv([](const testing::TestHttpRequest&) {
    testing::TestHttpResponse r{200, {}, R"({"Shards":[]})"};
    r.delay = std::chrono::milliseconds(2000);
    return r;
  });
  aws::CurlHttpClient http;
  RemoteKinesisConfig c = Cfg();
  c.endpoint = "http://127.0.0.1:" + std::to_string(srv.port());
  c.request_timeout = std::chrono::milliseconds(200);
  auto slow = RemoteKinesisReader::Create(c, kArn, &http);
  ASSERT_TRUE(slow.ok());
  auto r = (*slow)->ListShards();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().error_code(), kKinesisTimeout);

  // A port nobody listens on (bound, then closed).
  int port;
  {
    testing::TestHttpServer gone(
        [](const testing::TestHttpRequest&) { return testing::TestHttpResponse{}; });
    port = gone.port();
  }
  c.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto refused = RemoteKinesisReader::Create(c, kArn, &http);
  ASSERT_TRUE(refused.ok());
  auto e = (*refused)->GetRecords("it", 1);
  EXPECT_EQ(e.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(e.status().error_code(), kKinesisUnreachable);
}

}  // namespace
}  // namespace hydrant::sources
