#include "server/logs_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "logs/log_store.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

namespace json = boost::json;

constexpr int64_t kNow = 1'700'000'000'000;

class LogsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = logs::LogStore::Open(dir_.Sub("logs"), &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    api_ = std::make_unique<LogsApi>(store_.get(), AccountContext{"eu-west-1", "123456789012"}, &clock_);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
  }

  // Calls OP with BODY; returns the parsed reply and sets status_/error_type_.
  json::object Call(std::string_view op, const json::object& body) {
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"X-Amz-Target", "Logs_20140328." + std::string(op)},
                   {"Content-Type", "application/x-amz-json-1.1"}};
    req.body = json::serialize(body);
    EXPECT_TRUE(LogsApi::IsLogsRequest(req));
    http::Response r = api_->Handle(req);
    status_ = r.status;
    error_type_.clear();
    for (auto& [k, v] : r.headers)
      if (k == "x-amzn-ErrorType") error_type_ = v;
    json::value v = json::parse(r.body);
    return v.as_object();
  }
  void Put(const std::string& group, const std::string& stream,
           std::initializer_list<std::pair<int64_t, std::string>> events) {
    std::vector<logs::InputEvent> in;
    for (auto& [t, m] : events) in.push_back({t, m});
    ASSERT_TRUE(store_->Append(group, stream, in).ok());
  }
  static std::vector<std::string> Messages(const json::object& reply) {
    std::vector<std::string> out;
    for (const auto& e : reply.at("events").as_array())
      out.emplace_back(e.as_object().at("message").as_string());
    return out;
  }

  ::hydrant::testing::TempDir dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<logs::LogStore> store_;
  std::unique_ptr<LogsApi> api_;
  int status_ = 0;
  std::string error_type_;
};

TEST_F(LogsApiTest, DescribeLogGroupsWithPrefixAndPages) {
  Put("/aws/lambda/a", "s", {{kNow, "x"}});
  Put("/aws/lambda/b", "s", {{kNow, "y"}});
  Put("/aws/kinesisfirehose/demo", "DestinationDelivery", {{kNow, "z"}});
  json::object r = Call("DescribeLogGroups", {{"logGroupNamePrefix", "/aws/lambda/"}, {"limit", 1}});
  ASSERT_EQ(status_, 200);
  ASSERT_EQ(r.at("logGroups").as_array().size(), 1u);
  const json::object& g = r.at("logGroups").as_array()[0].as_object();
  EXPECT_EQ(g.at("logGroupName").as_string(), "/aws/lambda/a");
  EXPECT_EQ(g.at("arn").as_string(), "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/a:*");
  EXPECT_EQ(g.at("logGroupArn").as_string(), "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/a");
  EXPECT_EQ(g.at("creationTime").as_int64(), kNow);
  EXPECT_GT(g.at("storedBytes").to_number<uint64_t>(), 0u);
  ASSERT_TRUE(r.contains("nextToken"));
  r = Call("DescribeLogGroups", {{"logGroupNamePrefix", "/aws/lambda/"}, {"nextToken", r.at("nextToken")}});
  ASSERT_EQ(r.at("logGroups").as_array().size(), 1u);
  EXPECT_EQ(r.at("logGroups").as_array()[0].as_object().at("logGroupName").as_string(), "/aws/lambda/b");
  EXPECT_FALSE(r.contains("nextToken"));
  EXPECT_EQ(Call("DescribeLogGroups", {}).at("logGroups").as_array().size(), 3u);
  Call("DescribeLogGroups", {{"limit", 51}});
  EXPECT_EQ(status_, 400);
  EXPECT_EQ(error_type_, "InvalidParameterException:");
}

