#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "app/config_keys.h"
#include "testing/temp_dir.h"

namespace hydrant::app {
namespace {

// One file per test process (ctest -j runs the tests of this binary side by
// side), in a folder removed when the process exits.
std::string WriteToml(const std::string& text) {
  static const ::hydrant::testing::TempDir dir;
  return dir.Write("config.toml", text);
}

TEST(Config, DefaultsAreTheDocumentedOnes) {
  Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:4573");
  EXPECT_EQ(c.host(), "127.0.0.1");
  EXPECT_EQ(c.port(), 4573);
  EXPECT_EQ(c.data_dir, "./hydrant-data");
  EXPECT_EQ(c.account.region, "us-east-1");
  EXPECT_EQ(c.account.account_id, "000000000000");
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
  EXPECT_EQ(c.account.region, "eu-west-1");
  EXPECT_EQ(c.account.account_id, "123456789012");
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
  c.account.account_id = "12345";
  EXPECT_NE(Validate(c).message().find("account_id"), std::string::npos);
  c = Config();
  c.account.region = "US East";
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

TEST(Config, S3RemotesDefaultAndPerBucket) {
  Config c;
  auto st = LoadConfigFile(WriteToml(R"(
[s3]
endpoint = "http://127.0.0.1:9000"
region = "eu-west-1"
access_key_id = "AK"
secret_access_key = "SK"

[[s3.buckets]]
name = "on-moto"
endpoint = "https://moto.example:4566"
addressing = "virtual"
tls_verify = false
ca_file = "/etc/ca.pem"
assume_role = true
sts_endpoint = "https://sts.example"
part_size_mb = 16

[[s3.buckets]]
name = "with-profile"
access_key_id = ""
secret_access_key = ""
profile = "prod"

[[s3.buckets]]
name = "local"
embedded = true
)"),
                           &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(c.s3_default_remote);
  EXPECT_EQ(c.s3_default.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c.s3_default.region, "eu-west-1");
  EXPECT_EQ(c.s3_default.access_key_id, "AK");
  EXPECT_FALSE(c.s3_default.assume_role);
  ASSERT_EQ(c.s3_buckets.size(), 3u);
  const auto& m = c.s3_buckets[0];
  EXPECT_EQ(m.name, "on-moto");
  EXPECT_FALSE(m.embedded);
  EXPECT_EQ(m.remote.endpoint, "https://moto.example:4566");
  EXPECT_EQ(m.remote.region, "eu-west-1");  // inherited from [s3]
  EXPECT_EQ(m.remote.access_key_id, "AK");
  EXPECT_EQ(m.remote.addressing, remote::RemoteS3Options::Addressing::kVirtual);
  EXPECT_FALSE(m.remote.tls_verify);
  EXPECT_EQ(m.remote.ca_file, "/etc/ca.pem");
  EXPECT_TRUE(m.remote.assume_role);
  EXPECT_EQ(m.remote.sts_endpoint, "https://sts.example");
  EXPECT_EQ(m.remote.part_size, 16u << 20);
  EXPECT_EQ(c.s3_buckets[1].remote.profile, "prod");
  EXPECT_EQ(c.s3_buckets[1].remote.access_key_id, "");
  EXPECT_TRUE(c.s3_buckets[2].embedded);
}

TEST(Config, S3WithOnlyBucketsHasNoDefaultRemote) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(WriteToml("[[s3.buckets]]\nname = \"b\"\nendpoint = \"http://h:1\"\n"), &c).ok());
  EXPECT_FALSE(c.s3_default_remote);
  ASSERT_EQ(c.s3_buckets.size(), 1u);
  EXPECT_EQ(c.s3_buckets[0].remote.addressing, remote::RemoteS3Options::Addressing::kAuto);
  EXPECT_TRUE(c.s3_buckets[0].remote.tls_verify);
}

TEST(Config, S3BadEntriesNameTheProblem) {
  struct Case {
    const char* toml;
    const char* message;
  } cases[] = {
      {"[s3]\nendpont = \"x\"\n", "s3: unknown key 'endpont'"},
      {"[s3]\naddressing = \"dns\"\n", "s3.addressing must be \"path\" or \"virtual\""},
      {"[s3]\ntls_verify = \"no\"\n", "s3.tls_verify must be true or false"},
      {"[s3]\naccess_key_id = \"a\"\n", "access_key_id and secret_access_key go together"},
      {"[s3]\nendpoint = \"127.0.0.1:9000\"\n", "must start with http:// or https://"},
      {"[s3]\npart_size_mb = 4\n", "part_size_mb must be an integer from 5 to 5120"},
      {"[[s3.buckets]]\nendpoint = \"http://h\"\n", "s3.buckets[0].name (the bucket) is required"},
      {"[[s3.buckets]]\nname = \"b\"\n[[s3.buckets]]\nname = \"b\"\n", "listed twice"},
      {"[[s3.buckets]]\nname = \"b\"\nbogus = 1\n", "s3.buckets[0]: unknown key 'bogus'"},
      {"[s3]\nbuckets = 3\n", "s3.buckets must be an array of tables"},
  };
  for (const auto& k : cases) {
    Config c;
    auto st = LoadConfigFile(WriteToml(k.toml), &c);
    EXPECT_FALSE(st.ok()) << k.toml;
    EXPECT_NE(st.message().find(k.message), std::string::npos) << st.message();
  }
}

TEST(Config, KinesisSourcesLoadAndTheLookupPrefersTheStreamEntry) {
  Config c;
  c.account.region = "us-east-1";
  c.account.account_id = "000000000000";
  const std::string toml = R"(
[[kinesis.sources]]
stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
endpoint = "http://127.0.0.1:4567"
access_key_id = "AKIDORDERS"
secret_access_key = "orders-secret"
session_token = "orders-token"

[[kinesis.sources]]
region = "eu-west-1"
profile = "prod"
tls_verify = false
ca_file = "/etc/ca.pem"
request_timeout_seconds = 5

[[kinesis.sources]]
region = "us-east-1"
endpoint = "http://127.0.0.1:4568/"

[[kinesis.sources]]
stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/mirrored"
endpoint = "http://127.0.0.1:4569"
)";
  auto st = LoadConfigFile(WriteToml(toml), &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(c.kinesis_sources.size(), 4u);
  const auto& orders = c.kinesis_sources[0];
  EXPECT_EQ(orders.endpoint, "http://127.0.0.1:4567");
  EXPECT_EQ(orders.access_key_id, "AKIDORDERS");
  EXPECT_EQ(orders.secret_access_key, "orders-secret");
  EXPECT_EQ(orders.session_token, "orders-token");
  EXPECT_TRUE(orders.tls_verify);
  const auto& eu = c.kinesis_sources[1];
  EXPECT_EQ(eu.region, "eu-west-1");
  EXPECT_EQ(eu.endpoint, "");  // AWS
  EXPECT_EQ(eu.profile, "prod");
  EXPECT_FALSE(eu.tls_verify);
  EXPECT_EQ(eu.ca_file, "/etc/ca.pem");
  EXPECT_EQ(eu.request_timeout, std::chrono::seconds(5));

  // The entry naming the stream wins over its region's entry.
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"), &orders);
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:eu-west-1:123456789012:stream/other"), &eu);
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:eu-west-1:999999999999:stream/x"), &eu);
  // hydrant's own region and account: its own streams, unless an entry names one.
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:us-east-1:000000000000:stream/local"), nullptr);
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:us-east-1:000000000000:stream/mirrored"),
            &c.kinesis_sources[3]);
  // The region entry of hydrant's own region covers the other accounts' streams.
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:us-east-1:123456789012:stream/x"),
            &c.kinesis_sources[2]);
  // Not configured, and not a stream ARN.
  EXPECT_EQ(FindKinesisSource(c, "arn:aws:kinesis:ap-south-1:123456789012:stream/x"), nullptr);
  EXPECT_EQ(FindKinesisSource(c, "orders"), nullptr);
  EXPECT_EQ(sources::KinesisEndpointFor(c.kinesis_sources[2], "us-east-1"),
            "http://127.0.0.1:4568");
}

