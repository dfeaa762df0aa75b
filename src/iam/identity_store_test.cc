#include "iam/identity_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "testing/temp_dir.h"

namespace hydrant::iam {
namespace {

constexpr std::string_view kDoc =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})";
constexpr std::string_view kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]})";
constexpr int64_t kT0 = 1'800'000'000'000;

class IdentityStoreTest : public ::testing::Test {
 protected:
  IdentityStoreOptions Options() {
    IdentityStoreOptions o;
    o.dir = dir_.Sub("iam");
    o.account_id = "111122223333";
    o.clock = &clock_;
    o.validate_policy = [this](std::string_view doc, bool trust) -> Status {
      last_trust_ = trust;
      if (doc.empty() || doc.front() != '{')
        return Status::InvalidArgument("Syntax errors in policy.");
      return Status::Ok();
    };
    o.limits = limits_;
    return o;
  }
  std::unique_ptr<IdentityStore> Open() {
    auto s = IdentityStore::Open(Options());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static unsigned Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  testing::TempDir dir_;
  FakeClock clock_{kT0};
  IamLimits limits_;
  bool last_trust_ = false;
};

TEST_F(IdentityStoreTest, UserKeysAndPoliciesSurviveReopen) {
  std::string key_id, secret, user_id;
  {
    auto s = Open();
    auto u = s->CreateUser("alice", "/team/", {{"dept", "eng"}});
    ASSERT_TRUE(u.ok());
    user_id = u->id;
    EXPECT_EQ(u->arn, "arn:aws:iam::111122223333:user/team/alice");
    EXPECT_TRUE(u->id.starts_with("AIDA"));
    EXPECT_EQ(u->id.size(), 21u);
    EXPECT_EQ(u->create_ms, kT0);
    auto k = s->CreateAccessKey("alice");
    ASSERT_TRUE(k.ok());
    key_id = k->access_key_id;
    secret = k->secret_access_key;
    EXPECT_TRUE(key_id.starts_with("AKIA"));
    EXPECT_EQ(key_id.size(), 20u);
    EXPECT_EQ(secret.size(), 40u);
    ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "alice", "inline", kDoc).ok());
    ASSERT_TRUE(s->CreatePolicy("managed", "/", R"({"m":1})", "d", {}).ok());
    ASSERT_TRUE(
        s->AttachPolicy(EntityKind::kUser, "alice", "arn:aws:iam::111122223333:policy/managed")
            .ok());
  }
  auto s = Open();
  auto u = s->GetUser("ALICE");  // found regardless of case
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->id, user_id);
  EXPECT_EQ(u->path, "/team/");
  ASSERT_EQ(u->tags.size(), 1u);
  EXPECT_EQ(u->tags[0].value, "eng");
  auto l = s->Lookup(key_id);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->secret_access_key, secret);
  EXPECT_TRUE(l->active);
  EXPECT_EQ(l->expires_ms, 0);
  EXPECT_TRUE(l->session_token.empty());
  EXPECT_EQ(l->principal.kind, Principal::Kind::kUser);
  EXPECT_EQ(l->principal.arn, "arn:aws:iam::111122223333:user/team/alice");
  EXPECT_EQ(l->principal.user_name, "alice");
  EXPECT_EQ(l->principal.user_id, user_id);
  EXPECT_EQ(l->principal.account_id, "111122223333");
  EXPECT_EQ(l->principal.access_key_id, key_id);
  // Inline first (by name), then attached managed policies' default versions.
  ASSERT_EQ(l->principal.policy_documents.size(), 2u);
  EXPECT_EQ(l->principal.policy_documents[0], kDoc);
  EXPECT_EQ(l->principal.policy_documents[1], R"({"m":1})");
  EXPECT_FALSE(s->Lookup("AKIANOSUCHKEY0000000").has_value());
}

TEST_F(IdentityStoreTest, FilesArePrivate) {
  auto s = Open();
  auto u = s->CreateUser("bob", "/", {});
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(s->CreateAccessKey("bob").ok());
  EXPECT_EQ(Mode(dir_.Sub("iam")), 0700u);
  EXPECT_EQ(Mode(dir_.Sub("iam/users")), 0700u);
  EXPECT_EQ(Mode(dir_.Sub("iam/sessions")), 0700u);
  EXPECT_EQ(Mode(dir_.Sub("iam/users/" + u->id + ".json")), 0600u);
  auto r = s->CreateRole("r", "/", kTrust, "", 3600, {});
  ASSERT_TRUE(r.ok());
  auto c = s->AssumeRole(Principal{}, r->arn, "sess", 900, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Mode(dir_.Sub("iam/sessions/" + c->access_key_id + ".json")), 0600u);
  EXPECT_EQ(Mode(dir_.Sub("iam/roles/" + r->id + ".json")), 0600u);
}

