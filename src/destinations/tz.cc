#include "destinations/tz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace hydrant::naming {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

// Civil-date conversion by eras of 400 years (146097 days), the usual closed form.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(year, 400);
  const int64_t yoe = year - era * 400;                       // [0, 399]
  const int64_t mp = (month + 9) % 12;                        // March = 0
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;           // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = FloorDiv(days, 146097);
  const int64_t doe = days - era * 146097;                                    // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  CivilDate c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  return c;
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// ---------------------------------------------------------------------------------------
// POSIX TZ rules.

namespace {

// A cursor over a TZ string; each Parse* returns false on malformed input.
struct TzScanner {
  std::string_view s;
  size_t i = 0;

  bool AtEnd() const { return i >= s.size(); }
  char Peek() const { return AtEnd() ? '\0' : s[i]; }

  bool ParseName(std::string* out) {
    if (Peek() == '<') {
      size_t close = s.find('>', i);
      if (close == std::string_view::npos) return false;
      *out = std::string(s.substr(i + 1, close - i - 1));
      i = close + 1;
      return out->size() >= 1;
    }
    size_t start = i;
    while (!AtEnd() && ((Peek() >= 'A' && Peek() <= 'Z') || (Peek() >= 'a' && Peek() <= 'z'))) ++i;
    *out = std::string(s.substr(start, i - start));
    return out->size() >= 3;
  }

  bool ParseNumber(int max, int* out) {
    size_t start = i;
    int v = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      v = v * 10 + (Peek() - '0');
      if (v > max) return false;
      ++i;
    }
    *out = v;
    return i > start;
  }

