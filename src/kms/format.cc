#include "kms/format.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/base64.h"
#include "common/digest.h"
#include "kms/crypto.h"

namespace hydrant::kms {

namespace json = boost::json;

namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

bool KeyIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::optional<KeyState> StateFromName(std::string_view s) {
  if (s == "Enabled") return KeyState::kEnabled;
  if (s == "Disabled") return KeyState::kDisabled;
  if (s == "PendingDeletion") return KeyState::kPendingDeletion;
  return std::nullopt;
}

// Typed members of a stored object; false when one is missing or of another type.
bool GetString(const json::object& o, std::string_view k, std::string* out) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_string()) return false;
  *out = std::string(v->as_string());
  return true;
}
bool GetInt(const json::object& o, std::string_view k, int64_t* out) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_int64()) return false;
  *out = v->as_int64();
  return true;
}

}  // namespace

std::string_view KeyStateName(KeyState s) {
  switch (s) {
    case KeyState::kEnabled:
      return "Enabled";
    case KeyState::kDisabled:
      return "Disabled";
    case KeyState::kPendingDeletion:
      return "PendingDeletion";
  }
  return "Unavailable";
}

std::string SerializeMasterKey(std::string_view key) {
  return std::string(kMasterKeyHeader) + "\n" + base64::Encode(key) + "\n";
}

Result<std::string> ParseMasterKey(std::string_view text) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos || text.substr(0, nl) != kMasterKeyHeader) {
    return Status::Corruption("not a hydrant KMS master key file (the first line must be \"" +
                              std::string(kMasterKeyHeader) + "\")");
  }
  std::string_view rest = text.substr(nl + 1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r' || rest.back() == ' ')) {
    rest.remove_suffix(1);
  }
  auto key = base64::Decode(rest);
  if (!key || key->size() != kAesKeyBytes) {
    return Status::Corruption("the master key must be the base64 of 32 bytes on the second line");
  }
  return std::move(*key);
}

