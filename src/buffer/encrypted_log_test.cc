// EncryptedLog: encryption at rest over a real StreamLog, with a fake KMS.

#include "buffer/encrypted_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "buffer/log_format.h"
#include "buffer/log_test_util.h"
#include "buffer/stream_log.h"
#include "common/coding.h"
#include "common/file_util.h"

namespace hydrant::buffer {
namespace {

using testing::PayloadFor;
using testing::ReadAll;
using testing::Rec;
using testing::SegmentFiles;
using testing::TempDir;
namespace fmt = log_format;

// A KMS of named keys that can be disabled; data keys are random, and their
// "blob" names them (the fake keeps the plaintexts).
class FakeKeys : public LogKeyService {
 public:
  Result<std::string> ResolveKey(std::string_view kms_key) override {
    std::string arn = kms_key.empty() ? "arn:owned" : std::string(kms_key);
    HYDRANT_RETURN_IF_ERROR(CheckUsable(arn));
    return arn;
  }
  Result<LogDataKey> NewDataKey(std::string_view arn, std::string_view context) override {
    HYDRANT_RETURN_IF_ERROR(CheckUsable(arn));
    LogDataKey k;
    k.kms_key_arn = std::string(arn);
    for (int i = 0; i < 32; ++i) k.plaintext.push_back(static_cast<char>(blobs_.size() * 31 + i));
    k.blob = "blob-" + std::to_string(blobs_.size());
    blobs_[k.blob] = {k.kms_key_arn, k.plaintext, std::string(context)};
    ++generated;
    return k;
  }
  Result<std::string> Unwrap(std::string_view blob, std::string_view context) override {
    auto it = blobs_.find(std::string(blob));
    if (it == blobs_.end() || it->second.context != context) {
      return Status::InvalidArgument("bad blob").WithErrorCode("InvalidCiphertextException");
    }
    HYDRANT_RETURN_IF_ERROR(CheckUsable(it->second.arn));
    ++unwrapped;
    return it->second.plaintext;
  }
  Status CheckUsable(std::string_view arn) override {
    if (disabled.count(std::string(arn))) {
      return Status::InvalidArgument(std::string(arn) + " is disabled.")
          .WithErrorCode("DisabledException");
    }
    return Status::Ok();
  }

  std::set<std::string> disabled;
  int generated = 0;
  int unwrapped = 0;

 private:
  struct Blob {
    std::string arn, plaintext, context;
  };
  std::map<std::string, Blob> blobs_;
};

class EncryptedLogTest : public ::testing::Test {
 protected:
  void OpenLog() {
    log_.reset();
    inner_.reset();
    auto inner = StreamLog::Open(dir_.path(), {}, &report_);
    ASSERT_TRUE(inner.ok()) << inner.status().ToString();
    inner_ = std::shared_ptr<StreamLog>(std::move(inner).value());
    auto log = EncryptedLog::Open(inner_, {dir_.path(), "stream-a/source", &keys_});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }
  // Appends one call; returns the records as they should read back.
  std::vector<Rec> Put(int64_t ms, uint64_t first_payload, size_t n) {
    std::vector<std::string> data;
    for (size_t i = 0; i < n; ++i) data.push_back(PayloadFor(first_payload + i));
    std::vector<std::string_view> views(data.begin(), data.end());
    auto seq = log_->Append(ms, views);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    std::vector<Rec> out;
    for (size_t i = 0; i < n; ++i) out.push_back(Rec{*seq + i, ms, data[i]});
    return out;
  }
  // Closes the log and returns its first segment's bytes (its path in *path).
  std::string CloseAndReadSegment(std::string* path) {
    log_.reset();
    inner_.reset();
    *path = SegmentFiles(dir_.path()).at(0);
    return fs::ReadFile(*path).value();
  }
  // The file offset of frame k (from 0) of a segment's bytes.
  static uint64_t FrameOffset(const std::string& bytes, int k) {
    uint64_t pos = fmt::kSegmentHeaderSize;
    for (int i = 0; i < k; ++i) pos += fmt::kFrameHeaderSize + fmt::FramePayloadLength(bytes.data() + pos);
    return pos;
  }
  std::string DiskBytes() {
    std::string all;
    for (const auto& f : SegmentFiles(dir_.path())) all += fs::ReadFile(f).value();
    return all;
  }

