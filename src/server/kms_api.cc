#include "server/kms_api.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <variant>

#include <boost/json.hpp>

#include "api/errors.h"
#include "common/base64.h"
#include "common/request_id.h"
#include "iam/policy.h"
#include "kms/key_policy.h"
#include "kms/key_store.h"
#include "server/authorization.h"
#include "server/aws_json.h"

namespace hydrant::server {

namespace json = boost::json;
using api::ApiError;

namespace {

constexpr std::string_view kTargetPrefix = "TrentService.";
constexpr std::string_view kSymmetric = "SYMMETRIC_DEFAULT";
// botocore's bounds (kms/2014-11-01).
constexpr size_t kMaxKeyIdChars = 2048;
constexpr size_t kMaxPolicyChars = 131072;
constexpr size_t kMaxDescriptionChars = 8192;
constexpr size_t kMaxAliasChars = 256;
constexpr size_t kMaxCiphertextBytes = 6144;
constexpr int64_t kDefaultListLimit = 100;

using Reply = std::variant<json::object, ApiError>;

ApiError FromStatus(const Status& st) {
  if (!st.error_code().empty()) return {std::string(st.error_code()), st.message()};
  return {std::string(kms::kInternalException), st.message()};
}

// "1 validation error detected: Value 'V' at 'field' failed to satisfy constraint: C",
// as AWS's JSON services word it (the value left out for blobs and secrets).
ApiError Constraint(std::string_view field, std::optional<std::string_view> value, std::string_view c) {
  std::string m = "1 validation error detected: Value ";
  if (value) {
    m += "'" + std::string(*value) + "' ";
  }
  m += "at '" + std::string(field) + "' failed to satisfy constraint: " + std::string(c);
  return {std::string(kms::kValidationException), std::move(m)};
}

ApiError Missing(std::string_view field) {
  return {std::string(kms::kValidationException),
          "1 validation error detected: Value null at '" + std::string(field) +
              "' failed to satisfy constraint: Member must not be null"};
}

ApiError Unsupported(std::string m) { return {std::string(kms::kUnsupportedOperationException), std::move(m)}; }

// lowerCamel member name for validation messages ("KeyId" → "keyId").
std::string Field(std::string_view member) {
  std::string f(member);
  if (!f.empty()) f[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(f[0])));
  return f;
}

#define KMS_TRY(expr)                            \
  do {                                           \
    if (auto _e = (expr)) return std::move(*_e); \
  } while (0)

// The request's members, typed; a member of the wrong JSON type is a
// SerializationException, as AWS's JSON protocol answers.
class Input {
 public:
  explicit Input(const json::object& o) : o_(o) {}

