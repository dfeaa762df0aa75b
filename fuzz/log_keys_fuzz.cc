// Fuzz target: stream encryption at rest (buffer/encrypted_log.h) reading
// arbitrary bytes from disk — the envelopes of encrypted records, the KEYS file
// of wrapped data keys, and a log folder holding both — through StreamLog::Open
// and EncryptedLog::Open with an in-process fake KMS (deterministic keys).
//
// A template log is made once per process: plain and encrypted calls under two
// KMS keys (one record, several, an empty record), then its segment file and
// KEYS are mutated per input, so most inputs reach EncryptedLog::Reader's
// grouping and GCM verification rather than stopping at a frame's CRC.
//
// Input: byte 0 = flags, bytes 1-2 = u16 offset, then parts (fuzz_util.h
// SplitParts): [patch], [KEYS], [envelope]. Flags:
//   bits 0-1  the segment file: 0 the template with the patch written over it at
//             the offset, 1 the patch inserted there, 2 a valid segment header
//             followed by the patch as frames, 3 the patch as the whole file
//   bit 2     the harness rewrites the CRC of every frame it can walk (flags
//             kept), so mutated envelopes and ciphertext reach the decoder
//   bit 3     KEYS is part 2 (else the template's); with bit 4 its CRC is fixed
//   bit 4     without bit 3: no KEYS file
//   bit 5     after reading, Enable a key, append a call, read it back, reopen
//   bits 6-7  0: read all; 1: also read from the offset's seq; 2: also read in
//             small chunks, resuming after the last record; 3: the template's
//             customer key is disabled in the fake KMS
// Checks: Open and Read take any folder and return records or errors, never a
// crash, hang or leak; Read's seqs increase from `from`; a record read from an
// encrypted frame is a plaintext the template encrypted (with its arrival time:
// GCM cannot be forged), a plain one is its frame's bytes; the unmodified
// template reads back exactly; a read from a later seq, and chunked reads, give
// the same records as the full read; DecodeKeys is canonical (EncodeKeys of what
// it accepts gives the same bytes back); DecodeEnvelope's parts fit its input;
// after Enable an appended call reads back, before and after a reopen, and its
// nonce is past every nonce KEYS leased before.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "buffer/encrypted_log.h"
#include "buffer/log_format.h"
#include "buffer/record_log.h"
#include "buffer/stream_log.h"
#include "common/coding.h"
#include "common/crc32c.h"
#include "common/file_util.h"
#include "fuzz/fuzz_util.h"

namespace buffer = hydrant::buffer;
namespace lf = hydrant::buffer::log_format;
namespace lk = hydrant::buffer::log_keys;
using hydrant::Result;
using hydrant::Status;

namespace {

constexpr std::string_view kContext = "stream-fuzz/source";

// A KMS whose data key for a blob is a function of the blob: every process
// unwraps the template's KEYS, and a fuzzed KEYS naming a "blob-..." unwraps too.
// Blobs "blob-short..." unwrap to a key of the wrong size; other blobs, or another
// context, are InvalidCiphertextException; keys in `disabled` are DisabledException.
class FakeKeys : public buffer::LogKeyService {
 public:
  Result<std::string> ResolveKey(std::string_view kms_key) override {
    std::string arn = kms_key.empty() ? "arn:owned" : std::string(kms_key);
    HYDRANT_RETURN_IF_ERROR(CheckUsable(arn));
    return arn;
  }
  Result<buffer::LogDataKey> NewDataKey(std::string_view arn, std::string_view context) override {
    HYDRANT_RETURN_IF_ERROR(CheckUsable(arn));
    buffer::LogDataKey k;
    k.kms_key_arn = std::string(arn);
    k.blob = "blob-" + std::string(arn) + "-" + std::to_string(made_++);
    k.plaintext = Derive(k.blob);
    return k;
  }
  Result<std::string> Unwrap(std::string_view blob, std::string_view context) override {
    if (blob.substr(0, 5) != "blob-" || context != kContext) {
      return Status::InvalidArgument("bad blob").WithErrorCode("InvalidCiphertextException");
    }
    if (blob.substr(0, 10) == "blob-short") return Derive(blob).substr(0, 16);
    return Derive(blob);
  }
  Status CheckUsable(std::string_view arn) override {
    if (disabled.count(std::string(arn)) || arn.find("disabled") != std::string_view::npos) {
      return Status::InvalidArgument(std::string(arn) + " is disabled.")
          .WithErrorCode("DisabledException");
    }
    return Status::Ok();
  }
  static std::string Derive(std::string_view blob) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : blob) h = (h ^ c) * 1099511628211ull;
    std::string key(32, '\0');
    for (int i = 0; i < 32; ++i) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      key[i] = static_cast<char>(h >> 56);
    }
    return key;
  }

  std::set<std::string> disabled;

 private:
  // Process-wide, as a KMS never hands out a data key twice (the template's are
  // the first two: "blob-arn:owned-0", "blob-arn:cmk-1").
  static inline uint64_t made_ = 0;
};

