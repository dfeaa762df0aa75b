#include "iam/identity_store.h"

#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <mutex>

#include "common/file_util.h"
#include "common/strings.h"
#include "iam/assume_role.h"

namespace hydrant::iam {

namespace json = boost::json;

namespace {

constexpr int kFormat = 1;
constexpr unsigned kFileMode = 0600;
constexpr unsigned kDirMode = 0700;
constexpr int kMinSessionSeconds = 900;
constexpr int kMaxSessionTokenSeconds = 129600;
constexpr int kRootSessionSeconds = 3600;
constexpr int kRoleChainingSeconds = 3600;
constexpr std::string_view kConfigPolicyName = "config";
// The folders of the entity files, by kind.
constexpr std::string_view kUsersDir = "users";
constexpr std::string_view kRolesDir = "roles";
constexpr std::string_view kPoliciesDir = "policies";
constexpr std::string_view kSessionsDir = "sessions";

Status Error(StatusCode code, std::string_view iam_code, std::string message) {
  return Status(code, std::move(message)).WithErrorCode(iam_code);
}
Status NoSuchEntity(std::string m) {
  return Error(StatusCode::kNotFound, kNoSuchEntity, std::move(m));
}
Status AlreadyExists(std::string m) {
  return Error(StatusCode::kAlreadyExists, kEntityAlreadyExists, std::move(m));
}
Status LimitExceeded(std::string m) {
  return Error(StatusCode::kResourceExhausted, kLimitExceeded, std::move(m));
}
Status Quota(std::string_view name, int limit) {
  return LimitExceeded("Cannot exceed quota for " + std::string(name) + ": " +
                       std::to_string(limit) + ".");
}
Status DeleteConflict(std::string m) {
  return Error(StatusCode::kInvalidArgument, kDeleteConflict, std::move(m));
}
Status InvalidInput(std::string m) {
  return Error(StatusCode::kInvalidArgument, kInvalidInput, std::move(m));
}
Status ValidationError(std::string m) {
  return Error(StatusCode::kInvalidArgument, "ValidationError", std::move(m));
}

// Random characters of AWS's ids (upper-case base32 alphabet).
std::string RandomChars(size_t n, std::string_view alphabet) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    // OpenSSL's generator does not fail once seeded; if it ever does, refuse to
    // hand out guessable credentials.
    std::abort();
  }
  std::string out;
  out.reserve(n);
  // alphabet sizes 32 and 64 divide 256: no modulo bias.
  for (unsigned char b : bytes) out += alphabet[b % alphabet.size()];
  return out;
}
constexpr std::string_view kIdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSecretChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string NewId(std::string_view prefix) {
  return std::string(prefix) + RandomChars(17, kIdChars);
}
std::string NewKeyId(std::string_view prefix) {
  return std::string(prefix) + RandomChars(16, kIdChars);
}

// The last segment of an ARN's resource ("user/path/name" → "name").
std::string_view ArnLeaf(std::string_view arn) {
  size_t slash = arn.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : arn.substr(slash + 1);
}

json::array TagsToJson(const std::vector<Tag>& tags) {
  json::array a;
  for (const auto& t : tags) a.push_back(json::array{json::string(t.key), json::string(t.value)});
  return a;
}

// Reading: a file we wrote; a missing or mistyped field is corruption.
struct Reader {
  const json::object& o;
  bool ok = true;
  std::string Str(std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v || !v->is_string()) {
      ok = false;
      return {};
    }
    return std::string(v->get_string());
  }
  int64_t Int(std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v || !v->is_int64()) {
      ok = false;
      return 0;
    }
    return v->get_int64();
  }
  bool Bool(std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_bool() && v->get_bool();
  }
  std::vector<Tag> Tags() {
    std::vector<Tag> tags;
    if (auto* v = o.if_contains("tags"); v && v->is_array()) {
      for (const auto& t : v->get_array()) {
        if (!t.is_array() || t.get_array().size() != 2 || !t.get_array()[0].is_string() ||
            !t.get_array()[1].is_string()) {
          ok = false;
          continue;
        }
        tags.push_back({std::string(t.get_array()[0].get_string()),
                        std::string(t.get_array()[1].get_string())});
      }
    }
    return tags;
  }
};

}  // namespace

size_t PolicySize(std::string_view doc) {
  return static_cast<size_t>(
      std::count_if(doc.begin(), doc.end(), [](unsigned char c) { return !std::isspace(c); }));
}

struct IdentityStore::Entity {
  std::string name, path, id;
  int64_t create_ms = 0;
  std::vector<Tag> tags;
  std::map<std::string, std::string> inline_policies;  // name → document
  std::vector<std::string> attached;                   // policy ARNs, in attach order

  void ToJson(json::object& o) const {
    o["format"] = kFormat;
    o["name"] = name;
    o["path"] = path;
    o["id"] = id;
    o["create_ms"] = create_ms;
    o["tags"] = TagsToJson(tags);
    json::object inl;
    for (const auto& [k, v] : inline_policies) inl[k] = v;
    o["inline"] = std::move(inl);
    json::array att;
    for (const auto& a : attached) att.push_back(json::string(a));
    o["attached"] = std::move(att);
  }
  bool FromJson(Reader& r) {
    name = r.Str("name");
    path = r.Str("path");
    id = r.Str("id");
    create_ms = r.Int("create_ms");
    tags = r.Tags();
    if (auto* v = r.o.if_contains("inline"); v && v->is_object()) {
      for (const auto& [k, d] : v->get_object()) {
        if (!d.is_string()) return false;
        inline_policies[std::string(k)] = std::string(d.get_string());
      }
    }
    if (auto* v = r.o.if_contains("attached"); v && v->is_array()) {
      for (const auto& a : v->get_array()) {
        if (!a.is_string()) return false;
        attached.emplace_back(a.get_string());
      }
    }
    return r.ok && !name.empty() && !id.empty();
  }
};

struct IdentityStore::User : Entity {
  struct Key {
    std::string id, secret;
    bool active = true;
    int64_t create_ms = 0;
  };
  std::vector<Key> keys;
  bool from_config = false;
  std::string config_key;  // the key [[auth.users]] gives it

