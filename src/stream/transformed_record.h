#pragma once
// The transformed log's record format (docs/wal-format.md, "Transformed-log record
// payload"), fixed here as src/buffer/log_format.h fixes the log's frames. One
// processed batch is `parts` consecutive records of the transformed log (normally
// one), each:
//
//   u64 source_end | u32 part | u32 parts | u32 records | records' bytes
//
// integers little-endian; source_end is the source position the batch completes.
// Changing any of this changes what existing transformed logs mean.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydrant::stream {

inline constexpr size_t kPartHeaderBytes = 20;
// Largest payload of one transformed-log record (the log's limit is 64 MiB).
inline constexpr size_t kMaxPartBytes = 48ull << 20;

struct PartHeader {
  uint64_t source_end = 0;
  uint32_t part = 0, parts = 1, records = 0;
};

// The header of a transformed-log record and (in *data) its records' bytes;
// nullopt when the record is too short or its part numbers are impossible.
std::optional<PartHeader> ParsePart(std::string_view rec, std::string_view* data);

// The transformed records of one processing batch, as transformed-log parts.
class PartBuilder {
 public:
  void Add(std::string_view d);
  uint64_t bytes() const { return bytes_; }
  // Fills the headers; always at least one part (an empty batch still carries its
  // source position).
  std::vector<std::string> Finish(uint64_t source_end);

 private:
  std::vector<std::string> parts_;
  std::vector<uint32_t> counts_;
  uint64_t bytes_ = 0;
};

}  // namespace hydrant::stream
