#include "kms/key_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/request_id.h"
#include "iam/policy.h"
#include "kms/crypto.h"
#include "kms/key_policy.h"

namespace hydrant::kms {

namespace {

constexpr unsigned kFileMode = 0600;
constexpr unsigned kDirMode = 0700;
constexpr std::string_view kKeysDir = "keys";
constexpr std::string_view kAliasesFile = "aliases.json";
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

Status Err(StatusCode code, std::string_view aws_code, std::string message) {
  return Status(code, std::move(message)).WithErrorCode(aws_code);
}
Status NotFound(std::string m) { return Err(StatusCode::kNotFound, kNotFoundException, std::move(m)); }
Status InvalidCiphertext() {
  // AWS answers InvalidCiphertextException without a message.
  return Err(StatusCode::kInvalidArgument, kInvalidCiphertextException, "");
}
Status Internal(const Status& st) {
  return Err(StatusCode::kIoError, kInternalException, st.message());
}

Status MakeDir(const std::string& d) {
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(d));
  if (::chmod(d.c_str(), kDirMode) != 0) return Status::FromErrno("chmod " + d, errno);
  return Status::Ok();
}

}  // namespace

KeyStore::KeyStore(KeyStoreOptions options) : options_(std::move(options)) {
  if (options_.master_key_file.empty()) options_.master_key_file = options_.dir + "/master.key";
}

KeyStore::~KeyStore() = default;

Result<std::unique_ptr<KeyStore>> KeyStore::Open(KeyStoreOptions options) {
  std::unique_ptr<KeyStore> s(new KeyStore(std::move(options)));
  HYDRANT_RETURN_IF_ERROR(s->Load());
  return s;
}

std::string KeyStore::KeyArn(std::string_view id) const {
  return options_.account.Arn("kms", "key/" + std::string(id));
}

std::string KeyStore::AliasArn(std::string_view name) const {
  return options_.account.Arn("kms", std::string(name));
}

std::string KeyStore::KeyPath(std::string_view id) const {
  return options_.dir + "/" + std::string(kKeysDir) + "/" + std::string(id) + ".json";
}

