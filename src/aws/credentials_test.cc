#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <optional>
#include <string>

#include "testing/temp_dir.h"

namespace hydrant::aws {
namespace {

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  void Set(const char* name, std::optional<std::string> value) {
    if (!saved_.count(name)) {
      const char* old = getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (auto& [k, v] : saved_) {
      if (v) {
        setenv(k.c_str(), v->c_str(), 1);
      } else {
        unsetenv(k.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A clean slate: no keys in the environment, HOME pointing at an empty dir.
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
          "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"}) {
      env_.Set(v, std::nullopt);
    }
    env_.Set("HOME", dir_.path());
  }

  ::hydrant::testing::TempDir dir_;
  ScopedEnv env_;
};

TEST_F(CredentialsTest, StaticProvider) {
  StaticCredentialsProvider p({"AK", "SK", "TOK"});
  auto r = p.GetCredentials();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "AK");
  EXPECT_EQ(r->secret_access_key, "SK");
  EXPECT_EQ(r->session_token, "TOK");
  EXPECT_EQ(StaticCredentialsProvider({}).GetCredentials().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(StaticCredentialsProvider({"AK", "", ""}).GetCredentials().status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CredentialsTest, EnvironmentProvider) {
  EnvironmentCredentialsProvider p;
  EXPECT_EQ(p.GetCredentials().status().code(), StatusCode::kNotFound);
  env_.Set("AWS_ACCESS_KEY_ID", "envkey");
  EXPECT_EQ(p.GetCredentials().status().code(), StatusCode::kInvalidArgument);
  env_.Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  auto r = p.GetCredentials();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "envkey");
  EXPECT_EQ(r->secret_access_key, "envsecret");
  EXPECT_EQ(r->session_token, "");
  env_.Set("AWS_SESSION_TOKEN", "envtoken");
  EXPECT_EQ(p.GetCredentials()->session_token, "envtoken");
}

TEST_F(CredentialsTest, ParseProfileText) {
  const std::string ini =
      "# comment\n"
      "[default]\n"
      "aws_access_key_id = AKDEFAULT\n"
      "aws_secret_access_key=SKDEFAULT ; trailing comment\n"
      "\n"
      "[prod]\r\n"
      "  aws_access_key_id   =   AKPROD  \r\n"
      "aws_secret_access_key = SK/with+chars=\r\n"
      "aws_session_token = TOKPROD\r\n"
      "region = eu-west-1\r\n"
      "[profile   cfg]\n"
      "aws_access_key_id = AKCFG\n"
      "aws_secret_access_key = SKCFG\n"
      "[nokey]\n"
      "region = us-east-1\n"
      "[halfkey]\n"
      "aws_access_key_id = AKHALF\n";
  auto d = ParseProfileCredentials(ini, "default");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->access_key_id, "AKDEFAULT");
  EXPECT_EQ(d->secret_access_key, "SKDEFAULT");
  auto prod = ParseProfileCredentials(ini, "prod");
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->access_key_id, "AKPROD");
  EXPECT_EQ(prod->secret_access_key, "SK/with+chars=");
  EXPECT_EQ(prod->session_token, "TOKPROD");
  auto cfg = ParseProfileCredentials(ini, "profile cfg");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->access_key_id, "AKCFG");
  EXPECT_EQ(ParseProfileCredentials(ini, "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseProfileCredentials(ini, "nokey").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseProfileCredentials(ini, "halfkey").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CredentialsTest, SharedCredentialsFileInHomeAndProfileFromEnv) {
  dir_.Write(".aws/credentials",
             "[default]\naws_access_key_id=AKD\naws_secret_access_key=SKD\n"
             "[other]\naws_access_key_id=AKO\naws_secret_access_key=SKO\n");
  ProfileFileCredentialsProvider p(ProfileFileCredentialsProvider::Kind::kCredentials);
  auto r = p.GetCredentials();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->access_key_id, "AKD");
  env_.Set("AWS_PROFILE", "other");
  EXPECT_EQ(p.GetCredentials()->access_key_id, "AKO");
  env_.Set("AWS_PROFILE", "absent");
  auto missing = p.GetCredentials();
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("absent"), std::string::npos);
  // An explicit profile beats AWS_PROFILE.
  ProfileFileCredentialsProvider explicit_p(ProfileFileCredentialsProvider::Kind::kCredentials, "",
                                            "default");
  EXPECT_EQ(explicit_p.GetCredentials()->access_key_id, "AKD");
}