struct Rec {
  int64_t ms = 0;
  std::string data;
  uint32_t flags = 0;
  bool operator==(const Rec& o) const { return ms == o.ms && data == o.data; }
};
using Records = std::map<uint64_t, Rec>;

// The template log: its files and what it reads back.
struct Template {
  std::string segment;
  std::string keys;
  Records records;
  std::set<std::pair<int64_t, std::string>> encrypted;  // (arrival ms, plaintext)
};

void Check(const Status& st, const char* what) {
  FUZZ_CHECK(st.ok(), std::string(what) + ": " + st.ToString());
}

Template MakeTemplate(const hydrant::fuzz::ScratchDir& scratch) {
  Template t;
  const std::string dir = scratch.Sub("template");
  FakeKeys keys;
  buffer::LogOptions opts;
  opts.reuse_segments = 0;
  {
    auto inner = buffer::StreamLog::Open(dir, opts, nullptr);
    Check(inner.status(), "template: StreamLog::Open");
    std::shared_ptr<buffer::RecordLog> log_inner(std::move(inner).value());
    auto log = buffer::EncryptedLog::Open(log_inner, {dir, std::string(kContext), &keys});
    Check(log.status(), "template: EncryptedLog::Open");
    buffer::EncryptedLog& e = **log;
    int64_t ms = 1700000000000;
    uint64_t n = 0;
    auto put = [&](std::vector<std::string> data) {
      std::vector<std::string_view> views(data.begin(), data.end());
      auto seq = e.Append(ms, views);
      Check(seq.status(), "template: Append");
      for (size_t i = 0; i < data.size(); ++i) {
        t.records[*seq + i] = Rec{ms, data[i]};
        if (e.encrypting()) t.encrypted.insert({ms, data[i]});
      }
      ++ms;
    };
    auto payload = [&](size_t len) {
      std::string s(len, '\0');
      for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>('a' + (n + i) % 26);
      ++n;
      return s;
    };
    put({payload(5), payload(9)});
    Check(e.Enable(""), "template: Enable");
    put({payload(7), payload(3), payload(12)});
    put({payload(20)});
    Check(e.Enable("arn:cmk"), "template: Enable cmk");
    put({payload(4), std::string(), payload(6)});
    e.Disable();
    put({payload(8)});
    Check(e.Enable(""), "template: Enable again");
    put({payload(2), payload(11)});
    Check(e.Sync(), "template: Sync");
  }
  auto seg = hydrant::fs::ReadFile(dir + "/" + lf::SegmentFileName(0));
  Check(seg.status(), "template: read segment");
  auto k = hydrant::fs::ReadFile(dir + "/" + std::string(lk::kKeysName));
  Check(k.status(), "template: read KEYS");
  t.segment = std::move(seg).value();
  t.keys = std::move(k).value();
  return t;
}

