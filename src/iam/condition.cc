#include "iam/condition.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/base64.h"

namespace hydrant::iam {
namespace {

using Op = ConditionClause::Op;

enum class ValueKind { kString, kNumeric, kDate, kBool, kBinary, kIp, kArn, kNull };

struct OperatorInfo {
  std::string_view name;
  Op op;
  ValueKind kind;
  bool negated;
};

// Every operator IAM knows (docs/security.md lists them with this table).
constexpr OperatorInfo kOperators[] = {
    {"StringEquals", Op::kStringEquals, ValueKind::kString, false},
    {"StringNotEquals", Op::kStringNotEquals, ValueKind::kString, true},
    {"StringEqualsIgnoreCase", Op::kStringEqualsIgnoreCase, ValueKind::kString, false},
    {"StringNotEqualsIgnoreCase", Op::kStringNotEqualsIgnoreCase, ValueKind::kString, true},
    {"StringLike", Op::kStringLike, ValueKind::kString, false},
    {"StringNotLike", Op::kStringNotLike, ValueKind::kString, true},
    {"NumericEquals", Op::kNumericEquals, ValueKind::kNumeric, false},
    {"NumericNotEquals", Op::kNumericNotEquals, ValueKind::kNumeric, true},
    {"NumericLessThan", Op::kNumericLessThan, ValueKind::kNumeric, false},
    {"NumericLessThanEquals", Op::kNumericLessThanEquals, ValueKind::kNumeric, false},
    {"NumericGreaterThan", Op::kNumericGreaterThan, ValueKind::kNumeric, false},
    {"NumericGreaterThanEquals", Op::kNumericGreaterThanEquals, ValueKind::kNumeric, false},
    {"DateEquals", Op::kDateEquals, ValueKind::kDate, false},
    {"DateNotEquals", Op::kDateNotEquals, ValueKind::kDate, true},
    {"DateLessThan", Op::kDateLessThan, ValueKind::kDate, false},
    {"DateLessThanEquals", Op::kDateLessThanEquals, ValueKind::kDate, false},
    {"DateGreaterThan", Op::kDateGreaterThan, ValueKind::kDate, false},
    {"DateGreaterThanEquals", Op::kDateGreaterThanEquals, ValueKind::kDate, false},
    {"Bool", Op::kBool, ValueKind::kBool, false},
    {"BinaryEquals", Op::kBinaryEquals, ValueKind::kBinary, false},
    {"IpAddress", Op::kIpAddress, ValueKind::kIp, false},
    {"NotIpAddress", Op::kNotIpAddress, ValueKind::kIp, true},
    {"ArnEquals", Op::kArnEquals, ValueKind::kArn, false},
    {"ArnLike", Op::kArnLike, ValueKind::kArn, false},
    {"ArnNotEquals", Op::kArnNotEquals, ValueKind::kArn, true},
    {"ArnNotLike", Op::kArnNotLike, ValueKind::kArn, true},
    {"Null", Op::kNull, ValueKind::kNull, false},
};

const OperatorInfo& Info(Op op) {
  for (const OperatorInfo& i : kOperators) {
    if (i.op == op) return i;
  }
  return kOperators[0];  // unreachable: every Op is in the table
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly `n` digits at s[*pos].
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

struct IpValue {
  bool v6 = false;
  uint8_t bytes[16] = {};
};

// An IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as IPv4).
bool ParseIp(std::string_view s, IpValue* ip) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (s.find(':') == std::string_view::npos) {
    ip->v6 = false;
    return inet_pton(AF_INET, buf, ip->bytes) == 1;
  }
  if (inet_pton(AF_INET6, buf, ip->bytes) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip->bytes, kMapped, 12) == 0) {
    std::memmove(ip->bytes, ip->bytes + 12, 4);
    ip->v6 = false;
  } else {
    ip->v6 = true;
  }
  return true;
}

Status BadValue(std::string_view op_name, std::string_view key, std::string_view value,
                std::string_view expected) {
  return Status::InvalidArgument("Invalid value \"" + std::string(value) + "\" for key " +
                                 std::string(key) + " of condition operator " +
                                 std::string(op_name) + ": " + std::string(expected) + ".");
}

}  // namespace

