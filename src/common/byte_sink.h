#pragma once
// ByteSink: somewhere bytes are written in order (an object being uploaded, a
// file, a string). Lets codecs stream their output without holding whole objects.

#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(std::string_view bytes) = 0;
};

// Appends to a string the caller owns (tests, small objects).
class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  Status Write(std::string_view bytes) override {
    out_->append(bytes);
    return Status::Ok();
  }

 private:
  std::string* out_;
};

}  // namespace hydrant
