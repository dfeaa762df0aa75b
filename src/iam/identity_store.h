#pragma once
// IdentityStore: hydrant's IAM and STS state for its one account — users and
// their access keys, managed policies, roles, inline and attached policies, and
// the temporary credentials STS hands out — kept durable under one folder and
// served to SigV4 verification as a CredentialSource.
//
// On disk (<data_dir>/iam/, mode 0700; every file 0600, replaced atomically:
// temp file, fdatasync, rename, fsync of the folder): one JSON file per entity,
// named by its id, so that a change rewrites one small file —
//   users/AIDA....json     a user with its access keys (and their secrets),
//                          inline policies and attached policy ARNs
//   roles/AROA....json     a role with its trust policy, inline and attached policies
//   policies/ANPA....json  a customer managed policy (one version, v1)
//   sessions/ASIA....json  STS credentials until they expire
// docs/security.md ("IAM and STS") restates this and the quotas.
//
// Errors are Statuses whose error_code() is IAM's error code (kNoSuchEntity,
// ...) and whose message is IAM's message; the API layer only maps them to the
// wire. No message names a secret.
//
// Thread-safety: every method may be called from any thread. Lookup takes a
// shared lock and reads a per-key index that mutations keep current; mutations
// are serialized and write their file before they change memory (a failed write
// changes nothing).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "iam/credential_source.h"
#include "iam/principal.h"
#include "iam/service_roles.h"

namespace hydrant::iam {

// IAM's error codes, carried as Status::error_code().
inline constexpr std::string_view kNoSuchEntity = "NoSuchEntity";
inline constexpr std::string_view kEntityAlreadyExists = "EntityAlreadyExists";
inline constexpr std::string_view kLimitExceeded = "LimitExceeded";
inline constexpr std::string_view kDeleteConflict = "DeleteConflict";
inline constexpr std::string_view kMalformedPolicyDocument = "MalformedPolicyDocument";
inline constexpr std::string_view kInvalidInput = "InvalidInput";
inline constexpr std::string_view kAccessDenied = "AccessDenied";

// IAM's quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
// policy sizes count characters other than white space, as IAM does.
struct IamLimits {
  int users = 5000;
  int roles = 1000;
  int managed_policies = 1500;
  int keys_per_user = 2;
  int attached_policies = 10;     // per user and per role
  int user_inline_chars = 2048;   // all inline policies of a user together
  int role_inline_chars = 10240;  // all inline policies of a role together
  int managed_policy_chars = 6144;
  int trust_policy_chars = 2048;
  // hydrant's own bound (STS has none it documents): unexpired sessions.
  int active_sessions = 10000;
};

// Checks a policy document; a non-OK Status's message becomes
// MalformedPolicyDocument's. `trust_policy` is true for AssumeRolePolicyDocument.
using PolicyValidator = std::function<Status(std::string_view doc, bool trust_policy)>;
// Whether `caller` may assume the role (its trust policy evaluated for sts:AssumeRole).
using AssumeCheck = std::function<bool(const Principal& caller, const std::string& role_arn,
                                       const std::string& trust_policy_json)>;

// An expired session is remembered this long after its expiry (counted in the
// active-session bound), so that its key is answered ExpiredToken, as AWS
// answers it, rather than as an unknown key.
inline constexpr int64_t kExpiredSessionMemoryMs = 60 * 60 * 1000;

struct IdentityStoreOptions {
  std::string dir;  // <data_dir>/iam
  std::string account_id = "000000000000";
  const Clock* clock = &SystemClock::Get();
  PolicyValidator validate_policy;  // null: every document is accepted
  IamLimits limits;
};

struct Tag {
  std::string key;
  std::string value;
};

struct AccessKeyInfo {
  std::string user_name;
  std::string access_key_id;
  std::string secret_access_key;  // only filled by CreateAccessKey
  bool active = true;
  int64_t create_ms = 0;
};

struct UserInfo {
  std::string name, path, id, arn;
  int64_t create_ms = 0;
  std::vector<Tag> tags;
  bool from_config = false;
};

struct RoleInfo {
  std::string name, path, id, arn;
  int64_t create_ms = 0;
  std::string trust_policy;
  std::string description;
  int max_session_seconds = 3600;
  std::vector<Tag> tags;
};

struct PolicyInfo {
  std::string name, path, id, arn;
  std::string description;
  std::string document;  // the default (and only) version, v1
  int64_t create_ms = 0;
  int attachment_count = 0;
  std::vector<Tag> tags;
};

struct AttachedPolicy {
  std::string name;
  std::string arn;
};

struct SessionCredentials {
  std::string access_key_id;  // ASIA...
  std::string secret_access_key;
  std::string session_token;
  int64_t expires_ms = 0;
  // AssumeRole only: AROA...:SESSION and arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
  std::string assumed_role_id;
  std::string assumed_role_arn;
};

// A [[auth.users]] entry of the configuration (app::Config::AuthUser).
struct ConfigUser {
  std::string name;
  std::string access_key_id;
  std::string secret_access_key;
  std::string policy;  // inline policy "config"; empty = none
  bool root = false;
};

// Users and roles carry the same policy machinery.
enum class EntityKind { kUser, kRole };

class IdentityStore final : public CredentialSource, public ServiceRoles {
 public:
  // Opens (creating) the folder and loads it; expired sessions are deleted.
  static Result<std::unique_ptr<IdentityStore>> Open(IdentityStoreOptions options);
  ~IdentityStore() override;

  // CredentialSource.
  std::optional<KeyLookup> Lookup(std::string_view access_key_id) const override;