Status KeyStore::Load() {
  const std::string& dir = options_.dir;
  HYDRANT_RETURN_IF_ERROR(MakeDir(dir));
  HYDRANT_RETURN_IF_ERROR(MakeDir(dir + "/" + std::string(kKeysDir)));
  const std::string& mk = options_.master_key_file;

  // The stored keys first: a missing master key file with keys stored is a
  // wrong path, not a first start.
  auto names = fs::ReadDir(dir + "/" + std::string(kKeysDir));
  if (!names.ok()) return names.status();
  std::vector<std::pair<std::string, KeyRecord>> records;
  for (const std::string& n : *names) {
    const std::string path = dir + "/" + std::string(kKeysDir) + "/" + n;
    if (!n.ends_with(".json")) {
      (void)::unlink(path.c_str());  // an interrupted write's temp file: never renamed in
      continue;
    }
    auto text = fs::ReadFile(path, kMaxKeyFileBytes + 1);
    if (!text.ok()) return text.status();
    auto rec = ParseKeyRecord(*text);
    if (!rec.ok()) return Status::Corruption(path + ": " + rec.status().message());
    if (n != rec->meta.key_id + ".json") {
      return Status::Corruption(path + ": holds key " + rec->meta.key_id);
    }
    records.emplace_back(path, std::move(rec).value());
  }

  if (!fs::Exists(mk)) {
    if (!records.empty()) {
      return Status::InvalidArgument(
          "the KMS master key file " + mk + " does not exist, but " + std::to_string(records.size()) +
          " KMS keys are stored in " + dir +
          "/keys under a master key: restore that file (or set [kms] master_key_file to where it is)");
    }
    const std::string key = RandomBytes(kAesKeyBytes);
    const size_t slash = mk.rfind('/');
    if (slash != std::string::npos && slash > 0) HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(mk.substr(0, slash)));
    HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(mk, SerializeMasterKey(key), kFileMode));
    spdlog::info("event=kms_master_key_created file={}", mk);
  }
  auto text = fs::ReadFile(mk, 4096);
  if (!text.ok()) return Status(text.status().code(), "the KMS master key file " + mk + ": " + text.status().message());
  auto master = ParseMasterKey(*text);
  if (!master.ok()) {
    return Status::InvalidArgument("the KMS master key file " + mk + " is not valid: " +
                                   master.status().message());
  }
  master_ = std::move(master).value();
  fingerprint_ = MasterKeyFingerprint(master_);

  int64_t next = INT64_MAX;
  for (auto& [path, rec] : records) {
    if (rec.master_fingerprint != fingerprint_) {
      return Status::InvalidArgument(
          "the KMS master key in " + mk + " (fingerprint " + fingerprint_ +
          ") is not the one the KMS keys were stored under (fingerprint " + rec.master_fingerprint +
          ", " + path + "): hydrant cannot decrypt its keys; give the right master key file "
          "([kms] master_key_file)");
    }
    auto material = OpenMaterial(master_, rec.meta.key_id, rec.sealed_material);
    if (!material) {
      return Status::Corruption(path + ": the key material does not decrypt under the KMS master key " +
                                mk + " (the key file is damaged)");
    }
    Key k;
    k.material = std::move(*material);
    if (!rec.meta.aws_owned) {
      auto policy = ParseKeyPolicy(rec.policy);
      if (policy.ok()) {
        k.policy = std::move(policy).value();
      } else {
        // Denies everything until replaced (it could hold a Deny).
        spdlog::warn("event=kms_key_policy_unparsable key={} error=\"{}\"", rec.meta.key_id,
                     policy.status().message());
      }
    } else {
      owned_[rec.meta.description] = rec.meta.key_id;
    }
    if (rec.meta.state == KeyState::kPendingDeletion) next = std::min(next, rec.meta.deletion_ms);
    rec.meta.arn = KeyArn(rec.meta.key_id);
    k.record = std::move(rec);
    std::string id = k.record.meta.key_id;
    keys_.emplace(std::move(id), std::move(k));
  }
  next_deletion_ms_ = next;

  const std::string aliases_path = dir + "/" + std::string(kAliasesFile);
  if (fs::Exists(aliases_path)) {
    auto atext = fs::ReadFile(aliases_path, kMaxKeyFileBytes + 1);
    if (!atext.ok()) return atext.status();
    auto aliases = ParseAliases(*atext);
    if (!aliases.ok()) return Status::Corruption(aliases_path + ": " + aliases.status().message());
    for (AliasRecord& a : *aliases) {
      if (keys_.count(a.key_id) == 0) continue;  // its key was deleted
      std::string name = a.name;
      aliases_.emplace(std::move(name), std::move(a));
    }
  }
  for (const std::string& n : fs::ListDir(dir)) {
    if (n.starts_with(std::string(kAliasesFile)) && n != kAliasesFile) {
      (void)::unlink((dir + "/" + n).c_str());  // a temp file of an interrupted write
    }
  }
  Sweep();
  return Status::Ok();
}

void KeyStore::Sweep() const {
  const int64_t now = Now();
  if (next_deletion_ms_.load() > now) return;
  std::unique_lock lock(mu_);
  int64_t next = INT64_MAX;
  bool aliases_changed = false;
  for (auto it = keys_.begin(); it != keys_.end();) {
    const KeyMetadata& m = it->second.record.meta;
    if (m.state != KeyState::kPendingDeletion) {
      ++it;
      continue;
    }
    if (m.deletion_ms > now) {
      next = std::min(next, m.deletion_ms);
      ++it;
      continue;
    }
    const std::string path = KeyPath(it->first);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("event=kms_key_delete_failed key={} error=\"{}\"", it->first, std::strerror(errno));
      next = std::min(next, now + 60'000);  // try again later
      ++it;
      continue;
    }
    (void)fs::SyncDir(options_.dir + "/" + std::string(kKeysDir));
    spdlog::info("event=kms_key_deleted key={}", it->first);
    for (auto a = aliases_.begin(); a != aliases_.end();) {
      if (a->second.key_id == it->first) {
        a = aliases_.erase(a);
        aliases_changed = true;
      } else {
        ++a;
      }
    }
    it = keys_.erase(it);
  }
  // Aliases of a deleted key are dropped at load too: a failed write here is harmless.
  if (aliases_changed) (void)WriteAliases(aliases_);
  next_deletion_ms_ = next;
}

