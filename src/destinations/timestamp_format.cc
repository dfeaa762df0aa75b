#include "destinations/timestamp_format.h"

#include <array>
#include <cstdint>
#include <cstdlib>

#include "destinations/naming.h"

namespace hydrant::naming {
namespace java_time {
namespace {

enum class SignStyle { kNormal, kNotNegative, kExceedsPad };

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace java_time

bool IsKnownTimeZone(std::string_view tz) { return LoadTimeZone(tz).ok(); }

Result<std::string> FormatTimestamp(std::string_view pattern, int64_t epoch_ms,
                                    std::string_view tz) {
  auto tokens = java_time::CompilePattern(pattern);
  if (!tokens.ok()) return tokens.status();
  auto fields = java_time::Fields(epoch_ms, tz);
  if (!fields.ok()) return fields.status();
  return java_time::FormatTokens(*tokens, *fields);
}

}  // namespace hydrant::naming
