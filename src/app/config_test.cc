#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace hydrant::app {
namespace {

std::string WriteToml(const std::string& text) {
  std::string path = ::testing::TempDir() + "/hydrant_config_test.toml";
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsAreTheDocumentedOnes) {
  Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:4573");
  EXPECT_EQ(c.host(), "127.0.0.1");
  EXPECT_EQ(c.port(), 4573);
  EXPECT_EQ(c.data_dir, "./hydrant-data");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_EQ(c.account_id, "000000000000");
  EXPECT_EQ(c.retention_seconds, 86400);
  EXPECT_TRUE(Validate(c).ok());
}

TEST(Config, FileOverridesDefaults) {
  Config c;
  auto st = LoadConfigFile(WriteToml("listen = \"[::1]:0\"\ndata_dir = \"/tmp/x\"\n"
                                     "region = \"eu-west-1\"\naccount_id = \"123456789012\"\n"
                                     "retention_seconds = 60\ndisk_quota_mb = 512\n"
                                     "log_level = \"debug\"\nhttp_threads = 4\n"),
                           &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.host(), "::1");
  EXPECT_EQ(c.port(), 0);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.account_id, "123456789012");
  EXPECT_EQ(c.retention_seconds, 60);
  EXPECT_EQ(c.disk_quota_mb, 512u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.http_threads, 4);
  EXPECT_TRUE(Validate(c).ok());
}

TEST(Config, BadFilesNameTheProblem) {
  Config c;
  auto st = LoadConfigFile(WriteToml("listn = \"x\"\n"), &c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("unknown key 'listn'"), std::string::npos);
  st = LoadConfigFile(WriteToml("listen = 5\n"), &c);
  EXPECT_NE(st.message().find("'listen' must be a string"), std::string::npos);
  st = LoadConfigFile(WriteToml("listen = \n"), &c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("line 1"), std::string::npos);
  st = LoadConfigFile("/nonexistent/hydrant.toml", &c);
  EXPECT_FALSE(st.ok());
}

TEST(Config, ValidateRejectsBadValues) {
  Config c;
  c.listen = "nope";
  EXPECT_FALSE(Validate(c).ok());
  c = Config();
  c.listen = "127.0.0.1:70000";
  EXPECT_FALSE(Validate(c).ok());
  c = Config();
  c.account_id = "12345";
  EXPECT_NE(Validate(c).message().find("account_id"), std::string::npos);
  c = Config();
  c.region = "US East";
  EXPECT_FALSE(Validate(c).ok());
  c = Config();
  c.log_level = "loud";
  EXPECT_FALSE(Validate(c).ok());
  c = Config();
  c.metrics_period_seconds = 0;
  EXPECT_NE(Validate(c).message().find("metrics_period_seconds"), std::string::npos);
  c = Config();
  c.metrics_period_seconds = 60;
  c.metrics_retention_seconds = 30;  // shorter than one period
  EXPECT_NE(Validate(c).message().find("metrics_retention_seconds"), std::string::npos);
}

TEST(Config, MetricsSeriesKeys) {
  Config c;
  EXPECT_EQ(c.metrics_period_seconds, 10);
  EXPECT_EQ(c.metrics_retention_seconds, 3600);
  auto st = LoadConfigFile(
      WriteToml("metrics_period_seconds = 1\nmetrics_retention_seconds = 120\n"), &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.metrics_period_seconds, 1);
  EXPECT_EQ(c.metrics_retention_seconds, 120);
  EXPECT_TRUE(Validate(c).ok());
  st = LoadConfigFile(WriteToml("metrics_period_seconds = \"10s\"\n"), &c);
  EXPECT_NE(st.message().find("'metrics_period_seconds' must be an integer"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::app

namespace hydrant::app {
namespace {

TEST(Config, LambdaFunctions) {
  Config c;
  auto st = LoadConfigFile(WriteToml(R"(
[lambda]
endpoint = "http://127.0.0.1:3002"

[[lambda.functions]]
name = "transform"
runtime = "python3"
handler = "handlers/transform.py"
timeout_seconds = 30
environment = { MODE = "upper" }

[[lambda.functions]]
name = "remote"
runtime = "http"
endpoint = "http://127.0.0.1:9000"
)"),
                           &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.lambda_endpoint, "http://127.0.0.1:3002");
  ASSERT_EQ(c.functions.size(), 2u);
  EXPECT_EQ(c.functions[0].name, "transform");
  EXPECT_EQ(c.functions[0].runtime, "python3");
  EXPECT_EQ(c.functions[0].handler, "handlers/transform.py");
  EXPECT_EQ(c.functions[0].timeout_seconds, 30);
  EXPECT_EQ(c.functions[0].environment.at("MODE"), "upper");
  EXPECT_EQ(c.functions[1].endpoint, "http://127.0.0.1:9000");
}

TEST(Config, LambdaFunctionErrorsNameTheEntry) {
  Config c;
  auto st = LoadConfigFile(WriteToml("[[lambda.functions]]\nname = \"f\"\nruntime = \"ruby\"\n"), &c);
  EXPECT_NE(st.message().find("lambda.functions[0].runtime"), std::string::npos) << st.message();
  Config c2;
  st = LoadConfigFile(WriteToml("[[lambda.functions]]\nname = \"f\"\nruntime = \"python3\"\n"), &c2);
  EXPECT_NE(st.message().find("handler"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace hydrant::app