  std::string Serialize() const {
    json::object o;
    ToJson(o);
    json::array ks;
    for (const auto& k : keys) {
      ks.push_back(json::object{
          {"id", k.id}, {"secret", k.secret}, {"active", k.active}, {"create_ms", k.create_ms}});
    }
    o["keys"] = std::move(ks);
    o["from_config"] = from_config;
    o["config_key"] = config_key;
    return json::serialize(o);
  }
  bool Parse(Reader& r) {
    if (!FromJson(r)) return false;
    from_config = r.Bool("from_config");
    config_key = r.Str("config_key");
    if (auto* v = r.o.if_contains("keys"); v && v->is_array()) {
      for (const auto& k : v->get_array()) {
        if (!k.is_object()) return false;
        Reader kr{k.get_object()};
        keys.push_back({kr.Str("id"), kr.Str("secret"), kr.Bool("active"), kr.Int("create_ms")});
        if (!kr.ok) return false;
      }
    }
    return r.ok;
  }
};

struct IdentityStore::Role : Entity {
  std::string trust, description;
  int max_session = 3600;

  std::string Serialize() const {
    json::object o;
    ToJson(o);
    o["trust"] = trust;
    o["description"] = description;
    o["max_session"] = max_session;
    return json::serialize(o);
  }
  bool Parse(Reader& r) {
    if (!FromJson(r)) return false;
    trust = r.Str("trust");
    description = r.Str("description");
    max_session = static_cast<int>(r.Int("max_session"));
    return r.ok;
  }
};

struct IdentityStore::Managed {
  std::string name, path, id, description, document;
  int64_t create_ms = 0;
  std::vector<Tag> tags;

  std::string Serialize() const {
    json::object o{
        {"format", kFormat},          {"name", name},         {"path", path},          {"id", id},
        {"description", description}, {"document", document}, {"create_ms", create_ms}};
    o["tags"] = TagsToJson(tags);
    return json::serialize(o);
  }
  bool Parse(Reader& r) {
    name = r.Str("name");
    path = r.Str("path");
    id = r.Str("id");
    description = r.Str("description");
    document = r.Str("document");
    create_ms = r.Int("create_ms");
    tags = r.Tags();
    return r.ok && !name.empty();
  }
};

struct IdentityStore::Session {
  enum class Of { kRole, kUser, kRoot };
  std::string key, secret, token;
  int64_t expires_ms = 0, create_ms = 0;
  Of of = Of::kRole;
  std::string owner_id;      // the role's or the user's id
  std::string session_name;  // AssumeRole's RoleSessionName

  std::string Serialize() const {
    static constexpr std::string_view kOf[] = {"role", "user", "root"};
    json::object o{{"format", kFormat},
                   {"key", key},
                   {"secret", secret},
                   {"token", token},
                   {"expires_ms", expires_ms},
                   {"create_ms", create_ms},
                   {"of", kOf[static_cast<int>(of)]},
                   {"owner_id", owner_id},
                   {"session_name", session_name}};
    return json::serialize(o);
  }
  bool Parse(Reader& r) {
    key = r.Str("key");
    secret = r.Str("secret");
    token = r.Str("token");
    expires_ms = r.Int("expires_ms");
    create_ms = r.Int("create_ms");
    std::string o = r.Str("of");
    of = o == "user" ? Of::kUser : o == "root" ? Of::kRoot : Of::kRole;
    owner_id = r.Str("owner_id");
    session_name = r.Str("session_name");
    return r.ok && !key.empty();
  }
};

struct IdentityStore::State {
  std::map<std::string, User> users;                 // by lower-case name
  std::map<std::string, Role> roles;                 // by lower-case name
  std::map<std::string, Managed> policies;           // by lower-case name
  std::map<std::string, Session> sessions;           // by access key id
  std::map<std::string, std::string> root_keys;      // access key id → secret (config only)
  std::unordered_map<std::string, KeyLookup> index;  // every access key → what Lookup answers
  uint64_t generation = 0;
};

namespace {

std::string Lower(std::string_view s) { return AsciiLower(s); }

}  // namespace

IdentityStore::IdentityStore(IdentityStoreOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {}

IdentityStore::~IdentityStore() = default;

// ---- private helpers, free functions over State -------------------------------

namespace {

struct Paths {
  const std::string& dir;
  std::string File(std::string_view sub, std::string_view id) const {
    return dir + "/" + std::string(sub) + "/" + std::string(id) + ".json";
  }
};

Status Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::FromErrno("unlink " + path, errno);
  std::string dir = path.substr(0, path.rfind('/'));
  return fs::SyncDir(dir);
}

}  // namespace

// The ARNs (derived: the account may change between runs).
namespace {
std::string UserArn(const std::string& account, const std::string& path, const std::string& name) {
  return "arn:aws:iam::" + account + ":user" + path + name;
}
std::string RoleArn(const std::string& account, const std::string& path, const std::string& name) {
  return "arn:aws:iam::" + account + ":role" + path + name;
}
std::string PolicyArn(const std::string& account, const std::string& path,
                      const std::string& name) {
  return "arn:aws:iam::" + account + ":policy" + path + name;
}
}  // namespace

