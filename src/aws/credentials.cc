#include "aws/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "common/file_util.h"

namespace hydrant::aws {
namespace {

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string_view Trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string HomeDir() { return GetEnv("HOME"); }

}  // namespace

Result<Credentials> StaticCredentialsProvider::GetCredentials() {
  if (creds_.access_key_id.empty() && creds_.secret_access_key.empty()) {
    return Status::NotFound("no static credentials configured");
  }
  if (creds_.empty()) {
    return Status::InvalidArgument("static credentials need both an access key id and a secret");
  }
  return creds_;
}

Result<Credentials> EnvironmentCredentialsProvider::GetCredentials() {
  Credentials c;
  c.access_key_id = GetEnv("AWS_ACCESS_KEY_ID");
  c.secret_access_key = GetEnv("AWS_SECRET_ACCESS_KEY");
  c.session_token = GetEnv("AWS_SESSION_TOKEN");
  if (c.session_token.empty()) c.session_token = GetEnv("AWS_SECURITY_TOKEN");  // boto2 name
  if (c.access_key_id.empty() && c.secret_access_key.empty()) {
    return Status::NotFound("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  if (c.access_key_id.empty()) {
    return Status::InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  if (c.secret_access_key.empty()) {
    return Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  return c;
}

Result<Credentials> ParseProfileCredentials(std::string_view text, std::string_view section) {
  bool in_section = false, found_section = false;
  Credentials c;
  bool have_key = false, have_secret = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = Trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos) continue;
      std::string_view name = Trim(line.substr(1, close - 1));
      // Collapse "profile   x" spacing the CLI tolerates.
      std::string normalized;
      if (name.starts_with("profile") && name.size() > 7 && (name[7] == ' ' || name[7] == '\t')) {
        normalized = "profile " + std::string(Trim(name.substr(7)));
      } else {
        normalized = std::string(name);
      }
      in_section = normalized == section;
      found_section |= in_section;
      continue;
    }
    if (!in_section) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    // An inline comment needs whitespace before '#' or ';' (as the CLI's parser).
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
        value = Trim(value.substr(0, i));
        break;
      }
    }
    if (key == "aws_access_key_id") {
      c.access_key_id = std::string(value);
      have_key = true;
    } else if (key == "aws_secret_access_key") {
      c.secret_access_key = std::string(value);
      have_secret = true;
    } else if (key == "aws_session_token" ||
               (key == "aws_security_token" && c.session_token.empty())) {
      c.session_token = std::string(value);
    }
  }
  if (!found_section) return Status::NotFound("no [" + std::string(section) + "] section");
  if (!have_key || c.access_key_id.empty()) {
    if (have_secret) {
      return Status::InvalidArgument("[" + std::string(section) +
                                     "] has aws_secret_access_key but no aws_access_key_id");
    }
    return Status::NotFound("[" + std::string(section) + "] has no aws_access_key_id");
  }
  if (!have_secret || c.secret_access_key.empty()) {
    return Status::InvalidArgument("[" + std::string(section) +
                                   "] has aws_access_key_id but no aws_secret_access_key");
  }
  return c;
}

ProfileFileCredentialsProvider::ProfileFileCredentialsProvider(Kind kind, std::string path,
                                                               std::string profile)
    : kind_(kind), path_(std::move(path)), profile_(std::move(profile)) {}

std::string ProfileFileCredentialsProvider::ResolvePath() const {
  if (!path_.empty()) return path_;
  std::string env =
      GetEnv(kind_ == Kind::kCredentials ? "AWS_SHARED_CREDENTIALS_FILE" : "AWS_CONFIG_FILE");
  if (!env.empty()) {
    if (env.starts_with("~/")) return HomeDir() + env.substr(1);
    return env;
  }
  std::string home = HomeDir();
  if (home.empty()) return "";
  return home + (kind_ == Kind::kCredentials ? "/.aws/credentials" : "/.aws/config");
}

std::string ProfileFileCredentialsProvider::ResolveProfile() const {
  if (!profile_.empty()) return profile_;
  std::string env = GetEnv("AWS_PROFILE");
  if (env.empty()) env = GetEnv("AWS_DEFAULT_PROFILE");
  return env.empty() ? "default" : env;
}

std::string ProfileFileCredentialsProvider::Name() const {
  return std::string(kind_ == Kind::kCredentials ? "shared-credentials-file("
                                                 : "shared-config-file(") +
         ResolvePath() + ", profile " + ResolveProfile() + ")";
}

Result<Credentials> ProfileFileCredentialsProvider::GetCredentials() {
  const std::string path = ResolvePath();
  const std::string profile = ResolveProfile();
  if (path.empty()) return Status::NotFound("no HOME, so no shared credentials file");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(path + " does not exist");
    return Status::FromErrno("stat " + path, errno);
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (path != cached_path_ || mtime_ns != cached_mtime_ns_ || st.st_size != cached_size_) {
      auto read = fs::ReadFile(path);
      if (!read.ok()) return read.status();
      cached_path_ = path;
      cached_mtime_ns_ = mtime_ns;
      cached_size_ = st.st_size;
      cached_text_ = std::move(read.value());
    }
    text = cached_text_;
  }
  // The credentials file names sections by profile; the config file prefixes
  // "profile " except for the default profile.
  std::string section = profile;
  if (kind_ == Kind::kConfig && profile != "default") section = "profile " + profile;
  auto r = ParseProfileCredentials(text, section);
  if (!r.ok()) {
    return Status(r.status().code(), path + ": " + r.status().message());
  }
  return r;
}

Result<Credentials> ChainCredentialsProvider::GetCredentials() {
  std::string tried;
  for (auto& p : providers_) {
    auto r = p->GetCredentials();
    if (r.ok()) return r;
    if (r.status().code() != StatusCode::kNotFound) {
      return Status(r.status().code(), p->Name() + ": " + r.status().message());
    }
    if (!tried.empty()) tried += "; ";
    tried += p->Name() + ": " + r.status().message();
  }
  return Status::NotFound("no AWS credentials found (" + tried + ")");
}

std::string ChainCredentialsProvider::Name() const {
  std::string n = "chain(";
  for (size_t i = 0; i < providers_.size(); ++i) {
    if (i > 0) n += ", ";
    n += providers_[i]->Name();
  }
  return n + ")";
}

std::unique_ptr<CredentialsProvider> MakeDefaultCredentialsChain(const std::string& profile) {
  std::vector<std::unique_ptr<CredentialsProvider>> v;
  // An explicitly named profile wins over the environment's keys (botocore does the same
  // when a profile is given to the session).
  if (profile.empty()) v.push_back(std::make_unique<EnvironmentCredentialsProvider>());
  v.push_back(std::make_unique<ProfileFileCredentialsProvider>(
      ProfileFileCredentialsProvider::Kind::kCredentials, "", profile));
  v.push_back(std::make_unique<ProfileFileCredentialsProvider>(
      ProfileFileCredentialsProvider::Kind::kConfig, "", profile));
  return std::make_unique<ChainCredentialsProvider>(std::move(v));
}

}  // namespace hydrant::aws