TEST(Config, KinesisBadEntriesNameTheProblem) {
  struct Case {
    const char* toml;
    const char* message;
  } cases[] = {
      {"[kinesis]\nstreams = 1\n", "kinesis: unknown key 'streams'"},
      {"[kinesis]\nsources = 1\n", "kinesis.sources must be an array of tables"},
      {"[[kinesis.sources]]\nendpoint = \"http://h:1\"\n",
       "kinesis.sources[0]: give stream_arn (one stream) or region (every stream of a region)"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\nstream_arn = "
       "\"arn:aws:kinesis:eu-west-1:123456789012:stream/s\"\n",
       "exactly one"},
      {"[[kinesis.sources]]\nstream_arn = \"arn:aws:kinesis:eu-west-1:1234:stream/s\"\n",
       "kinesis.sources[0].stream_arn: 'arn:aws:kinesis:eu-west-1:1234:stream/s' is not a Kinesis "
       "stream ARN"},
      {"[[kinesis.sources]]\nstream_arn = \"arn:aws:kinesis:eu-west-1:123456789012:orders\"\n",
       "the resource is not 'stream/NAME'"},
      {"[[kinesis.sources]]\nregion = \"EU West\"\n",
       "kinesis.sources[0].region must look like us-east-1"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\nendpoint = \"127.0.0.1:4567\"\n",
       "kinesis.sources[0].endpoint must be http(s)://host[:port]"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\naccess_key_id = \"AKID\"\n",
       "access_key_id and secret_access_key go together"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\nprofile = \"p\"\naccess_key_id = \"A\"\n"
       "secret_access_key = \"s\"\n",
       "either static keys or a profile, not both"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\ntls_verify = \"no\"\n",
       "kinesis.sources[0].tls_verify must be true or false"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\nrequest_timeout_seconds = 0\n",
       "request_timeout_seconds must be an integer from 1 to 600"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\nstream = \"x\"\n",
       "kinesis.sources[0]: unknown key 'stream'"},
      {"[[kinesis.sources]]\nregion = \"eu-west-1\"\n[[kinesis.sources]]\nregion = \"eu-west-1\"\n",
       "kinesis.sources[1]: region eu-west-1 is listed twice (also kinesis.sources[0])"},
      {"[[kinesis.sources]]\nstream_arn = \"arn:aws:kinesis:eu-west-1:123456789012:stream/s\"\n"
       "[[kinesis.sources]]\nregion = \"eu-west-1\"\n"
       "[[kinesis.sources]]\nstream_arn = \"arn:aws:kinesis:eu-west-1:123456789012:stream/s\"\n",
       "kinesis.sources[2]: stream arn:aws:kinesis:eu-west-1:123456789012:stream/s is listed twice "
       "(also kinesis.sources[0])"},
  };
  for (const auto& k : cases) {
    Config c;
    auto st = LoadConfigFile(WriteToml(k.toml), &c);
    EXPECT_FALSE(st.ok()) << k.toml;
    EXPECT_NE(st.message().find(k.message), std::string::npos) << st.message();
  }
  // Secrets stay out of the messages.
  Config c;
  auto st = LoadConfigFile(WriteToml("[[kinesis.sources]]\nregion = \"eu-west-1\"\n"
                                     "secret_access_key = \"very-secret-value\"\n"
                                     "session_token = \"very-secret-token\"\n"),
                           &c);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("very-secret"), std::string::npos) << st.message();
}