Status IdentityStore::Load() {
  const std::string& dir = options_.dir;
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(dir));
  if (::chmod(dir.c_str(), kDirMode) != 0) return Status::FromErrno("chmod " + dir, errno);
  for (std::string_view sub : {kUsersDir, kRolesDir, kPoliciesDir, kSessionsDir}) {
    std::string d = dir + "/" + std::string(sub);
    HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(d));
    if (::chmod(d.c_str(), kDirMode) != 0) return Status::FromErrno("chmod " + d, errno);
  }
  State& s = *state_;
  const int64_t now = NowMillis();
  auto load_dir = [&](std::string_view sub, auto&& add) -> Status {
    std::string d = dir + "/" + std::string(sub);
    auto names = fs::ReadDir(d);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) {
      std::string path = d + "/" + n;
      if (!n.ends_with(".json")) {
        (void)::unlink(path.c_str());  // an interrupted write's temp file: never renamed in
        continue;
      }
      auto text = fs::ReadFile(path, 8 << 20);
      if (!text.ok()) return text.status();
      boost::system::error_code ec;
      json::value v = json::parse(*text, ec);
      if (ec || !v.is_object()) return Status::Corruption(path + ": not a JSON object");
      Reader r{v.get_object()};
      HYDRANT_RETURN_IF_ERROR(add(r, path));
    }
    return Status::Ok();
  };
  HYDRANT_RETURN_IF_ERROR(load_dir(kUsersDir, [&](Reader& r, const std::string& path) {
    User u;
    if (!u.Parse(r)) return Status::Corruption(path + ": not a user record");
    s.users[Lower(u.name)] = std::move(u);
    return Status::Ok();
  }));
  HYDRANT_RETURN_IF_ERROR(load_dir(kRolesDir, [&](Reader& r, const std::string& path) {
    Role role;
    if (!role.Parse(r)) return Status::Corruption(path + ": not a role record");
    s.roles[Lower(role.name)] = std::move(role);
    return Status::Ok();
  }));
  HYDRANT_RETURN_IF_ERROR(load_dir(kPoliciesDir, [&](Reader& r, const std::string& path) {
    Managed m;
    if (!m.Parse(r)) return Status::Corruption(path + ": not a policy record");
    s.policies[Lower(m.name)] = std::move(m);
    return Status::Ok();
  }));
  HYDRANT_RETURN_IF_ERROR(load_dir(kSessionsDir, [&](Reader& r, const std::string& path) {
    Session ses;
    if (!ses.Parse(r)) return Status::Corruption(path + ": not a session record");
    if (ses.expires_ms + kExpiredSessionMemoryMs <= now) return Remove(path);
    s.sessions[ses.key] = std::move(ses);
    return Status::Ok();
  }));
  RebuildIndex();
  return Status::Ok();
}

Result<std::unique_ptr<IdentityStore>> IdentityStore::Open(IdentityStoreOptions options) {
  if (options.dir.empty()) return Status::InvalidArgument("IdentityStore: no folder");
  std::unique_ptr<IdentityStore> store(new IdentityStore(std::move(options)));
  HYDRANT_RETURN_IF_ERROR(store->Load());
  return store;
}

// ---- the index -----------------------------------------------------------------

std::vector<std::string> IdentityStore::PoliciesOf(const Entity& e) const {
  std::vector<std::string> docs;
  for (const auto& [name, doc] : e.inline_policies) docs.push_back(doc);
  for (const auto& arn : e.attached) {
    auto it = state_->policies.find(Lower(ArnLeaf(arn)));
    if (it != state_->policies.end()) docs.push_back(it->second.document);
  }
  return docs;
}

void IdentityStore::IndexUser(const User& u) {
  State& s = *state_;
  Principal p;
  p.kind = Principal::Kind::kUser;
  p.account_id = account_id();
  p.arn = UserArn(account_id(), u.path, u.name);
  p.user_name = u.name;
  p.user_id = u.id;
  p.policy_documents = PoliciesOf(u);
  p.policy_version = ++s.generation;
  for (const auto& k : u.keys) {
    KeyLookup& l = s.index[k.id];
    l.secret_access_key = k.secret;
    l.session_token.clear();
    l.active = k.active;
    l.expires_ms = 0;
    l.principal = p;
    l.principal.access_key_id = k.id;
  }
  for (const auto& [key, ses] : s.sessions) {
    if (ses.of == Session::Of::kUser && ses.owner_id == u.id) IndexSession(ses, p);
  }
}

void IdentityStore::IndexRole(const Role& r) {
  State& s = *state_;
  Principal p;
  p.kind = Principal::Kind::kAssumedRole;
  p.account_id = account_id();
  p.role_arn = RoleArn(account_id(), r.path, r.name);
  p.user_id = r.id;
  p.policy_documents = PoliciesOf(r);
  p.policy_version = ++s.generation;
  p.arn = r.name;  // IndexSession completes the ARN and id with the session name
  for (const auto& [key, ses] : s.sessions) {
    if (ses.of == Session::Of::kRole && ses.owner_id == r.id) IndexSession(ses, p);
  }
}

Principal IdentityStore::RootPrincipal() const {
  Principal p;
  p.kind = Principal::Kind::kRoot;
  p.account_id = account_id();
  p.arn = "arn:aws:iam::" + account_id() + ":root";
  p.user_id = account_id();
  p.policy_version = state_->generation;
  return p;
}

// `owner` is the principal IndexUser/IndexRole made (for a role: arn = role name).
void IdentityStore::IndexSession(const Session& ses, const Principal& owner) {
  KeyLookup& l = state_->index[ses.key];
  l.secret_access_key = ses.secret;
  l.session_token = ses.token;
  l.active = true;
  l.expires_ms = ses.expires_ms;
  l.principal = owner;
  l.principal.access_key_id = ses.key;
  if (ses.of == Session::Of::kRole) {
    l.principal.arn =
        "arn:aws:sts::" + account_id() + ":assumed-role/" + owner.arn + "/" + ses.session_name;
    l.principal.user_id = owner.user_id + ":" + ses.session_name;
  } else if (ses.of == Session::Of::kUser) {
    l.principal.kind = Principal::Kind::kFederated;
  }
}

void IdentityStore::RebuildIndex() {
  State& s = *state_;
  s.index.clear();
  for (const auto& [k, u] : s.users) IndexUser(u);
  for (const auto& [k, r] : s.roles) IndexRole(r);
  Principal root = RootPrincipal();
  for (const auto& [key, ses] : s.sessions) {
    if (ses.of == Session::Of::kRoot) IndexSession(ses, root);
  }
  for (const auto& [key, secret] : s.root_keys) {
    KeyLookup& l = s.index[key];
    l.secret_access_key = secret;
    l.principal = root;
    l.principal.access_key_id = key;
  }
}

std::optional<KeyLookup> IdentityStore::Lookup(std::string_view access_key_id) const {
  std::shared_lock lk(mu_);
  auto it = state_->index.find(std::string(access_key_id));
  if (it == state_->index.end()) return std::nullopt;
  return it->second;
}

// ---- files ----------------------------------------------------------------------

Status IdentityStore::WriteFile(std::string_view sub, const std::string& id,
                                const std::string& data) {
  return fs::WriteFileAtomic(Paths{options_.dir}.File(sub, id), data, kFileMode);
}