  // A string member of `min`..`max` characters; `required` → Missing when absent.
  std::optional<ApiError> Str(std::string_view k, std::string* out, bool required, size_t min,
                              size_t max) const {
    const json::value* v = Get(k);
    if (v == nullptr) return required ? std::optional<ApiError>(Missing(Field(k))) : std::nullopt;
    if (!v->is_string()) return TypeError(k);
    std::string_view s = v->as_string();
    if (s.size() < min) {
      return Constraint(Field(k), s, "Member must have length greater than or equal to " + std::to_string(min));
    }
    if (s.size() > max) {
      return Constraint(Field(k), std::nullopt,
                        "Member must have length less than or equal to " + std::to_string(max));
    }
    *out = std::string(s);
    return std::nullopt;
  }
  std::optional<ApiError> Int(std::string_view k, std::optional<int64_t>* out) const {
    const json::value* v = Get(k);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) {
      *out = v->as_int64();
    } else if (v->is_uint64()) {
      *out = static_cast<int64_t>(std::min<uint64_t>(v->as_uint64(), INT64_MAX));
    } else {
      return TypeError(k);
    }
    return std::nullopt;
  }
  std::optional<ApiError> Bool(std::string_view k, bool* out) const {
    const json::value* v = Get(k);
    if (v == nullptr) return std::nullopt;
    if (!v->is_bool()) return TypeError(k);
    *out = v->as_bool();
    return std::nullopt;
  }
  // A base64 blob of `min`..`max` bytes.
  std::optional<ApiError> Blob(std::string_view k, std::string* out, bool required, size_t min,
                               size_t max) const {
    const json::value* v = Get(k);
    if (v == nullptr) return required ? std::optional<ApiError>(Missing(Field(k))) : std::nullopt;
    if (!v->is_string()) return TypeError(k);
    auto raw = base64::Decode(v->as_string());
    if (!raw) return ApiError{"SerializationException", "'" + std::string(k) + "' is not valid base64"};
    if (raw->size() < min) {
      return Constraint(Field(k), std::nullopt,
                        "Member must have length greater than or equal to " + std::to_string(min));
    }
    if (raw->size() > max) {
      return Constraint(Field(k), std::nullopt,
                        "Member must have length less than or equal to " + std::to_string(max));
    }
    *out = std::move(*raw);
    return std::nullopt;
  }
  std::optional<ApiError> Context(kms::EncryptionContext* out) const {
    const json::value* v = Get("EncryptionContext");
    if (v == nullptr) return std::nullopt;
    if (!v->is_object()) return TypeError("EncryptionContext");
    for (const auto& [key, value] : v->as_object()) {
      if (!value.is_string()) return TypeError("EncryptionContext");
      (*out)[std::string(key)] = std::string(value.as_string());
    }
    return std::nullopt;
  }
  bool Has(std::string_view k) const { return Get(k) != nullptr; }

 private:
  const json::value* Get(std::string_view k) const {
    const json::value* v = o_.if_contains(k);
    return v == nullptr || v->is_null() ? nullptr : v;
  }
  static ApiError TypeError(std::string_view k) {
    return {"SerializationException", "'" + std::string(k) + "' has the wrong JSON type"};
  }
  const json::object& o_;
};

double EpochSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

json::object MetadataJson(const kms::KeyMetadata& m, const std::string& account_id) {
  json::object o;
  o["AWSAccountId"] = account_id;
  o["KeyId"] = m.key_id;
  o["Arn"] = m.arn;
  o["CreationDate"] = EpochSeconds(m.creation_ms);
  o["Enabled"] = m.state == kms::KeyState::kEnabled;
  o["Description"] = m.description;
  o["KeyUsage"] = "ENCRYPT_DECRYPT";
  o["KeyState"] = kms::KeyStateName(m.state);
  if (m.state == kms::KeyState::kPendingDeletion) o["DeletionDate"] = EpochSeconds(m.deletion_ms);
  o["Origin"] = "AWS_KMS";
  o["KeyManager"] = m.aws_owned ? "AWS" : "CUSTOMER";
  o["CustomerMasterKeySpec"] = kSymmetric;
  o["KeySpec"] = kSymmetric;
  o["EncryptionAlgorithms"] = json::array{kSymmetric};
  o["MultiRegion"] = false;
  return o;
}

// One call: the request, its members, and the services it may use.
struct Call {
  const http::Request& req;
  const Input& in;
  kms::KeyStore& store;
  const Authorizer* authz;
  std::string action;  // "kms:<Operation>"

  bool Signed() const { return Authorizer::Applies(req); }

