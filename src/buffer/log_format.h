#pragma once
// The on-disk format of a StreamLog, fixed in one place (restated in prose in
// docs/wal-format.md; change both together and bump the version).
//
// A log directory holds:
//   <20-digit decimal base seq>.log   segment files, e.g. 00000000000000001024.log
//   CHECKPOINT                        first undelivered seq (replaced atomically)
//   CHECKPOINT.tmp                    transient, only while a checkpoint is written
//   LOCK                              flock'ed while a process has the log open
//   END                               next seq at the last clean close (see below)
//   <20-digit decimal base seq>.idx   index of a sealed segment (optional, see below)
//   <20-digit decimal number>.free    a delivered segment file kept for reuse
//   <20-digit base>.<offset>.damaged  bytes of segment <base> from <offset> that
//                                     failed their checks, kept out of the log
//   <20-digit base>.rebuilt           transient: a segment being rewritten by Open
//
// Segment file = segment header, then frames back to back, then (in a reused
// file) whatever the file's earlier life left behind:
//
//   segment header (20 bytes)            frame (16-byte header + payload)
//   +0  u32 masked CRC32C of +4..+20      +0  u32 masked CRC32C of +4..end of payload
//   +4  u32 magic "HYLG"                  +4  u32 payload length
//   +8  u32 format version (1 to 3)       +8  i64 arrival time, ms since the epoch
//   +12 u64 base seq (= the file name)    +16 payload bytes
//
// Version 2 (written since segment files are reused) seeds each frame's CRC32C
// with the CRC32C of the segment's base seq (8 bytes, little-endian): a frame
// left in a reused file by its earlier life was summed with another base, so it
// never validates as a frame of the new one. Version 1 frames are unseeded (seed
// 0); all versions are read.
//
// Version 3 (written since stream encryption at rest) seeds frames as version 2
// and gives the payload length field's top bit a meaning: set, the payload is an
// encryption envelope (buffer/encrypted_log.h), not the record itself. Lengths
// stay at most 64 MiB, so the bit was never set in a valid frame before.
//
// All integers little-endian. A record's seq is not stored in its frame: it is
// the segment's base seq plus the record's index in the segment. Records of a
// segment are consecutive by construction, so this costs nothing and saves 8
// bytes a frame; and because the base is in the file name, the seqs of a later
// segment stay known even when an earlier segment is cut by damage (the lost
// range is then exactly the gap between the two).
//
// Segment index file (written once a segment is sealed — a newer segment exists —
// and its frames are durable; never rewritten; a missing, damaged or disagreeing
// index only means Open scans the segment as before):
//   +0  u32 masked CRC32C of +4..end      +24 u64 record count
//   +4  u32 magic "HYIX"                  +32 u64 segment size in bytes (header + frames)
//   +8  u32 index version (1)             +40 u64 offsets[ceil(count / interval)]: the
//   +12 u32 interval (16)                     file offset of record k * interval
//   +16 u64 base seq (= the file name)
//
// Checkpoint file (20 bytes):
//   +0 u32 masked CRC32C of +4..+20, +4 u32 magic "HYCK", +8 u32 version (1),
//   +12 u64 first undelivered seq.
//
// End file END (written by a clean close, removed by Open; same layout with magic
// "HYEN"): the next seq at the close, so that Open can tell a deleted newest
// segment from an empty log.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"