TEST_F(IdentityStoreTest, InterruptedWriteLeavesTheOldStateAndTheTempFileIsDropped) {
  std::string id;
  {
    auto s = Open();
    auto u = s->CreateUser("carol", "/", {});
    ASSERT_TRUE(u.ok());
    id = u->id;
  }
  // A crash between writing the temp file and the rename.
  std::string tmp = dir_.Sub("iam/users/" + id + ".json.tmp");
  { std::ofstream(tmp) << "{\"half"; }
  auto s = Open();
  EXPECT_TRUE(s->GetUser("carol").ok());
  EXPECT_FALSE(fs::Exists(tmp));
}

TEST_F(IdentityStoreTest, DamagedFileFailsOpenNamingIt) {
  std::string id;
  {
    auto s = Open();
    id = s->CreateUser("dave", "/", {})->id;
  }
  { std::ofstream(dir_.Sub("iam/users/" + id + ".json")) << "not json"; }
  auto s = IdentityStore::Open(Options());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find(id), std::string::npos);
}

TEST_F(IdentityStoreTest, ErrorsCarryIamCodesAndMessages) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("erin", "/", {}).ok());
  auto dup = s->CreateUser("ERIN", "/", {});
  EXPECT_EQ(dup.status().error_code(), kEntityAlreadyExists);
  EXPECT_EQ(dup.status().message(), "User with name ERIN already exists.");
  auto missing = s->GetUser("nobody");
  EXPECT_EQ(missing.status().error_code(), kNoSuchEntity);
  EXPECT_EQ(missing.status().message(), "The user with name nobody cannot be found.");
  Status bad = s->PutInlinePolicy(EntityKind::kUser, "erin", "p", "not-json");
  EXPECT_EQ(bad.error_code(), kMalformedPolicyDocument);
  EXPECT_EQ(bad.message(), "Syntax errors in policy.");
  EXPECT_FALSE(last_trust_);
  auto role = s->CreateRole("r", "/", "nope", "", 3600, {});
  EXPECT_EQ(role.status().error_code(), kMalformedPolicyDocument);
  EXPECT_TRUE(last_trust_);
  EXPECT_EQ(s->GetInlinePolicy(EntityKind::kUser, "erin", "p").status().message(),
            "The user policy with name p cannot be found.");
  EXPECT_EQ(
      s->AttachPolicy(EntityKind::kUser, "erin", "arn:aws:iam::111122223333:policy/x").message(),
      "Policy arn:aws:iam::111122223333:policy/x does not exist or is not attachable.");
}

TEST_F(IdentityStoreTest, DeleteUserConflictsUntilKeysAndPoliciesAreGone) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("frank", "/", {}).ok());
  auto k = s->CreateAccessKey("frank");
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "frank", "p", kDoc).ok());
  auto p = s->CreatePolicy("m", "/", kDoc, "", {});
  ASSERT_TRUE(s->AttachPolicy(EntityKind::kUser, "frank", p->arn).ok());
  Status st = s->DeleteUser("frank");
  EXPECT_EQ(st.error_code(), kDeleteConflict);
  EXPECT_EQ(st.message(), "Cannot delete entity, must delete access keys first.");
  ASSERT_TRUE(s->DeleteAccessKey("frank", k->access_key_id).ok());
  EXPECT_FALSE(s->Lookup(k->access_key_id).has_value());
  EXPECT_EQ(s->DeleteUser("frank").message(), "Cannot delete entity, must delete policies first.");
  ASSERT_TRUE(s->DeleteInlinePolicy(EntityKind::kUser, "frank", "p").ok());
  EXPECT_EQ(s->DeleteUser("frank").message(),
            "Cannot delete entity, must detach all policies first.");
  EXPECT_EQ(s->DeletePolicy(p->arn).error_code(), kDeleteConflict);
  EXPECT_EQ(s->GetPolicy(p->arn)->attachment_count, 1);
  ASSERT_TRUE(s->DetachPolicy(EntityKind::kUser, "frank", p->arn).ok());
  EXPECT_TRUE(s->DeleteUser("frank").ok());
  EXPECT_TRUE(s->DeletePolicy(p->arn).ok());
  auto reopened = Open();
  EXPECT_FALSE(reopened->GetUser("frank").ok());
  EXPECT_FALSE(reopened->GetPolicy(p->arn).ok());
}