bool ParsePolicyDate(std::string_view s, int64_t* ms) {
  if (s.empty()) return false;
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) {  // epoch seconds
    if (s.size() > 15) return false;
    int64_t secs = 0;
    std::from_chars(s.data(), s.data() + s.size(), secs);
    *ms = secs * 1000;
    return true;
  }
  size_t pos = 0;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(s, &pos, 4, &year)) return false;
  if (pos < s.size() && s[pos] == '-') {
    ++pos;
    if (!Digits(s, &pos, 2, &month)) return false;
    if (pos < s.size() && s[pos] == '-') {
      ++pos;
      if (!Digits(s, &pos, 2, &day)) return false;
    }
  }
  if (month < 1 || month > 12) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int mdays = kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day < 1 || day > mdays) return false;
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't')) {
    ++pos;
    if (!Digits(s, &pos, 2, &hour) || pos >= s.size() || s[pos] != ':') return false;
    ++pos;
    if (!Digits(s, &pos, 2, &minute)) return false;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, &pos, 2, &second)) return false;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          millis += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start || pos - start > 9) return false;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return false;
    if (pos < s.size()) {
      char z = s[pos];
      if (z == 'Z' || z == 'z') {
        ++pos;
      } else if (z == '+' || z == '-') {
        ++pos;
        int oh = 0, om = 0;
        if (!Digits(s, &pos, 2, &oh)) return false;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size() && !Digits(s, &pos, 2, &om)) return false;
        if (oh > 23 || om > 59) return false;
        offset_min = (oh * 60 + om) * (z == '+' ? 1 : -1);
      }
    }
  }
  if (pos != s.size()) return false;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  *ms = secs * 1000 + millis;
  return true;
}

// ---- RequestKeys ----

RequestKeys::RequestKeys(const AuthzContext& ctx) : ctx_(ctx) {
  time_buf_[0] = '\0';
  epoch_buf_[0] = '\0';
}

