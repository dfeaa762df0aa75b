#include "destinations/naming.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <random>
#include <vector>

#include "destinations/timestamp_format.h"

namespace hydrant::naming {

using java_time::CompilePattern;
using java_time::Fields;
using java_time::FormatTokens;
using java_time::LocalFields;
using java_time::Token;

namespace {

// ---------------------------------------------------------------------------------------
// Prefix expressions.

enum class ExprKind { kLiteral, kTimestamp, kRandomString, kErrorOutputType, kPartitionKey };

struct Segment {
  ExprKind kind = ExprKind::kLiteral;
  std::string text;            // literal text, or the whole expression "!{...}"
  std::vector<Token> pattern;  // kTimestamp
};

struct ParsedPrefix {
  std::vector<Segment> segments;
  bool has_expressions = false;
  bool has_timestamp = false;
  bool has_error_output_type = false;
  std::string partition_key;  // the first partitionKeyFrom* expression, "" if none
  size_t literal_chars = 0;
};

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// The frame of AWS's InvalidArgumentException for prefix rules, typo included, as seen in
// the wild: "Ths supplied prefix(es) do not satisfy the following constraint: ...".
std::string Constraint(std::string_view what) {
  return "Ths supplied prefix(es) do not satisfy the following constraint: " + std::string(what);
}

// Parses `prefix`; on failure returns the constraint text naming `field`.
Result<ParsedPrefix> ParsePrefix(std::string_view prefix, std::string_view field) {
  auto fail = [&](const std::string& what) { return Status::InvalidArgument(Constraint(what)); };
  ParsedPrefix p;
  size_t i = 0;
  while (i < prefix.size()) {
    size_t open = prefix.find("!{", i);
    if (open != i) {
      std::string_view lit = prefix.substr(i, open == std::string_view::npos ? open : open - i);
      p.segments.push_back(Segment{ExprKind::kLiteral, std::string(lit), {}});
      p.literal_chars += CodePoints(lit);
      if (open == std::string_view::npos) break;
    }
    size_t close = prefix.find('}', open + 2);
    std::string_view body = prefix.substr(
        open + 2, close == std::string_view::npos ? std::string_view::npos : close - open - 2);
    std::string expr(
        prefix.substr(open, close == std::string_view::npos ? close : close - open + 1));
    size_t colon = body.find(':');
    if (close == std::string_view::npos || body.find("!{") != std::string_view::npos ||
        colon == std::string_view::npos) {
      return fail(std::string(field) + " contains a malformed expression \"" + expr +
                  "\": the sequence !{ can only appear in !{namespace:value} expressions");
    }
    std::string_view ns = body.substr(0, colon), value = body.substr(colon + 1);
    Segment seg;
    seg.text = expr;
    if (ns == "timestamp") {
      if (value.empty()) {
        return fail(std::string(field) + " contains a timestamp expression without a pattern: \"" +
                    expr + "\"");
      }
      auto tokens = CompilePattern(value);
      if (!tokens.ok()) {
        return fail(std::string(field) + " contains an invalid timestamp expression \"" + expr +
                    "\": " + tokens.status().message());
      }
      seg.kind = ExprKind::kTimestamp;
      seg.pattern = std::move(*tokens);
      p.has_timestamp = true;
    } else if (ns == "firehose") {
      if (value == "random-string") {
        seg.kind = ExprKind::kRandomString;
      } else if (value == "error-output-type") {
        seg.kind = ExprKind::kErrorOutputType;
        p.has_error_output_type = true;
      } else {
        return fail(std::string(field) + " contains an unknown firehose expression \"" + expr +
                    "\" (valid: !{firehose:random-string}, !{firehose:error-output-type})");
      }
    } else if (ns == "partitionKeyFromQuery" || ns == "partitionKeyFromLambda") {
      seg.kind = ExprKind::kPartitionKey;
    } else {
      return fail(std::string(field) + " contains an expression with an unknown namespace \"" +
                  expr + "\" (valid namespaces: firehose, timestamp, partitionKeyFromQuery, " +
                  "partitionKeyFromLambda)");
    }
    p.has_expressions = true;
    p.segments.push_back(std::move(seg));
    i = close + 1;
  }
  for (const Segment& s : p.segments) {
    if (s.kind == ExprKind::kPartitionKey) {
      p.partition_key = s.text;
      break;
    }
  }
  return p;
}

// Evaluates parsed segments; `error_output_type` replaces !{firehose:error-output-type}.
Result<std::string> Evaluate(const ParsedPrefix& p, const LocalFields& f,
                             std::string_view error_output_type, const RandomSource& rnd) {
  std::string out;
  for (const Segment& s : p.segments) {
    switch (s.kind) {
      case ExprKind::kLiteral:
        out.append(s.text);
        break;
      case ExprKind::kTimestamp: {
        auto text = FormatTokens(s.pattern, f);
        if (!text.ok()) return text.status();
        out.append(*text);
        break;
      }
      case ExprKind::kRandomString:
        out.append(RandomString(rnd));
        break;
      case ExprKind::kErrorOutputType:
        if (error_output_type.empty()) {
          return Status::InvalidArgument(Constraint("Prefix cannot contain " + s.text));
        }
        out.append(error_output_type);
        break;
      case ExprKind::kPartitionKey:
        return Status::InvalidArgument("dynamic partitioning is not supported: cannot evaluate " +
                                       s.text);
    }
  }
  return out;
}

Status CheckLength(std::string_view field, std::string_view evaluated) {
  size_t n = CodePoints(evaluated);
  if (n > kMaxEvaluatedPrefixChars) {
    return Status::InvalidArgument("evaluated " + std::string(field) + " is " + std::to_string(n) +
                                   " characters long; at most " +
                                   std::to_string(kMaxEvaluatedPrefixChars) + " are allowed");
  }
  return Status::Ok();
}

const std::vector<Token>& DefaultTimestampPattern() {  // yyyy/MM/dd/HH/
  static const std::vector<Token> kTokens = std::move(CompilePattern("yyyy/MM/dd/HH/")).value();
  return kTokens;
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::optional<std::string> ValidatePrefixes(std::string_view prefix,
                                            std::optional<std::string_view> error_output_prefix) {
  auto parsed = ParsePrefix(prefix, "Prefix");
  if (!parsed.ok()) return parsed.status().message();
  if (parsed->has_error_output_type) {
    return Constraint("Prefix cannot contain !{firehose:error-output-type}");
  }
  if (!parsed->partition_key.empty()) {
    return Constraint("Prefix contains " + parsed->partition_key +
                      ", but dynamic partitioning is not supported, so partitionKeyFromQuery " +
                      "and partitionKeyFromLambda expressions cannot be used");
  }
  if (parsed->literal_chars > kMaxEvaluatedPrefixChars) {
    return Constraint("Prefix cannot be longer than 512 characters after it is evaluated");
  }
  const bool has_eop = error_output_prefix.has_value() && !error_output_prefix->empty();
  if (has_eop) {
    auto eop = ParsePrefix(*error_output_prefix, "ErrorOutputPrefix");
    if (!eop.ok()) return eop.status().message();
    if (!eop->partition_key.empty()) {
      return Constraint("ErrorOutputPrefix contains " + eop->partition_key +
                        ", but ErrorOutputPrefix cannot contain partitionKeyFromQuery or " +
                        "partitionKeyFromLambda expressions");
    }
    if (eop->has_expressions && !eop->has_error_output_type) {
      return Constraint(
          "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains "
          "expressions");
    }
    if (eop->literal_chars > kMaxEvaluatedPrefixChars) {
      return Constraint(
          "ErrorOutputPrefix cannot be longer than 512 characters after it is evaluated");
    }
  } else if (parsed->has_expressions) {
    // Verbatim AWS message.
    return Constraint("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
  }
  return std::nullopt;
}

RandomSource DefaultRandom() {
  struct State {
    std::mutex mu;
    std::mt19937_64 engine;
  };
  auto state = std::make_shared<State>();
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  state->engine.seed(seq);
  return [state]() {
    std::lock_guard<std::mutex> lock(state->mu);
    return state->engine();
  };
}

std::string RandomString(const RandomSource& rnd) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rnd();
  std::string s(11, '0');
  for (char& c : s) {
    c = kHex[v & 0xF];
    v >>= 4;
  }
  return s;
}

std::string RandomUuid(const RandomSource& rnd) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = rnd(), lo = rnd();
  hi = (hi & ~uint64_t{0xF000}) | 0x4000;                      // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant 10xx
  std::string s;
  s.reserve(36);
  for (int k = 0; k < 32; ++k) {
    if (k == 8 || k == 12 || k == 16 || k == 20) s.push_back('-');
    uint64_t word = k < 16 ? hi : lo;
    int shift = 60 - 4 * (k % 16);
    s.push_back(kHex[(word >> shift) & 0xF]);
  }
  return s;
}

Result<std::string> ObjectName(const ObjectNameInput& in, const RandomSource& rnd) {
  static const std::vector<Token> kSuffixTime =
      std::move(CompilePattern("yyyy-MM-dd-HH-mm-ss")).value();
  auto fields = Fields(in.oldest_arrival_ms, in.time_zone);
  if (!fields.ok()) return fields.status();
  auto time = FormatTokens(kSuffixTime, *fields);
  if (!time.ok()) return time.status();
  std::string name(in.stream_name);
  name += "-" + std::to_string(in.version_id) + "-" + *time + "-" + RandomUuid(rnd);
  name.append(in.extension);
  return name;
}

Result<std::string> EvaluatePrefix(std::string_view prefix, const ObjectNameInput& in,
                                   std::string_view error_output_type, const RandomSource& rnd) {
  const bool is_error = !error_output_type.empty();
  const std::string_view field = is_error ? "ErrorOutputPrefix" : "Prefix";
  auto parsed = ParsePrefix(prefix, field);
  if (!parsed.ok()) return parsed.status();
  auto fields = Fields(in.oldest_arrival_ms, in.time_zone);
  if (!fields.ok()) return fields.status();
  auto out = Evaluate(*parsed, *fields, error_output_type, rnd);
  if (!out.ok()) return out.status();
  if (!is_error && !parsed->has_timestamp) {
    // "appends the expression !{timestamp:yyyy/MM/dd/HH/}" with no separator.
    auto ts = FormatTokens(DefaultTimestampPattern(), *fields);
    if (!ts.ok()) return ts.status();
    out->append(*ts);
  }
  HYDRANT_RETURN_IF_ERROR(CheckLength(field, *out));
  return out;
}

Result<std::string> DataObjectKey(std::string_view prefix, const ObjectNameInput& in,
                                  const RandomSource& rnd) {
  auto evaluated = EvaluatePrefix(prefix, in, "", rnd);
  if (!evaluated.ok()) return evaluated.status();
  auto name = ObjectName(in, rnd);
  if (!name.ok()) return name.status();
  return *evaluated + *name;
}

Result<std::string> ErrorObjectKey(std::string_view prefix,
                                   std::optional<std::string_view> error_output_prefix,
                                   std::string_view error_output_type, const ObjectNameInput& in,
                                   const RandomSource& rnd) {
  if (error_output_type.empty()) {
    return Status::InvalidArgument("an error object needs an error output type");
  }
  std::string key;
  if (error_output_prefix.has_value() && !error_output_prefix->empty()) {
    auto evaluated = EvaluatePrefix(*error_output_prefix, in, error_output_type, rnd);
    if (!evaluated.ok()) return evaluated.status();
    key = std::move(*evaluated);
  } else {
    // <Prefix as given><type>/yyyy/MM/dd/HH/. Validation only lets a Prefix without
    // expressions get here; any it has anyway are evaluated, without the default appendix.
    auto parsed = ParsePrefix(prefix, "Prefix");
    if (!parsed.ok()) return parsed.status();
    auto fields = Fields(in.oldest_arrival_ms, in.time_zone);
    if (!fields.ok()) return fields.status();
    auto head = Evaluate(*parsed, *fields, error_output_type, rnd);
    if (!head.ok()) return head.status();
    auto ts = FormatTokens(DefaultTimestampPattern(), *fields);
    if (!ts.ok()) return ts.status();
    key = *head + std::string(error_output_type) + "/" + *ts;
    HYDRANT_RETURN_IF_ERROR(CheckLength("ErrorOutputPrefix", key));
  }
  auto name = ObjectName(in, rnd);
  if (!name.ok()) return name.status();
  return key + *name;
}

}  // namespace hydrant::naming