// The key table is the documentation: README.md shows exactly its rows, and the
// --help text names every key.
TEST(ConfigKeys, ReadmeShowsTheKeyTable) {
  std::ifstream f(std::string(HYDRANT_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(f.good());
  std::stringstream readme;
  readme << f.rdbuf();
  EXPECT_NE(readme.str().find(ConfigKeysMarkdown()), std::string::npos)
      << "README.md's options table should read:\n" << ConfigKeysMarkdown();
  const std::string help = ConfigKeysHelp();
  for (const ConfigKey& k : ConfigKeys()) {
    EXPECT_NE(help.find(std::string(k.toml)), std::string::npos) << k.toml;
    EXPECT_EQ(FindConfigKey(k.toml), &k);
  }
  EXPECT_EQ(FindConfigKey("listn"), nullptr);
}

TEST(ConfigKeys, TomlKeysGoThroughTheirSetters) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(WriteToml("disk_quota_mb = 7\nhttp_threads = 3\nregion = \"eu-west-1\"\n"), &c).ok());
  EXPECT_EQ(c.disk_quota_mb, 7u);
  EXPECT_EQ(c.http_threads, 3);
  EXPECT_EQ(c.account.region, "eu-west-1");
  auto st = LoadConfigFile(WriteToml("disk_quota_mb = -1\n"), &c);
  EXPECT_NE(st.message().find("between 0 and 2^40"), std::string::npos) << st.message();
  st = LoadConfigFile(WriteToml("http_threads = 0\n"), &c);
  EXPECT_NE(st.message().find("http_threads must be between 1 and 64"), std::string::npos);
  st = LoadConfigFile(WriteToml("lambda = 1\n"), &c);
  EXPECT_NE(st.message().find("'lambda' must be a table"), std::string::npos);
}