TEST_F(CredentialsTest, SharedCredentialsFileFromEnvAndReloadOnChange) {
  std::string path =
      dir_.Write("elsewhere/creds", "[default]\naws_access_key_id=A1\naws_secret_access_key=S1\n");
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", path);
  ProfileFileCredentialsProvider p(ProfileFileCredentialsProvider::Kind::kCredentials);
  EXPECT_EQ(p.GetCredentials()->access_key_id, "A1");
  // Rotated keys (different size, so the change is seen even within one mtime tick).
  dir_.Write("elsewhere/creds", "[default]\naws_access_key_id=A22\naws_secret_access_key=S22\n");
  EXPECT_EQ(p.GetCredentials()->access_key_id, "A22");
  // No file: NotFound, so a chain moves on.
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", dir_.Sub("nope"));
  EXPECT_EQ(p.GetCredentials().status().code(), StatusCode::kNotFound);
}

TEST_F(CredentialsTest, ConfigFileUsesProfilePrefix) {
  dir_.Write(".aws/config",
             "[default]\naws_access_key_id=AKCD\naws_secret_access_key=SKCD\n"
             "[profile dev]\naws_access_key_id=AKDEV\naws_secret_access_key=SKDEV\n"
             "[dev]\naws_access_key_id=WRONG\naws_secret_access_key=WRONG\n");
  ProfileFileCredentialsProvider def(ProfileFileCredentialsProvider::Kind::kConfig);
  EXPECT_EQ(def.GetCredentials()->access_key_id, "AKCD");
  ProfileFileCredentialsProvider dev(ProfileFileCredentialsProvider::Kind::kConfig, "", "dev");
  EXPECT_EQ(dev.GetCredentials()->access_key_id, "AKDEV");
}

TEST_F(CredentialsTest, DefaultChainOrder) {
  auto chain = MakeDefaultCredentialsChain();
  // Nothing anywhere: NotFound naming every source tried.
  auto none = chain->GetCredentials();
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("environment"), std::string::npos);
  EXPECT_NE(none.status().message().find(".aws/credentials"), std::string::npos);

  dir_.Write(".aws/config", "[default]\naws_access_key_id=FROMCONFIG\naws_secret_access_key=S\n");
  EXPECT_EQ(chain->GetCredentials()->access_key_id, "FROMCONFIG");
  dir_.Write(".aws/credentials",
             "[default]\naws_access_key_id=FROMFILE\naws_secret_access_key=S\n");
  EXPECT_EQ(chain->GetCredentials()->access_key_id, "FROMFILE");
  env_.Set("AWS_ACCESS_KEY_ID", "FROMENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "S");
  EXPECT_EQ(chain->GetCredentials()->access_key_id, "FROMENV");

  // A half-set environment stops the chain with an error instead of using the file.
  env_.Set("AWS_SECRET_ACCESS_KEY", std::nullopt);
  auto broken = chain->GetCredentials();
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);

  // A named profile skips the environment.
  dir_.Write(".aws/credentials",
             "[default]\naws_access_key_id=FROMFILE\naws_secret_access_key=S\n"
             "[named]\naws_access_key_id=NAMED\naws_secret_access_key=S\n");
  auto named = MakeDefaultCredentialsChain("named");
  EXPECT_EQ(named->GetCredentials()->access_key_id, "NAMED");
}

TEST_F(CredentialsTest, UnreadableFileIsAnErrorNotAFallThrough) {
  // A directory where the file should be: it exists but cannot be read (works as root too).
  std::system(("mkdir -p '" + dir_.Sub(".aws/credentials") + "'").c_str());
  dir_.Write(".aws/config", "[default]\naws_access_key_id=A\naws_secret_access_key=S\n");
  auto r = MakeDefaultCredentialsChain()->GetCredentials();
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(".aws/credentials"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::aws