Result<const KeyStore::Key*> KeyStore::Find(std::string_view ref, bool allow_alias, bool owned) const {
  std::string_view res = ref;
  const std::string arn_prefix = "arn:aws:kms:";
  if (ref.starts_with("arn:")) {
    // arn:aws:kms:REGION:ACCOUNT:key/ID or :alias/NAME, of this region and account.
    const std::string ours = options_.account.Arn("kms", "");
    const bool is_alias_arn = ref.find(":alias/") != std::string_view::npos;
    if (!ref.starts_with(ours)) {
      if (is_alias_arn && allow_alias) return NotFound("Alias '" + std::string(ref) + "' is not found.");
      return NotFound("Key '" + std::string(ref) + "' does not exist");
    }
    res = ref.substr(ours.size());
    if (!res.starts_with("key/") && !res.starts_with("alias/")) {
      return NotFound("Invalid arn " + std::string(ref));
    }
  }
  if (res.starts_with("alias/")) {
    if (!allow_alias) return NotFound("Invalid keyId '" + std::string(ref) + "'");
    auto a = aliases_.find(std::string(res));
    if (a == aliases_.end()) return NotFound("Alias '" + AliasArn(res) + "' is not found.");
    auto k = keys_.find(a->second.key_id);
    if (k == keys_.end()) return NotFound("Alias '" + AliasArn(res) + "' is not found.");
    return &k->second;
  }
  if (res.starts_with("key/")) res.remove_prefix(4);
  if (res.empty() || res.size() > kMaxKeyIdBytes) return NotFound("Invalid keyId '" + std::string(ref) + "'");
  auto k = keys_.find(std::string(res));
  if (k == keys_.end() || (k->second.record.meta.aws_owned && !owned)) {
    return NotFound("Key '" + KeyArn(res) + "' does not exist");
  }
  return &k->second;
}

Status KeyStore::UsableLocked(const Key& k) const {
  switch (k.record.meta.state) {
    case KeyState::kEnabled:
      return Status::Ok();
    case KeyState::kDisabled:
      return Err(StatusCode::kUnavailable, kDisabledException, k.record.meta.arn + " is disabled.");
    case KeyState::kPendingDeletion:
      return Err(StatusCode::kUnavailable, kInvalidStateException,
                 k.record.meta.arn + " is pending deletion.");
  }
  return Status::Internal("unknown key state");
}

Status KeyStore::Store(Key key) {
  HYDRANT_RETURN_IF_ERROR([&]() -> Status {
    Status st = fs::WriteFileAtomic(KeyPath(key.record.meta.key_id), SerializeKeyRecord(key.record), kFileMode);
    return st.ok() ? st : Internal(st);
  }());
  if (key.record.meta.state == KeyState::kPendingDeletion) {
    next_deletion_ms_ = std::min(next_deletion_ms_.load(), key.record.meta.deletion_ms);
  }
  std::string id = key.record.meta.key_id;
  keys_[id] = std::move(key);
  return Status::Ok();
}

Status KeyStore::WriteAliases(const std::map<std::string, AliasRecord>& aliases) const {
  std::vector<AliasRecord> list;
  for (const auto& [name, a] : aliases) list.push_back(a);
  Status st = fs::WriteFileAtomic(options_.dir + "/" + std::string(kAliasesFile), SerializeAliases(list),
                                  kFileMode);
  return st.ok() ? st : Internal(st);
}

// ------------------------------------------------------------- KeyService ---

Result<KeyMetadata> KeyStore::DescribeKey(std::string_view key) const {
  Sweep();
  std::shared_lock lock(mu_);
  auto k = Find(key, true, true);
  if (!k.ok()) return k.status();
  return (*k)->record.meta;
}

Status KeyStore::CheckUsable(std::string_view key) const {
  Sweep();
  std::shared_lock lock(mu_);
  auto k = Find(key, true, true);
  if (!k.ok()) return k.status();
  return UsableLocked(**k);
}

Result<DataKey> KeyStore::SealLocked(std::string_view key, std::string_view plaintext,
                                     const EncryptionContext& context) const {
  auto k = Find(key, true, true);
  if (!k.ok()) return k.status();
  HYDRANT_RETURN_IF_ERROR(UsableLocked(**k));
  DataKey out;
  out.key_arn = (*k)->record.meta.arn;
  out.ciphertext_blob = SealBlob((*k)->record.meta.key_id, (*k)->material, plaintext, context);
  return out;
}