Status IdentityStore::RemoveFile(std::string_view sub, const std::string& id) {
  return Remove(Paths{options_.dir}.File(sub, id));
}

// Writes `u` as the new state of its user, then installs it.
Status IdentityStore::CommitUser(User u) {
  HYDRANT_RETURN_IF_ERROR(WriteFile(kUsersDir, u.id, u.Serialize()));
  User& slot = state_->users[Lower(u.name)];
  slot = std::move(u);
  IndexUser(slot);
  return Status::Ok();
}

Status IdentityStore::CommitRole(Role r) {
  HYDRANT_RETURN_IF_ERROR(WriteFile(kRolesDir, r.id, r.Serialize()));
  Role& slot = state_->roles[Lower(r.name)];
  slot = std::move(r);
  IndexRole(slot);
  return Status::Ok();
}

// ---- lookups of entities -----------------------------------------------------------

namespace {
Status NoSuchUser(std::string_view name) {
  return NoSuchEntity("The user with name " + std::string(name) + " cannot be found.");
}
Status NoSuchRole(std::string_view name) {
  return NoSuchEntity("The role with name " + std::string(name) + " cannot be found.");
}
}  // namespace

UserInfo IdentityStore::InfoOf(const User& u) const {
  return {u.name,      u.path, u.id,         UserArn(account_id(), u.path, u.name),
          u.create_ms, u.tags, u.from_config};
}

RoleInfo IdentityStore::InfoOf(const Role& r) const {
  return {r.name,      r.path,  r.id,          RoleArn(account_id(), r.path, r.name),
          r.create_ms, r.trust, r.description, r.max_session,
          r.tags};
}

// How many users and roles each managed policy is attached to (by ARN).
std::unordered_map<std::string, int> IdentityStore::AttachmentCounts() const {
  std::unordered_map<std::string, int> counts;
  for (const auto& [k, u] : state_->users) {
    for (const auto& arn : u.attached) ++counts[arn];
  }
  for (const auto& [k, r] : state_->roles) {
    for (const auto& arn : r.attached) ++counts[arn];
  }
  return counts;
}

PolicyInfo IdentityStore::InfoOf(const Managed& m,
                                 const std::unordered_map<std::string, int>& counts) const {
  PolicyInfo p{m.name,        m.path,     m.id,        PolicyArn(account_id(), m.path, m.name),
               m.description, m.document, m.create_ms, 0,
               m.tags};
  if (auto it = counts.find(p.arn); it != counts.end()) p.attachment_count = it->second;
  return p;
}

// The managed policy an ARN names, if it is this account's.
const IdentityStore::Managed* IdentityStore::FindPolicy(std::string_view arn) const {
  auto it = state_->policies.find(Lower(ArnLeaf(arn)));
  if (it == state_->policies.end()) return nullptr;
  if (PolicyArn(account_id(), it->second.path, it->second.name) != arn) return nullptr;
  return &it->second;
}

const IdentityStore::Entity* IdentityStore::FindEntity(EntityKind kind,
                                                       std::string_view name) const {
  if (kind == EntityKind::kUser) {
    auto it = state_->users.find(Lower(name));
    return it == state_->users.end() ? nullptr : &it->second;
  }
  auto it = state_->roles.find(Lower(name));
  return it == state_->roles.end() ? nullptr : &it->second;
}

Status IdentityStore::ValidatePolicy(std::string_view doc, bool trust) const {
  if (!options_.validate_policy) return Status::Ok();
  Status st = options_.validate_policy(doc, trust);
  if (st.ok()) return st;
  return Error(StatusCode::kInvalidArgument, kMalformedPolicyDocument, st.message());
}

// ---- users -------------------------------------------------------------------------

Result<UserInfo> IdentityStore::CreateUser(std::string_view name, std::string_view path,
                                           std::vector<Tag> tags) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  if (s.users.count(Lower(name))) {
    return AlreadyExists("User with name " + std::string(name) + " already exists.");
  }
  if (static_cast<int>(s.users.size()) >= options_.limits.users) {
    return Quota("UsersPerAccount", options_.limits.users);
  }
  User u;
  u.name = name;
  u.path = path.empty() ? "/" : std::string(path);
  u.id = NewId("AIDA");
  u.create_ms = NowMillis();
  u.tags = std::move(tags);
  HYDRANT_RETURN_IF_ERROR(CommitUser(u));
  return InfoOf(u);
}

Result<UserInfo> IdentityStore::GetUser(std::string_view name) const {
  std::shared_lock lk(mu_);
  auto it = state_->users.find(Lower(name));
  if (it == state_->users.end()) return NoSuchUser(name);
  return InfoOf(it->second);
}

std::vector<UserInfo> IdentityStore::ListUsers() const {
  std::shared_lock lk(mu_);
  std::vector<UserInfo> out;
  for (const auto& [k, u] : state_->users) out.push_back(InfoOf(u));
  return out;
}

Status IdentityStore::DeleteUser(std::string_view name) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  auto it = s.users.find(Lower(name));
  if (it == s.users.end()) return NoSuchUser(name);
  const User& u = it->second;
  if (u.from_config) {
    return DeleteConflict("Cannot delete entity, user " + u.name +
                          " is defined in the configuration ([[auth.users]]).");
  }
  if (!u.keys.empty())
    return DeleteConflict("Cannot delete entity, must delete access keys first.");
  if (!u.inline_policies.empty()) {
    return DeleteConflict("Cannot delete entity, must delete policies first.");
  }
  if (!u.attached.empty()) {
    return DeleteConflict("Cannot delete entity, must detach all policies first.");
  }
  HYDRANT_RETURN_IF_ERROR(RemoveFile(kUsersDir, u.id));
  DropSessionsOf(u.id);
  s.users.erase(it);
  return Status::Ok();
}