  // ServiceRoles: the role's trust policy decides (iam::MayAssumeRole with the
  // service as the caller); no credentials are made.
  Result<Principal> ServiceSession(std::string_view service,
                                   std::string_view role_arn) const override;

  // Creates or updates each entry (docs/security.md: config users). A root entry
  // is kept in memory only: its key signs as the account's root user.
  Status ApplyConfigUsers(const std::vector<ConfigUser>& users);

  const std::string& account_id() const { return options_.account_id; }
  const IamLimits& limits() const { return options_.limits; }
  int64_t NowMillis() const { return options_.clock->NowMillis(); }

  // Users. Names are unique regardless of case and found regardless of case.
  Result<UserInfo> CreateUser(std::string_view name, std::string_view path, std::vector<Tag> tags);
  Result<UserInfo> GetUser(std::string_view name) const;
  std::vector<UserInfo> ListUsers() const;  // sorted by name, case-insensitively
  Status DeleteUser(std::string_view name);

  // Access keys.
  Result<AccessKeyInfo> CreateAccessKey(std::string_view user);
  Result<std::vector<AccessKeyInfo>> ListAccessKeys(std::string_view user) const;
  Status UpdateAccessKey(std::string_view user, std::string_view key_id, bool active);
  Status DeleteAccessKey(std::string_view user, std::string_view key_id);
  // The user an access key belongs to (CreateAccessKey and friends without UserName).
  std::optional<std::string> UserOfAccessKey(std::string_view key_id) const;

  // Inline and attached policies of users and roles.
  Status PutInlinePolicy(EntityKind kind, std::string_view entity, std::string_view policy_name,
                         std::string_view document);
  Result<std::string> GetInlinePolicy(EntityKind kind, std::string_view entity,
                                      std::string_view policy_name) const;
  Status DeleteInlinePolicy(EntityKind kind, std::string_view entity, std::string_view policy_name);
  Result<std::vector<std::string>> ListInlinePolicies(EntityKind kind,
                                                      std::string_view entity) const;
  Status AttachPolicy(EntityKind kind, std::string_view entity, std::string_view policy_arn);
  Status DetachPolicy(EntityKind kind, std::string_view entity, std::string_view policy_arn);
  Result<std::vector<AttachedPolicy>> ListAttachedPolicies(EntityKind kind,
                                                           std::string_view entity) const;

  // Managed policies (customer managed; one version).
  Result<PolicyInfo> CreatePolicy(std::string_view name, std::string_view path,
                                  std::string_view document, std::string_view description,
                                  std::vector<Tag> tags);
  Result<PolicyInfo> GetPolicy(std::string_view arn) const;
  std::vector<PolicyInfo> ListPolicies() const;  // sorted by name
  Status DeletePolicy(std::string_view arn);

  // Roles.
  Result<RoleInfo> CreateRole(std::string_view name, std::string_view path,
                              std::string_view trust_policy, std::string_view description,
                              int max_session_seconds, std::vector<Tag> tags);
  Result<RoleInfo> GetRole(std::string_view name) const;
  std::vector<RoleInfo> ListRoles() const;  // sorted by name
  Status DeleteRole(std::string_view name);
  Status UpdateAssumeRolePolicy(std::string_view name, std::string_view trust_policy);

  // STS. AssumeRole: `duration_seconds` must lie in 900..the role's
  // MaxSessionDuration (InvalidInput otherwise, with STS's message); refused with
  // kAccessDenied when `may_assume` says no (null: allowed).
  Result<SessionCredentials> AssumeRole(const Principal& caller, std::string_view role_arn,
                                        std::string_view session_name, int duration_seconds,
                                        const AssumeCheck& may_assume);
  // Credentials acting as `caller` (a user, or root); 900..129600 seconds.
  Result<SessionCredentials> GetSessionToken(const Principal& caller, int duration_seconds);
  // Unexpired sessions (tests, metrics).
  size_t ActiveSessions() const;

 private:
  struct Entity;
  struct User;
  struct Role;
  struct Managed;
  struct Session;
  struct State;

  explicit IdentityStore(IdentityStoreOptions options);
  Status Load();

  // The index (mu_ held exclusively).
  std::vector<std::string> PoliciesOf(const Entity& e) const;
  void IndexUser(const User& u);
  void IndexRole(const Role& r);
  void IndexSession(const Session& ses, const Principal& owner);
  void RebuildIndex();
  Principal RootPrincipal() const;

  // Files, then memory: a failed write changes nothing.
  Status WriteFile(std::string_view sub, const std::string& id, const std::string& data);
  Status RemoveFile(std::string_view sub, const std::string& id);
  Status CommitUser(User u);
  Status CommitRole(Role r);
  void DropSessionsOf(const std::string& owner_id);
  void PurgeExpired();
  Result<Session> NewSession(int duration_seconds);

  UserInfo InfoOf(const User& u) const;
  RoleInfo InfoOf(const Role& r) const;
  PolicyInfo InfoOf(const Managed& m, const std::unordered_map<std::string, int>& counts) const;
  std::unordered_map<std::string, int> AttachmentCounts() const;
  const Managed* FindPolicy(std::string_view arn) const;
  const Entity* FindEntity(EntityKind kind, std::string_view name) const;
  Status ValidatePolicy(std::string_view doc, bool trust) const;
  Status CheckTrustPolicy(std::string_view doc) const;

  IdentityStoreOptions options_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<State> state_;
};

// The number of characters IAM counts in a policy: all but white space.
size_t PolicySize(std::string_view doc);

}  // namespace hydrant::iam