TEST_F(IdentityStoreTest, InactiveKeyLooksUpInactive) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("gina", "/", {}).ok());
  auto k = s->CreateAccessKey("gina");
  ASSERT_TRUE(s->UpdateAccessKey("gina", k->access_key_id, false).ok());
  EXPECT_FALSE(s->Lookup(k->access_key_id)->active);
  EXPECT_FALSE(Open()->Lookup(k->access_key_id)->active);  // durable
  EXPECT_EQ(s->UpdateAccessKey("gina", "AKIAXXXXXXXXXXXXXXXX", true).message(),
            "The Access Key with id AKIAXXXXXXXXXXXXXXXX cannot be found.");
}

TEST_F(IdentityStoreTest, PolicyVersionChangesWithThePolicies) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("hal", "/", {}).ok());
  auto k = s->CreateAccessKey("hal");
  uint64_t v0 = s->Lookup(k->access_key_id)->principal.policy_version;
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "hal", "p", kDoc).ok());
  auto l1 = s->Lookup(k->access_key_id);
  EXPECT_NE(l1->principal.policy_version, v0);
  EXPECT_EQ(l1->principal.policy_documents.size(), 1u);
  ASSERT_TRUE(s->DeleteInlinePolicy(EntityKind::kUser, "hal", "p").ok());
  auto l2 = s->Lookup(k->access_key_id);
  EXPECT_NE(l2->principal.policy_version, l1->principal.policy_version);
  EXPECT_TRUE(l2->principal.policy_documents.empty());
}

// ---- bounds --------------------------------------------------------------------------

TEST_F(IdentityStoreTest, DefaultLimitsAreIamsQuotas) {
  IamLimits l;
  EXPECT_EQ(l.users, 5000);
  EXPECT_EQ(l.roles, 1000);
  EXPECT_EQ(l.managed_policies, 1500);
  EXPECT_EQ(l.keys_per_user, 2);
  EXPECT_EQ(l.attached_policies, 10);
  EXPECT_EQ(l.user_inline_chars, 2048);
  EXPECT_EQ(l.role_inline_chars, 10240);
  EXPECT_EQ(l.managed_policy_chars, 6144);
  EXPECT_EQ(l.trust_policy_chars, 2048);
}

TEST_F(IdentityStoreTest, CountBoundsAnswerLimitExceeded) {
  limits_.users = 3;
  limits_.roles = 2;
  limits_.managed_policies = 2;
  auto s = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s->CreateUser("u" + std::to_string(i), "/", {}).ok());
  auto u = s->CreateUser("u3", "/", {});
  EXPECT_EQ(u.status().error_code(), kLimitExceeded);
  EXPECT_EQ(u.status().message(), "Cannot exceed quota for UsersPerAccount: 3.");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(s->CreateRole("r" + std::to_string(i), "/", kTrust, "", 3600, {}).ok());
    ASSERT_TRUE(s->CreatePolicy("p" + std::to_string(i), "/", kDoc, "", {}).ok());
  }
  EXPECT_EQ(s->CreateRole("r2", "/", kTrust, "", 3600, {}).status().message(),
            "Cannot exceed quota for RolesPerAccount: 2.");
  EXPECT_EQ(s->CreatePolicy("p2", "/", kDoc, "", {}).status().message(),
            "Cannot exceed quota for PoliciesPerAccount: 2.");
  // Deleting one makes room again.
  ASSERT_TRUE(s->DeleteUser("u0").ok());
  EXPECT_TRUE(s->CreateUser("u3", "/", {}).ok());
}