// Deletes the sessions of a deleted user or role (their credentials stop working).
void IdentityStore::DropSessionsOf(const std::string& owner_id) {
  State& s = *state_;
  for (auto it = s.sessions.begin(); it != s.sessions.end();) {
    if (it->second.owner_id == owner_id) {
      (void)RemoveFile(kSessionsDir,
                       it->first);  // an expired leftover is dropped at the next start
      s.index.erase(it->first);
      it = s.sessions.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- access keys ---------------------------------------------------------------------

Result<AccessKeyInfo> IdentityStore::CreateAccessKey(std::string_view user) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  auto it = s.users.find(Lower(user));
  if (it == s.users.end()) return NoSuchUser(user);
  User u = it->second;
  if (static_cast<int>(u.keys.size()) >= options_.limits.keys_per_user) {
    return Quota("AccessKeysPerUser", options_.limits.keys_per_user);
  }
  User::Key k;
  do {
    k.id = NewKeyId("AKIA");
  } while (s.index.count(k.id));
  k.secret = RandomChars(40, kSecretChars);
  k.create_ms = NowMillis();
  u.keys.push_back(k);
  HYDRANT_RETURN_IF_ERROR(CommitUser(std::move(u)));
  return AccessKeyInfo{it->second.name, k.id, k.secret, true, k.create_ms};
}

Result<std::vector<AccessKeyInfo>> IdentityStore::ListAccessKeys(std::string_view user) const {
  std::shared_lock lk(mu_);
  auto it = state_->users.find(Lower(user));
  if (it == state_->users.end()) return NoSuchUser(user);
  std::vector<AccessKeyInfo> out;
  for (const auto& k : it->second.keys) {
    out.push_back({it->second.name, k.id, "", k.active, k.create_ms});
  }
  return out;
}

namespace {
Status NoSuchKey(std::string_view key) {
  return NoSuchEntity("The Access Key with id " + std::string(key) + " cannot be found.");
}
}  // namespace

Status IdentityStore::UpdateAccessKey(std::string_view user, std::string_view key_id, bool active) {
  std::unique_lock lk(mu_);
  auto it = state_->users.find(Lower(user));
  if (it == state_->users.end()) return NoSuchUser(user);
  User u = it->second;
  for (auto& k : u.keys) {
    if (k.id == key_id) {
      k.active = active;
      return CommitUser(std::move(u));
    }
  }
  return NoSuchKey(key_id);
}

Status IdentityStore::DeleteAccessKey(std::string_view user, std::string_view key_id) {
  std::unique_lock lk(mu_);
  auto it = state_->users.find(Lower(user));
  if (it == state_->users.end()) return NoSuchUser(user);
  User u = it->second;
  auto k =
      std::find_if(u.keys.begin(), u.keys.end(), [&](const auto& k) { return k.id == key_id; });
  if (k == u.keys.end()) return NoSuchKey(key_id);
  if (u.from_config && u.config_key == key_id) {
    return InvalidInput("The access key " + std::string(key_id) +
                        " is defined in the configuration ([[auth.users]]) and cannot be deleted.");
  }
  u.keys.erase(k);
  HYDRANT_RETURN_IF_ERROR(CommitUser(std::move(u)));
  state_->index.erase(std::string(key_id));
  return Status::Ok();
}

std::optional<std::string> IdentityStore::UserOfAccessKey(std::string_view key_id) const {
  std::shared_lock lk(mu_);
  auto it = state_->index.find(std::string(key_id));
  if (it == state_->index.end() || it->second.principal.user_name.empty()) return std::nullopt;
  return it->second.principal.user_name;
}

// ---- inline and attached policies ------------------------------------------------------

namespace {
Status NoSuchEntityOf(EntityKind kind, std::string_view name) {
  return kind == EntityKind::kUser ? NoSuchUser(name) : NoSuchRole(name);
}
std::string_view KindWord(EntityKind kind) { return kind == EntityKind::kUser ? "user" : "role"; }
}  // namespace

Status IdentityStore::PutInlinePolicy(EntityKind kind, std::string_view entity,
                                      std::string_view policy_name, std::string_view document) {
  std::unique_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  HYDRANT_RETURN_IF_ERROR(ValidatePolicy(document, false));
  const int limit = kind == EntityKind::kUser ? options_.limits.user_inline_chars
                                              : options_.limits.role_inline_chars;
  size_t total = PolicySize(document);
  for (const auto& [n, d] : e->inline_policies) {
    if (n != policy_name) total += PolicySize(d);
  }
  if (total > static_cast<size_t>(limit)) {
    return LimitExceeded("Maximum policy size of " + std::to_string(limit) +
                         " bytes exceeded for " + std::string(KindWord(kind)) + " " + e->name);
  }
  if (kind == EntityKind::kUser) {
    User u = static_cast<const User&>(*e);
    u.inline_policies[std::string(policy_name)] = document;
    return CommitUser(std::move(u));
  }
  Role r = static_cast<const Role&>(*e);
  r.inline_policies[std::string(policy_name)] = document;
  return CommitRole(std::move(r));
}

Result<std::string> IdentityStore::GetInlinePolicy(EntityKind kind, std::string_view entity,
                                                   std::string_view policy_name) const {
  std::shared_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  auto it = e->inline_policies.find(std::string(policy_name));
  if (it == e->inline_policies.end()) {
    return NoSuchEntity("The " + std::string(KindWord(kind)) + " policy with name " +
                        std::string(policy_name) + " cannot be found.");
  }
  return it->second;
}

Status IdentityStore::DeleteInlinePolicy(EntityKind kind, std::string_view entity,
                                         std::string_view policy_name) {
  std::unique_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  if (!e->inline_policies.count(std::string(policy_name))) {
    return NoSuchEntity("The " + std::string(KindWord(kind)) + " policy with name " +
                        std::string(policy_name) + " cannot be found.");
  }
  if (kind == EntityKind::kUser) {
    User u = static_cast<const User&>(*e);
    u.inline_policies.erase(std::string(policy_name));
    return CommitUser(std::move(u));
  }
  Role r = static_cast<const Role&>(*e);
  r.inline_policies.erase(std::string(policy_name));
  return CommitRole(std::move(r));
}

Result<std::vector<std::string>> IdentityStore::ListInlinePolicies(EntityKind kind,
                                                                   std::string_view entity) const {
  std::shared_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  std::vector<std::string> out;
  for (const auto& [n, d] : e->inline_policies) out.push_back(n);
  return out;
}

Status IdentityStore::AttachPolicy(EntityKind kind, std::string_view entity,
                                   std::string_view policy_arn) {
  std::unique_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  if (!FindPolicy(policy_arn)) {
    return NoSuchEntity("Policy " + std::string(policy_arn) +
                        " does not exist or is not attachable.");
  }
  if (std::find(e->attached.begin(), e->attached.end(), policy_arn) != e->attached.end()) {
    return Status::Ok();  // IAM: attaching twice is not an error
  }
  if (static_cast<int>(e->attached.size()) >= options_.limits.attached_policies) {
    return Quota(kind == EntityKind::kUser ? "PoliciesPerUser" : "PoliciesPerRole",
                 options_.limits.attached_policies);
  }
  if (kind == EntityKind::kUser) {
    User u = static_cast<const User&>(*e);
    u.attached.emplace_back(policy_arn);
    return CommitUser(std::move(u));
  }
  Role r = static_cast<const Role&>(*e);
  r.attached.emplace_back(policy_arn);
  return CommitRole(std::move(r));
}

Status IdentityStore::DetachPolicy(EntityKind kind, std::string_view entity,
                                   std::string_view policy_arn) {
  std::unique_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  auto it = std::find(e->attached.begin(), e->attached.end(), policy_arn);
  if (it == e->attached.end()) {
    return NoSuchEntity("Policy " + std::string(policy_arn) + " was not found.");
  }
  const size_t pos = static_cast<size_t>(it - e->attached.begin());
  if (kind == EntityKind::kUser) {
    User u = static_cast<const User&>(*e);
    u.attached.erase(u.attached.begin() + static_cast<ptrdiff_t>(pos));
    return CommitUser(std::move(u));
  }
  Role r = static_cast<const Role&>(*e);
  r.attached.erase(r.attached.begin() + static_cast<ptrdiff_t>(pos));
  return CommitRole(std::move(r));
}

Result<std::vector<AttachedPolicy>> IdentityStore::ListAttachedPolicies(
    EntityKind kind, std::string_view entity) const {
  std::shared_lock lk(mu_);
  const Entity* e = FindEntity(kind, entity);
  if (!e) return NoSuchEntityOf(kind, entity);
  std::vector<AttachedPolicy> out;
  for (const auto& arn : e->attached) out.push_back({std::string(ArnLeaf(arn)), arn});
  return out;
}

// ---- managed policies ------------------------------------------------------------------

Result<PolicyInfo> IdentityStore::CreatePolicy(std::string_view name, std::string_view path,
                                               std::string_view document,
                                               std::string_view description,
                                               std::vector<Tag> tags) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  if (s.policies.count(Lower(name))) {
    return AlreadyExists("A policy called " + std::string(name) +
                         " already exists. Duplicate names are not allowed.");
  }
  if (static_cast<int>(s.policies.size()) >= options_.limits.managed_policies) {
    return Quota("PoliciesPerAccount", options_.limits.managed_policies);
  }
  HYDRANT_RETURN_IF_ERROR(ValidatePolicy(document, false));
  if (PolicySize(document) > static_cast<size_t>(options_.limits.managed_policy_chars)) {
    return Quota("PolicySize", options_.limits.managed_policy_chars);
  }
  Managed m;
  m.name = name;
  m.path = path.empty() ? "/" : std::string(path);
  m.id = NewId("ANPA");
  m.description = description;
  m.document = document;
  m.create_ms = NowMillis();
  m.tags = std::move(tags);
  HYDRANT_RETURN_IF_ERROR(WriteFile(kPoliciesDir, m.id, m.Serialize()));
  const Managed& slot = s.policies[Lower(m.name)] = std::move(m);
  return InfoOf(slot, {});
}

Result<PolicyInfo> IdentityStore::GetPolicy(std::string_view arn) const {
  std::shared_lock lk(mu_);
  const Managed* m = FindPolicy(arn);
  if (!m) return NoSuchEntity("Policy " + std::string(arn) + " was not found.");
  return InfoOf(*m, AttachmentCounts());
}

std::vector<PolicyInfo> IdentityStore::ListPolicies() const {
  std::shared_lock lk(mu_);
  std::vector<PolicyInfo> out;
  const auto counts = AttachmentCounts();
  for (const auto& [k, m] : state_->policies) out.push_back(InfoOf(m, counts));
  return out;
}

Status IdentityStore::DeletePolicy(std::string_view arn) {
  std::unique_lock lk(mu_);
  const Managed* m = FindPolicy(arn);
  if (!m) return NoSuchEntity("Policy " + std::string(arn) + " was not found.");
  if (AttachmentCounts().count(std::string(arn))) {
    return DeleteConflict("Cannot delete a policy attached to entities.");
  }
  HYDRANT_RETURN_IF_ERROR(RemoveFile(kPoliciesDir, m->id));
  state_->policies.erase(Lower(m->name));
  return Status::Ok();
}

// ---- roles ---------------------------------------------------------------------------------

Status IdentityStore::CheckTrustPolicy(std::string_view doc) const {
  HYDRANT_RETURN_IF_ERROR(ValidatePolicy(doc, true));
  if (PolicySize(doc) > static_cast<size_t>(options_.limits.trust_policy_chars)) {
    return Quota("ACLSizePerRole", options_.limits.trust_policy_chars);
  }
  return Status::Ok();
}

Result<RoleInfo> IdentityStore::CreateRole(std::string_view name, std::string_view path,
                                           std::string_view trust_policy,
                                           std::string_view description, int max_session_seconds,
                                           std::vector<Tag> tags) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  if (s.roles.count(Lower(name))) {
    return AlreadyExists("Role with name " + std::string(name) + " already exists.");
  }
  if (static_cast<int>(s.roles.size()) >= options_.limits.roles) {
    return Quota("RolesPerAccount", options_.limits.roles);
  }
  HYDRANT_RETURN_IF_ERROR(CheckTrustPolicy(trust_policy));
  Role r;
  r.name = name;
  r.path = path.empty() ? "/" : std::string(path);
  r.id = NewId("AROA");
  r.create_ms = NowMillis();
  r.tags = std::move(tags);
  r.trust = trust_policy;
  r.description = description;
  r.max_session = max_session_seconds > 0 ? max_session_seconds : 3600;
  HYDRANT_RETURN_IF_ERROR(CommitRole(r));
  return InfoOf(r);
}

