#pragma once
// Small text helpers shared by the S3 API's files: ASCII case, trimming of
// header values, and the timestamp format of S3's XML. Pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace hydrant::server::s3 {

// ASCII case-insensitive equality (header names and codings).
bool IEquals(std::string_view a, std::string_view b);
// ASCII lower case.
std::string Lower(std::string_view s);
// Without leading and trailing spaces and tabs.
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);

// Milliseconds since the epoch as S3's XML writes times: 2006-02-03T16:45:09.000Z.
std::string Iso8601(int64_t ms);

}  // namespace hydrant::server::s3