Result<DataKey> KeyStore::GenerateDataKey(std::string_view key, const EncryptionContext& context,
                                          size_t bytes) const {
  if (bytes < 1 || bytes > kMaxDataKeyBytes) {
    return Err(StatusCode::kInvalidArgument, kValidationException,
               "NumberOfBytes must be between 1 and 1024, got " + std::to_string(bytes));
  }
  Sweep();
  std::string plaintext = RandomBytes(bytes);
  std::shared_lock lock(mu_);
  auto out = SealLocked(key, plaintext, context);
  if (!out.ok()) return out.status();
  out->plaintext = std::move(plaintext);
  return out;
}

Result<DataKey> KeyStore::Encrypt(std::string_view key, std::string_view plaintext,
                                  const EncryptionContext& context) const {
  if (plaintext.empty() || plaintext.size() > kMaxPlaintextBytes) {
    return Err(StatusCode::kInvalidArgument, kValidationException,
               "Plaintext must be 1 to 4096 bytes, got " + std::to_string(plaintext.size()));
  }
  Sweep();
  std::shared_lock lock(mu_);
  return SealLocked(key, plaintext, context);
}

Result<std::string> KeyStore::BlobKeyArn(std::string_view blob) const {
  auto view = ParseBlob(blob);
  if (!view) return InvalidCiphertext();
  return KeyArn(view->key_id);
}

Result<Decrypted> KeyStore::Decrypt(std::string_view blob, const EncryptionContext& context,
                                    std::string_view expected_key) const {
  auto view = ParseBlob(blob);
  if (!view) return InvalidCiphertext();
  Sweep();
  std::shared_lock lock(mu_);
  if (!expected_key.empty()) {
    auto expected = Find(expected_key, true, true);
    if (!expected.ok()) return expected.status();
    if ((*expected)->record.meta.key_id != view->key_id) {
      return Err(StatusCode::kInvalidArgument, kIncorrectKeyException,
                 "The key ID in the request does not identify a CMK that can perform this operation.");
    }
  }
  auto k = Find(view->key_id, false, true);
  if (!k.ok()) return k.status();
  HYDRANT_RETURN_IF_ERROR(UsableLocked(**k));
  auto plaintext = OpenBlob(*view, (*k)->material, context);
  if (!plaintext) return InvalidCiphertext();
  return Decrypted{(*k)->record.meta.arn, std::move(*plaintext)};
}

Status KeyStore::Authorize(const KeyAccessRequest& request) const {
  const iam::Principal* p = request.principal;
  if (p == nullptr || p->kind == iam::Principal::Kind::kAnonymous) return Status::Ok();
  Sweep();
  std::shared_ptr<const iam::Policy> key_policy;
  iam::AuthzContext ctx;
  {
    std::shared_lock lock(mu_);
    auto k = Find(request.key, true, true);
    if (!k.ok()) return k.status();
    if ((*k)->record.meta.aws_owned) return Status::Ok();
    key_policy = (*k)->policy;
    ctx.resource = (*k)->record.meta.arn;
  }
  ctx.principal = p;
  ctx.action = request.action;
  ctx.now_ms = Now();
  ctx.keys = request.condition_keys;
  ctx.keys.emplace_back("kms:CallerAccount", p->account_id);
  for (const auto& [key, value] : request.context) {
    ctx.keys.emplace_back("kms:EncryptionContext:" + key, value);
    ctx.keys.emplace_back("kms:EncryptionContextKeys", key);
  }
  if (request.key.starts_with("alias/")) {
    ctx.keys.emplace_back("kms:RequestAlias", request.key);
  } else if (request.key.starts_with("arn:") && request.key.find(":alias/") != std::string::npos) {
    ctx.keys.emplace_back("kms:RequestAlias", request.key.substr(request.key.find(":alias/") + 1));
  }
  auto identity = ParseIdentityPolicies(ctx);
  if (!identity.ok()) {
    spdlog::warn("event=policy_unparsable principal={}", p->arn);
    return identity.status();
  }
  KeyDecision d = EvaluateKeyAccess(ctx, *identity, key_policy.get());
  if (d.allowed()) return Status::Ok();
  return Err(StatusCode::kInvalidArgument, kAccessDeniedException, std::move(d.message));
}