Result<RoleInfo> IdentityStore::GetRole(std::string_view name) const {
  std::shared_lock lk(mu_);
  auto it = state_->roles.find(Lower(name));
  if (it == state_->roles.end()) return NoSuchRole(name);
  return InfoOf(it->second);
}

std::vector<RoleInfo> IdentityStore::ListRoles() const {
  std::shared_lock lk(mu_);
  std::vector<RoleInfo> out;
  for (const auto& [k, r] : state_->roles) out.push_back(InfoOf(r));
  return out;
}

Status IdentityStore::DeleteRole(std::string_view name) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  auto it = s.roles.find(Lower(name));
  if (it == s.roles.end()) return NoSuchRole(name);
  const Role& r = it->second;
  if (!r.inline_policies.empty()) {
    return DeleteConflict("Cannot delete entity, must delete policies first.");
  }
  if (!r.attached.empty()) {
    return DeleteConflict("Cannot delete entity, must detach all policies first.");
  }
  HYDRANT_RETURN_IF_ERROR(RemoveFile(kRolesDir, r.id));
  DropSessionsOf(r.id);
  s.roles.erase(it);
  return Status::Ok();
}

Status IdentityStore::UpdateAssumeRolePolicy(std::string_view name, std::string_view trust_policy) {
  std::unique_lock lk(mu_);
  auto it = state_->roles.find(Lower(name));
  if (it == state_->roles.end()) return NoSuchRole(name);
  HYDRANT_RETURN_IF_ERROR(CheckTrustPolicy(trust_policy));
  Role r = it->second;
  r.trust = trust_policy;
  return CommitRole(std::move(r));
}