  TempDir dir_;
  FakeKeys keys_;
  RecoveryReport report_;
  std::shared_ptr<StreamLog> inner_;
  std::shared_ptr<EncryptedLog> log_;
};

TEST_F(EncryptedLogTest, PlainAndEncryptedRecordsReadBackInOrder) {
  OpenLog();
  std::vector<Rec> want = Put(1, 0, 3);
  EXPECT_FALSE(log_->encrypting());
  ASSERT_TRUE(log_->Enable("").ok());
  EXPECT_TRUE(log_->encrypting());
  for (int i = 0; i < 5; ++i) {
    auto more = Put(10 + i, 100 * i, 1 + i * 7);
    want.insert(want.end(), more.begin(), more.end());
  }
  log_->Disable();
  EXPECT_FALSE(log_->encrypting());
  auto tail = Put(99, 900, 2);
  want.insert(want.end(), tail.begin(), tail.end());
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(ReadAll(*log_), want);
  // The inner log holds envelopes for the encrypted ones, flagged.
  int flagged = 0;
  ASSERT_TRUE(inner_->Read(0, UINT64_MAX, [&](const LogRecord& r) {
    flagged += (r.flags & kRecordEncrypted) ? 1 : 0;
    return true;
  }).ok());
  EXPECT_EQ(flagged, 1 + 8 + 15 + 22 + 29);
  // After a restart too.
  OpenLog();
  EXPECT_EQ(ReadAll(*log_), want);
  EXPECT_EQ(log_->unreadable_records(), 0u);
}

TEST_F(EncryptedLogTest, BytesOnDiskAreNotThePlaintext) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("arn:cmk").ok());
  const std::string secret = "card=4111111111111111;the-plaintext-marker";
  std::string_view p[] = {secret, secret};
  ASSERT_TRUE(log_->Append(5, p).ok());
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(DiskBytes().find("the-plaintext-marker"), std::string::npos);
  std::string keys = fs::ReadFile(dir_.path() + "/KEYS").value();
  EXPECT_NE(keys.find("arn:cmk"), std::string::npos);
  // The data key itself is not stored, only its blob.
  EXPECT_NE(keys.find("blob-0"), std::string::npos);
  std::string first_key;
  for (int i = 0; i < 32; ++i) first_key.push_back(static_cast<char>(i));
  EXPECT_EQ(keys.find(first_key.substr(0, 16)), std::string::npos);
  log_->Disable();
  ASSERT_TRUE(log_->Append(6, p).ok());
  EXPECT_NE(DiskBytes().find("the-plaintext-marker"), std::string::npos);
}

// Reads starting anywhere, with any byte limit, pass exactly what a plain log
// holding the same records passes.
TEST_F(EncryptedLogTest, ReadsFromAnyPositionMatchAPlainLog) {
  OpenLog();
  TempDir plain_dir;
  auto plain = StreamLog::Open(plain_dir.path(), {}, nullptr);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(log_->Enable("").ok());
  uint64_t payload = 0;
  for (size_t n : {1, 9, 3, 17, 1, 6}) {
    std::vector<std::string> data;
    for (size_t i = 0; i < n; ++i) data.push_back(PayloadFor(payload++));
    std::vector<std::string_view> views(data.begin(), data.end());
    ASSERT_TRUE(log_->Append(7, views).ok());
    ASSERT_TRUE((*plain)->Append(7, views).ok());
  }
  auto collect = [](const RecordLog& log, uint64_t from, uint64_t max, int stop_after) {
    std::vector<Rec> out;
    EXPECT_TRUE(log.Read(from, max, [&](const LogRecord& r) {
      out.push_back(Rec{r.seq, r.arrival_ms, std::string(r.data)});
      return static_cast<int>(out.size()) != stop_after;
    }).ok());
    return out;
  };
  for (uint64_t from = 0; from <= log_->next_seq(); ++from) {
    for (uint64_t max : {uint64_t{1}, uint64_t{200}, uint64_t{1000}, UINT64_MAX}) {
      for (int stop_after : {-1, 1, 4}) {
        ASSERT_EQ(collect(*log_, from, max, stop_after), collect(**plain, from, max, stop_after))
            << "from " << from << " max " << max << " stop " << stop_after;
      }
    }
  }
}

