#pragma once
// The timestamp format of S3's XML, shared by the S3 API's files (the generic
// string helpers are in common/strings.h).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/strings.h"

namespace hydrant::server::s3 {

// Milliseconds since the epoch as S3's XML writes times: 2006-02-03T16:45:09.000Z.
std::string Iso8601(int64_t ms);

}  // namespace hydrant::server::s3
