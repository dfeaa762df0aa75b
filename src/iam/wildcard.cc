#include "iam/wildcard.h"

#include <algorithm>
#include <cstring>

#include "common/strings.h"

namespace hydrant::iam {
namespace {

inline unsigned char Lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

}  // namespace

void WildcardPattern::AppendLiteral(std::string_view s, std::vector<uint16_t>* units) const {
  for (unsigned char c : s) units->push_back(no_case_ ? Lower(c) : c);
}

void WildcardPattern::FixArnStars(std::vector<uint16_t>* units) {
  // A * that ends a segment (followed by ':' or the end) may run past colons;
  // other * and every ? stay within the segment.
  for (size_t i = 0; i < units->size(); ++i) {
    uint16_t& u = (*units)[i];
    if (u == kAnyOne) u = kAnyOneInSeg;
    if (u != kStar && u != kStarInSeg) continue;
    bool ends_segment = i + 1 == units->size() || (*units)[i + 1] == ':';
    u = ends_segment ? kStar : kStarInSeg;
  }
}

void WildcardPattern::CollapseStars(std::vector<uint16_t>* units) {
  // "**" matches what "*" does; one star per run keeps the NFA's closure a
  // single shift (no star follows a star).
  size_t out = 0;
  for (size_t i = 0; i < units->size(); ++i) {
    uint16_t u = (*units)[i];
    if (u == kStar && out > 0 && (*units)[out - 1] == kStar) continue;
    (*units)[out++] = u;
  }
  units->resize(out);
}

WildcardPattern WildcardPattern::Compile(std::string_view pattern, Mode mode, bool variables) {
  WildcardPattern p;
  p.source_ = std::string(pattern);
  p.mode_ = mode;
  p.no_case_ = mode == Mode::kGlobNoCase || mode == Mode::kExactNoCase;
  const bool wildcards = mode == Mode::kGlob || mode == Mode::kGlobNoCase || mode == Mode::kArn;

  // Split into literal units and variables.
  std::vector<Token> tokens;
  tokens.emplace_back();
  size_t i = 0;
  while (i < pattern.size()) {
    char c = pattern[i];
    if (variables && c == '$' && i + 1 < pattern.size() && pattern[i + 1] == '{') {
      size_t close = pattern.find('}', i + 2);
      if (close != std::string_view::npos) {
        std::string_view inner = pattern.substr(i + 2, close - i - 2);
        std::string_view trimmed = TrimSpaces(inner);
        if (trimmed == "*" || trimmed == "?" || trimmed == "$") {
          p.AppendLiteral(trimmed, &tokens.back().units);  // the character itself
          i = close + 1;
          continue;
        }
        Token var;
        var.variable = true;
        std::string_view key = trimmed;
        size_t comma = inner.find(',');
        if (comma != std::string_view::npos) {
          key = TrimSpaces(inner.substr(0, comma));
          std::string_view def = TrimSpaces(inner.substr(comma + 1));
          if (def.size() >= 2 && def.front() == '\'' && def.back() == '\'') {
            var.has_default = true;
            var.default_value = std::string(def.substr(1, def.size() - 2));
          }
        }
        if (!key.empty()) {
          for (unsigned char k : key) var.key.push_back(static_cast<char>(Lower(k)));
          tokens.push_back(std::move(var));
          tokens.emplace_back();
          i = close + 1;
          continue;
        }
      }
    }
    if (wildcards && c == '*') {
      tokens.back().units.push_back(kStar);
    } else if (wildcards && c == '?') {
      tokens.back().units.push_back(kAnyOne);
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      tokens.back().units.push_back(p.no_case_ ? Lower(u) : u);
    }
    ++i;
  }

  if (tokens.size() > 1) {
    p.fast_ = Fast::kGeneral;
    p.tokens_ = std::move(tokens);
    return p;
  }
  std::vector<uint16_t> units = std::move(tokens.front().units);
  CollapseStars(&units);
  if (mode == Mode::kArn) FixArnStars(&units);
  // Fast paths: "*", a literal, a literal then one trailing (colon-crossing) *.
  size_t wild = 0;
  size_t last_wild = 0;
  for (size_t k = 0; k < units.size(); ++k) {
    if (units[k] > 255) {
      ++wild;
      last_wild = k;
    }
  }
  auto literal_of = [&](size_t n) {
    std::string s;
    s.reserve(n);
    for (size_t k = 0; k < n; ++k) s.push_back(static_cast<char>(units[k]));
    return s;
  };
  if (wild == 0) {
    p.fast_ = Fast::kLiteral;
    p.literal_ = literal_of(units.size());
  } else if (wild == 1 && units[last_wild] == kStar && last_wild + 1 == units.size()) {
    p.fast_ = last_wild == 0 ? Fast::kAll : Fast::kPrefix;
    p.literal_ = literal_of(last_wild);
  } else {
    p.fast_ = Fast::kGeneral;
    p.units_ = std::move(units);
  }
  return p;
}

bool WildcardPattern::Match(std::string_view text, const VariableResolver* vars) const {
  switch (fast_) {
    case Fast::kAll:
      return true;
    case Fast::kLiteral:
      return no_case_ ? EqualsIgnoreCase(text, literal_) : text == literal_;
    case Fast::kPrefix:
      if (text.size() < literal_.size()) return false;
      return no_case_ ? EqualsIgnoreCase(text.substr(0, literal_.size()), literal_)
                      : text.substr(0, literal_.size()) == literal_;
    case Fast::kGeneral:
      break;
  }
  if (tokens_.empty()) return MatchUnits(units_.data(), units_.size(), text);

  // Substitute the variables (their values are text, never wildcards).
  thread_local std::vector<uint16_t> scratch;
  scratch.clear();
  for (const Token& t : tokens_) {
    if (!t.variable) {
      scratch.insert(scratch.end(), t.units.begin(), t.units.end());
      continue;
    }
    std::string_view value;
    if (vars == nullptr || !vars->Resolve(t.key, &value)) {
      if (!t.has_default) return false;  // an unknown key matches nothing
      value = t.default_value;
    }
    AppendLiteral(value, &scratch);
  }
  CollapseStars(&scratch);
  if (mode_ == Mode::kArn) FixArnStars(&scratch);
  return MatchUnits(scratch.data(), scratch.size(), text);
}

// When every * may match anything, the classic wildcard walk is exact: on a
// mismatch, only the latest * needs to take one more character (O(text ×
// pattern) at worst, linear in practice).
bool WildcardPattern::MatchGreedy(const uint16_t* units, size_t n, std::string_view text) const {
  size_t p = 0, t = 0;
  size_t star = SIZE_MAX, mark = 0;
  while (t < text.size()) {
    const unsigned char raw = static_cast<unsigned char>(text[t]);
    const unsigned char c = no_case_ ? Lower(raw) : raw;
    if (p < n && units[p] == kStar) {
      star = p++;
      mark = t;
    } else if (p < n && (units[p] == c || units[p] == kAnyOne || (units[p] == kAnyOneInSeg && c != ':'))) {
      ++p;
      ++t;
    } else if (star != SIZE_MAX) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < n && units[p] == kStar) ++p;
  return p == n;
}

// A bit-set simulation of the pattern's NFA: state k means "units[0, k) matched".
// Stars never follow stars (CollapseStars), so the closure over "a star may
// match nothing" is one shift of the active stars.
bool WildcardPattern::MatchUnits(const uint16_t* units, size_t n, std::string_view text) const {
  // The literal head needs no NFA.
  size_t head = 0;
  while (head < n && units[head] <= 255) {
    if (head >= text.size()) return false;
    unsigned char c = static_cast<unsigned char>(text[head]);
    if ((no_case_ ? Lower(c) : c) != units[head]) return false;
    ++head;
  }
  units += head;
  n -= head;
  text.remove_prefix(head);
  if (std::find(units, units + n, kStarInSeg) == units + n) return MatchGreedy(units, n, text);

  const size_t words = (n + 1 + 63) / 64;
  uint64_t stack_bits[3][8];
  std::vector<uint64_t> heap_bits;
  uint64_t* cur = stack_bits[0];
  uint64_t* next = stack_bits[1];
  uint64_t* stars = stack_bits[2];
  if (words > 8) {
    heap_bits.assign(words * 3, 0);
    cur = heap_bits.data();
    next = heap_bits.data() + words;
    stars = heap_bits.data() + 2 * words;
  }
  std::memset(stars, 0, words * sizeof(uint64_t));
  for (size_t k = 0; k < n; ++k) {
    if (units[k] == kStar || units[k] == kStarInSeg) stars[k >> 6] |= uint64_t{1} << (k & 63);
  }
  auto close = [&](uint64_t* b) {
    uint64_t carry = 0;
    for (size_t w = 0; w < words; ++w) {
      uint64_t active = b[w] & stars[w];
      b[w] |= (active << 1) | carry;
      carry = active >> 63;
    }
  };
  std::memset(cur, 0, words * sizeof(uint64_t));
  cur[0] = 1;
  close(cur);
  for (char ch : text) {
    const unsigned char c = no_case_ ? Lower(static_cast<unsigned char>(ch))
                                     : static_cast<unsigned char>(ch);
    std::memset(next, 0, words * sizeof(uint64_t));
    bool any = false;
    for (size_t w = 0; w < words; ++w) {
      uint64_t bits = cur[w];
      while (bits != 0) {
        size_t k = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        if (k >= n) continue;
        const uint16_t u = units[k];
        size_t to;
        if (u == kStar || (u == kStarInSeg && c != ':')) {
          to = k;
        } else if (u == kAnyOne || (u == kAnyOneInSeg && c != ':') || u == c) {
          to = k + 1;
        } else {
          continue;
        }
        next[to >> 6] |= uint64_t{1} << (to & 63);
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    std::swap(cur, next);
  }
  return ((cur[n >> 6] >> (n & 63)) & 1) != 0;
}

}  // namespace hydrant::iam
