#include "stream/transformed_record.h"

#include "common/coding.h"

namespace hydrant::stream {

std::optional<PartHeader> ParsePart(std::string_view rec, std::string_view* data) {
  if (rec.size() < kPartHeaderBytes) return std::nullopt;
  PartHeader h;
  h.source_end = coding::DecodeFixed64(rec.data());
  h.part = coding::DecodeFixed32(rec.data() + 8);
  h.parts = coding::DecodeFixed32(rec.data() + 12);
  h.records = coding::DecodeFixed32(rec.data() + 16);
  if (h.parts == 0 || h.part >= h.parts) return std::nullopt;
  *data = rec.substr(kPartHeaderBytes);
  return h;
}

void PartBuilder::Add(std::string_view d) {
  if (parts_.empty() || parts_.back().size() - kPartHeaderBytes + d.size() > kMaxPartBytes) {
    parts_.emplace_back(kPartHeaderBytes, '\0');
    counts_.push_back(0);
  }
  parts_.back().append(d);
  ++counts_.back();
  bytes_ += d.size();
}

std::vector<std::string> PartBuilder::Finish(uint64_t source_end) {
  if (parts_.empty()) {
    parts_.emplace_back(kPartHeaderBytes, '\0');
    counts_.push_back(0);
  }
  for (size_t i = 0; i < parts_.size(); ++i) {
    char* h = parts_[i].data();
    coding::EncodeFixed64(h, source_end);
    coding::EncodeFixed32(h + 8, static_cast<uint32_t>(i));
    coding::EncodeFixed32(h + 12, static_cast<uint32_t>(parts_.size()));
    coding::EncodeFixed32(h + 16, counts_[i]);
  }
  return std::move(parts_);
}

}  // namespace hydrant::stream