TEST_F(LogsApiTest, DescribeLogStreamsOrdersAndShapes) {
  Put("/g", "old", {{kNow - 5000, "a"}});
  Put("/g", "new", {{kNow, "b"}});
  ASSERT_TRUE(store_->CreateStream("/g", "empty").ok());
  json::object r = Call("DescribeLogStreams", {{"logGroupName", "/g"}});
  ASSERT_EQ(status_, 200);
  std::vector<std::string> names;
  for (auto& s : r.at("logStreams").as_array()) names.emplace_back(s.as_object().at("logStreamName").as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"empty", "new", "old"}));
  const json::object& empty = r.at("logStreams").as_array()[0].as_object();
  EXPECT_FALSE(empty.contains("lastEventTimestamp"));
  const json::object& old = r.at("logStreams").as_array()[2].as_object();
  EXPECT_EQ(old.at("firstEventTimestamp").as_int64(), kNow - 5000);
  EXPECT_EQ(old.at("lastIngestionTime").as_int64(), kNow);
  EXPECT_EQ(old.at("arn").as_string(), "arn:aws:logs:eu-west-1:123456789012:log-group:/g:log-stream:old");

  r = Call("DescribeLogStreams", {{"logGroupIdentifier", "arn:aws:logs:eu-west-1:123456789012:log-group:/g:*"},
                                  {"orderBy", "LastEventTime"}, {"descending", true}, {"limit", 1}});
  ASSERT_EQ(status_, 200);
  EXPECT_EQ(r.at("logStreams").as_array()[0].as_object().at("logStreamName").as_string(), "new");

  Call("DescribeLogStreams", {{"logGroupName", "/g"}, {"orderBy", "LastEventTime"}, {"logStreamNamePrefix", "n"}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");
  Call("DescribeLogStreams", {{"logGroupName", "/g"}, {"orderBy", "Size"}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");
  json::object e = Call("DescribeLogStreams", {{"logGroupName", "/missing"}});
  EXPECT_EQ(status_, 400);
  EXPECT_EQ(error_type_, "ResourceNotFoundException:");
  EXPECT_EQ(e.at("__type").as_string(), "ResourceNotFoundException");
  EXPECT_EQ(e.at("message").as_string(), "The specified log group does not exist.");
  e = Call("DescribeLogStreams", {});
  EXPECT_EQ(e.at("message").as_string(), "Should provide either logGroupName or logGroupIdentifier.");
}

TEST_F(LogsApiTest, GetLogEventsTimeRangeHeadAndTokens) {
  Put("/g", "s", {{1000, "one"}, {2000, "two"}, {3000, "three"}, {4000, "four"}});
  json::object r = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}});
  ASSERT_EQ(status_, 200);
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"one", "two", "three", "four"}));
  const json::object& ev = r.at("events").as_array()[0].as_object();
  EXPECT_EQ(ev.at("timestamp").as_int64(), 1000);
  EXPECT_EQ(ev.at("ingestionTime").as_int64(), kNow);
  EXPECT_TRUE(r.at("nextForwardToken").as_string().starts_with("f/"));
  EXPECT_TRUE(r.at("nextBackwardToken").as_string().starts_with("b/"));

  r = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"startFromHead", true}, {"limit", 2}});
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"one", "two"}));
  json::value fwd = r.at("nextForwardToken");
  r = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"nextToken", fwd}, {"limit", 2}});
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"three", "four"}));
  // At the end the forward token comes back unchanged.
  json::value end = r.at("nextForwardToken");
  r = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"nextToken", end}});
  EXPECT_TRUE(Messages(r).empty());
  EXPECT_EQ(r.at("nextForwardToken"), end);

  // Default (no head): the last `limit` events.
  r = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"limit", 1}});
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"four"}));
  r = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"startTime", 2000}, {"endTime", 4000}});
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"two", "three"}));

  json::object e = Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "nope"}});
  EXPECT_EQ(error_type_, "ResourceNotFoundException:");
  EXPECT_EQ(e.at("message").as_string(), "The specified log stream does not exist.");
  e = Call("GetLogEvents", {{"logGroupName", "/g"}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");
  EXPECT_NE(e.at("message").as_string().find("'logStreamName'"), json::string::npos);
  Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"nextToken", "garbage"}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");
  Call("GetLogEvents", {{"logGroupName", "/g"}, {"logStreamName", "s"}, {"limit", "ten"}});
  EXPECT_EQ(error_type_, "SerializationException:");
}