TEST_F(EncryptedLogTest, NoncesNeverRepeatAcrossRestarts) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("arn:cmk").ok());
  for (int i = 0; i < 3; ++i) Put(1, i, 2);
  OpenLog();
  ASSERT_TRUE(log_->Enable("arn:cmk").ok());
  EXPECT_EQ(log_->key_count(), 1u);  // the same data key, unwrapped again
  EXPECT_EQ(keys_.generated, 1);
  for (int i = 0; i < 3; ++i) Put(2, 10 + i, 2);
  std::vector<uint64_t> nonces;
  ASSERT_TRUE(inner_->Read(0, UINT64_MAX, [&](const LogRecord& r) {
    log_keys::Envelope e;
    EXPECT_EQ(log_keys::DecodeEnvelope(r.data, &e), "");
    if (e.head) nonces.push_back(e.nonce);
    return true;
  }).ok());
  ASSERT_EQ(nonces.size(), 6u);
  EXPECT_EQ(std::set<uint64_t>(nonces.begin(), nonces.end()).size(), 6u);
  // The second session started past the block the first one leased.
  EXPECT_GE(nonces[3], uint64_t{1} << 32);
  EXPECT_EQ(ReadAll(*log_).size(), 12u);
}

TEST_F(EncryptedLogTest, AFlippedByteOnDiskIsDamage) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("").ok());
  std::vector<Rec> first = Put(1, 0, 4);
  std::vector<Rec> second = Put(2, 10, 4);
  std::vector<Rec> third = Put(3, 20, 4);
  ASSERT_TRUE(log_->Sync().ok());
  // Flip a byte inside the second call's last record.
  std::string seg;
  std::string bytes = CloseAndReadSegment(&seg);
  const uint64_t pos = FrameOffset(bytes, 7);
  bytes[pos + fmt::kFrameHeaderSize + 2] ^= 0x40;
  ASSERT_TRUE(fs::WriteFileAtomic(seg, bytes).ok());
  OpenLog();
  EXPECT_FALSE(report_.problems.empty());  // the frame's checksum caught it
  std::vector<Rec> want = first;
  want.insert(want.end(), third.begin(), third.end());
  EXPECT_EQ(ReadAll(*log_), want);  // the rest of the damaged call cannot be verified
  EXPECT_EQ(log_->unreadable_records(), 3u);
}

// Bytes changed by someone who also fixed the frame checksums: GCM catches it.
TEST_F(EncryptedLogTest, ChangedCiphertextWithValidChecksumsIsRejected) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("").ok());
  std::vector<Rec> first = Put(1, 0, 3);
  Put(2, 10, 3);
  ASSERT_TRUE(log_->Sync().ok());
  std::string seg;
  std::string bytes = CloseAndReadSegment(&seg);
  const uint64_t pos = FrameOffset(bytes, 4);
  char* frame = bytes.data() + pos;
  const uint32_t len = fmt::FramePayloadLength(frame);
  frame[fmt::kFrameHeaderSize + len - 1] ^= 1;
  fmt::EncodeFrameHeader(fmt::FrameArrivalMs(frame),
                         std::string_view(frame + fmt::kFrameHeaderSize, len),
                         fmt::FrameSeed(fmt::kSegmentVersion, 0), frame, fmt::FrameFlags(frame));
  ASSERT_TRUE(fs::WriteFileAtomic(seg, bytes).ok());
  OpenLog();
  EXPECT_TRUE(report_.problems.empty());
  EXPECT_EQ(ReadAll(*log_), first);
  EXPECT_EQ(log_->unreadable_records(), 3u);
}