TEST(Config, TlsTableAndFlagsKeys) {
  Config c;
  auto st = LoadConfigFile(WriteToml("allow_anonymous = true\n[tls]\ncert = \"/etc/h/cert.pem\"\n"
                                     "key = \"/etc/h/key.pem\"\nlisten_plain = \"127.0.0.1:4574\"\n"),
                           &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.tls_cert, "/etc/h/cert.pem");
  EXPECT_EQ(c.tls_key, "/etc/h/key.pem");
  EXPECT_EQ(c.listen_plain, "127.0.0.1:4574");
  EXPECT_TRUE(c.allow_anonymous);
  EXPECT_TRUE(Validate(c).ok());
  EXPECT_EQ(HostOf(c.listen_plain), "127.0.0.1");
  EXPECT_EQ(PortOf(c.listen_plain), 4574);

  struct Case {
    const char* toml;
    const char* message;
  } cases[] = {
      {"[tls]\ncrt = \"x\"\n", "tls: unknown key 'crt'"},
      {"[tls]\ncert = 1\n", "'tls.cert' must be a string"},
      {"tls = 1\n", "'tls' must be a table"},
      {"allow_anonymous = \"yes\"\n", "'allow_anonymous' must be true or false"},
  };
  for (const auto& k : cases) {
    Config d;
    st = LoadConfigFile(WriteToml(k.toml), &d);
    EXPECT_NE(st.message().find(k.message), std::string::npos) << k.toml << ": " << st.message();
  }
  Config half;
  half.tls_cert = "cert.pem";
  EXPECT_NE(Validate(half).message().find("go together"), std::string::npos);
  Config bad_plain;
  bad_plain.listen_plain = "127.0.0.1";
  EXPECT_NE(Validate(bad_plain).message().find("tls.listen_plain must be HOST:PORT"),
            std::string::npos);
}

TEST(Config, LoopbackAddresses) {
  for (const char* h : {"127.0.0.1", "127.10.20.30", "::1", "localhost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "example.com",
                        "localhost.example.com", "::ffff:10.0.0.1", ""}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

// Open mode beyond loopback needs allow_anonymous; sigv4 mode anywhere is fine.
TEST(Config, DeliveryRolesAreEnforcedInSigv4ModeOrWhenAsked) {
  Config c;
  EXPECT_FALSE(c.EnforceRoles());
  ASSERT_TRUE(LoadConfigFile(WriteToml("[auth]\nenforce_roles = true\n"), &c).ok());
  EXPECT_TRUE(c.auth_enforce_roles);
  EXPECT_TRUE(c.EnforceRoles());
  Config s;
  s.auth_mode = "sigv4";
  EXPECT_TRUE(s.EnforceRoles());
  Config bad;
  auto st = LoadConfigFile(WriteToml("[auth]\nenforce_roles = \"yes\"\n"), &bad);
  EXPECT_NE(st.message().find("auth.enforce_roles must be true or false"), std::string::npos)
      << st.message();
}

TEST(Config, OpenModeOnlyOnLoopbackUnlessAllowed) {
  Config c;  // the defaults: open mode on 127.0.0.1
  EXPECT_TRUE(CheckExposure(c).ok());
  c.listen = "[::1]:4573";
  EXPECT_TRUE(CheckExposure(c).ok());
  c.listen = "0.0.0.0:4573";
  auto st = CheckExposure(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("0.0.0.0:4573 is not a loopback address"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("--allow-anonymous"), std::string::npos);
  c.allow_anonymous = true;
  EXPECT_TRUE(CheckExposure(c).ok());
  c.allow_anonymous = false;
  c.auth_mode = "sigv4";
  EXPECT_TRUE(CheckExposure(c).ok());
  // The plain listener counts too.
  Config p;
  p.listen_plain = "192.168.1.5:4574";
  st = CheckExposure(p);
  EXPECT_NE(st.message().find("192.168.1.5:4574 is not a loopback"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::app