  // Identity policies only (CreateKey, ListKeys, ListAliases; an alias's ARN).
  std::optional<ApiError> AuthorizeIdentity(std::string resource) const {
    if (!Signed() || authz == nullptr) return std::nullopt;
    Access a;
    a.action = action;
    a.resource = std::move(resource);
    if (auto denied = authz->Check(req, a)) return ApiError{std::string(kms::kAccessDeniedException), *denied};
    return std::nullopt;
  }
  // KMS's rule on a key (kms/key_policy.h).
  std::optional<ApiError> AuthorizeKey(std::string_view key, const kms::EncryptionContext& context = {}) const {
    if (!Signed()) return std::nullopt;
    kms::KeyAccessRequest r;
    r.principal = req.principal.get();
    r.action = action;
    r.key = std::string(key);
    r.context = context;
    if (!req.remote_address.empty()) r.condition_keys.emplace_back("aws:SourceIp", req.remote_address);
    r.condition_keys.emplace_back("aws:SecureTransport", req.secure ? "true" : "false");
    Status st = store.Authorize(r);
    if (!st.ok()) return FromStatus(st);
    return std::nullopt;
  }
  // The caller as the evaluator sees it, for the lockout check.
  iam::AuthzContext Caller(std::string resource) const {
    iam::AuthzContext ctx;
    ctx.principal = req.principal.get();
    ctx.resource = std::move(resource);
    return ctx;
  }
  // KeyId (required): resolved as the operation accepts it (aliases or not),
  // then authorized. *arn gets the key's ARN.
  std::optional<ApiError> Key(bool allow_alias, std::string* ref, std::string* arn,
                              const kms::EncryptionContext& context = {}) const {
    KMS_TRY(in.Str("KeyId", ref, true, 1, kMaxKeyIdChars));
    auto resolved = store.ResolveArn(*ref, allow_alias);
    if (!resolved.ok()) return FromStatus(resolved.status());
    *arn = std::move(resolved).value();
    return AuthorizeKey(*ref, context);
  }
};

std::optional<ApiError> CheckDryRun(const Input& in) {
  bool dry = false;
  KMS_TRY(in.Bool("DryRun", &dry));
  if (dry) return ApiError{"DryRunOperationException", "The request would have succeeded, but the DryRun option is set."};
  return std::nullopt;
}

std::optional<ApiError> CheckAlgorithm(const Input& in) {
  std::string alg;
  KMS_TRY(in.Str("EncryptionAlgorithm", &alg, false, 0, 64));
  if (!alg.empty() && alg != kSymmetric) {
    return ApiError{"InvalidKeyUsageException",
                    "The encryption algorithm " + alg +
                        " is not supported by symmetric keys; use SYMMETRIC_DEFAULT."};
  }
  if (in.Has("Recipient")) return Unsupported("Recipient (Nitro Enclaves attestation) is not supported by hydrant.");
  return std::nullopt;
}

// Limit (1..1000) and Marker of the List operations.
std::optional<ApiError> ListBounds(const Input& in, int64_t* limit, std::string* marker) {
  std::optional<int64_t> l;
  KMS_TRY(in.Int("Limit", &l));
  if (l && (*l < 1 || *l > 1000)) {
    return Constraint("limit", std::to_string(*l),
                      *l < 1 ? "Member must have value greater than or equal to 1"
                             : "Member must have value less than or equal to 1000");
  }
  *limit = l.value_or(kDefaultListLimit);
  return in.Str("Marker", marker, false, 1, 1024);
}

// ------------------------------------------------------------ operations ---

