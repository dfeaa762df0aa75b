// Fuzz target: the KMS's parsers (kms/format.h) — ciphertext blobs, key files,
// the aliases file, the master key file — and the key store's load of them.
//
// Input parts (fuzz_util.h SplitParts): a blob; a key file; an aliases file; a
// master key file; encryption context lines ("key=value").
//
// Invariants: a parsed blob's parts cover it exactly and its key id has only
// key-id characters; a blob opens only under the material and context it was
// sealed with (a fresh blob for the input's plaintext and context round-trips,
// and fails with one byte flipped or the context changed); a parsed key file,
// aliases file or master key serializes back to what parses the same; a failed
// parse is Corruption with a message; KeyStore::Open over the input's files
// either succeeds (and the store answers) or fails with a message, never crashes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "kms/crypto.h"
#include "kms/format.h"
#include "kms/key_store.h"

namespace kms = hydrant::kms;

namespace {

const std::string kMaterial(32, '\x5a');
const std::string kMaster(32, '\x11');

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hydrant::fuzz::ScratchDir scratch;
  spdlog::set_level(spdlog::level::off);
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 5);

  kms::EncryptionContext context;
  std::string_view lines = parts[4].substr(0, 4096);
  while (!lines.empty() && context.size() < 16) {
    size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) context[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }

  // 1. Blobs.
  if (auto v = kms::ParseBlob(parts[0])) {
    FUZZ_CHECK(v->header.size() + v->iv.size() + v->sealed.size() == parts[0].size(),
               "a parsed blob's parts do not cover it");
    FUZZ_CHECK(!v->key_id.empty() && v->key_id.size() <= kms::kMaxKeyIdBytes, "a bad key id length");
    // Random bytes are never a valid seal (a forgery would need the tag).
    auto opened = kms::OpenBlob(*v, kMaterial, context);
    if (opened) {
      // Only possible if the input is a real blob under kMaterial: then it must reseal.
      FUZZ_CHECK(opened->size() + kms::kGcmTagBytes == v->sealed.size(), "an opened blob of the wrong size");
    }
    const std::string fresh = kms::SealBlob(v->key_id, kMaterial, parts[0].substr(0, 4096), context);
    auto fv = kms::ParseBlob(fresh);
    FUZZ_CHECK(fv.has_value() && fv->key_id == v->key_id, "a fresh blob does not parse");
    auto back = kms::OpenBlob(*fv, kMaterial, context);
    FUZZ_CHECK(back.has_value() && *back == parts[0].substr(0, 4096), "a fresh blob does not round-trip");
    std::string flipped = fresh;
    flipped[size % flipped.size()] ^= static_cast<char>(1 + (size % 255));
    if (auto f = kms::ParseBlob(flipped)) {
      FUZZ_CHECK(!kms::OpenBlob(*f, kMaterial, context).has_value(), "a flipped byte went unnoticed");
    }
    kms::EncryptionContext other = context;
    other["fuzz-extra"] = "1";
    FUZZ_CHECK(!kms::OpenBlob(*fv, kMaterial, other).has_value(), "another context opened a blob");
  }

  // 2. Key files.
  auto rec = kms::ParseKeyRecord(parts[1]);
  if (rec.ok()) {
    auto again = kms::ParseKeyRecord(kms::SerializeKeyRecord(*rec));
    FUZZ_CHECK(again.ok(), "a serialized key record does not parse: " + again.status().ToString());
    FUZZ_CHECK(again->meta.key_id == rec->meta.key_id && again->policy == rec->policy &&
                   again->sealed_material == rec->sealed_material && again->meta.state == rec->meta.state &&
                   again->meta.deletion_ms == rec->meta.deletion_ms &&
                   again->meta.description == rec->meta.description,
               "a key record does not round-trip");
  } else {
    FUZZ_CHECK(rec.status().code() == hydrant::StatusCode::kCorruption && !rec.status().message().empty(),
               "a failed key-file parse without Corruption and a message");
  }

  // 3. The aliases file.
  auto aliases = kms::ParseAliases(parts[2]);
  if (aliases.ok()) {
    auto again = kms::ParseAliases(kms::SerializeAliases(*aliases));
    FUZZ_CHECK(again.ok() && again->size() == aliases->size(), "an aliases file does not round-trip");
  } else {
    FUZZ_CHECK(aliases.status().code() == hydrant::StatusCode::kCorruption, "a failed aliases parse");
  }

  // 4. The master key file.
  auto master = kms::ParseMasterKey(parts[3]);
  if (master.ok()) {
    FUZZ_CHECK(master->size() == 32, "a master key that is not 32 bytes");
    auto again = kms::ParseMasterKey(kms::SerializeMasterKey(*master));
    FUZZ_CHECK(again.ok() && *again == *master, "a master key does not round-trip");
  }

  // 5. The store's load of such files (a fixed master key; the input's key file
  // under its own id when it names one).
  scratch.Clear();
  scratch.Write("kms/master.key", kms::SerializeMasterKey(kMaster));
  const std::string name = rec.ok() ? rec->meta.key_id : "input";
  scratch.Write("kms/keys/" + name + ".json", parts[1]);
  if (!parts[2].empty()) scratch.Write("kms/aliases.json", parts[2]);
  kms::KeyStoreOptions o;
  o.dir = scratch.Sub("kms");
  auto store = kms::KeyStore::Open(o);
  if (store.ok()) {
    (void)(*store)->ListKeys();
    (void)(*store)->ListAliases();
    (void)(*store)->Decrypt(parts[0], context);
  } else {
    FUZZ_CHECK(!store.status().message().empty(), "a refused load without a message");
  }
  return 0;
}
