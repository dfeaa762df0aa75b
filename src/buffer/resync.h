#pragma once
// Internal to the buffer module: Open's scan of one segment file that goes on past
// damage (docs/wal-format.md, "Damage"). Like leveldb's log reader it skips the
// damaged frames and resynchronizes on the next valid frame, so intact records
// after a bad spot are kept: the valid stretches ("runs") after the first are
// moved into segment files of their own (their seqs are then the file's base, as
// everywhere), the damaged bytes are kept in a .damaged file, and the original is
// cut at the first damage. Nothing is deleted that a frame still proves.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "buffer/segment.h"
#include "common/env.h"
#include "common/status.h"

namespace hydrant::buffer {

// A stretch of consecutive valid frames of one segment file.
struct FrameRun {
  uint64_t from = 0;     // offset of its first frame
  uint64_t to = 0;       // offset just past its last frame
  uint64_t seq = 0;      // seq of its first frame
  uint64_t count = 0;    // frames
  bool exact = true;     // false: seq is the highest the damaged bytes before it allow
  std::vector<uint64_t> index;  // offsets of every kIndexInterval-th frame (run 0 only)
};

// What ScanFrames found in a file.
struct FrameScan {
  std::vector<FrameRun> runs;  // runs[0] starts right after the header
  // Where scanning stopped for good (file size when the frames reach the end), and
  // why ("" when they do, or when the rest is a reused file's unused space).
  uint64_t end = 0;
  std::string end_reason;
  bool unused_rest = false;
  // Damage skipped between runs: [offset, next run's from) and the reason.
  struct Skip {
    uint64_t offset = 0, to = 0;
    std::string reason;
  };
  std::vector<Skip> skipped;
};

// Scans the frames of the file `fd` (`file_size` bytes) from `start`, the first
// frame having seq `first_seq`, checked against `seed`, in a segment of format
// `version`. `next_base` is the base of
// the next segment (records at or past it overlap, or are a reused file's unused
// space). Never allocates per frame; the resynchronizing search runs only after
// damage, within log_format::kResyncWindowBytes.
Result<FrameScan> ScanFrames(Env& env, int fd, const std::string& path, uint64_t file_size,
                             uint64_t start, uint64_t first_seq, uint32_t seed, uint32_t version,
                             std::optional<uint64_t> next_base);

// True when a valid frame summed from `seed` starts at offset `at` and is followed
// by another valid frame or the end of the file.
Result<bool> AnchoredFrameAt(Env& env, int fd, const std::string& path, uint64_t file_size,
                             uint64_t at, uint32_t seed);

// Writes runs[first..] of `fd` (frames summed from `old_seed`) as segment files of
// the current version in `dir`, each named by its run's seq, re-summing every frame
// with the new segment's seed: first as <base>.rebuilt (fdatasync'ed), then renamed
// into place without replacing anything (a name already there is kept: an earlier
// Open did this and crashed). `keep_original`, when set, is where the original
// file `path` is renamed to before the rebuilt files take their names (used when
// the original's own name is among them). The directory is fsync'ed at the end.
// Returns the bases now in place.
Result<std::vector<uint64_t>> WriteRuns(Env& env, int fd, const std::string& path,
                                        const std::string& dir, const FrameScan& scan,
                                        size_t first, uint32_t old_seed,
                                        const std::string& keep_original);

// Copies bytes [from, to) of `fd` (those that exist) into a new file
// `damaged_path`, fdatasync'ed.
Status KeepDamagedBytes(Env& env, int fd, const std::string& path, uint64_t from, uint64_t to,
                        const std::string& damaged_path);

// A leftover <base>.rebuilt (an Open that crashed while moving runs): renamed to
// its segment name when that is free, else removed. Returns true if it was renamed.
Result<bool> FinishRebuilt(Env& env, const std::string& dir, uint64_t base);

}  // namespace hydrant::buffer