  // [+-]hh[:mm[:ss]] in seconds; max_hours bounds the hour part.
  bool ParseTime(int max_hours, int32_t* out) {
    int sign = 1;
    if (Peek() == '+' || Peek() == '-') {
      sign = Peek() == '-' ? -1 : 1;
      ++i;
    }
    int h = 0, m = 0, sec = 0;
    if (!ParseNumber(max_hours, &h)) return false;
    if (Peek() == ':') {
      ++i;
      if (!ParseNumber(59, &m)) return false;
      if (Peek() == ':') {
        ++i;
        if (!ParseNumber(59, &sec)) return false;
      }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
};

}  // namespace

std::optional<PosixTzRule> PosixTzRule::Parse(std::string_view spec) {
  TzScanner sc{spec};
  PosixTzRule r;
  int32_t off = 0;
  if (!sc.ParseName(&r.std_.abbreviation) || !sc.ParseTime(24, &off)) return std::nullopt;
  r.std_.utc_offset = -off;  // POSIX offsets count hours west of Greenwich
  if (sc.AtEnd()) return r;
  if (!sc.ParseName(&r.dst_.abbreviation)) return std::nullopt;
  r.has_dst_ = true;
  r.dst_.is_dst = true;
  r.dst_.utc_offset = r.std_.utc_offset + 3600;
  if (!sc.AtEnd() && sc.Peek() != ',') {
    if (!sc.ParseTime(24, &off)) return std::nullopt;
    r.dst_.utc_offset = -off;
  }
  std::string_view rule = sc.AtEnd() ? std::string_view("M3.2.0,M11.1.0") : spec.substr(sc.i + 1);
  if (!sc.AtEnd() && sc.Peek() != ',') return std::nullopt;
  TzScanner rs{rule};
  for (Date* d : {&r.start_, &r.end_}) {
    if (d == &r.end_) {
      if (rs.Peek() != ',') return std::nullopt;
      ++rs.i;
    }
    if (rs.Peek() == 'M') {
      ++rs.i;
      d->kind = 'M';
      if (!rs.ParseNumber(12, &d->month) || d->month < 1 || rs.Peek() != '.') return std::nullopt;
      ++rs.i;
      if (!rs.ParseNumber(5, &d->week) || d->week < 1 || rs.Peek() != '.') return std::nullopt;
      ++rs.i;
      if (!rs.ParseNumber(6, &d->weekday)) return std::nullopt;
    } else if (rs.Peek() == 'J') {
      ++rs.i;
      d->kind = 'J';
      if (!rs.ParseNumber(365, &d->day) || d->day < 1) return std::nullopt;
    } else {
      d->kind = 'N';
      if (!rs.ParseNumber(365, &d->day)) return std::nullopt;
    }
    d->time = 7200;
    if (rs.Peek() == '/') {
      ++rs.i;
      if (!rs.ParseTime(167, &d->time)) return std::nullopt;
    }
  }
  if (!rs.AtEnd()) return std::nullopt;
  return r;
}

int64_t PosixTzRule::TransitionUtc(const Date& date, int64_t year, int32_t offset) {
  int64_t day = 0;  // days since epoch of the local date
  switch (date.kind) {
    case 'J':
      day = DaysFromCivil(year, 1, 1) + date.day - 1 + (IsLeapYear(year) && date.day >= 60 ? 1 : 0);
      break;
    case 'N':
      day = DaysFromCivil(year, 1, 1) + date.day;
      break;
    default: {
      const int64_t first = DaysFromCivil(year, date.month, 1);
      const int first_weekday = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 0 = Sunday
      int dom = 1 + (date.weekday - first_weekday + 7) % 7 + (date.week - 1) * 7;
      while (dom > DaysInMonth(year, date.month)) dom -= 7;  // week 5 = last
      day = first + dom - 1;
      break;
    }
  }
  return day * 86400 + date.time - offset;
}

const LocalTimeType& PosixTzRule::Lookup(int64_t unix_seconds) const {
  if (!has_dst_) return std_;
  const int64_t year = CivilFromDays(FloorDiv(unix_seconds + std_.utc_offset, 86400)).year;
  // DST starts at a local standard time and ends at a local daylight time.
  const int64_t start = TransitionUtc(start_, year, std_.utc_offset);
  const int64_t end = TransitionUtc(end_, year, dst_.utc_offset);
  bool in_dst;
  if (start < end) {
    in_dst = unix_seconds >= start && unix_seconds < end;
  } else {  // southern hemisphere: DST spans the new year
    in_dst = !(unix_seconds >= end && unix_seconds < start);
  }
  return in_dst ? dst_ : std_;
}

// ---------------------------------------------------------------------------------------
// TZif.

namespace {

struct ByteReader {
  std::string_view d;
  size_t pos = 0;
  bool Has(size_t n) const { return pos <= d.size() && d.size() - pos >= n; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | static_cast<uint8_t>(d[pos++]);
    return v;
  }
  int64_t I64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | static_cast<uint8_t>(d[pos++]);
    return static_cast<int64_t>(v);
  }
};

struct TzifHeader {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool ReadHeader(ByteReader* r, TzifHeader* h) {
  if (!r->Has(44) || r->d.substr(r->pos, 4) != "TZif") return false;
  h->version = r->d[r->pos + 4];
  r->pos += 20;
  h->isutcnt = r->U32();
  h->isstdcnt = r->U32();
  h->leapcnt = r->U32();
  h->timecnt = r->U32();
  h->typecnt = r->U32();
  h->charcnt = r->U32();
  // Bounds from RFC 8536 section 3.1; they also keep the size arithmetic below in range.
  return h->typecnt >= 1 && h->typecnt <= 256 && h->charcnt >= 1 && h->charcnt <= 65536 &&
         h->timecnt <= 1000000 && h->leapcnt <= 100000 &&
         (h->isutcnt == 0 || h->isutcnt == h->typecnt) &&
         (h->isstdcnt == 0 || h->isstdcnt == h->typecnt);
}

size_t BlockSize(const TzifHeader& h, size_t time_size) {
  return h.timecnt * time_size + h.timecnt + h.typecnt * 6 + h.charcnt +
         h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

}  // namespace

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view data) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption("time zone file for " + name +
                              " is not valid TZif: " + std::string(why));
  };
  ByteReader r{data};
  TzifHeader h;
  if (!ReadHeader(&r, &h)) return bad("bad header");
  size_t time_size = 4;
  if (h.version >= '2') {
    // Skip the version-1 block; the 64-bit block that follows is authoritative.
    if (!r.Has(BlockSize(h, 4))) return bad("truncated v1 data");
    r.pos += BlockSize(h, 4);
    if (!ReadHeader(&r, &h)) return bad("bad v2 header");
    time_size = 8;
  }
  if (!r.Has(BlockSize(h, time_size))) return bad("truncated data");
  if (h.leapcnt != 0) return bad("leap-second (right/) files are not supported");

  TimeZone tz;
  tz.name_ = std::move(name);
  tz.transitions_.reserve(h.timecnt);
  for (uint32_t k = 0; k < h.timecnt; ++k) {
    int64_t t = time_size == 8 ? r.I64() : static_cast<int32_t>(r.U32());
    if (!tz.transitions_.empty() && t <= tz.transitions_.back()) return bad("unsorted transitions");
    tz.transitions_.push_back(t);
  }
  tz.transition_types_.reserve(h.timecnt);
  for (uint32_t k = 0; k < h.timecnt; ++k) {
    uint8_t idx = static_cast<uint8_t>(r.d[r.pos++]);
    if (idx >= h.typecnt) return bad("transition type out of range");
    tz.transition_types_.push_back(idx);
  }
  std::vector<uint8_t> abbr_index(h.typecnt);
  tz.types_.resize(h.typecnt);
  for (uint32_t k = 0; k < h.typecnt; ++k) {
    int32_t off = static_cast<int32_t>(r.U32());
    if (off < -89999 || off > 93599) return bad("offset out of range");  // RFC 8536 3.2
    tz.types_[k].utc_offset = off;
    tz.types_[k].is_dst = r.d[r.pos++] != 0;
    abbr_index[k] = static_cast<uint8_t>(r.d[r.pos++]);
  }
  std::string_view chars = r.d.substr(r.pos, h.charcnt);
  r.pos += h.charcnt;
  for (uint32_t k = 0; k < h.typecnt; ++k) {
    if (abbr_index[k] >= chars.size()) return bad("abbreviation index out of range");
    std::string_view a = chars.substr(abbr_index[k]);
    tz.types_[k].abbreviation = std::string(a.substr(0, a.find('\0')));
  }
  r.pos += h.isstdcnt + h.isutcnt;  // only needed for POSIX-style TZ strings without rules

  if (time_size == 8) {
    // Footer: "\n<POSIX TZ string>\n"; an empty string means "no rule".
    if (!r.Has(1) || r.d[r.pos] != '\n') return bad("missing footer");
    size_t end = r.d.find('\n', r.pos + 1);
    if (end == std::string_view::npos) return bad("unterminated footer");
    std::string_view spec = r.d.substr(r.pos + 1, end - r.pos - 1);
    if (!spec.empty()) {
      tz.footer_ = PosixTzRule::Parse(spec);
      if (!tz.footer_) return bad("unparseable footer \"" + std::string(spec) + "\"");
    }
  }
  return tz;
}

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  tz.types_.push_back(LocalTimeType{0, false, "UTC"});
  return tz;
}