Reply CreateKey(const Call& c) {
  KMS_TRY(c.AuthorizeIdentity("*"));
  std::string policy, description, usage, cmk_spec, spec, origin, store_id, xks;
  bool bypass = false;
  const Input& in = c.in;
  KMS_TRY(in.Str("Policy", &policy, false, 1, kMaxPolicyChars));
  KMS_TRY(in.Str("Description", &description, false, 0, kMaxDescriptionChars));
  KMS_TRY(in.Str("KeyUsage", &usage, false, 0, 64));
  KMS_TRY(in.Str("CustomerMasterKeySpec", &cmk_spec, false, 0, 64));
  KMS_TRY(in.Str("KeySpec", &spec, false, 0, 64));
  KMS_TRY(in.Str("Origin", &origin, false, 0, 64));
  KMS_TRY(in.Str("CustomKeyStoreId", &store_id, false, 0, 64));
  KMS_TRY(in.Str("XksKeyId", &xks, false, 0, 128));
  KMS_TRY(in.Bool("BypassPolicyLockoutSafetyCheck", &bypass));
  bool multi_region = false;
  KMS_TRY(in.Bool("MultiRegion", &multi_region));
  if (!spec.empty() && !cmk_spec.empty()) {
    return ApiError{std::string(kms::kValidationException),
                    "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                    "CustomerMasterKeySpec is deprecated."};
  }
  if (spec.empty()) spec = cmk_spec;
  if (!spec.empty() && spec != kSymmetric) {
    return Unsupported("KeySpec " + spec +
                       " is not supported: hydrant's KMS has symmetric encryption keys only (SYMMETRIC_DEFAULT).");
  }
  if (!usage.empty() && usage != "ENCRYPT_DECRYPT") {
    return Unsupported("KeyUsage " + usage +
                       " is not supported: hydrant's KMS has symmetric encryption keys only (ENCRYPT_DECRYPT).");
  }
  if (!origin.empty() && origin != "AWS_KMS") {
    return Unsupported("Origin " + origin + " is not supported: hydrant's KMS makes its own key material (AWS_KMS).");
  }
  if (!store_id.empty() || !xks.empty()) return Unsupported("Custom key stores are not supported by hydrant.");
  if (multi_region) return Unsupported("Multi-Region keys are not supported by hydrant.");
  if (!policy.empty() && !bypass && c.Signed()) {
    auto parsed = kms::ParseKeyPolicy(policy);
    if (!parsed.ok()) return FromStatus(parsed.status());
    // The key's ARN is not known yet: the check sees its Resource "*".
    Status st = kms::CheckLockout(c.Caller("*"), **parsed);
    if (!st.ok()) return FromStatus(st);
  }
  auto m = c.store.CreateKey(std::move(description), std::move(policy));
  if (!m.ok()) return FromStatus(m.status());
  return json::object{{"KeyMetadata", MetadataJson(*m, c.store.account().account_id)}};
}

Reply DescribeKey(const Call& c) {
  std::string ref, arn;
  KMS_TRY(c.Key(true, &ref, &arn));
  auto m = c.store.DescribeKey(arn);
  if (!m.ok()) return FromStatus(m.status());
  return json::object{{"KeyMetadata", MetadataJson(*m, c.store.account().account_id)}};
}

Reply ListKeys(const Call& c) {
  KMS_TRY(c.AuthorizeIdentity("*"));
  int64_t limit = 0;
  std::string marker;
  KMS_TRY(ListBounds(c.in, &limit, &marker));
  std::vector<kms::KeyMetadata> keys = c.store.ListKeys();  // by key id
  auto it = keys.begin();
  if (!marker.empty()) {
    it = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.key_id == marker; });
    if (it == keys.end()) return ApiError{"InvalidMarkerException", "Invalid marker " + marker};
  }
  json::array list;
  for (; it != keys.end() && static_cast<int64_t>(list.size()) < limit; ++it) {
    list.push_back(json::object{{"KeyId", it->key_id}, {"KeyArn", it->arn}});
  }
  json::object out{{"Keys", std::move(list)}, {"Truncated", it != keys.end()}};
  if (it != keys.end()) out["NextMarker"] = it->key_id;
  return out;
}

std::optional<ApiError> AliasName(const Input& in, std::string* name) {
  KMS_TRY(in.Str("AliasName", name, true, 1, kMaxAliasChars));
  if (!std::all_of(name->begin(), name->end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == ':' || ch == '/' || ch == '_' || ch == '-';
      })) {
    return Constraint("aliasName", *name, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$");
  }
  return std::nullopt;
}

Reply CreateAlias(const Call& c) {
  std::string name, target;
  KMS_TRY(AliasName(c.in, &name));
  KMS_TRY(c.in.Str("TargetKeyId", &target, true, 1, kMaxKeyIdChars));
  if (c.Signed()) {
    // kms:CreateAlias on the alias (identity policies) and on the key (its policy).
    auto arn = c.store.ResolveArn(target, false);
    if (arn.ok()) {
      KMS_TRY(c.AuthorizeIdentity(c.store.account().Arn("kms", name)));
      KMS_TRY(c.AuthorizeKey(target));
    }
  }
  Status st = c.store.CreateAlias(name, target);
  if (!st.ok()) return FromStatus(st);
  return json::object{};
}