TEST_F(IdentityStoreTest, TwoKeysPerUserAndTenAttachedPolicies) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("ivy", "/", {}).ok());
  ASSERT_TRUE(s->CreateRole("role", "/", kTrust, "", 3600, {}).ok());
  ASSERT_TRUE(s->CreateAccessKey("ivy").ok());
  ASSERT_TRUE(s->CreateAccessKey("ivy").ok());
  auto third = s->CreateAccessKey("ivy");
  EXPECT_EQ(third.status().error_code(), kLimitExceeded);
  EXPECT_EQ(third.status().message(), "Cannot exceed quota for AccessKeysPerUser: 2.");
  std::vector<std::string> arns;
  for (int i = 0; i < 11; ++i) {
    arns.push_back(s->CreatePolicy("p" + std::to_string(i), "/", kDoc, "", {})->arn);
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(s->AttachPolicy(EntityKind::kUser, "ivy", arns[i]).ok());
    ASSERT_TRUE(s->AttachPolicy(EntityKind::kRole, "role", arns[i]).ok());
  }
  EXPECT_TRUE(s->AttachPolicy(EntityKind::kUser, "ivy", arns[0]).ok());  // again: no-op
  EXPECT_EQ(s->AttachPolicy(EntityKind::kUser, "ivy", arns[10]).message(),
            "Cannot exceed quota for PoliciesPerUser: 10.");
  EXPECT_EQ(s->AttachPolicy(EntityKind::kRole, "role", arns[10]).message(),
            "Cannot exceed quota for PoliciesPerRole: 10.");
}

// A JSON document of exactly `size` non-white-space characters (plus spaces).
std::string DocOfSize(size_t size) {
  std::string doc = R"({"a":")";
  doc += std::string(size - doc.size() - 2, 'x');
  doc += R"("})";
  return doc + "   \n";  // white space does not count
}

TEST_F(IdentityStoreTest, PolicySizeBoundsCountAllInlinePoliciesTogether) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("jo", "/", {}).ok());
  ASSERT_TRUE(s->CreateRole("role", "/", kTrust, "", 3600, {}).ok());
  EXPECT_EQ(PolicySize(DocOfSize(2048)), 2048u);
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "jo", "a", DocOfSize(2048)).ok());
  // Replacing the same policy is measured without its old text.
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "jo", "a", DocOfSize(1048)).ok());
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "jo", "b", DocOfSize(1000)).ok());
  Status over = s->PutInlinePolicy(EntityKind::kUser, "jo", "c", DocOfSize(10));
  EXPECT_EQ(over.error_code(), kLimitExceeded);
  EXPECT_EQ(over.message(), "Maximum policy size of 2048 bytes exceeded for user jo");
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kRole, "role", "a", DocOfSize(10240)).ok());
  EXPECT_EQ(s->PutInlinePolicy(EntityKind::kRole, "role", "b", DocOfSize(10)).message(),
            "Maximum policy size of 10240 bytes exceeded for role role");
  EXPECT_TRUE(s->CreatePolicy("ok", "/", DocOfSize(6144), "", {}).ok());
  EXPECT_EQ(s->CreatePolicy("big", "/", DocOfSize(6145), "", {}).status().message(),
            "Cannot exceed quota for PolicySize: 6144.");
  EXPECT_TRUE(s->UpdateAssumeRolePolicy("role", DocOfSize(2048)).ok());
  EXPECT_EQ(s->UpdateAssumeRolePolicy("role", DocOfSize(2049)).message(),
            "Cannot exceed quota for ACLSizePerRole: 2048.");
  EXPECT_EQ(s->CreateRole("r2", "/", DocOfSize(2049), "", 3600, {}).status().error_code(),
            kLimitExceeded);
}

// ---- STS -----------------------------------------------------------------------------

