#pragma once
// The Java regular expressions of the Firehose service model, as hydrant matches
// them. The model's patterns are Java regexes matched against the whole value
// (Matcher.matches()); each is implemented by hand in java_patterns.cc, with
// Java's meanings of '.', \s and the Unicode categories of the tag patterns
// (docs/api.md lists the approximations). `text` is the model's pattern, printed
// verbatim in ValidationException messages as AWS does.

#include <cstdint>
#include <string_view>

namespace hydrant::api {

struct Pattern {
  std::string_view text;
  bool (*matches)(std::string_view);
};

extern const Pattern kStreamNamePattern;
extern const Pattern kRoleArnPattern;
extern const Pattern kBucketArnPattern;
extern const Pattern kKmsArnPattern;
extern const Pattern kKinesisArnPattern;
extern const Pattern kAnyPattern;
extern const Pattern kLogGroupPattern;
extern const Pattern kLogStreamPattern;
extern const Pattern kNotBlankPattern;
extern const Pattern kNoWhitespacePattern;
extern const Pattern kFileExtensionPattern;
extern const Pattern kTimeZonePattern;
extern const Pattern kTagKeyPattern;
extern const Pattern kTagValuePattern;
extern const Pattern kDestinationIdPattern;
extern const Pattern kVersionIdPattern;

// Length as the model counts it: Unicode code points (see docs/api.md).
int64_t CodePointLength(std::string_view s);

}  // namespace hydrant::api