Result<std::string> KeyStore::OwnedKeyArn(std::string_view purpose) {
  std::lock_guard create(create_mu_);
  {
    std::shared_lock lock(mu_);
    auto it = owned_.find(purpose);
    if (it != owned_.end()) return KeyArn(it->second);
  }
  Key k;
  KeyMetadata& m = k.record.meta;
  m.key_id = NewUuid();
  m.arn = KeyArn(m.key_id);
  m.description = std::string(purpose);
  m.creation_ms = Now();
  m.aws_owned = true;
  k.material = RandomBytes(kAesKeyBytes);
  k.record.master_fingerprint = fingerprint_;
  k.record.sealed_material = SealMaterial(master_, m.key_id, k.material);
  std::unique_lock lock(mu_);
  std::string arn = m.arn, id = m.key_id;
  HYDRANT_RETURN_IF_ERROR(Store(std::move(k)));
  owned_[std::string(purpose)] = id;
  return arn;
}

// ------------------------------------------------------------ management ---

Result<KeyMetadata> KeyStore::CreateKey(std::string description, std::string policy) {
  Key k;
  if (policy.empty()) policy = DefaultKeyPolicy(options_.account.account_id);
  auto parsed = ParseKeyPolicy(policy);
  if (!parsed.ok()) return parsed.status();
  k.policy = std::move(parsed).value();
  KeyMetadata& m = k.record.meta;
  m.key_id = NewUuid();
  m.arn = KeyArn(m.key_id);
  m.description = std::move(description);
  m.creation_ms = Now();
  k.record.policy = std::move(policy);
  k.material = RandomBytes(kAesKeyBytes);
  k.record.master_fingerprint = fingerprint_;
  k.record.sealed_material = SealMaterial(master_, m.key_id, k.material);
  KeyMetadata out = m;
  std::unique_lock lock(mu_);
  HYDRANT_RETURN_IF_ERROR(Store(std::move(k)));
  return out;
}

std::vector<KeyMetadata> KeyStore::ListKeys() const {
  Sweep();
  std::shared_lock lock(mu_);
  std::vector<KeyMetadata> out;
  for (const auto& [id, k] : keys_) {
    if (!k.record.meta.aws_owned) out.push_back(k.record.meta);
  }
  return out;
}

Status KeyStore::EnableKey(std::string_view key) {
  Sweep();
  std::unique_lock lock(mu_);
  auto k = Find(key, false, false);
  if (!k.ok()) return k.status();
  if ((*k)->record.meta.state == KeyState::kPendingDeletion) return UsableLocked(**k);
  if ((*k)->record.meta.state == KeyState::kEnabled) return Status::Ok();
  Key copy = **k;
  copy.record.meta.state = KeyState::kEnabled;
  return Store(std::move(copy));
}

Status KeyStore::DisableKey(std::string_view key) {
  Sweep();
  std::unique_lock lock(mu_);
  auto k = Find(key, false, false);
  if (!k.ok()) return k.status();
  if ((*k)->record.meta.state == KeyState::kPendingDeletion) return UsableLocked(**k);
  if ((*k)->record.meta.state == KeyState::kDisabled) return Status::Ok();
  Key copy = **k;
  copy.record.meta.state = KeyState::kDisabled;
  return Store(std::move(copy));
}

Result<KeyMetadata> KeyStore::ScheduleKeyDeletion(std::string_view key, int pending_window_days) {
  if (pending_window_days < 7 || pending_window_days > 30) {
    return Err(StatusCode::kInvalidArgument, kValidationException,
               "PendingWindowInDays must be between 7 and 30, got " + std::to_string(pending_window_days));
  }
  Sweep();
  std::unique_lock lock(mu_);
  auto k = Find(key, false, false);
  if (!k.ok()) return k.status();
  if ((*k)->record.meta.state == KeyState::kPendingDeletion) return UsableLocked(**k);
  Key copy = **k;
  copy.record.meta.state = KeyState::kPendingDeletion;
  copy.record.meta.deletion_ms = Now() + pending_window_days * kDayMs;
  KeyMetadata out = copy.record.meta;
  HYDRANT_RETURN_IF_ERROR(Store(std::move(copy)));
  return out;
}

