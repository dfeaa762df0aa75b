#pragma once
// Helpers for hydrant's server log (spdlog on stderr): one line per event of
// space-separated key=value fields, e.g.
//   level=warning stream=demo event=destination_failed errorCode=S3.NoSuchBucket error="..."
// Free text goes through LogQuote so that a value never breaks the line.

#include <string>
#include <string_view>

namespace hydrant {

// `s` in double quotes, with backslash, double quote, newline, carriage return, tab
// and other control bytes escaped (\\ \" \n \r \t \xHH): always one line.
std::string LogQuote(std::string_view s);

}  // namespace hydrant
