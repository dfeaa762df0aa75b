#pragma once
// FilterPattern: the subset of CloudWatch Logs filter pattern syntax that hydrant's
// FilterLogEvents understands (docs/logs.md).
//
// Unstructured (the message as text; matching is case-sensitive):
//   term "quoted phrase"     every term must appear
//   ?term ?term              at least one of the ?terms must appear
//   -term                    must not appear
// JSON (the message parsed as JSON; a message that is not JSON never matches):
//   { $.errorCode = "S3.NoSuchBucket" }     string equality; '*' is a wildcard
//   { $.a.b[0] != "x" }                     the selector must exist
//   { $.latency > 100 }                     = != < <= > >= on numbers
//   { $.x IS TRUE } / IS FALSE / IS NULL / { $.x NOT EXISTS }
//   { ($.a = 1 && $.b = "y") || $.c IS TRUE }
// Space-delimited ([...]) and regular-expression (%...%) patterns are refused with
// InvalidArgument, as is anything malformed.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::logs {

class FilterPattern {
 public:
  // An empty (or all-blank) pattern matches every message.
  static Result<FilterPattern> Parse(std::string_view text);

  bool Matches(std::string_view message) const;

  struct JsonExpr;  // the parsed JSON pattern (defined in the .cc)

 private:
  std::vector<std::string> all_, any_, none_;
  std::shared_ptr<const JsonExpr> json_;  // set for a JSON pattern
};

}  // namespace hydrant::logs