// A crash tore a call (never acknowledged): its surviving records are skipped,
// reported once however often they are read, and appends go on after them.
TEST_F(EncryptedLogTest, ACallTornByACrashIsSkippedAndReportedOnce) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("").ok());
  std::vector<Rec> first = Put(1, 0, 3);
  Put(2, 10, 4);
  ASSERT_TRUE(log_->Sync().ok());
  // Cut the segment in the middle of the second call's third record.
  std::string seg;
  std::string bytes = CloseAndReadSegment(&seg);
  const uint64_t pos = FrameOffset(bytes, 5);
  ASSERT_TRUE(fs::WriteFileAtomic(seg, bytes.substr(0, pos + 10)).ok());
  ASSERT_TRUE(fs::RemoveAll(dir_.path() + "/END").ok());  // as after kill -9
  OpenLog();
  EXPECT_FALSE(report_.torn_tail.empty());  // what a crash leaves, not damage
  EXPECT_EQ(log_->next_seq(), 5u);          // the call's first two records survive
  EXPECT_EQ(ReadAll(*log_), first);
  std::vector<Rec> after = Put(3, 20, 2);
  std::vector<Rec> want = first;
  want.insert(want.end(), after.begin(), after.end());
  EXPECT_EQ(ReadAll(*log_), want);
  EXPECT_EQ(ReadAll(*log_, 4), after);
  EXPECT_EQ(log_->unreadable_records(), 2u);  // counted once
}

// Without KEYS the encrypted records cannot be read: an error that names the
// file (delivery retries, then drops them at the retention period), never a crash;
// plain records before them still read.
TEST_F(EncryptedLogTest, AMissingKeysFileFailsReadsOfEncryptedRecordsOnly) {
  OpenLog();
  std::vector<Rec> plain = Put(1, 0, 2);
  ASSERT_TRUE(log_->Enable("").ok());
  Put(2, 10, 2);
  log_.reset();
  ASSERT_TRUE(fs::RemoveAll(dir_.path() + "/KEYS").ok());
  OpenLog();
  Status st;
  std::vector<Rec> got = ReadAll(*log_, 0, &st);
  EXPECT_EQ(got, plain);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("KEYS"), std::string::npos) << st.ToString();
}

TEST_F(EncryptedLogTest, ADisabledKeyStopsAppendsAndReadsUntilEnabled) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("arn:cmk").ok());
  std::vector<Rec> want = Put(1, 0, 2);
  keys_.disabled.insert("arn:cmk");
  std::string_view p[] = {"x"};
  auto r = log_->Append(2, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "DisabledException");
  EXPECT_EQ(log_->next_seq(), 2u);  // nothing written, and never in plaintext
  Status st;
  ReadAll(*log_, 0, &st);
  EXPECT_EQ(st.error_code(), "DisabledException");
  keys_.disabled.clear();
  EXPECT_EQ(ReadAll(*log_), want);
  EXPECT_TRUE(log_->Append(3, p).ok());
}

// A restart while the key is disabled: appends fail until the key works again,
// then resume without another Enable.
TEST_F(EncryptedLogTest, AKeyUnusableAtStartIsRetried) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("arn:cmk").ok());
  Put(1, 0, 2);
  keys_.disabled.insert("arn:cmk");
  OpenLog();
  EXPECT_EQ(log_->Enable("arn:cmk").error_code(), "DisabledException");
  EXPECT_FALSE(log_->encrypting());
  std::string_view p[] = {"x"};
  EXPECT_FALSE(log_->Append(2, p).ok());
  EXPECT_EQ(log_->next_seq(), 2u);
  keys_.disabled.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(log_->Append(3, p).ok());
  EXPECT_TRUE(log_->encrypting());
  EXPECT_EQ(ReadAll(*log_).size(), 3u);
}

TEST_F(EncryptedLogTest, DataKeysAreBoundedAndDroppedOnceDelivered) {
  OpenLog();
  for (size_t i = 0; i < EncryptedLog::kMaxKeys; ++i) {
    ASSERT_TRUE(log_->Enable("arn:k" + std::to_string(i)).ok());
    Put(1, i, 1);
  }
  EXPECT_EQ(log_->key_count(), EncryptedLog::kMaxKeys);
  Status st = log_->Enable("arn:one-too-many");
  EXPECT_EQ(st.error_code(), "LimitExceededException");
  EXPECT_FALSE(log_->encrypting());  // nothing is appended in plaintext meanwhile
  ASSERT_TRUE(log_->Enable("arn:k3").ok());  // a key it holds still works
  Put(2, 50, 1);
  ASSERT_TRUE(log_->MarkDelivered(log_->next_seq()).ok());
  EXPECT_EQ(log_->key_count(), 1u);
  ASSERT_TRUE(log_->Enable("arn:one-too-many").ok());
  auto more = Put(3, 60, 2);
  EXPECT_EQ(ReadAll(*log_, log_->first_undelivered()), more);
  OpenLog();
  EXPECT_EQ(log_->key_count(), 2u);
  EXPECT_EQ(ReadAll(*log_, log_->first_undelivered()), more);
}