TEST_F(IdentityStoreTest, AssumeRoleSessionCarriesTheRolesPoliciesAndExpires) {
  std::string key;
  {
    auto s = Open();
    auto role = s->CreateRole("deployer", "/ci/", kTrust, "", 7200, {});
    ASSERT_TRUE(role.ok());
    EXPECT_TRUE(role->id.starts_with("AROA"));
    ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kRole, "deployer", "p", kDoc).ok());
    Principal caller;
    caller.kind = Principal::Kind::kUser;
    caller.arn = "arn:aws:iam::111122223333:user/alice";
    std::string seen_arn, seen_trust;
    auto c = s->AssumeRole(caller, role->arn, "build-7", 7200,
                           [&](const Principal& p, const std::string& arn, const std::string& t) {
                             EXPECT_EQ(p.arn, caller.arn);
                             seen_arn = arn;
                             seen_trust = t;
                             return true;
                           });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(seen_arn, "arn:aws:iam::111122223333:role/ci/deployer");
    EXPECT_EQ(seen_trust, kTrust);
    EXPECT_TRUE(c->access_key_id.starts_with("ASIA"));
    EXPECT_EQ(c->secret_access_key.size(), 40u);
    EXPECT_FALSE(c->session_token.empty());
    EXPECT_EQ(c->expires_ms, kT0 + 7200 * 1000);
    EXPECT_EQ(c->assumed_role_id, role->id + ":build-7");
    EXPECT_EQ(c->assumed_role_arn, "arn:aws:sts::111122223333:assumed-role/deployer/build-7");
    key = c->access_key_id;
    auto l = s->Lookup(key);
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(l->session_token, c->session_token);
    EXPECT_EQ(l->expires_ms, c->expires_ms);
    EXPECT_EQ(l->principal.kind, Principal::Kind::kAssumedRole);
    EXPECT_EQ(l->principal.arn, c->assumed_role_arn);
    EXPECT_EQ(l->principal.role_arn, "arn:aws:iam::111122223333:role/ci/deployer");
    EXPECT_EQ(l->principal.user_id, c->assumed_role_id);
    EXPECT_EQ(l->principal.policy_documents, std::vector<std::string>{std::string(kDoc)});
    EXPECT_EQ(s->ActiveSessions(), 1u);
  }
  // Survives a restart until it expires; then it is still known (its key is
  // answered ExpiredToken, from expires_ms) for kExpiredSessionMemoryMs, then dropped.
  clock_.Set(kT0 + 7199 * 1000);
  EXPECT_TRUE(Open()->Lookup(key).has_value());
  clock_.Set(kT0 + 7200 * 1000);
  {
    auto s = Open();
    auto l = s->Lookup(key);
    ASSERT_TRUE(l.has_value());
    EXPECT_LE(l->expires_ms, clock_.NowMillis());
    EXPECT_EQ(s->ActiveSessions(), 0u);
  }
  clock_.Set(kT0 + 7200 * 1000 + kExpiredSessionMemoryMs);
  auto s = Open();
  EXPECT_FALSE(s->Lookup(key).has_value());
  EXPECT_FALSE(fs::Exists(dir_.Sub("iam/sessions/" + key + ".json")));
  EXPECT_EQ(s->ActiveSessions(), 0u);
}

TEST_F(IdentityStoreTest, AssumeRoleRefusals) {
  auto s = Open();
  auto role = s->CreateRole("r", "/", kTrust, "", 3600, {});
  Principal caller;
  caller.arn = "arn:aws:iam::111122223333:user/bob";
  auto no = [](const Principal&, const std::string&, const std::string&) { return false; };
  auto denied = s->AssumeRole(caller, role->arn, "s1", 900, no);
  EXPECT_EQ(denied.status().error_code(), kAccessDenied);
  EXPECT_EQ(denied.status().message(),
            "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: "
            "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/r");
  EXPECT_EQ(s->AssumeRole(caller, "arn:aws:iam::111122223333:role/none", "s1", 900, nullptr)
                .status()
                .error_code(),
            kAccessDenied);
  auto too_long = s->AssumeRole(caller, role->arn, "s1", 3601, nullptr);
  EXPECT_EQ(too_long.status().error_code(), "ValidationError");
  EXPECT_EQ(too_long.status().message(),
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  EXPECT_EQ(s->ActiveSessions(), 0u);
}

TEST_F(IdentityStoreTest, SessionsAreBoundedAndExpiredOnesMakeRoom) {
  limits_.active_sessions = 2;
  auto s = Open();
  auto role = s->CreateRole("r", "/", kTrust, "", 3600, {});
  Principal caller;
  ASSERT_TRUE(s->AssumeRole(caller, role->arn, "a1", 900, nullptr).ok());
  ASSERT_TRUE(s->AssumeRole(caller, role->arn, "a2", 1800, nullptr).ok());
  auto third = s->AssumeRole(caller, role->arn, "a3", 900, nullptr);
  EXPECT_EQ(third.status().error_code(), kLimitExceeded);
  clock_.Advance(900 * 1000);  // a1 expires, and is still remembered for a while
  EXPECT_EQ(s->AssumeRole(caller, role->arn, "a3", 900, nullptr).status().error_code(),
            kLimitExceeded);
  clock_.Advance(kExpiredSessionMemoryMs);  // a1 (and a2) forgotten
  EXPECT_TRUE(s->AssumeRole(caller, role->arn, "a3", 900, nullptr).ok());
}

TEST_F(IdentityStoreTest, GetSessionTokenActsAsTheUserAndRootIsLimitedToAnHour) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("kim", "/", {}).ok());
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kUser, "kim", "p", kDoc).ok());
  auto k = s->CreateAccessKey("kim");
  Principal user = s->Lookup(k->access_key_id)->principal;
  auto c = s->GetSessionToken(user, 43200);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->expires_ms, kT0 + 43200 * 1000);
  auto l = s->Lookup(c->access_key_id);
  EXPECT_EQ(l->principal.kind, Principal::Kind::kFederated);
  EXPECT_EQ(l->principal.arn, "arn:aws:iam::111122223333:user/kim");
  EXPECT_EQ(l->principal.user_name, "kim");
  EXPECT_EQ(l->principal.policy_documents.size(), 1u);
  // A session cannot make another.
  EXPECT_EQ(s->GetSessionToken(l->principal, 900).status().error_code(), kAccessDenied);
  Principal root;
  root.kind = Principal::Kind::kRoot;
  auto r = s->GetSessionToken(root, 43200);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expires_ms, kT0 + 3600 * 1000);
  EXPECT_EQ(s->Lookup(r->access_key_id)->principal.kind, Principal::Kind::kRoot);
}