Result<KeyMetadata> KeyStore::CancelKeyDeletion(std::string_view key) {
  Sweep();
  std::unique_lock lock(mu_);
  auto k = Find(key, false, false);
  if (!k.ok()) return k.status();
  if ((*k)->record.meta.state != KeyState::kPendingDeletion) {
    return Err(StatusCode::kInvalidArgument, kInvalidStateException,
               (*k)->record.meta.arn + " is not pending deletion.");
  }
  Key copy = **k;
  copy.record.meta.state = KeyState::kDisabled;  // as AWS: cancelled keys come back disabled
  copy.record.meta.deletion_ms = 0;
  KeyMetadata out = copy.record.meta;
  HYDRANT_RETURN_IF_ERROR(Store(std::move(copy)));
  return out;
}

Result<std::string> KeyStore::GetKeyPolicy(std::string_view key) const {
  Sweep();
  std::shared_lock lock(mu_);
  auto k = Find(key, false, false);
  if (!k.ok()) return k.status();
  return (*k)->record.policy;
}

Status KeyStore::PutKeyPolicy(std::string_view key, std::string policy) {
  auto parsed = ParseKeyPolicy(policy);
  if (!parsed.ok()) return parsed.status();
  Sweep();
  std::unique_lock lock(mu_);
  auto k = Find(key, false, false);
  if (!k.ok()) return k.status();
  Key copy = **k;
  copy.record.policy = std::move(policy);
  copy.policy = std::move(parsed).value();
  return Store(std::move(copy));
}

Status KeyStore::CreateAlias(std::string_view alias_name, std::string_view target_key) {
  if (!alias_name.starts_with("alias/") || alias_name.size() == 6) {
    return Err(StatusCode::kInvalidArgument, kInvalidAliasNameException,
               "Alias must start with the prefix \"alias/\". Please see "
               "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
  }
  if (alias_name.starts_with("alias/aws/")) {
    return Err(StatusCode::kInvalidArgument, kInvalidAliasNameException,
               "Cannot create alias with prefix 'alias/aws/'");
  }
  if (target_key.starts_with("alias/") ||
      (target_key.starts_with("arn:") && target_key.find(":alias/") != std::string_view::npos)) {
    return Err(StatusCode::kInvalidArgument, kValidationException, "Aliases must refer to keys. Not aliases");
  }
  Sweep();
  std::unique_lock lock(mu_);
  auto k = Find(target_key, false, false);
  if (!k.ok()) return k.status();
  if ((*k)->record.meta.state == KeyState::kPendingDeletion) return UsableLocked(**k);
  const std::string name(alias_name);
  if (aliases_.count(name) != 0) {
    return Err(StatusCode::kAlreadyExists, kAlreadyExistsException,
               "An alias with the name " + AliasArn(name) + " already exists");
  }
  auto next = aliases_;
  const int64_t now = Now();
  next[name] = AliasRecord{name, (*k)->record.meta.key_id, now, now};
  HYDRANT_RETURN_IF_ERROR(WriteAliases(next));
  aliases_ = std::move(next);
  return Status::Ok();
}

Status KeyStore::DeleteAlias(std::string_view alias_name) {
  Sweep();
  std::unique_lock lock(mu_);
  const std::string name(alias_name);
  if (!alias_name.starts_with("alias/") || aliases_.count(name) == 0) {
    return NotFound("Alias '" + AliasArn(alias_name) + "' is not found.");
  }
  auto next = aliases_;
  next.erase(name);
  HYDRANT_RETURN_IF_ERROR(WriteAliases(next));
  aliases_ = std::move(next);
  return Status::Ok();
}

Result<std::vector<AliasInfo>> KeyStore::ListAliases(std::string_view key) const {
  Sweep();
  std::shared_lock lock(mu_);
  std::string id;
  if (!key.empty()) {
    auto k = Find(key, false, false);
    if (!k.ok()) return k.status();
    id = (*k)->record.meta.key_id;
  }
  std::vector<AliasInfo> out;
  for (const auto& [name, a] : aliases_) {
    if (!id.empty() && a.key_id != id) continue;
    out.push_back({a.name, AliasArn(a.name), a.key_id, a.created_ms, a.updated_ms});
  }
  return out;
}

Result<std::string> KeyStore::ResolveArn(std::string_view key, bool allow_alias) const {
  Sweep();
  std::shared_lock lock(mu_);
  auto k = Find(key, allow_alias, false);
  if (!k.ok()) return k.status();
  return (*k)->record.meta.arn;
}

}  // namespace hydrant::kms