Reply DeleteAlias(const Call& c) {
  std::string name;
  KMS_TRY(AliasName(c.in, &name));
  if (c.Signed() && name.starts_with("alias/")) {
    auto key = c.store.ResolveArn(name, true);
    if (!key.ok()) return FromStatus(key.status());
    KMS_TRY(c.AuthorizeIdentity(c.store.account().Arn("kms", name)));
    KMS_TRY(c.AuthorizeKey(*key));
  }
  Status st = c.store.DeleteAlias(name);
  if (!st.ok()) return FromStatus(st);
  return json::object{};
}

Reply ListAliases(const Call& c) {
  KMS_TRY(c.AuthorizeIdentity("*"));
  int64_t limit = 0;
  std::string marker, key;
  KMS_TRY(ListBounds(c.in, &limit, &marker));
  KMS_TRY(c.in.Str("KeyId", &key, false, 1, kMaxKeyIdChars));
  auto aliases = c.store.ListAliases(key);
  if (!aliases.ok()) return FromStatus(aliases.status());
  auto it = aliases->begin();
  if (!marker.empty()) {
    it = std::find_if(aliases->begin(), aliases->end(), [&](const auto& a) { return a.name == marker; });
    if (it == aliases->end()) return ApiError{"InvalidMarkerException", "Invalid marker " + marker};
  }
  json::array list;
  for (; it != aliases->end() && static_cast<int64_t>(list.size()) < limit; ++it) {
    list.push_back(json::object{{"AliasName", it->name},
                                {"AliasArn", it->arn},
                                {"TargetKeyId", it->key_id},
                                {"CreationDate", EpochSeconds(it->created_ms)},
                                {"LastUpdatedDate", EpochSeconds(it->updated_ms)}});
  }
  json::object out{{"Aliases", std::move(list)}, {"Truncated", it != aliases->end()}};
  if (it != aliases->end()) out["NextMarker"] = it->name;
  return out;
}

Reply EnableOrDisable(const Call& c, bool enable) {
  std::string ref, arn;
  KMS_TRY(c.Key(false, &ref, &arn));
  Status st = enable ? c.store.EnableKey(arn) : c.store.DisableKey(arn);
  if (!st.ok()) return FromStatus(st);
  return json::object{};
}

Reply ScheduleKeyDeletion(const Call& c) {
  std::string ref, arn;
  std::optional<int64_t> days;
  KMS_TRY(c.in.Int("PendingWindowInDays", &days));
  if (days && (*days < 7 || *days > 30)) {
    return Constraint("pendingWindowInDays", std::to_string(*days),
                      *days < 7 ? "Member must have value greater than or equal to 7"
                                : "Member must have value less than or equal to 30");
  }
  KMS_TRY(c.Key(false, &ref, &arn));
  const int window = static_cast<int>(days.value_or(30));
  auto m = c.store.ScheduleKeyDeletion(arn, window);
  if (!m.ok()) return FromStatus(m.status());
  return json::object{{"KeyId", m->arn},
                      {"DeletionDate", EpochSeconds(m->deletion_ms)},
                      {"KeyState", kms::KeyStateName(m->state)},
                      {"PendingWindowInDays", window}};
}

Reply CancelKeyDeletion(const Call& c) {
  std::string ref, arn;
  KMS_TRY(c.Key(false, &ref, &arn));
  auto m = c.store.CancelKeyDeletion(arn);
  if (!m.ok()) return FromStatus(m.status());
  return json::object{{"KeyId", m->arn}};
}

std::optional<ApiError> PolicyName(const Input& in) {
  std::string name;
  KMS_TRY(in.Str("PolicyName", &name, false, 1, 128));
  if (!name.empty() && name != "default") {
    return ApiError{std::string(kms::kNotFoundException),
                    "Policy '" + name + "' does not exist: a key has one policy, named \"default\""};
  }
  return std::nullopt;
}