const LocalTimeType& TimeZone::Lookup(int64_t unix_seconds) const {
  if (transitions_.empty() || unix_seconds >= transitions_.back()) {
    if (footer_) return footer_->Lookup(unix_seconds);
    return transitions_.empty() ? types_[0] : types_[transition_types_.back()];
  }
  if (unix_seconds < transitions_.front()) return types_[0];  // RFC 8536: type 0 before
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  return types_[transition_types_[(it - transitions_.begin()) - 1]];
}

// ---------------------------------------------------------------------------------------
// Loading and caching.

std::string ZoneInfoDir() {
  const char* dir = std::getenv("TZDIR");
  return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string("/usr/share/zoneinfo");
}

namespace {

bool IsZoneNameShaped(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  if (name.find("//") != std::string_view::npos) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;  // also excludes '.', hence ".."
  }
  // Files in the database that are not zones, or not POSIX-time zones.
  for (std::string_view bad : {"posix/", "right/"}) {
    if (name.substr(0, bad.size()) == bad) return false;
  }
  return name != "localtime" && name != "posixrules" && name != "Factory" && name != "posix" &&
         name != "right";
}

Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound("no such time zone file " + path);
    return Status::FromErrno(path, err);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
    ::close(fd);
    return Status::NotFound(path + " is not a time zone file");
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      return Status::FromErrno(path, err);
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return data;
}

struct ZoneCache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const TimeZone>> zones;
};

ZoneCache& Cache() {
  static ZoneCache* cache = new ZoneCache();  // never destroyed: usable during shutdown
  return *cache;
}

}  // namespace

Result<std::shared_ptr<const TimeZone>> LoadTimeZone(std::string_view name) {
  static const std::shared_ptr<const TimeZone> kUtc = std::make_shared<TimeZone>(TimeZone::Utc());
  if (name.empty() || name == "UTC") return kUtc;
  if (!IsZoneNameShaped(name)) {
    return Status::NotFound("unknown time zone \"" + std::string(name) + "\"");
  }
  ZoneCache& cache = Cache();
  std::string key(name);
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.zones.find(key);
    if (it != cache.zones.end()) return it->second;
  }
  // Read outside the lock; a racing loader of the same zone just does the work twice.
  Result<std::string> data = ReadSmallFile(ZoneInfoDir() + "/" + key);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("unknown time zone \"" + key + "\"");
    }
    return data.status();
  }
  Result<TimeZone> tz = TimeZone::FromTzif(key, *data);
  if (!tz.ok()) return tz.status();
  auto shared = std::make_shared<const TimeZone>(std::move(tz).value());
  std::lock_guard<std::mutex> lock(cache.mu);
  auto [it, inserted] = cache.zones.emplace(key, std::move(shared));
  return it->second;
}

}  // namespace hydrant::naming