TEST_F(LogsApiTest, FilterLogEventsAcrossStreamsWithPatternAndPages) {
  Put("/g", "DestinationDelivery",
      {{1000, R"({"errorCode":"S3.NoSuchBucket","message":"The specified bucket does not exist."})"},
       {3000, R"({"errorCode":"S3.AccessDenied","message":"Access Denied"})"}});
  Put("/g", "BackupDelivery", {{2000, R"({"errorCode":"S3.NoSuchBucket","message":"backup bucket gone"})"}});
  json::object r = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"filterPattern", "S3.NoSuchBucket"}});
  ASSERT_EQ(status_, 200);
  ASSERT_EQ(r.at("events").as_array().size(), 2u);
  const json::object& e0 = r.at("events").as_array()[0].as_object();
  EXPECT_EQ(e0.at("logStreamName").as_string(), "DestinationDelivery");
  EXPECT_EQ(e0.at("timestamp").as_int64(), 1000);
  EXPECT_FALSE(e0.at("eventId").as_string().empty());
  EXPECT_EQ(r.at("events").as_array()[1].as_object().at("logStreamName").as_string(), "BackupDelivery");
  EXPECT_TRUE(r.at("searchedLogStreams").is_array());

  r = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"filterPattern", "\"Access Denied\""}});
  EXPECT_EQ(r.at("events").as_array().size(), 1u);
  r = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"logStreamNames", json::array{"BackupDelivery"}}});
  EXPECT_EQ(Messages(r).size(), 1u);
  r = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"startTime", 1500}, {"endTime", 2500}});
  EXPECT_EQ(Messages(r).size(), 1u);

  r = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"limit", 2}});
  ASSERT_EQ(Messages(r).size(), 2u);
  ASSERT_TRUE(r.contains("nextToken"));
  r = Call("FilterLogEvents", {{"logGroupName", "/g"}, {"limit", 2}, {"nextToken", r.at("nextToken")}});
  EXPECT_EQ(Messages(r).size(), 1u);
  EXPECT_FALSE(r.contains("nextToken"));

  Call("FilterLogEvents", {{"logGroupName", "/g"}, {"logStreamNames", json::array{"a"}}, {"logStreamNamePrefix", "a"}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");
}

TEST_F(LogsApiTest, CreatePutDeleteRoundTrip) {
  Call("CreateLogGroup", {{"logGroupName", "/app"}});
  ASSERT_EQ(status_, 200);
  json::object e = Call("CreateLogGroup", {{"logGroupName", "/app"}});
  EXPECT_EQ(error_type_, "ResourceAlreadyExistsException:");
  EXPECT_EQ(e.at("message").as_string(), "The specified log group already exists");
  Call("CreateLogGroup", {{"logGroupName", "bad name"}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");

  // PutLogEvents needs an existing stream.
  json::array events{json::object{{"timestamp", kNow - 10}, {"message", "hello world"}},
                     json::object{{"timestamp", kNow}, {"message", "second"}}};
  Call("PutLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"logEvents", events}});
  EXPECT_EQ(error_type_, "ResourceNotFoundException:");
  Call("CreateLogStream", {{"logGroupName", "/app"}, {"logStreamName", "s"}});
  ASSERT_EQ(status_, 200);
  json::object r = Call("PutLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"logEvents", events}});
  ASSERT_EQ(status_, 200);
  EXPECT_TRUE(r.contains("nextSequenceToken"));
  EXPECT_FALSE(r.contains("rejectedLogEventsInfo"));
  r = Call("GetLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"startFromHead", true}});
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"hello world", "second"}));

  // Out of order: refused whole. Too old / too new: rejected, the rest kept.
  json::array unordered{json::object{{"timestamp", kNow}, {"message", "b"}},
                        json::object{{"timestamp", kNow - 1}, {"message", "a"}}};
  e = Call("PutLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"logEvents", unordered}});
  EXPECT_EQ(e.at("message").as_string(),
            "Log events in a single PutLogEvents request must be in chronological order.");
  constexpr int64_t kHour = 3600 * 1000;
  json::array old_batch{json::object{{"timestamp", kNow - 14 * 24 * kHour - kHour}, {"message", "too old"}},
                        json::object{{"timestamp", kNow - 14 * 24 * kHour + kHour}, {"message", "old kept"}}};
  r = Call("PutLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"logEvents", old_batch}});
  ASSERT_EQ(status_, 200) << json::serialize(r);
  EXPECT_EQ(r.at("rejectedLogEventsInfo").as_object().at("tooOldLogEventEndIndex").as_int64(), 1);
  EXPECT_FALSE(r.at("rejectedLogEventsInfo").as_object().contains("tooNewLogEventStartIndex"));
  json::array new_batch{json::object{{"timestamp", kNow + kHour}, {"message", "soon"}},
                        json::object{{"timestamp", kNow + 3 * kHour}, {"message", "too new"}}};
  r = Call("PutLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"logEvents", new_batch}});
  ASSERT_EQ(status_, 200) << json::serialize(r);
  EXPECT_EQ(r.at("rejectedLogEventsInfo").as_object().at("tooNewLogEventStartIndex").as_int64(), 1);
  json::array wide{json::object{{"timestamp", kNow - 25 * kHour}, {"message", "a"}},
                   json::object{{"timestamp", kNow}, {"message", "b"}}};
  e = Call("PutLogEvents", {{"logGroupName", "/app"}, {"logStreamName", "s"}, {"logEvents", wide}});
  EXPECT_EQ(error_type_, "InvalidParameterException:");
  r = Call("FilterLogEvents", {{"logGroupName", "/app"}});
  EXPECT_EQ(Messages(r), (std::vector<std::string>{"old kept", "hello world", "second", "soon"}));

  Call("DeleteLogStream", {{"logGroupName", "/app"}, {"logStreamName", "s"}});
  EXPECT_EQ(status_, 200);
  Call("DeleteLogGroup", {{"logGroupName", "/app"}});
  EXPECT_EQ(status_, 200);
  EXPECT_FALSE(store_->GroupExists("/app"));
}

TEST_F(LogsApiTest, ProtocolErrors) {
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"X-Amz-Target", "Logs_20140328.DescribeLogGroups"}};
  req.body = "{not json";
  http::Response r = api_->Handle(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("SerializationException"), std::string::npos);
  json::object e = Call("StartQuery", {});
  EXPECT_EQ(status_, 400);
  EXPECT_EQ(e.at("__type").as_string(), "UnknownOperationException");
  http::Request firehose;
  firehose.headers = {{"X-Amz-Target", "Firehose_20150804.ListDeliveryStreams"}};
  EXPECT_FALSE(LogsApi::IsLogsRequest(firehose));
  LogsApi no_store(nullptr, AccountContext{});
  req.body = "{}";
  EXPECT_EQ(no_store.Handle(req).status, 500);
}

}  // namespace
}  // namespace hydrant::server