TEST_F(IdentityStoreTest, DeletingARoleEndsItsSessions) {
  auto s = Open();
  auto role = s->CreateRole("r", "/", kTrust, "", 3600, {});
  auto c = s->AssumeRole(Principal{}, role->arn, "s", 900, nullptr);
  ASSERT_TRUE(s->DeleteRole("r").ok());
  EXPECT_FALSE(s->Lookup(c->access_key_id).has_value());
  EXPECT_FALSE(Open()->Lookup(c->access_key_id).has_value());
}

// ---- configuration users ---------------------------------------------------------------

TEST_F(IdentityStoreTest, ConfigUsersAreCreatedUpdatedAndProtected) {
  {
    auto s = Open();
    ASSERT_TRUE(
        s->ApplyConfigUsers({{"admin", "AKIAADMIN00000000000", "rootsecret", "", true},
                             {"writer", "AKIAWRITER0000000000", "s1", std::string(kDoc), false}})
            .ok());
    auto root = s->Lookup("AKIAADMIN00000000000");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(root->principal.kind, Principal::Kind::kRoot);
    EXPECT_EQ(root->principal.arn, "arn:aws:iam::111122223333:root");
    EXPECT_EQ(root->principal.user_id, "111122223333");
    EXPECT_EQ(root->secret_access_key, "rootsecret");
    EXPECT_FALSE(s->GetUser("admin").ok());  // root is not a user
    auto w = s->Lookup("AKIAWRITER0000000000");
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->principal.kind, Principal::Kind::kUser);
    EXPECT_EQ(w->principal.user_name, "writer");
    EXPECT_EQ(s->GetInlinePolicy(EntityKind::kUser, "writer", "config").value(), kDoc);
    EXPECT_TRUE(s->GetUser("writer")->from_config);
    // The API cannot delete them, nor their configured key.
    EXPECT_EQ(s->DeleteUser("writer").error_code(), kDeleteConflict);
    EXPECT_EQ(s->DeleteAccessKey("writer", "AKIAWRITER0000000000").error_code(), kInvalidInput);
    // But may change them; the next start puts the configuration back.
    ASSERT_TRUE(s->UpdateAccessKey("writer", "AKIAWRITER0000000000", false).ok());
    ASSERT_TRUE(s->CreateAccessKey("writer").ok());
  }
  {
    auto s = Open();
    ASSERT_TRUE(s->ApplyConfigUsers({{"writer", "AKIAWRITER0000000000", "s2", "", false}}).ok());
    auto w = s->Lookup("AKIAWRITER0000000000");
    EXPECT_EQ(w->secret_access_key, "s2");
    EXPECT_TRUE(w->active);
    EXPECT_FALSE(s->GetInlinePolicy(EntityKind::kUser, "writer", "config").ok());
    EXPECT_FALSE(s->Lookup("AKIAADMIN00000000000").has_value());  // root entry gone
    EXPECT_EQ(s->ListAccessKeys("writer")->size(), 2u);           // the API's key stays
  }
  // Leaving the configuration: the configured key goes, the user stays, deletable.
  auto s = Open();
  ASSERT_TRUE(s->ApplyConfigUsers({}).ok());
  EXPECT_FALSE(s->Lookup("AKIAWRITER0000000000").has_value());
  ASSERT_TRUE(s->GetUser("writer").ok());
  EXPECT_FALSE(s->GetUser("writer")->from_config);
  EXPECT_EQ(s->ListAccessKeys("writer")->size(), 1u);
}

