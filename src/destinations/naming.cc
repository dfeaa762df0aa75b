#include "destinations/naming.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <random>
#include <vector>

#include "destinations/tz.h"

namespace hydrant::naming {
namespace {

// ---------------------------------------------------------------------------------------
// Java DateTimeFormatter patterns.
//
// The pattern is compiled once into tokens with Java's own letter/count rules
// (DateTimeFormatterBuilder.appendPattern, JDK 17, Locale.US), so an invalid pattern is
// rejected at validation time with the message Java would give, and then formatted.

enum class SignStyle { kNormal, kNotNegative, kExceedsPad };

struct Token {
  char letter = 0;  // 0 = literal text
  int count = 0;
  std::string literal;
};

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Returns Java's IllegalArgumentException text for a bad letter run, or "" if fine.
std::string CheckLetter(char c, int n) {
  auto too_many = [&] { return "Too many pattern letters: " + std::string(1, c); };
  switch (c) {
    case 'G':
    case 'M':
    case 'L':
    case 'Q':
    case 'q':
    case 'E':
    case 'e':
      return n <= 5 ? "" : too_many();
    case 'c':
      if (n == 2) return "Invalid pattern \"cc\"";
      return n <= 5 ? "" : too_many();
    case 'y':
    case 'u':
    case 'Y':
    case 'A':
    case 'n':
    case 'N':
    case 'g':
      return n <= 19
                 ? ""
                 : "The minimum width must be from 1 to 19 inclusive but was " + std::to_string(n);
    case 'a':
    case 'F':
    case 'W':
      return n == 1 ? "" : too_many();
    case 'd':
    case 'h':
    case 'H':
    case 'k':
    case 'K':
    case 'm':
    case 's':
    case 'w':
      return n <= 2 ? "" : too_many();
    case 'D':
      return n <= 3 ? "" : too_many();
    case 'S':
      return n <= 9 ? ""
                    : "Minimum width must be from 0 to 9 inclusive but was " + std::to_string(n);
    case 'z':
      if (n > 4) return too_many();
      // Java prints CLDR full names ("Eastern Standard Time"); the tz database has none.
      return n == 4 ? "zone names (zzzz) are not supported by hydrant" : "";
    case 'V':
      return n == 2 ? "" : "Pattern letter count must be 2: V";
    case 'Z':
    case 'X':
    case 'x':
      return n <= 5 ? "" : too_many();
    case 'O':
      return n == 1 || n == 4 ? "" : "Pattern letter count must be 1 or 4: O";
    case 'v':
      return "generic zone names (v) are not supported by hydrant";
    case 'B':
      return "day periods (B) are not supported by hydrant";
    case 'p':
      return "pad modifiers (p) are not supported by hydrant";
    default:
      return "Unknown pattern letter: " + std::string(1, c);
  }
}

// Compiles `pattern`; on error returns InvalidArgument naming the pattern.
Result<std::vector<Token>> CompilePattern(std::string_view pattern) {
  auto fail = [&](const std::string& why) {
    return Status::InvalidArgument("invalid timestamp pattern \"" + std::string(pattern) +
                                   "\": " + why);
  };
  std::vector<Token> tokens;
  auto add_literal = [&](std::string_view text) {
    if (tokens.empty() || tokens.back().letter != 0) tokens.push_back(Token{});
    tokens.back().literal.append(text);
  };
  int optional_depth = 0;
  for (size_t pos = 0; pos < pattern.size(); ++pos) {
    char cur = pattern[pos];
    if (IsAsciiLetter(cur)) {
      size_t start = pos;
      while (pos + 1 < pattern.size() && pattern[pos + 1] == cur) ++pos;
      int count = static_cast<int>(pos - start + 1);
      std::string why = CheckLetter(cur, count);
      if (!why.empty()) return fail(why);
      tokens.push_back(Token{cur, count, {}});
    } else if (cur == '\'') {
      size_t start = pos++;
      for (; pos < pattern.size(); ++pos) {
        if (pattern[pos] == '\'') {
          if (pos + 1 < pattern.size() && pattern[pos + 1] == '\'') {
            ++pos;
          } else {
            break;
          }
        }
      }
      if (pos >= pattern.size()) {
        return fail("Pattern ends with an incomplete string literal: " + std::string(pattern));
      }
      std::string_view body = pattern.substr(start + 1, pos - start - 1);
      if (body.empty()) {
        add_literal("'");
      } else {
        std::string text;
        for (size_t k = 0; k < body.size(); ++k) {
          text.push_back(body[k]);
          if (body[k] == '\'') ++k;  // '' inside a literal is one quote
        }
        add_literal(text);
      }
    } else if (cur == '[') {
      ++optional_depth;  // every field is available when formatting, so optional = always
    } else if (cur == ']') {
      if (optional_depth == 0) return fail("Pattern invalid as it contains ] without previous [");
      --optional_depth;
    } else if (cur == '{' || cur == '}' || cur == '#') {
      return fail("Pattern includes reserved character: '" + std::string(1, cur) + "'");
    } else {
      add_literal(std::string_view(&cur, 1));
    }
  }
  return tokens;
}

// The broken-down local time a pattern is formatted from.
struct LocalFields {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int64_t nano = 0;       // nano-of-second
  int64_t epoch_day = 0;  // local date, days since 1970-01-01
  int iso_dow = 4;        // 1 = Monday .. 7 = Sunday
  int day_of_year = 1;
  const LocalTimeType* type = nullptr;
  std::string_view zone_id;
};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

LocalFields BreakDown(int64_t epoch_ms, const TimeZone& zone, std::string_view zone_id) {
  LocalFields f;
  f.type = &zone.Lookup(FloorDiv(epoch_ms, 1000));
  f.zone_id = zone_id;
  const int64_t local_ms = epoch_ms + int64_t{f.type->utc_offset} * 1000;
  f.epoch_day = FloorDiv(local_ms, 86400000);
  int64_t ms_of_day = local_ms - f.epoch_day * 86400000;
  CivilDate c = CivilFromDays(f.epoch_day);
  f.year = c.year;
  f.month = c.month;
  f.day = c.day;
  f.hour = static_cast<int>(ms_of_day / 3600000);
  f.minute = static_cast<int>(ms_of_day / 60000 % 60);
  f.second = static_cast<int>(ms_of_day / 1000 % 60);
  f.nano = ms_of_day % 1000 * 1000000;
  f.iso_dow = static_cast<int>(((f.epoch_day + 3) % 7 + 7) % 7) + 1;
  f.day_of_year = static_cast<int>(f.epoch_day - DaysFromCivil(f.year, 1, 1) + 1);
  return f;
}

// Java's NumberPrinterParser.format.
Status AppendNumber(std::string* out, char letter, int64_t value, int min_width, int max_width,
                    SignStyle sign) {
  std::string digits =
      value == INT64_MIN ? "9223372036854775808" : std::to_string(value < 0 ? -value : value);
  if (static_cast<int>(digits.size()) > max_width) {
    return Status::InvalidArgument("pattern letter " + std::string(1, letter) +
                                   " cannot print the value " + std::to_string(value) +
                                   " as it exceeds the maximum print width of " +
                                   std::to_string(max_width));
  }
  if (value >= 0) {
    if (sign == SignStyle::kExceedsPad && min_width < 19) {
      int64_t exceed = 1;
      for (int k = 0; k < min_width; ++k) exceed *= 10;
      if (value >= exceed) out->push_back('+');
    }
  } else {
    if (sign == SignStyle::kNotNegative) {
      return Status::InvalidArgument("pattern letter " + std::string(1, letter) +
                                     " cannot print the negative value " + std::to_string(value));
    }
    out->push_back('-');
  }
  for (int k = static_cast<int>(digits.size()); k < min_width; ++k) out->push_back('0');
  out->append(digits);
  return Status::Ok();
}

// Java's OffsetIdPrinterParser; `type` indexes "+HH", "+HHmm", "+HH:mm", "+HHMM",
// "+HH:MM", "+HHMMss", "+HH:MM:ss".
void AppendOffset(std::string* out, int32_t total, int type, std::string_view no_offset) {
  if (total == 0) {
    out->append(no_offset);
    return;
  }
  const int abs_h = std::abs(total / 3600 % 100), abs_m = std::abs(total / 60 % 60),
            abs_s = std::abs(total % 60);
  const bool colon = type == 2 || type == 4 || type == 6;
  const size_t mark = out->size();
  int output = abs_h;
  auto two = [&](int v) {
    out->push_back(static_cast<char>('0' + v / 10));
    out->push_back(static_cast<char>('0' + v % 10));
  };
  out->push_back(total < 0 ? '-' : '+');
  two(abs_h);
  if ((type >= 3) || (type >= 1 && abs_m > 0)) {
    if (colon) out->push_back(':');
    two(abs_m);
    output += abs_m;
    if (type >= 5 && abs_s > 0) {
      if (colon) out->push_back(':');
      two(abs_s);
      output += abs_s;
    }
  }
  if (output == 0) {
    out->resize(mark);
    out->append(no_offset);
  }
}

// Java's LocalizedOffsetIdPrinterParser for Locale.US ("GMT", "GMT-5", "GMT+05:30").
void AppendLocalizedOffset(std::string* out, int32_t total, bool full) {
  out->append("GMT");
  if (total == 0) return;
  const int abs_h = std::abs(total / 3600 % 100), abs_m = std::abs(total / 60 % 60),
            abs_s = std::abs(total % 60);
  auto two = [&](int v) {
    out->push_back(static_cast<char>('0' + v / 10));
    out->push_back(static_cast<char>('0' + v % 10));
  };
  out->push_back(total < 0 ? '-' : '+');
  if (full) {
    two(abs_h);
    out->push_back(':');
    two(abs_m);
    if (abs_s != 0) {
      out->push_back(':');
      two(abs_s);
    }
  } else {
    if (abs_h >= 10) out->push_back(static_cast<char>('0' + abs_h / 10));
    out->push_back(static_cast<char>('0' + abs_h % 10));
    if (abs_m != 0 || abs_s != 0) {
      out->push_back(':');
      two(abs_m);
      if (abs_s != 0) {
        out->push_back(':');
        two(abs_s);
      }
    }
  }
}

// Text styles: count 1..3 short, 4 full, 5 narrow (Locale.US, CLDR as in JDK 9+).
void AppendText(std::string* out, int count, std::string_view shortname, std::string_view full,
                std::string_view narrow) {
  out->append(count <= 3 ? shortname : count == 4 ? full : narrow);
}

constexpr std::array<std::string_view, 12> kMonthFull = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kDayFull = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                      "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 4> kQuarterFull = {"1st quarter", "2nd quarter",
                                                          "3rd quarter", "4th quarter"};

// Week fields for Locale.US: weeks start on Sunday, week 1 has at least one day.
int UsDayOfWeek(int64_t epoch_day) {  // 1 = Sunday .. 7 = Saturday
  return static_cast<int>(((epoch_day + 4) % 7 + 7) % 7) + 1;
}

void UsWeekBasedYear(int64_t epoch_day, int64_t* week_year, int64_t* week) {
  const int64_t week_start = epoch_day - (UsDayOfWeek(epoch_day) - 1);
  // The week containing January 1 is week 1, so a week belongs to its Saturday's year.
  *week_year = CivilFromDays(week_start + 6).year;
  const int64_t jan1 = DaysFromCivil(*week_year, 1, 1);
  const int64_t week1_start = jan1 - (UsDayOfWeek(jan1) - 1);
  *week = (week_start - week1_start) / 7 + 1;
}

Status AppendToken(std::string* out, const Token& t, const LocalFields& f) {
  const int n = t.count;
  const int64_t year_of_era = f.year >= 1 ? f.year : 1 - f.year;
  switch (t.letter) {
    case 0:
      out->append(t.literal);
      return Status::Ok();
    case 'G':
      AppendText(out, n, f.year >= 1 ? "AD" : "BC", f.year >= 1 ? "Anno Domini" : "Before Christ",
                 f.year >= 1 ? "A" : "B");
      return Status::Ok();
    case 'y':
    case 'u':
    case 'Y': {
      int64_t v = t.letter == 'y' ? year_of_era : f.year;
      if (t.letter == 'Y') {
        int64_t week;
        UsWeekBasedYear(f.epoch_day, &v, &week);
      }
      if (n == 2) {  // ReducedPrinterParser, base 2000: the last two digits
        return AppendNumber(out, t.letter, (v < 0 ? -v : v) % 100, 2, 2, SignStyle::kNotNegative);
      }
      return AppendNumber(out, t.letter, v, n, 19,
                          n < 4 ? SignStyle::kNormal : SignStyle::kExceedsPad);
    }
    case 'Q':
    case 'q': {
      const int q = (f.month - 1) / 3 + 1;
      if (n <= 2)
        return AppendNumber(out, t.letter, q, n, n == 1 ? 19 : 2, SignStyle::kNotNegative);
      std::string shortname = "Q" + std::to_string(q), narrow = std::to_string(q);
      AppendText(out, n, shortname, kQuarterFull[q - 1], narrow);
      return Status::Ok();
    }
    case 'M':
    case 'L': {
      if (n <= 2) {
        return AppendNumber(out, t.letter, f.month, n, n == 1 ? 19 : 2,
                            n == 1 ? SignStyle::kNormal : SignStyle::kNotNegative);
      }
      std::string_view full = kMonthFull[f.month - 1];
      AppendText(out, n, full.substr(0, 3), full, full.substr(0, 1));
      return Status::Ok();
    }
    case 'E':
    case 'e':
    case 'c': {
      if (t.letter != 'E' && n <= 2) {  // localized day-of-week number, Sunday = 1
        return AppendNumber(out, t.letter, UsDayOfWeek(f.epoch_day), n, n, SignStyle::kNotNegative);
      }
      std::string_view full = kDayFull[f.iso_dow - 1];
      AppendText(out, n, full.substr(0, 3), full, full.substr(0, 1));
      return Status::Ok();
    }
    case 'w':
    case 'W': {
      int64_t v;
      if (t.letter == 'w') {
        int64_t week_year;
        UsWeekBasedYear(f.epoch_day, &week_year, &v);
      } else {
        const int64_t first = f.epoch_day - (f.day - 1);
        v = (f.day - 1 + UsDayOfWeek(first) - 1) / 7 + 1;
      }
      return AppendNumber(out, t.letter, v, n, t.letter == 'w' ? 2 : 1, SignStyle::kNotNegative);
    }
    case 'a':
      out->append(f.hour < 12 ? "AM" : "PM");
      return Status::Ok();
    case 'D':
      if (n == 1) return AppendNumber(out, 'D', f.day_of_year, 1, 19, SignStyle::kNormal);
      return AppendNumber(out, 'D', f.day_of_year, n, 3, SignStyle::kNotNegative);
    case 'F':  // JDK 8-18 map F to ALIGNED_DAY_OF_WEEK_IN_MONTH
      return AppendNumber(out, 'F', (f.day - 1) % 7 + 1, 1, 19, SignStyle::kNormal);
    case 'S': {
      std::string nine = std::to_string(1000000000 + f.nano).substr(1);  // 9 digits
      out->append(nine.substr(0, n));
      return Status::Ok();
    }
    case 'A':
    case 'n':
    case 'N':
    case 'g': {
      int64_t ms_of_day =
          (int64_t{f.hour} * 3600 + f.minute * 60 + f.second) * 1000 + f.nano / 1000000;
      int64_t v = t.letter == 'A'   ? ms_of_day
                  : t.letter == 'n' ? f.nano
                  : t.letter == 'N' ? ms_of_day * 1000000
                                    : f.epoch_day + 40587;  // modified Julian day
      return AppendNumber(out, t.letter, v, n, 19,
                          t.letter == 'g' ? SignStyle::kNormal : SignStyle::kNotNegative);
    }
    case 'd':
    case 'h':
    case 'H':
    case 'k':
    case 'K':
    case 'm':
    case 's': {
      int v = 0;
      switch (t.letter) {
        case 'd':
          v = f.day;
          break;
        case 'H':
          v = f.hour;
          break;
        case 'k':
          v = f.hour == 0 ? 24 : f.hour;
          break;
        case 'K':
          v = f.hour % 12;
          break;
        case 'h':
          v = f.hour % 12 == 0 ? 12 : f.hour % 12;
          break;
        case 'm':
          v = f.minute;
          break;
        case 's':
          v = f.second;
          break;
      }
      if (n == 1) return AppendNumber(out, t.letter, v, 1, 19, SignStyle::kNormal);
      return AppendNumber(out, t.letter, v, 2, 2, SignStyle::kNotNegative);
    }
    case 'z':
      out->append(f.type->abbreviation);
      return Status::Ok();
    case 'V':
      out->append(f.zone_id);
      return Status::Ok();
    case 'O':
      AppendLocalizedOffset(out, f.type->utc_offset, n == 4);
      return Status::Ok();
    case 'Z':
      if (n < 4) {
        AppendOffset(out, f.type->utc_offset, 3, "+0000");
      } else if (n == 4) {
        AppendLocalizedOffset(out, f.type->utc_offset, true);
      } else {
        AppendOffset(out, f.type->utc_offset, 6, "Z");
      }
      return Status::Ok();
    case 'X':
    case 'x': {
      const int type = n + (n == 1 ? 0 : 1);
      std::string_view zero = t.letter == 'X' ? "Z"
                              : n == 1        ? "+00"
                              : n % 2 == 0    ? "+0000"
                                              : "+00:00";
      AppendOffset(out, f.type->utc_offset, type, zero);
      return Status::Ok();
    }
    default:
      return Status::Internal("unhandled pattern letter " + std::string(1, t.letter));
  }
}

Result<std::string> FormatTokens(const std::vector<Token>& tokens, const LocalFields& f) {
  std::string out;
  for (const Token& t : tokens) HYDRANT_RETURN_IF_ERROR(AppendToken(&out, t, f));
  return out;
}

Result<LocalFields> Fields(int64_t epoch_ms, std::string_view tz) {
  auto zone = LoadTimeZone(tz);
  if (!zone.ok()) {
    return Status::InvalidArgument("unknown time zone \"" + std::string(tz) +
                                   "\": " + zone.status().message());
  }
  // Cached zones live for the whole process, so the pointer in LocalFields stays valid.
  return BreakDown(epoch_ms, **zone, tz.empty() ? std::string_view("UTC") : tz);
}

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

bool IsKnownTimeZone(std::string_view tz) { return LoadTimeZone(tz).ok(); }

Result<std::string> FormatTimestamp(std::string_view pattern, int64_t epoch_ms,
                                    std::string_view tz) {
  auto tokens = CompilePattern(pattern);
  if (!tokens.ok()) return tokens.status();
  auto fields = Fields(epoch_ms, tz);
  if (!fields.ok()) return fields.status();
  return FormatTokens(*tokens, *fields);
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
