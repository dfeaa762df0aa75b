#include "app/doctor_command.h"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>

#include "aws/http_client.h"

namespace hydrant::app {
namespace {

// Answers one fixed response (or a transport failure) and records the URL asked for.
class OneAnswerHttp final : public aws::HttpClient {
 public:
  std::optional<aws::HttpResponse> answer;  // nullopt = connection refused
  std::string url;
  Result<aws::HttpResponse> Send(const aws::HttpRequest& req, std::chrono::milliseconds) override {
    url = req.url;
    if (!answer) return Status::Unavailable("connection refused");
    return *answer;
  }
  void Set(int status, std::string body) {
    answer = aws::HttpResponse{};
    answer->status = status;
    answer->body = std::move(body);
  }
};

constexpr char kFailedReport[] =
    R"({"stream":"my stream","time":1,"healthy":false,"summary":{},"checks":[)"
    R"({"id":"stream","name":"stream","status":"passed","evidence":"ACTIVE","fix":""},)"
    R"({"id":"bucket-access","name":"bucket access","status":"failed","evidence":"s3://b: S3.NoSuchBucket",)"
    R"("fix":"create the bucket","errorCode":"S3.NoSuchBucket"}]})";

TEST(RunDoctorCommand, PrintsOneLinePerCheckAndFailsWhenACheckFailed) {
  OneAnswerHttp http;
  http.Set(200, kFailedReport);
  DoctorCommandOptions opts;
  opts.endpoint = "http://h:1/";
  opts.delivery_stream = "my stream";
  std::ostringstream out, err;
  EXPECT_EQ(RunDoctorCommand(opts, &http, out, err), 1);
  EXPECT_EQ(http.url, "http://h:1/doctor?stream=my%20stream");
  EXPECT_NE(out.str().find("PASS  stream"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("FAIL  bucket access  s3://b: S3.NoSuchBucket  \u2192 fix: create the bucket"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("FAILED: 1 failed, 0 warnings, 1 passed"), std::string::npos);

  opts.json = true;
  std::ostringstream json_out;
  EXPECT_EQ(RunDoctorCommand(opts, &http, json_out, err), 1);
  EXPECT_EQ(json_out.str(), std::string(kFailedReport) + "\n");
}

TEST(RunDoctorCommand, HealthyIsZero) {
  OneAnswerHttp http;
  http.Set(200, R"({"stream":"s","checks":[{"id":"stream","name":"stream","status":"warning","evidence":"x","fix":"y"}]})");
  DoctorCommandOptions opts;
  opts.delivery_stream = "s";
  std::ostringstream out, err;
  EXPECT_EQ(RunDoctorCommand(opts, &http, out, err), 0);
  EXPECT_NE(out.str().find("WARN  stream"), std::string::npos);
}

TEST(RunDoctorCommand, UnknownStreamUnreachableAndUsageAreTwo) {
  OneAnswerHttp http;
  DoctorCommandOptions opts;
  std::ostringstream out, err;
  EXPECT_EQ(RunDoctorCommand(opts, &http, out, err), 2);  // no stream
  opts.delivery_stream = "s";
  EXPECT_EQ(RunDoctorCommand(opts, &http, out, err), 2);  // refused
  EXPECT_NE(err.str().find("cannot reach hydrant"), std::string::npos);
  http.Set(404, R"({"__type":"ResourceNotFoundException","message":"Delivery stream s not found."})");
  EXPECT_EQ(RunDoctorCommand(opts, &http, out, err), 2);
  EXPECT_NE(err.str().find("Delivery stream s not found."), std::string::npos);
  http.Set(200, "not json");
  EXPECT_EQ(RunDoctorCommand(opts, &http, out, err), 2);
  EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace hydrant::app