TEST_F(IdentityStoreTest, ConfigKeyOfAnotherIdentityIsRefused) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("x", "/", {}).ok());
  auto k = s->CreateAccessKey("x");
  Status st = s->ApplyConfigUsers({{"y", k->access_key_id, "secret", "", false}});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("secret"), std::string::npos);
  Status bad = s->ApplyConfigUsers({{"z", "AKIAZ000000000000000", "zsecret", "nope", false}});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("Syntax errors in policy."), std::string::npos);
  EXPECT_EQ(bad.message().find("zsecret"), std::string::npos);
}

// Lookup runs on every request while the API changes the store: readers always
// see a whole entry (its secret matches the key they asked for).
TEST_F(IdentityStoreTest, LookupIsSafeWhileTheStoreChanges) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser("busy", "/", {}).ok());
  auto k = s->CreateAccessKey("busy");
  const std::string key = k->access_key_id, secret = k->secret_access_key;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto l = s->Lookup(key);
        if (!l || l->secret_access_key != secret || l->principal.user_name != "busy") ++bad;
        ++reads;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(
        s->PutInlinePolicy(EntityKind::kUser, "busy", "p" + std::to_string(i % 3), kDoc).ok());
    auto extra = s->CreateAccessKey("busy");
    ASSERT_TRUE(extra.ok());
    ASSERT_TRUE(s->DeleteAccessKey("busy", extra->access_key_id).ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

constexpr std::string_view kFirehoseTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
constexpr std::string_view kWriteBucket =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]})";

TEST_F(IdentityStoreTest, ServiceSessionNeedsARoleThatTrustsTheService) {
  auto s = Open();
  ASSERT_TRUE(s->CreateRole("delivery", "/svc/", kFirehoseTrust, "", 3600, {}).ok());
  ASSERT_TRUE(s->PutInlinePolicy(EntityKind::kRole, "delivery", "w", kWriteBucket).ok());
  const std::string acct = s->account_id();
  const std::string account_trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::)" +
      acct + R"(:root"},"Action":"sts:AssumeRole"}]})";
  ASSERT_TRUE(s->CreateRole("users-only", "/", account_trust, "", 3600, {}).ok());

  auto p = s->ServiceSession(kFirehoseService, "arn:aws:iam::" + acct + ":role/svc/delivery");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, Principal::Kind::kAssumedRole);
  EXPECT_EQ(p->arn, "arn:aws:sts::" + acct + ":assumed-role/delivery/firehose");
  EXPECT_EQ(p->role_arn, "arn:aws:iam::" + acct + ":role/svc/delivery");
  ASSERT_EQ(p->policy_documents.size(), 1u);
  EXPECT_EQ(p->policy_documents[0], kWriteBucket);

  // A trust policy naming the account's principals does not let a service in.
  auto other = s->ServiceSession(kFirehoseService, "arn:aws:iam::" + acct + ":role/users-only");
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().error_code(), kAccessDenied);
  // Nor another service.
  EXPECT_EQ(s->ServiceSession("lambda.amazonaws.com", "arn:aws:iam::" + acct + ":role/svc/delivery")
                .status()
                .error_code(),
            kAccessDenied);
  // Missing roles, and ARNs with the wrong path or account, are not found.
  for (const std::string& arn :
       {"arn:aws:iam::" + acct + ":role/nope", "arn:aws:iam::" + acct + ":role/delivery",
        std::string("arn:aws:iam::999999999999:role/svc/delivery")}) {
    auto r = s->ServiceSession(kFirehoseService, arn);
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << arn;
    EXPECT_EQ(r.status().error_code(), kNoSuchEntity) << arn;
  }
  // Trust is read at each call: updating it takes effect at once.
  ASSERT_TRUE(s->UpdateAssumeRolePolicy("users-only", kFirehoseTrust).ok());
  EXPECT_TRUE(s->ServiceSession(kFirehoseService, "arn:aws:iam::" + acct + ":role/users-only").ok());
}

}  // namespace
}  // namespace hydrant::iam