TEST_F(EncryptedLogTest, ADamagedKeysFileRefusesToOpen) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("").ok());
  Put(1, 0, 1);
  log_.reset();
  std::string keys = fs::ReadFile(dir_.path() + "/KEYS").value();
  keys[keys.size() - 1] ^= 1;
  ASSERT_TRUE(fs::WriteFileAtomic(dir_.path() + "/KEYS", keys).ok());
  auto log = EncryptedLog::Open(inner_, {dir_.path(), "stream-a/source", &keys_});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_NE(log.status().message().find("KEYS"), std::string::npos);
}

// Found by fuzz/log_keys_fuzz.cc: a KEYS entry (valid CRC) whose nonce limit
// leaves no room for another lease wrapped the limit, and the data key was used
// again from nonce 0. Its data key is now left alone and a new one is made.
TEST_F(EncryptedLogTest, AKeysEntryWithNoNoncesLeftIsNotReused) {
  OpenLog();
  ASSERT_TRUE(log_->Enable("").ok());
  std::vector<Rec> want = Put(1, 0, 2);
  log_.reset();
  inner_.reset();
  std::vector<log_keys::StoredKey> entries;
  ASSERT_EQ(log_keys::DecodeKeys(fs::ReadFile(dir_.path() + "/KEYS").value(), &entries), "");
  ASSERT_EQ(entries.size(), 1u);
  entries[0].nonce_limit = UINT64_MAX - 5;
  ASSERT_TRUE(fs::WriteFileAtomic(dir_.path() + "/KEYS", log_keys::EncodeKeys(entries)).ok());
  OpenLog();
  ASSERT_TRUE(log_->Enable("").ok());
  EXPECT_EQ(log_->key_count(), 2u);
  std::vector<Rec> more = Put(2, 10, 2);
  want.insert(want.end(), more.begin(), more.end());
  EXPECT_EQ(ReadAll(*log_), want);
  // The new call's head: another data key (or a nonce past the old limit).
  bool checked = false;
  ASSERT_TRUE(inner_->Read(more[0].seq, UINT64_MAX, [&](const LogRecord& r) {
    log_keys::Envelope e;
    EXPECT_EQ(log_keys::DecodeEnvelope(r.data, &e), "");
    EXPECT_TRUE(e.head);
    EXPECT_NE(e.key_id, entries[0].id);
    checked = true;
    return false;
  }).ok());
  EXPECT_TRUE(checked);
}

TEST(LogKeysFormat, RoundTripAndRejects) {
  std::vector<log_keys::StoredKey> keys = {{1, 7, "arn:a", "blob"}, {2, 0, "arn:b", ""}};
  std::vector<log_keys::StoredKey> back;
  ASSERT_EQ(log_keys::DecodeKeys(log_keys::EncodeKeys(keys), &back), "");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].kms_key_arn, "arn:a");
  EXPECT_EQ(back[0].nonce_limit, 7u);
  EXPECT_EQ(back[1].id, 2u);
  std::string enc = log_keys::EncodeKeys(keys);
  EXPECT_NE(log_keys::DecodeKeys(enc.substr(0, enc.size() - 1), &back), "");
  EXPECT_NE(log_keys::DecodeKeys("", &back), "");
  log_keys::Envelope e;
  EXPECT_NE(log_keys::DecodeEnvelope("", &e), "");
  EXPECT_NE(log_keys::DecodeEnvelope(std::string(1, '\3'), &e), "");
  EXPECT_NE(log_keys::DecodeEnvelope(std::string("\2\0\0\0\0", 5), &e), "");  // index 0
}

}  // namespace
}  // namespace hydrant::buffer