namespace hydrant::buffer::log_format {

// Segment files are written as version 3 and read as version 1, 2 or 3.
inline constexpr uint32_t kSegmentVersion = 3;
inline constexpr uint32_t kOldestSegmentVersion = 1;
inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr uint32_t kSegmentMagic = 0x474c5948;     // bytes "HYLG"
inline constexpr uint32_t kCheckpointMagic = 0x4b435948;  // bytes "HYCK"
inline constexpr uint32_t kIndexMagic = 0x58495948;       // bytes "HYIX"
inline constexpr uint32_t kEndMagic = 0x4e455948;         // bytes "HYEN"
inline constexpr uint32_t kIndexVersion = 1;

inline constexpr size_t kSegmentHeaderSize = 20;
inline constexpr size_t kFrameHeaderSize = 16;
inline constexpr size_t kCheckpointSize = 20;
inline constexpr size_t kIndexHeaderSize = 40;

// Larger lengths are "impossible": recovery treats them as damage. Firehose
// records are at most 1000 KiB; this leaves room without trusting 4 GiB garbage.
inline constexpr uint32_t kMaxPayloadBytes = 64u << 20;

// Frame flags: bits of the payload length field above any valid length
// (version 3). kFrameEncrypted: the payload is an encryption envelope.
inline constexpr uint32_t kFrameEncrypted = 1u << 31;
inline constexpr uint32_t kFrameFlagsMask = kFrameEncrypted;

inline constexpr std::string_view kSegmentSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".idx";
inline constexpr std::string_view kFreeSuffix = ".free";
inline constexpr std::string_view kDamagedSuffix = ".damaged";
inline constexpr std::string_view kRebuiltSuffix = ".rebuilt";
inline constexpr size_t kSegmentNameDigits = 20;
inline constexpr std::string_view kCheckpointName = "CHECKPOINT";
inline constexpr std::string_view kCheckpointTempName = "CHECKPOINT.tmp";
inline constexpr std::string_view kLockName = "LOCK";
inline constexpr std::string_view kEndName = "END";

// ---- file names ----
std::string SegmentFileName(uint64_t base_seq);
// The base seq of a segment file name, or nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// The index file of segment `base_seq`, and the base seq of an index file name.
std::string IndexFileName(uint64_t base_seq);
std::optional<uint64_t> ParseIndexFileName(std::string_view name);

// A delivered segment file kept for reuse, numbered by the log; and its number.
std::string FreeFileName(uint64_t number);
std::optional<uint64_t> ParseFreeFileName(std::string_view name);

// Damaged bytes of segment `base_seq` from `offset`, kept (never read again).
std::string DamagedFileName(uint64_t base_seq, uint64_t offset);
// A segment being rewritten at Open (frames after damage, or after a bad header);
// and its base seq. Open deletes leftovers.
std::string RebuiltFileName(uint64_t base_seq);
std::optional<uint64_t> ParseRebuiltFileName(std::string_view name);

// ---- resynchronizing after damage ----
// Past a damaged frame, Open looks for the next valid frame (leveldb's log reader
// does the same per block): first by following the damaged frames' own lengths,
// then byte by byte up to kResyncWindowBytes past the damage, accepting a frame of
// at most kResyncMaxPayloadBytes (a Firehose record is at most 1000 KiB) with a
// plausible arrival time (below) whose checksum holds and which is followed by another valid frame or the end of the
// file (a false match is then as likely as two colliding CRCs).
inline constexpr uint64_t kResyncWindowBytes = 4u << 20;
inline constexpr uint32_t kResyncMaxPayloadBytes = 1u << 20;
inline constexpr int kResyncMaxHops = 8;
// While searching byte by byte, a candidate's arrival time must also be below this
// (2^43 ms: the year 2248) and not negative, so that a checksum is computed for
// about one position in 2^33 of random bytes.
inline constexpr int64_t kResyncMaxArrivalMs = int64_t{1} << 43;

// ---- segment header ----
// Writes a header of the current version (kSegmentVersion).
void EncodeSegmentHeader(uint64_t base_seq, char out[kSegmentHeaderSize]);
// Empty string when valid (and *base_seq and *version set), else the reason.
std::string DecodeSegmentHeader(const char in[kSegmentHeaderSize], uint64_t* base_seq,
                                uint32_t* version);

// ---- frames ----
// The CRC32C seed of the frames of segment `base_seq` written in `version`.
uint32_t FrameSeed(uint32_t version, uint64_t base_seq);

// Writes the 16-byte header for `payload` with `flags` (kFrameFlagsMask bits;
// the CRC covers them) into out.
inline void EncodeFrameHeader(int64_t arrival_ms, std::string_view payload, uint32_t seed,
                              char out[kFrameHeaderSize], uint32_t flags = 0) {
  coding::EncodeFixed32(out + 4, static_cast<uint32_t>(payload.size()) | flags);
  coding::EncodeFixed64(out + 8, static_cast<uint64_t>(arrival_ms));
  uint32_t crc = crc32c::Extend(seed, out + 4, kFrameHeaderSize - 4);
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  coding::EncodeFixed32(out, crc32c::Mask(crc));
}
// The payload length (the length field without its flags), and the flags.
inline uint32_t FramePayloadLength(const char* header) {
  return coding::DecodeFixed32(header + 4) & ~kFrameFlagsMask;
}
inline uint32_t FrameFlags(const char* header) {
  return coding::DecodeFixed32(header + 4) & kFrameFlagsMask;
}
inline int64_t FrameArrivalMs(const char* header) {
  return static_cast<int64_t>(coding::DecodeFixed64(header + 8));
}
// True when the stored CRC matches header fields + payload, summed from `seed`.
inline bool FrameChecksumOk(const char* header, const char* payload, uint32_t seed) {
  uint32_t crc = crc32c::Extend(seed, header + 4, kFrameHeaderSize - 4);
  crc = crc32c::Extend(crc, payload, FramePayloadLength(header));
  return crc32c::Unmask(coding::DecodeFixed32(header)) == crc;
}

// ---- segment index ----
struct SegmentIndex {
  uint64_t base = 0;
  uint64_t count = 0;
  uint64_t size = 0;
  uint32_t interval = 0;
  std::vector<uint64_t> offsets;
};
std::string EncodeIndex(const SegmentIndex& index);
// Empty string when `in` is a well-formed index (and *out set), else the reason.
// Checks the CRC, magic, version, that offsets has ceil(count / interval) entries,
// and that they increase from the first frame and stay below size.
std::string DecodeIndex(std::string_view in, SegmentIndex* out);

// ---- checkpoint ----
void EncodeCheckpoint(uint64_t first_undelivered, char out[kCheckpointSize]);
// Empty string when valid (and *first_undelivered set), else the reason.
std::string DecodeCheckpoint(std::string_view in, uint64_t* first_undelivered);

// ---- end file (kCheckpointSize bytes) ----
void EncodeEnd(uint64_t next_seq, char out[kCheckpointSize]);
std::string DecodeEnd(std::string_view in, uint64_t* next_seq);

}  // namespace hydrant::buffer::log_format