Reply GetKeyPolicy(const Call& c) {
  std::string ref, arn;
  KMS_TRY(c.Key(false, &ref, &arn));
  KMS_TRY(PolicyName(c.in));
  auto p = c.store.GetKeyPolicy(arn);
  if (!p.ok()) return FromStatus(p.status());
  return json::object{{"Policy", *p}, {"PolicyName", "default"}};
}

Reply PutKeyPolicy(const Call& c) {
  std::string ref, arn, policy;
  bool bypass = false;
  KMS_TRY(c.in.Str("Policy", &policy, true, 1, kMaxPolicyChars));
  KMS_TRY(c.in.Bool("BypassPolicyLockoutSafetyCheck", &bypass));
  KMS_TRY(c.Key(false, &ref, &arn));
  KMS_TRY(PolicyName(c.in));
  auto parsed = kms::ParseKeyPolicy(policy);
  if (!parsed.ok()) return FromStatus(parsed.status());
  if (!bypass && c.Signed()) {
    Status st = kms::CheckLockout(c.Caller(arn), **parsed);
    if (!st.ok()) return FromStatus(st);
  }
  Status st = c.store.PutKeyPolicy(arn, std::move(policy));
  if (!st.ok()) return FromStatus(st);
  return json::object{};
}

Reply Encrypt(const Call& c) {
  std::string ref, arn, plaintext;
  kms::EncryptionContext context;
  KMS_TRY(c.in.Blob("Plaintext", &plaintext, true, 1, kms::kMaxPlaintextBytes));
  KMS_TRY(c.in.Context(&context));
  KMS_TRY(CheckAlgorithm(c.in));
  KMS_TRY(c.Key(true, &ref, &arn, context));
  KMS_TRY(CheckDryRun(c.in));
  auto e = c.store.Encrypt(arn, plaintext, context);
  if (!e.ok()) return FromStatus(e.status());
  return json::object{{"CiphertextBlob", base64::Encode(e->ciphertext_blob)},
                      {"KeyId", e->key_arn},
                      {"EncryptionAlgorithm", kSymmetric}};
}

Reply Decrypt(const Call& c) {
  std::string blob, expected;
  kms::EncryptionContext context;
  KMS_TRY(c.in.Blob("CiphertextBlob", &blob, true, 1, kMaxCiphertextBytes));
  KMS_TRY(c.in.Context(&context));
  KMS_TRY(c.in.Str("KeyId", &expected, false, 1, kMaxKeyIdChars));
  KMS_TRY(CheckAlgorithm(c.in));
  // The key is the blob's (AWS's symmetric Decrypt needs no KeyId).
  auto key = c.store.BlobKeyArn(blob);
  if (!key.ok()) return FromStatus(key.status());
  if (!expected.empty()) {
    auto e = c.store.ResolveArn(expected, true);
    if (!e.ok()) return FromStatus(e.status());
  }
  KMS_TRY(c.AuthorizeKey(*key, context));
  KMS_TRY(CheckDryRun(c.in));
  auto d = c.store.Decrypt(blob, context, expected);
  if (!d.ok()) return FromStatus(d.status());
  return json::object{{"KeyId", d->key_arn},
                      {"Plaintext", base64::Encode(d->plaintext)},
                      {"EncryptionAlgorithm", kSymmetric}};
}