// Rewrites the CRC of every frame of `file` (a segment of base 0) it can walk.
void FixFrameCrcs(std::string* file) {
  if (file->size() < lf::kSegmentHeaderSize) return;
  const uint32_t seed = lf::FrameSeed(lf::kSegmentVersion, 0);
  size_t pos = lf::kSegmentHeaderSize;
  while (pos + lf::kFrameHeaderSize <= file->size()) {
    char* h = file->data() + pos;
    const uint32_t len = lf::FramePayloadLength(h);
    if (len > file->size() - pos - lf::kFrameHeaderSize) break;
    lf::EncodeFrameHeader(lf::FrameArrivalMs(h), std::string_view(h + lf::kFrameHeaderSize, len),
                          seed, h, lf::FrameFlags(h));
    pos += lf::kFrameHeaderSize + len;
  }
}

// Every record from `from` in chunks of at most `max_bytes`, resuming after the
// last record; checks the order. False when a Read failed (damage is reported
// once as Unavailable, then cut: a few attempts).
bool ReadRecords(const buffer::RecordLog& log, uint64_t from, uint64_t max_bytes, Records* out) {
  out->clear();
  uint64_t next = from;
  int failures = 0;
  for (int calls = 0; calls < 10000; ++calls) {
    Records got;  // this call's, kept only if it succeeds
    Status st = log.Read(next, max_bytes, [&](const buffer::LogRecord& r) {
      FUZZ_CHECK(r.seq >= next, "Read gave a seq before `from`");
      FUZZ_CHECK(got.empty() || r.seq > got.rbegin()->first, "Read gave seqs out of order");
      FUZZ_CHECK(r.seq < log.next_seq(), "Read gave a seq past next_seq");
      got[r.seq] = Rec{r.arrival_ms, std::string(r.data), r.flags};
      return true;
    });
    if (!st.ok()) {
      if (++failures >= 3) return false;
      continue;
    }
    if (got.empty() || max_bytes == UINT64_MAX) {
      out->merge(got);
      return true;
    }
    FUZZ_CHECK(out->empty() || got.begin()->first > out->rbegin()->first,
               "a chunk repeats records of the chunk before");
    next = got.rbegin()->first + 1;
    out->merge(got);
  }
  FUZZ_CHECK(false, "chunked reads do not end");
  return false;
}

