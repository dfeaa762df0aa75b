// Fuzz target: the durable log (buffer/stream_log.h) reading arbitrary bytes, as
// a torn write, a bad disk or an operator may leave its folder: Open's recovery
// scan, the segment index, the checkpoint, then Read over what was recovered.
//
// Input parts (fuzz_util.h SplitParts): [flags byte + body of segment A], body
// of segment B, the CHECKPOINT file, an index file for A. Flags:
//   bit 0  A gets a valid segment header from the harness (else its body is the
//          whole file, header included)
//   bit 1  the harness rewrites the CRC of every frame it can walk in A and B,
//          so the fuzzer controls the structure rather than fighting the CRC
//   bit 2  segment B exists (with a valid header), based at 0, 3, 10 or 1000
//          (bits 4-5) past A's walked frames
//   bit 3  CHECKPOINT is part 3 as is (else none)
//   bit 6  A gets a correct index file for its walked frames
//   bit 7  A gets part 4 as its index file
// Checks: Open takes any folder; Read hands out increasing seqs from `from` and
// never a record twice; an Append after recovery is read back, and survives a
// reopen; log_format's decoders take any bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "buffer/log_format.h"
#include "buffer/record_log.h"
#include "buffer/stream_log.h"
#include "common/coding.h"
#include "fuzz/fuzz_util.h"

namespace buffer = hydrant::buffer;
namespace lf = hydrant::buffer::log_format;

namespace {

constexpr uint64_t kBaseA = 0;

// Walks the frames of `body` (no segment header), rewriting their CRCs when
// `fix` is set; returns the offsets (in the file) of the frames walked.
std::vector<uint64_t> WalkFrames(std::string* body, uint64_t base, bool fix) {
  std::vector<uint64_t> offsets;
  const uint32_t seed = lf::FrameSeed(lf::kSegmentVersion, base);
  size_t pos = 0;
  while (pos + lf::kFrameHeaderSize <= body->size()) {
    char* h = body->data() + pos;
    uint32_t len = lf::FramePayloadLength(h);
    if (len > body->size() - pos - lf::kFrameHeaderSize) break;
    if (fix) {
      std::string_view payload(h + lf::kFrameHeaderSize, len);
      lf::EncodeFrameHeader(lf::FrameArrivalMs(h), payload, seed, h);
    }
    offsets.push_back(lf::kSegmentHeaderSize + pos);
    pos += lf::kFrameHeaderSize + len;
  }
  return offsets;
}

std::string Header(uint64_t base) {
  char h[lf::kSegmentHeaderSize];
  lf::EncodeSegmentHeader(base, h);
  return std::string(h, sizeof(h));
}

// Every record from `from`, checking the order; false when Read failed.
bool ReadAll(const buffer::StreamLog& log, uint64_t from, std::vector<uint64_t>* seqs) {
  for (int attempt = 0; attempt < 3; ++attempt) {  // damage met first is Unavailable, then cut
    seqs->clear();
    hydrant::Status st = log.Read(from, UINT64_MAX, [&](const buffer::LogRecord& r) {
      FUZZ_CHECK(r.seq >= from, "Read gave a seq before `from`");
      FUZZ_CHECK(seqs->empty() || r.seq > seqs->back(), "Read gave seqs out of order");
      FUZZ_CHECK(r.seq < log.next_seq(), "Read gave a seq past next_seq");
      seqs->push_back(r.seq);
      return true;
    });
    if (st.ok()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hydrant::fuzz::ScratchDir dir;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data + 1, size - 1), 4);

  // The decoders on their own.
  {
    uint64_t v = 0;
    uint32_t version = 0;
    (void)lf::DecodeCheckpoint(parts[2], &v);
    lf::SegmentIndex index;
    (void)lf::DecodeIndex(parts[3], &index);
    if (parts[0].size() >= lf::kSegmentHeaderSize) {
      (void)lf::DecodeSegmentHeader(parts[0].data(), &v, &version);
    }
  }

  dir.Clear();
  const std::string log_dir = dir.Sub("log");
  std::string a(parts[0]);
  std::vector<uint64_t> frames_a;
  if (flags & 1) {
    frames_a = WalkFrames(&a, kBaseA, flags & 2);
    dir.Write("log/" + lf::SegmentFileName(kBaseA), Header(kBaseA) + a);
  } else {
    dir.Write("log/" + lf::SegmentFileName(kBaseA), a);
  }
  if (flags & 4) {
    static constexpr uint64_t kGaps[] = {0, 3, 10, 1000};
    uint64_t base_b = kBaseA + frames_a.size() + kGaps[(flags >> 4) & 3];
    std::string b(parts[1]);
    WalkFrames(&b, base_b, flags & 2);
    dir.Write("log/" + lf::SegmentFileName(base_b), Header(base_b) + b);
  }
  if (flags & 8) dir.Write("log/" + std::string(lf::kCheckpointName), parts[2]);
  if ((flags & 64) && (flags & 1)) {
    lf::SegmentIndex index;
    index.base = kBaseA;
    index.count = frames_a.size();
    index.size = lf::kSegmentHeaderSize + a.size();
    index.interval = 16;
    for (size_t i = 0; i < frames_a.size(); i += index.interval) index.offsets.push_back(frames_a[i]);
    dir.Write("log/" + lf::IndexFileName(kBaseA), lf::EncodeIndex(index));
  } else if (flags & 128) {
    dir.Write("log/" + lf::IndexFileName(kBaseA), parts[3]);
  }

  buffer::LogOptions opts;
  opts.reuse_segments = 0;
  uint64_t next = 0;
  {
    buffer::RecoveryReport report;
    auto opened = buffer::StreamLog::Open(log_dir, opts, &report);
    if (!opened.ok()) return 0;
    buffer::StreamLog& log = **opened;
    FUZZ_CHECK(log.first_undelivered() <= log.next_seq(), "checkpoint past the end");
    std::vector<uint64_t> seqs;
    if (!ReadAll(log, log.first_undelivered(), &seqs)) return 0;

    const std::string_view payload = "appended after recovery";
    auto seq = log.Append(1234, std::span<const std::string_view>(&payload, 1));
    if (!seq.ok() || !log.Sync().ok()) return 0;
    bool found = false;
    hydrant::Status st = log.Read(*seq, UINT64_MAX, [&](const buffer::LogRecord& r) {
      found = r.seq == *seq && r.data == payload && r.arrival_ms == 1234;
      return false;
    });
    FUZZ_CHECK(st.ok() && found, "the record appended after recovery does not read back");
    next = log.next_seq();
  }
  auto reopened = buffer::StreamLog::Open(log_dir, opts, nullptr);
  FUZZ_CHECK(reopened.ok(), "cannot reopen a log it wrote: " + reopened.status().ToString());
  FUZZ_CHECK((*reopened)->next_seq() == next, "next_seq changed across a clean reopen");
  std::vector<uint64_t> seqs;
  FUZZ_CHECK(ReadAll(**reopened, next - 1, &seqs) && !seqs.empty() && seqs.back() == next - 1,
             "the appended record is gone after a reopen");
  return 0;
}
