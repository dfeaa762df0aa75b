#pragma once
// Compiled wildcard patterns of the IAM policy language: Action names
// (case-insensitive, * and ?), Resource ARNs (case-sensitive, * and ? within a
// colon-separated segment; a * that ends a segment may run past colons, as IAM
// documents), StringLike values (* and ? match anything) and exact values
// (StringEquals, no wildcards); each may hold policy variables (${aws:username},
// ${s3:prefix, 'default'}, ${*} ${?} ${$}) that are resolved when matching.
//
// A pattern is compiled once (policy parse) and matched many times: Match does
// not allocate for patterns without variables (the common fast paths "*", a
// literal and a literal prefix followed by "*" are plain comparisons; others run
// a bit-set NFA over the pattern, linear in text × pattern, never exponential).
// Patterns with variables reuse a per-thread buffer.
//
// Thread-safety: a compiled pattern is immutable; Match may run concurrently.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hydrant::iam {

// Resolves a policy variable's key (lower case, e.g. "aws:username") to its one
// value; false when the request has no such key or more than one value.
class VariableResolver {
 public:
  virtual ~VariableResolver() = default;
  virtual bool Resolve(std::string_view key_lower, std::string_view* value) const = 0;
};

class WildcardPattern {
 public:
  enum class Mode {
    kExact,        // no wildcards (StringEquals, ArnEquals-like literal values)
    kGlob,         // * and ? match any characters (StringLike)
    kGlobNoCase,   // kGlob, ASCII case-insensitive (Action, StringEqualsIgnoreCase)
    kExactNoCase,  // kExact, ASCII case-insensitive
    kArn,          // * and ? stay within a colon-separated segment, except a * that
                   // ends a segment (Resource, ArnLike)
  };

  WildcardPattern() = default;
  // `variables`: whether ${...} is a policy variable (Version 2012-10-17) or text.
  static WildcardPattern Compile(std::string_view pattern, Mode mode, bool variables);

  // Whether `text` matches. `vars` may be null when the pattern has no variables
  // (then a variable never matches).
  bool Match(std::string_view text, const VariableResolver* vars) const;

  bool has_variables() const { return !tokens_.empty(); }
  const std::string& source() const { return source_; }
  // Matches everything ("*" in a glob or ARN pattern).
  bool matches_all() const { return fast_ == Fast::kAll; }

 private:
  // A pattern unit: a byte (0-255), or one of these.
  static constexpr uint16_t kAnyOne = 256;     // ?
  static constexpr uint16_t kStar = 257;       // * (any run, colons included)
  static constexpr uint16_t kStarInSeg = 258;  // * that stays within an ARN segment
  static constexpr uint16_t kAnyOneInSeg = 259;  // ? that does not match a colon

  enum class Fast { kAll, kLiteral, kPrefix, kGeneral };
  struct Token {          // for patterns with variables
    bool variable = false;
    std::vector<uint16_t> units;  // literal part (variable == false)
    std::string key;              // lower-case key (variable == true)
    bool has_default = false;
    std::string default_value;
  };

  bool MatchUnits(const uint16_t* units, size_t n, std::string_view text) const;
  bool MatchGreedy(const uint16_t* units, size_t n, std::string_view text) const;
  void AppendLiteral(std::string_view s, std::vector<uint16_t>* units) const;
  static void FixArnStars(std::vector<uint16_t>* units);
  static void CollapseStars(std::vector<uint16_t>* units);

  std::string source_;
  Mode mode_ = Mode::kExact;
  bool no_case_ = false;
  Fast fast_ = Fast::kLiteral;
  std::string literal_;            // kLiteral / kPrefix (lower case when no_case_)
  std::vector<uint16_t> units_;    // kGeneral without variables
  std::vector<Token> tokens_;      // with variables
};

}  // namespace hydrant::iam
