#include "app/logs_command.h"

#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "aws/http_client.h"

namespace hydrant::app {
namespace {

TEST(ParseSince, DurationsAndEpochMillis) {
  const int64_t now = 1'700'000'000'000;
  EXPECT_EQ(ParseSince("90s", now).value(), now - 90'000);
  EXPECT_EQ(ParseSince("10m", now).value(), now - 600'000);
  EXPECT_EQ(ParseSince("2h", now).value(), now - 7'200'000);
  EXPECT_EQ(ParseSince("1d", now).value(), now - 86'400'000);
  EXPECT_EQ(ParseSince("1699999999000", now).value(), 1'699'999'999'000);
  EXPECT_FALSE(ParseSince("", now).ok());
  EXPECT_FALSE(ParseSince("h", now).ok());
  EXPECT_FALSE(ParseSince("5w", now).ok());
  EXPECT_FALSE(ParseSince("99999999999999999999", now).ok());
}

// Answers queued bodies in order and records the requests.
class ScriptedHttp final : public aws::HttpClient {
 public:
  std::deque<std::pair<int, std::string>> answers;
  std::vector<aws::HttpRequest> requests;
  Result<aws::HttpResponse> Send(const aws::HttpRequest& req, std::chrono::milliseconds) override {
    requests.push_back(req);
    if (answers.empty()) return Status::Unavailable("connection refused");
    aws::HttpResponse r;
    r.status = answers.front().first;
    r.body = answers.front().second;
    answers.pop_front();
    return r;
  }
};

TEST(RunLogsCommand, NeedsExactlyOneOfStreamAndGroup) {
  ScriptedHttp http;
  std::ostringstream out, err;
  EXPECT_EQ(RunLogsCommand({}, &http, out, err), 2);
  LogsCommandOptions both;
  both.delivery_stream = "s";
  both.group = "/g";
  EXPECT_EQ(RunLogsCommand(both, &http, out, err), 2);
  EXPECT_TRUE(http.requests.empty());
}

TEST(RunLogsCommand, FollowPrintsEachEventOnceAcrossPollsAndPages) {
  ScriptedHttp http;
  // Poll 1: two pages. Poll 2: the last event again (same timestamp) plus a new one.
  http.answers = {
      {200, R"({"events":[{"logStreamName":"s","timestamp":1000,"message":"a\n","eventId":"1"}],"nextToken":"t"})"},
      {200, R"({"events":[{"logStreamName":"s","timestamp":2000,"message":"b","eventId":"2"}]})"},
      {200, R"({"events":[{"logStreamName":"s","timestamp":2000,"message":"b","eventId":"2"},)"
            R"({"logStreamName":"s","timestamp":2000,"message":"c","eventId":"3"}]})"},
  };
  LogsCommandOptions opts;
  opts.group = "/g";
  opts.follow = true;
  std::atomic<bool> stop{false};
  int polls = 0;
  std::ostringstream out, err;
  int rc = RunLogsCommand(opts, &http, out, err, &stop, [&](int) {
    if (++polls == 2) stop = true;
  });
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(out.str(),
            "1970-01-01T00:00:01.000Z s a\n"
            "1970-01-01T00:00:02.000Z s b\n"
            "1970-01-01T00:00:02.000Z s c\n");
  ASSERT_EQ(http.requests.size(), 3u);
  EXPECT_NE(http.requests[1].body.find(R"("nextToken":"t")"), std::string::npos);
  EXPECT_NE(http.requests[2].body.find(R"("startTime":2000)"), std::string::npos);
  EXPECT_EQ(http.requests[0].url, "http://127.0.0.1:4573/");
}

TEST(RunLogsCommand, ErrorsAreReported) {
  ScriptedHttp http;
  http.answers = {{400, R"({"__type":"ResourceNotFoundException","message":"Firehose nope under account 000000000000 not found."})"}};
  LogsCommandOptions opts;
  opts.delivery_stream = "nope";
  std::ostringstream out, err;
  EXPECT_EQ(RunLogsCommand(opts, &http, out, err), 1);
  EXPECT_NE(err.str().find("ResourceNotFoundException"), std::string::npos);
  std::ostringstream err2;
  LogsCommandOptions group;
  group.group = "/g";
  EXPECT_EQ(RunLogsCommand(group, &http, out, err2), 1);  // no answer
  EXPECT_NE(err2.str().find("cannot reach hydrant"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::app