// ---- STS --------------------------------------------------------------------------------------

void IdentityStore::PurgeExpired() {
  State& s = *state_;
  const int64_t now = NowMillis();
  for (auto it = s.sessions.begin(); it != s.sessions.end();) {
    if (it->second.expires_ms + kExpiredSessionMemoryMs <= now) {
      (void)RemoveFile(kSessionsDir, it->first);  // a leftover is dropped at the next start
      s.index.erase(it->first);
      it = s.sessions.erase(it);
    } else {
      ++it;
    }
  }
}

Result<IdentityStore::Session> IdentityStore::NewSession(int duration_seconds) {
  PurgeExpired();
  State& s = *state_;
  if (static_cast<int>(s.sessions.size()) >= options_.limits.active_sessions) {
    return Quota("ActiveSessions", options_.limits.active_sessions);
  }
  Session ses;
  do {
    ses.key = NewKeyId("ASIA");
  } while (s.index.count(ses.key));
  ses.secret = RandomChars(40, kSecretChars);
  ses.token = RandomChars(256, kSecretChars);
  ses.create_ms = NowMillis();
  ses.expires_ms = ses.create_ms + int64_t{duration_seconds} * 1000;
  return ses;
}

size_t IdentityStore::ActiveSessions() const {
  std::shared_lock lk(mu_);
  const int64_t now = NowMillis();
  return static_cast<size_t>(
      std::count_if(state_->sessions.begin(), state_->sessions.end(),
                    [&](const auto& kv) { return kv.second.expires_ms > now; }));
}