Reply GenerateDataKey(const Call& c, bool with_plaintext) {
  std::string ref, arn, spec;
  std::optional<int64_t> bytes;
  kms::EncryptionContext context;
  KMS_TRY(c.in.Context(&context));
  KMS_TRY(c.in.Int("NumberOfBytes", &bytes));
  KMS_TRY(c.in.Str("KeySpec", &spec, false, 0, 64));
  if (with_plaintext && c.in.Has("Recipient")) {
    return Unsupported("Recipient (Nitro Enclaves attestation) is not supported by hydrant.");
  }
  if (bytes && (*bytes < 1 || *bytes > static_cast<int64_t>(kms::kMaxDataKeyBytes))) {
    return Constraint("numberOfBytes", std::to_string(*bytes),
                      *bytes < 1 ? "Member must have value greater than or equal to 1"
                                 : "Member must have value less than or equal to 1024");
  }
  if (!spec.empty() && spec != "AES_256" && spec != "AES_128") {
    return Constraint("keySpec", spec, "Member must satisfy enum value set: [AES_256, AES_128]");
  }
  if (bytes.has_value() == !spec.empty()) {
    return ApiError{std::string(kms::kValidationException), "Please specify either number of bytes or key spec."};
  }
  KMS_TRY(c.Key(true, &ref, &arn, context));
  KMS_TRY(CheckDryRun(c.in));
  const size_t n = bytes ? static_cast<size_t>(*bytes) : spec == "AES_128" ? 16 : 32;
  auto dk = c.store.GenerateDataKey(arn, context, n);
  if (!dk.ok()) return FromStatus(dk.status());
  json::object out{{"CiphertextBlob", base64::Encode(dk->ciphertext_blob)}, {"KeyId", dk->key_arn}};
  if (with_plaintext) out["Plaintext"] = base64::Encode(dk->plaintext);
  return out;
}

// The operations served, by X-Amz-Target suffix.
struct Operation {
  std::string_view name;
  Reply (*run)(const Call&);
};
constexpr Operation kOperations[] = {
    {"CreateKey", CreateKey},
    {"DescribeKey", DescribeKey},
    {"ListKeys", ListKeys},
    {"CreateAlias", CreateAlias},
    {"ListAliases", ListAliases},
    {"DeleteAlias", DeleteAlias},
    {"EnableKey", [](const Call& c) { return EnableOrDisable(c, true); }},
    {"DisableKey", [](const Call& c) { return EnableOrDisable(c, false); }},
    {"ScheduleKeyDeletion", ScheduleKeyDeletion},
    {"CancelKeyDeletion", CancelKeyDeletion},
    {"GetKeyPolicy", GetKeyPolicy},
    {"PutKeyPolicy", PutKeyPolicy},
    {"Encrypt", Encrypt},
    {"Decrypt", Decrypt},
    {"GenerateDataKey", [](const Call& c) { return GenerateDataKey(c, true); }},
    {"GenerateDataKeyWithoutPlaintext", [](const Call& c) { return GenerateDataKey(c, false); }},
};

}  // namespace

bool KmsApi::IsKmsRequest(const http::Request& req) {
  return req.Header("X-Amz-Target").starts_with(kTargetPrefix);
}

http::Response KmsApi::Handle(const http::Request& req) const {
  const std::string rid = NewUuid();
  const std::string_view op = req.Header("X-Amz-Target").substr(kTargetPrefix.size());
  Reply reply = [&]() -> Reply {
    if (req.method != "POST") return ApiError{"SerializationException", "KMS API calls are POST /"};
    const Operation* found = nullptr;
    for (const Operation& o : kOperations) {
      if (o.name == op) found = &o;
    }
    if (found == nullptr) {
      return Unsupported("The KMS operation " + std::string(op) +
                         " is not supported by hydrant (docs/security.md lists the KMS subset).");
    }
    if (store_ == nullptr) return ApiError{std::string(kms::kInternalException), "The key store is not available."};
    json::object body;
    if (!req.body.empty()) {
      json::error_code ec;
      json::value v = json::parse(req.body, ec);
      if (ec || !v.is_object()) {
        return ApiError{"SerializationException", "Start of structure or map found where not expected."};
      }
      body = std::move(v.as_object());
    }
    Input in(body);
    Call call{req, in, *store_, authz_, "kms:" + std::string(op)};
    return found->run(call);
  }();
  if (auto* e = std::get_if<ApiError>(&reply)) {
    http::Response r = AwsJsonError(*e, rid);
    if (e->type == kms::kInternalException) r.status = 500;
    return r;
  }
  return AwsJsonResponse(json::serialize(std::get<json::object>(reply)), rid);
}

}  // namespace hydrant::server