bool RequestKeys::Global(std::string_view key, std::string_view* value) const {
  if (key.size() < 5 || key.substr(0, 4) != "aws:") return false;
  std::string_view name = key.substr(4);
  if (name == "currenttime") {
    int64_t secs = ctx_.now_ms >= 0 ? ctx_.now_ms / 1000 : (ctx_.now_ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    int n = std::snprintf(time_buf_, sizeof(time_buf_), "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                          static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                          static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
    *value = std::string_view(time_buf_, static_cast<size_t>(n));
    return true;
  }
  if (name == "epochtime") {
    auto [p, ec] = std::to_chars(epoch_buf_, epoch_buf_ + sizeof(epoch_buf_), ctx_.now_ms / 1000);
    *value = std::string_view(epoch_buf_, static_cast<size_t>(p - epoch_buf_));
    return true;
  }
  const Principal* p = ctx_.principal;
  if (p == nullptr || p->kind == Principal::Kind::kAnonymous) return false;
  using Kind = Principal::Kind;
  if (name == "principalisawsservice") {
    *value = p->kind == Kind::kService ? "true" : "false";
    return true;
  }
  if (p->kind == Kind::kService) {
    if (name == "principalservicename") {
      *value = p->arn;
      return true;
    }
    return false;
  }
  if (name == "username") {
    if (p->user_name.empty()) return false;
    *value = p->user_name;
    return true;
  }
  if (name == "userid") {
    *value = p->user_id.empty() && p->kind == Kind::kRoot ? std::string_view(p->account_id)
                                                         : std::string_view(p->user_id);
    return !value->empty();
  }
  if (name == "principalarn") {
    *value = p->kind == Kind::kAssumedRole && !p->role_arn.empty() ? p->role_arn : p->arn;
    return !value->empty();
  }
  if (name == "principalaccount") {
    *value = p->account_id;
    return !value->empty();
  }
  if (name == "principaltype") {
    switch (p->kind) {
      case Kind::kRoot: *value = "Account"; return true;
      case Kind::kUser:
      case Kind::kFederated: *value = "User"; return true;  // GetSessionToken acts as its user
      case Kind::kAssumedRole: *value = "AssumedRole"; return true;
      default: return false;
    }
  }
  return false;
}

bool RequestKeys::Resolve(std::string_view key_lower, std::string_view* value) const {
  size_t n = ForEach(key_lower, [&](std::string_view v) {
    *value = v;
    return true;
  });
  return n == 1;  // a multi-valued key is not a variable's value
}

// ---- ConditionClause ----

bool ConditionClause::ParseOperator(std::string_view name, Op* op, bool* if_exists,
                                    SetQualifier* set) {
  *set = SetQualifier::kNone;
  if (name.starts_with("ForAllValues:")) {
    *set = SetQualifier::kForAllValues;
    name.remove_prefix(13);
  } else if (name.starts_with("ForAnyValue:")) {
    *set = SetQualifier::kForAnyValue;
    name.remove_prefix(12);
  }
  *if_exists = false;
  if (name.ends_with("IfExists")) {
    *if_exists = true;
    name.remove_suffix(8);
  }
  for (const OperatorInfo& i : kOperators) {
    if (i.name == name) {
      if (i.op == Op::kNull && *if_exists) return false;  // "NullIfExists" is not one
      *op = i.op;
      return true;
    }
  }
  return false;
}

bool ConditionClause::Negated() const { return Info(op_).negated; }

Result<ConditionClause> ConditionClause::Compile(std::string_view op_name, std::string_view key,
                                                 const std::vector<std::string>& values,
                                                 bool variables) {
  ConditionClause c;
  if (!ParseOperator(op_name, &c.op_, &c.if_exists_, &c.set_)) {
    return Status::InvalidArgument("Syntax errors in policy.");
  }
  for (char ch : key) c.key_.push_back((ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch);
  const OperatorInfo& info = Info(c.op_);
  using Mode = WildcardPattern::Mode;
  for (const std::string& v : values) {
    switch (info.kind) {
      case ValueKind::kString: {
        Mode mode = Mode::kExact;
        if (c.op_ == Op::kStringLike || c.op_ == Op::kStringNotLike) mode = Mode::kGlob;
        if (c.op_ == Op::kStringEqualsIgnoreCase || c.op_ == Op::kStringNotEqualsIgnoreCase) {
          mode = Mode::kExactNoCase;
        }
        c.patterns_.push_back(WildcardPattern::Compile(v, mode, variables));
        break;
      }
      case ValueKind::kArn:
        c.patterns_.push_back(WildcardPattern::Compile(v, Mode::kArn, variables));
        break;
      case ValueKind::kBool:
        c.patterns_.push_back(WildcardPattern::Compile(v, Mode::kExactNoCase, variables));
        break;
      case ValueKind::kNumeric: {
        double d;
        if (!ParseNumber(v, &d)) return BadValue(op_name, key, v, "not a number");
        c.numbers_.push_back(d);
        break;
      }
      case ValueKind::kDate: {
        int64_t ms;
        // IAM's answer to a date it cannot read.
        if (!ParsePolicyDate(v, &ms)) return Status::InvalidArgument("The policy failed legacy parsing");
        c.times_ms_.push_back(ms);
        break;
      }
      case ValueKind::kBinary: {
        std::optional<std::string> raw = base64::Decode(v);
        if (!raw) return BadValue(op_name, key, v, "not base64");
        c.binaries_.push_back(std::move(*raw));
        break;
      }
      case ValueKind::kIp: {
        std::string_view s = v;
        Cidr cidr;
        size_t slash = s.find('/');
        IpValue ip;
        if (!ParseIp(s.substr(0, slash), &ip)) {
          return BadValue(op_name, key, v, "not an IPv4 or IPv6 address or CIDR block");
        }
        cidr.v6 = ip.v6;
        std::memcpy(cidr.bytes, ip.bytes, sizeof(cidr.bytes));
        const int max = ip.v6 ? 128 : 32;
        cidr.prefix = max;
        if (slash != std::string_view::npos) {
          int prefix = -1;
          std::string_view digits = s.substr(slash + 1);
          auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
          if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() ||
              prefix < 0 || prefix > max) {
            return BadValue(op_name, key, v, "not an IPv4 or IPv6 address or CIDR block");
          }
          cidr.prefix = prefix;
        }
        c.cidrs_.push_back(cidr);
        break;
      }
      case ValueKind::kNull: {
        if (v == "true") {
          c.nulls_.push_back(true);
        } else if (v == "false") {
          c.nulls_.push_back(false);
        } else {
          return BadValue(op_name, key, v, "Null takes true or false");
        }
        break;
      }
    }
  }
  return c;
}

// Numeric* and Date*: the request value against each policy value.
template <typename T>
bool ConditionClause::CompareAny(T x, const std::vector<T>& policy_values) const {
  for (T p : policy_values) {
    bool m = false;
    switch (op_) {
      case Op::kNumericLessThan:
      case Op::kDateLessThan: m = x < p; break;
      case Op::kNumericLessThanEquals:
      case Op::kDateLessThanEquals: m = x <= p; break;
      case Op::kNumericGreaterThan:
      case Op::kDateGreaterThan: m = x > p; break;
      case Op::kNumericGreaterThanEquals:
      case Op::kDateGreaterThanEquals: m = x >= p; break;
      default: m = x == p; break;  // Equals, NotEquals (negated by the caller)
    }
    if (m) return true;
  }
  return false;
}

bool ConditionClause::MatchesAny(std::string_view r, const RequestKeys& keys) const {
  switch (Info(op_).kind) {
    case ValueKind::kString:
    case ValueKind::kArn:
    case ValueKind::kBool:
      for (const WildcardPattern& p : patterns_) {
        if (p.Match(r, &keys)) return true;
      }
      return false;
    case ValueKind::kNumeric: {
      double x;
      return ParseNumber(r, &x) && CompareAny(x, numbers_);
    }
    case ValueKind::kDate: {
      int64_t t;
      return ParsePolicyDate(r, &t) && CompareAny(t, times_ms_);
    }
    case ValueKind::kBinary:
      for (const std::string& b : binaries_) {
        if (r == b) return true;
      }
      return false;
    case ValueKind::kIp: {
      IpValue ip;
      if (!ParseIp(r, &ip)) return false;
      for (const Cidr& c : cidrs_) {
        if (c.v6 != ip.v6) continue;
        int full = c.prefix / 8;
        int rest = c.prefix % 8;
        if (std::memcmp(c.bytes, ip.bytes, static_cast<size_t>(full)) != 0) continue;
        if (rest != 0) {
          uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
          if ((c.bytes[full] & mask) != (ip.bytes[full] & mask)) continue;
        }
        return true;
      }
      return false;
    }
    case ValueKind::kNull:
      return false;
  }
  return false;
}

bool ConditionClause::Evaluate(const RequestKeys& keys) const {
  if (op_ == Op::kNull) {
    const bool present = keys.ForEach(key_, [](std::string_view) { return false; }) > 0;
    for (bool want_absent : nulls_) {
      if (want_absent != present) return true;
    }
    return false;
  }
  const bool neg = Negated();
  switch (set_) {
    case SetQualifier::kNone: {
      // A single-valued operator on a key with several values: true when any
      // value matches (negated: when none does).
      bool matched = false;
      size_t n = keys.ForEach(key_, [&](std::string_view v) {
        matched = MatchesAny(v, keys);
        return !matched;
      });
      if (n == 0) return if_exists_ || neg;
      return neg ? !matched : matched;
    }
    case SetQualifier::kForAnyValue: {
      bool found = false;
      size_t n = keys.ForEach(key_, [&](std::string_view v) {
        found = MatchesAny(v, keys) != neg;
        return !found;
      });
      if (n == 0) return if_exists_;
      return found;
    }
    case SetQualifier::kForAllValues: {
      bool all = true;
      keys.ForEach(key_, [&](std::string_view v) {
        all = MatchesAny(v, keys) != neg;
        return all;
      });
      return all;  // true for a missing key, as AWS documents
    }
  }
  return false;
}

}  // namespace hydrant::iam