Result<SessionCredentials> IdentityStore::AssumeRole(const Principal& caller,
                                                     std::string_view role_arn,
                                                     std::string_view session_name,
                                                     int duration_seconds,
                                                     const AssumeCheck& may_assume) {
  std::unique_lock lk(mu_);
  const std::string caller_arn = caller.arn.empty() ? "anonymous" : caller.arn;
  Status denied = Error(
      StatusCode::kInvalidArgument, kAccessDenied,
      "User: " + caller_arn +
          " is not authorized to perform: sts:AssumeRole on resource: " + std::string(role_arn));
  auto it = state_->roles.find(Lower(ArnLeaf(role_arn)));
  if (it == state_->roles.end()) return denied;
  const Role& role = it->second;
  const std::string arn = RoleArn(account_id(), role.path, role.name);
  if (arn != role_arn) return denied;
  if (duration_seconds > role.max_session) {
    return ValidationError(
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  if (caller.kind == Principal::Kind::kAssumedRole && duration_seconds > kRoleChainingSeconds) {
    return ValidationError(
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
        "chaining.");
  }
  if (duration_seconds < kMinSessionSeconds) {
    return ValidationError("The requested DurationSeconds is less than 900 seconds.");
  }
  if (may_assume && !may_assume(caller, arn, role.trust)) return denied;
  auto ses = NewSession(duration_seconds);
  if (!ses.ok()) return ses.status();
  ses->of = Session::Of::kRole;
  ses->owner_id = role.id;
  ses->session_name = session_name;
  HYDRANT_RETURN_IF_ERROR(WriteFile(kSessionsDir, ses->key, ses->Serialize()));
  const Session& slot = state_->sessions[ses->key] = std::move(*ses);
  IndexRole(role);
  return SessionCredentials{
      slot.key,
      slot.secret,
      slot.token,
      slot.expires_ms,
      role.id + ":" + slot.session_name,
      "arn:aws:sts::" + account_id() + ":assumed-role/" + role.name + "/" + slot.session_name};
}

Result<Principal> IdentityStore::ServiceSession(std::string_view service,
                                                std::string_view role_arn) const {
  std::shared_lock lk(mu_);
  auto it = state_->roles.find(Lower(ArnLeaf(role_arn)));
  const std::string arn = it == state_->roles.end()
                              ? std::string()
                              : RoleArn(account_id(), it->second.path, it->second.name);
  if (arn.empty() || arn != role_arn) {
    return Error(StatusCode::kNotFound, kNoSuchEntity,
                 "The role " + std::string(role_arn) + " cannot be found.");
  }
  const Role& role = it->second;
  Principal svc;
  svc.kind = Principal::Kind::kService;
  svc.account_id = account_id();
  svc.arn = std::string(service);
  if (!MayAssumeRole(svc, arn, role.trust, NowMillis())) {
    return Error(StatusCode::kInvalidArgument, kAccessDenied,
                 "The trust policy of " + arn + " does not let " + std::string(service) +
                     " assume it (sts:AssumeRole).");
  }
  // The session name Firehose uses is its own; this one says who acts.
  const std::string session = std::string(service.substr(0, service.find('.')));
  Principal p;
  p.kind = Principal::Kind::kAssumedRole;
  p.account_id = account_id();
  p.role_arn = arn;
  p.arn = "arn:aws:sts::" + account_id() + ":assumed-role/" + role.name + "/" + session;
  p.user_id = role.id + ":" + session;
  p.policy_documents = PoliciesOf(role);
  p.policy_version = state_->generation;
  return p;
}

Result<SessionCredentials> IdentityStore::GetSessionToken(const Principal& caller,
                                                          int duration_seconds) {
  std::unique_lock lk(mu_);
  if (caller.access_key_id.starts_with("ASIA") || caller.kind == Principal::Kind::kAssumedRole ||
      caller.kind == Principal::Kind::kFederated) {
    return Error(StatusCode::kInvalidArgument, kAccessDenied,
                 "Cannot call GetSessionToken with session credentials");
  }
  if (duration_seconds < kMinSessionSeconds || duration_seconds > kMaxSessionTokenSeconds) {
    return ValidationError("The requested DurationSeconds must be between 900 and 129600 seconds.");
  }
  const User* user = nullptr;
  if (caller.kind == Principal::Kind::kUser) {
    auto it = state_->users.find(Lower(caller.user_name));
    if (it == state_->users.end()) return NoSuchUser(caller.user_name);
    user = &it->second;
  } else {
    // Root (or the anonymous caller of open mode, answered as root): AWS limits
    // root sessions to one hour.
    duration_seconds = std::min(duration_seconds, kRootSessionSeconds);
  }
  auto ses = NewSession(duration_seconds);
  if (!ses.ok()) return ses.status();
  ses->of = user ? Session::Of::kUser : Session::Of::kRoot;
  ses->owner_id = user ? user->id : account_id();
  HYDRANT_RETURN_IF_ERROR(WriteFile(kSessionsDir, ses->key, ses->Serialize()));
  const Session& slot = state_->sessions[ses->key] = std::move(*ses);
  if (user) {
    IndexUser(*user);
  } else {
    IndexSession(slot, RootPrincipal());
  }
  return SessionCredentials{slot.key, slot.secret, slot.token, slot.expires_ms, "", ""};
}

// ---- configuration users -----------------------------------------------------------------------

Status IdentityStore::ApplyConfigUsers(const std::vector<ConfigUser>& entries) {
  std::unique_lock lk(mu_);
  State& s = *state_;
  s.root_keys.clear();
  std::map<std::string, const ConfigUser*> by_name;
  for (const auto& c : entries) {
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
      return Status::InvalidArgument("[[auth.users]] " + c.name +
                                     ": access_key_id and secret_access_key are required");
    }
    if (c.root) {
      s.root_keys[c.access_key_id] = c.secret_access_key;
      continue;
    }
    if (c.name.empty()) return Status::InvalidArgument("[[auth.users]]: a user needs a name");
    by_name[Lower(c.name)] = &c;
  }
  // Users that left the configuration lose their configured key and become
  // ordinary users.
  for (auto& [k, u] : s.users) {
    if (!u.from_config || by_name.count(k)) continue;
    User copy = u;
    copy.from_config = false;
    std::erase_if(copy.keys, [&](const auto& key) { return key.id == copy.config_key; });
    s.index.erase(copy.config_key);
    copy.config_key.clear();
    copy.inline_policies.erase(std::string(kConfigPolicyName));
    HYDRANT_RETURN_IF_ERROR(CommitUser(std::move(copy)));
  }
  for (const auto& [lower, c] : by_name) {
    if (auto owner = s.index.find(c->access_key_id);
        owner != s.index.end() && Lower(owner->second.principal.user_name) != lower) {
      return Status::InvalidArgument("[[auth.users]] " + c->name + ": access key " +
                                     c->access_key_id + " belongs to another identity");
    }
    if (!c->policy.empty()) {
      Status st = ValidatePolicy(c->policy, false);
      if (!st.ok()) {
        return Status::InvalidArgument("[[auth.users]] " + c->name + ": policy: " + st.message());
      }
    }
    User u;
    if (auto it = s.users.find(lower); it != s.users.end()) {
      u = it->second;
    } else {
      if (static_cast<int>(s.users.size()) >= options_.limits.users) {
        return Quota("UsersPerAccount", options_.limits.users);
      }
      u.name = c->name;
      u.path = "/";
      u.id = NewId("AIDA");
      u.create_ms = NowMillis();
    }
    if (!u.config_key.empty() && u.config_key != c->access_key_id) {
      std::erase_if(u.keys, [&](const auto& key) { return key.id == u.config_key; });
      s.index.erase(u.config_key);
    }
    u.from_config = true;
    u.config_key = c->access_key_id;
    auto key = std::find_if(u.keys.begin(), u.keys.end(),
                            [&, id = c->access_key_id](const auto& k) { return k.id == id; });
    if (key == u.keys.end()) {
      u.keys.push_back({c->access_key_id, c->secret_access_key, true, NowMillis()});
    } else {
      key->secret = c->secret_access_key;
      key->active = true;
    }
    if (c->policy.empty()) {
      u.inline_policies.erase(std::string(kConfigPolicyName));
    } else {
      u.inline_policies[std::string(kConfigPolicyName)] = c->policy;
    }
    HYDRANT_RETURN_IF_ERROR(CommitUser(std::move(u)));
  }
  Principal root = RootPrincipal();
  for (const auto& [key, secret] : s.root_keys) {
    if (auto it = s.index.find(key);
        it != s.index.end() && it->second.principal.kind != Principal::Kind::kRoot) {
      return Status::InvalidArgument("[[auth.users]]: root access key " + key +
                                     " belongs to another identity");
    }
    KeyLookup& l = s.index[key];
    l = KeyLookup{};
    l.secret_access_key = secret;
    l.principal = root;
    l.principal.access_key_id = key;
  }
  return Status::Ok();
}

}  // namespace hydrant::iam