void FuzzDecoders(const std::vector<std::string_view>& parts) {
  for (std::string_view p : parts) {
    std::vector<lk::StoredKey> keys;
    if (lk::DecodeKeys(p, &keys).empty()) {
      const std::string again = lk::EncodeKeys(keys);
      FUZZ_CHECK(again == p, "EncodeKeys of a decoded KEYS differs from its bytes");
      std::vector<lk::StoredKey> back;
      FUZZ_CHECK(lk::DecodeKeys(again, &back).empty() && back.size() == keys.size(),
                 "EncodeKeys of a decoded KEYS does not decode");
      std::set<uint32_t> ids;
      for (size_t i = 0; i < keys.size(); ++i) {
        FUZZ_CHECK(back[i].id == keys[i].id && back[i].nonce_limit == keys[i].nonce_limit &&
                       back[i].kms_key_arn == keys[i].kms_key_arn && back[i].blob == keys[i].blob,
                   "a KEYS entry does not round-trip");
        FUZZ_CHECK(ids.insert(keys[i].id).second, "DecodeKeys accepted a duplicate id");
      }
      FUZZ_CHECK(keys.size() <= buffer::EncryptedLog::kMaxKeys, "DecodeKeys accepted too many keys");
    }
    lk::Envelope e;
    if (lk::DecodeEnvelope(p, &e).empty()) {
      const size_t header = e.head ? lk::kHeadBytes : lk::kMemberBytes;
      FUZZ_CHECK(p.size() >= header && e.ciphertext.size() == p.size() - header &&
                     e.ciphertext.data() == p.data() + header,
                 "an envelope's ciphertext is not the rest of its bytes");
      if (e.head) {
        FUZZ_CHECK(e.tag.size() == 16 && e.count >= 1 && e.count <= lk::kMaxCallRecords,
                   "a bad envelope head");
      } else {
        FUZZ_CHECK(e.index >= 1 && e.index < lk::kMaxCallRecords, "a bad envelope index");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hydrant::fuzz::ScratchDir scratch;
  static const Template tmpl = MakeTemplate(scratch);
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const uint16_t offset = static_cast<uint16_t>(data[1] | (data[2] << 8));
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data + 3, size - 3), 3);
  FuzzDecoders(parts);

  // The folder.
  std::string seg;
  switch (flags & 3) {
    case 0: {
      seg = tmpl.segment;
      const size_t at = offset % (seg.size() + 1);
      seg.replace(at, std::min(parts[0].size(), seg.size() - at), parts[0]);
      break;
    }
    case 1:
      seg = tmpl.segment;
      seg.insert(offset % (seg.size() + 1), parts[0]);
      break;
    case 2:
      seg = tmpl.segment.substr(0, lf::kSegmentHeaderSize);
      seg += parts[0];
      break;
    default:
      seg = std::string(parts[0]);
  }
  if (flags & 4) FixFrameCrcs(&seg);
  std::optional<std::string> keys_file;
  if (flags & 8) {
    keys_file = std::string(parts[1]);
    if ((flags & 16) && keys_file->size() >= 4) {
      hydrant::coding::EncodeFixed32(
          keys_file->data(),
          hydrant::crc32c::Mask(hydrant::crc32c::Value(keys_file->data() + 4, keys_file->size() - 4)));
    }
  } else if (!(flags & 16)) {
    keys_file = tmpl.keys;
  }
  const bool pristine = seg == tmpl.segment && keys_file == tmpl.keys;

  scratch.Clear();
  const std::string dir = scratch.Sub("log");
  scratch.Write("log/" + lf::SegmentFileName(0), seg);
  if (keys_file) scratch.Write("log/" + std::string(lk::kKeysName), *keys_file);

  FakeKeys kms;
  const int read_mode = flags >> 6;
  if (read_mode == 3) kms.disabled.insert("arn:cmk");
  buffer::LogOptions opts;
  opts.reuse_segments = 0;
  std::vector<lk::StoredKey> stored;  // KEYS as opened
  if (keys_file && !lk::DecodeKeys(*keys_file, &stored).empty()) stored.clear();

  uint64_t appended = 0;
  std::vector<std::string> appended_data;
  int64_t appended_ms = 0;
  {
    auto inner = buffer::StreamLog::Open(dir, opts, nullptr);
    if (!inner.ok()) return 0;
    std::shared_ptr<buffer::StreamLog> plain(std::move(inner).value());
    auto opened = buffer::EncryptedLog::Open(plain, {dir, std::string(kContext), &kms});
    if (!opened.ok()) {
      FUZZ_CHECK(keys_file.has_value() && opened.status().code() == hydrant::StatusCode::kCorruption,
                 "EncryptedLog::Open refused a folder without a damaged KEYS: " +
                     opened.status().ToString());
      return 0;
    }
    buffer::EncryptedLog& log = **opened;

    Records all;
    const bool read_ok = ReadRecords(log, 0, UINT64_MAX, &all);
    if (pristine && read_mode != 3) {
      FUZZ_CHECK(read_ok && all.size() == tmpl.records.size() && log.unreadable_records() == 0,
                 "the template does not read back");
      for (const auto& [seq, r] : all) {
        auto it = tmpl.records.find(seq);
        FUZZ_CHECK(it != tmpl.records.end() && it->second == r, "the template reads back changed");
      }
    }
    Records frames;
    if (read_ok && ReadRecords(*plain, 0, UINT64_MAX, &frames)) {
      for (const auto& [seq, r] : all) {
        auto f = frames.find(seq);
        FUZZ_CHECK(f != frames.end(), "a record read where the log has none");
        if (f->second.flags & buffer::kRecordEncrypted) {
          FUZZ_CHECK(tmpl.encrypted.count({r.ms, r.data}),
                     "a record decrypted that was never encrypted (seq " + std::to_string(seq) + ")");
        } else {
          FUZZ_CHECK(f->second == r, "a plain record reads back changed");
        }
      }
    }

    if (read_ok && read_mode == 1) {
      const uint64_t from = log.next_seq() == 0 ? 0 : offset % (log.next_seq() + 1);
      Records part;
      if (ReadRecords(log, from, UINT64_MAX, &part)) {
        for (auto it = all.lower_bound(from); it != all.end(); ++it) {
          auto p = part.find(it->first);
          FUZZ_CHECK(p != part.end() && p->second == it->second,
                     "a read from seq " + std::to_string(from) + " misses a record of the full read");
        }
        for (const auto& [seq, r] : part) {
          FUZZ_CHECK(all.count(seq), "a read from seq " + std::to_string(from) +
                                         " gives a record the full read does not");
        }
      }
    } else if (read_ok && read_mode == 2) {
      Records chunked;
      const uint64_t max_bytes = offset % 64;
      if (ReadRecords(log, 0, max_bytes, &chunked)) {
        FUZZ_CHECK(chunked.size() == all.size(), "chunked reads give " + std::to_string(chunked.size()) +
                                                     " records, one read " + std::to_string(all.size()));
        for (const auto& [seq, r] : all) {
          auto c = chunked.find(seq);
          FUZZ_CHECK(c != chunked.end() && c->second == r, "chunked reads differ from one read");
        }
      }
    }

    if (flags & 32) {
      const std::string key = (offset & 1) ? "arn:cmk" : "";
      if (!log.Enable(key).ok()) return 0;
      appended_ms = 1800000000000;
      appended_data = {"after-" + std::string(parts[2].substr(0, 40)), "", "third"};
      std::vector<std::string_view> views(appended_data.begin(), appended_data.end());
      auto seq = log.Append(appended_ms, views);
      if (!seq.ok() || !log.Sync().ok()) return 0;
      appended = *seq;
      // Its nonce: past every nonce KEYS had leased for that key before.
      Records frames_now;
      bool found = false;
      Status st = plain->Read(appended, UINT64_MAX, [&](const buffer::LogRecord& r) {
        lk::Envelope e;
        found = (r.flags & buffer::kRecordEncrypted) && lk::DecodeEnvelope(r.data, &e).empty() && e.head;
        if (found) {
          // The same data key (its blob) under any id of the KEYS opened.
          std::vector<lk::StoredKey> now;
          auto file = hydrant::fs::ReadFile(dir + "/" + std::string(lk::kKeysName));
          FUZZ_CHECK(file.ok() && lk::DecodeKeys(*file, &now).empty(), "KEYS after Enable does not decode");
          std::string blob;
          for (const auto& s : now) {
            if (s.id == e.key_id) blob = s.blob;
          }
          FUZZ_CHECK(!blob.empty(), "the appended call's key is not in KEYS");
          for (const auto& s : stored) {
            if (s.blob == blob) {
              FUZZ_CHECK(e.nonce >= s.nonce_limit,
                         "nonce " + std::to_string(e.nonce) + " reused: KEYS had leased up to " +
                             std::to_string(s.nonce_limit));
            }
          }
        }
        return false;
      });
      FUZZ_CHECK(st.ok() && found, "the appended call is not an encrypted call: " + st.ToString());
      Records back;
      FUZZ_CHECK(ReadRecords(log, appended, UINT64_MAX, &back) && back.size() == 3 &&
                     back.begin()->first == appended && back.begin()->second.data == appended_data[0] &&
                     back.rbegin()->second.data == appended_data[2],
                 "an appended encrypted call does not read back");
    }
  }
  if (appended_data.empty()) return 0;
  // Reopened: KEYS as rewritten by Enable decodes, and the call reads back.
  auto inner = buffer::StreamLog::Open(dir, opts, nullptr);
  FUZZ_CHECK(inner.ok(), "cannot reopen a log it wrote: " + inner.status().ToString());
  std::shared_ptr<buffer::RecordLog> plain(std::move(inner).value());
  auto log = buffer::EncryptedLog::Open(plain, {dir, std::string(kContext), &kms});
  FUZZ_CHECK(log.ok(), "cannot reopen the KEYS it wrote: " + log.status().ToString());
  Records back;
  FUZZ_CHECK(ReadRecords(**log, appended, UINT64_MAX, &back) && back.size() == 3 &&
                 back.begin()->second == (Rec{appended_ms, appended_data[0]}),
             "an appended encrypted call does not read back after a reopen");
  return 0;
}
