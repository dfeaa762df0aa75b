#include "destinations/s3_names.h"

#include <cstddef>
#include <cstdint>

#include "common/utf8.h"

namespace hydrant::store {
namespace {

bool IsIpv4Like(std::string_view n) {
  int parts = 0;
  size_t pos = 0;
  while (true) {
    size_t dot = n.find('.', pos);
    std::string_view part = n.substr(pos, dot == std::string_view::npos ? n.npos : dot - pos);
    if (part.empty() || part.size() > 3) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return parts == 4;
}

}  // namespace

bool IsValidBucketName(std::string_view n) {
  if (n.size() < 3 || n.size() > 63) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front()) || !alnum(n.back())) return false;
  if (n.find("..") != std::string_view::npos) return false;
  if (IsIpv4Like(n)) return false;
  for (std::string_view p : {"xn--", "sthree-", "amzn-s3-demo-"})
    if (n.starts_with(p)) return false;
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (n.size() >= s.size() && n.substr(n.size() - s.size()) == s) return false;
  }
  return true;
}

std::optional<std::string> ValidateKey(std::string_view key) {
  if (key.empty()) return "The object key must not be empty.";
  if (key.size() > 1024) return "Your key is too long (the limit is 1024 bytes).";
  for (size_t i = 0; i < key.size();) {
    if (key[i] == '\0') return "The object key must not contain NUL characters.";
    size_t len = utf8::SequenceLength(key, i);
    if (len == 0) return "The object key is not valid UTF-8.";
    i += len;
  }
  return std::nullopt;
}

}  // namespace hydrant::store