std::string MasterKeyFingerprint(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digest = Sha256(std::string("hydrant-kms-master-key-fingerprint:") + std::string(key));
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    auto b = static_cast<unsigned char>(digest[i]);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string SerializeKeyRecord(const KeyRecord& r) {
  json::object o;
  o["format"] = kKeyFileFormat;
  o["key_id"] = r.meta.key_id;
  o["created_ms"] = r.meta.creation_ms;
  o["description"] = r.meta.description;
  o["state"] = KeyStateName(r.meta.state);
  o["deletion_ms"] = r.meta.deletion_ms;
  o["policy"] = r.policy;
  o["owned"] = r.meta.aws_owned;
  o["master"] = r.master_fingerprint;
  o["material"] = base64::Encode(r.sealed_material);
  return json::serialize(o) + "\n";
}

Result<KeyRecord> ParseKeyRecord(std::string_view text) {
  if (text.size() > kMaxKeyFileBytes) return Status::Corruption("a key file larger than 1 MiB");
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("a key file that is not a JSON object");
  const json::object& o = v.as_object();
  int64_t format = 0;
  if (!GetInt(o, "format", &format) || format != kKeyFileFormat) {
    return Status::Corruption("a key file of an unknown format (this hydrant reads format " +
                              std::to_string(kKeyFileFormat) + ")");
  }
  KeyRecord r;
  std::string state, material;
  const json::value* owned = o.if_contains("owned");
  if (!GetString(o, "key_id", &r.meta.key_id) || !GetInt(o, "created_ms", &r.meta.creation_ms) ||
      !GetString(o, "description", &r.meta.description) || !GetString(o, "state", &state) ||
      !GetInt(o, "deletion_ms", &r.meta.deletion_ms) || !GetString(o, "policy", &r.policy) ||
      owned == nullptr || !owned->is_bool() || !GetString(o, "master", &r.master_fingerprint) ||
      !GetString(o, "material", &material)) {
    return Status::Corruption("a key file with a missing or mistyped field");
  }
  r.meta.aws_owned = owned->as_bool();
  auto st = StateFromName(state);
  if (!st) return Status::Corruption("a key file with an unknown state '" + state + "'");
  r.meta.state = *st;
  if (r.meta.key_id.empty() || r.meta.key_id.size() > kMaxKeyIdBytes ||
      !std::all_of(r.meta.key_id.begin(), r.meta.key_id.end(), KeyIdChar)) {
    return Status::Corruption("a key file with an invalid key id");
  }
  auto sealed = base64::Decode(material);
  if (!sealed || sealed->size() != kGcmIvBytes + kAesKeyBytes + kGcmTagBytes) {
    return Status::Corruption("a key file whose material is not a sealed 32-byte key");
  }
  r.sealed_material = std::move(*sealed);
  return r;
}

std::string SealMaterial(std::string_view master, std::string_view key_id, std::string_view material) {
  std::string iv = RandomBytes(kGcmIvBytes);
  std::string aad = std::string(kMaterialAad) + std::string(key_id);
  return iv + GcmSeal(master, iv, aad, material);
}

std::optional<std::string> OpenMaterial(std::string_view master, std::string_view key_id,
                                        std::string_view sealed) {
  if (sealed.size() < kGcmIvBytes + kGcmTagBytes) return std::nullopt;
  std::string aad = std::string(kMaterialAad) + std::string(key_id);
  auto m = GcmOpen(master, sealed.substr(0, kGcmIvBytes), aad, sealed.substr(kGcmIvBytes));
  if (!m || m->size() != kAesKeyBytes) return std::nullopt;
  return m;
}

std::string SerializeAliases(const std::vector<AliasRecord>& aliases) {
  json::array a;
  for (const AliasRecord& r : aliases) {
    a.push_back(json::object{{"name", r.name},
                             {"key_id", r.key_id},
                             {"created_ms", r.created_ms},
                             {"updated_ms", r.updated_ms}});
  }
  json::object o;
  o["format"] = kAliasesFileFormat;
  o["aliases"] = std::move(a);
  return json::serialize(o) + "\n";
}

Result<std::vector<AliasRecord>> ParseAliases(std::string_view text) {
  if (text.size() > kMaxKeyFileBytes) return Status::Corruption("an aliases file larger than 1 MiB");
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("an aliases file that is not a JSON object");
  const json::object& o = v.as_object();
  int64_t format = 0;
  const json::value* list = o.if_contains("aliases");
  if (!GetInt(o, "format", &format) || format != kAliasesFileFormat || list == nullptr ||
      !list->is_array()) {
    return Status::Corruption("an aliases file of an unknown format");
  }
  std::vector<AliasRecord> out;
  for (const json::value& e : list->as_array()) {
    AliasRecord r;
    if (!e.is_object() || !GetString(e.as_object(), "name", &r.name) ||
        !GetString(e.as_object(), "key_id", &r.key_id) ||
        !GetInt(e.as_object(), "created_ms", &r.created_ms) ||
        !GetInt(e.as_object(), "updated_ms", &r.updated_ms) || !r.name.starts_with("alias/")) {
      return Status::Corruption("an aliases file with a malformed entry");
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<BlobView> ParseBlob(std::string_view blob) {
  if (blob.size() < 2) return std::nullopt;
  if (static_cast<uint8_t>(blob[0]) != kBlobVersion) return std::nullopt;
  const size_t l = static_cast<uint8_t>(blob[1]);
  if (l == 0 || l > kMaxKeyIdBytes || blob.size() < 2 + l + kGcmIvBytes + kGcmTagBytes) {
    return std::nullopt;
  }
  BlobView v;
  v.key_id = blob.substr(2, l);
  for (char c : v.key_id) {
    if (!KeyIdChar(c)) return std::nullopt;
  }
  v.header = blob.substr(0, 2 + l);
  v.iv = blob.substr(2 + l, kGcmIvBytes);
  v.sealed = blob.substr(2 + l + kGcmIvBytes);
  return v;
}

std::string CanonicalContext(const EncryptionContext& context) {
  std::string out;
  for (const auto& [k, v] : context) {  // std::map: sorted by key
    PutU32(&out, static_cast<uint32_t>(k.size()));
    out += k;
    PutU32(&out, static_cast<uint32_t>(v.size()));
    out += v;
  }
  return out;
}

std::string SealBlob(std::string_view key_id, std::string_view material, std::string_view plaintext,
                     const EncryptionContext& context) {
  std::string blob;
  blob.push_back(static_cast<char>(kBlobVersion));
  blob.push_back(static_cast<char>(key_id.size()));
  blob += key_id;
  const std::string aad = blob + CanonicalContext(context);
  std::string iv = RandomBytes(kGcmIvBytes);
  blob += iv;
  blob += GcmSeal(material, iv, aad, plaintext);
  return blob;
}

std::optional<std::string> OpenBlob(const BlobView& blob, std::string_view material,
                                    const EncryptionContext& context) {
  const std::string aad = std::string(blob.header) + CanonicalContext(context);
  return GcmOpen(material, blob.iv, aad, blob.sealed);
}

}  // namespace hydrant::kms
