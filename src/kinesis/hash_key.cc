#include "kinesis/hash_key.h"

#include <openssl/evp.h>

#include <algorithm>

namespace hydrant::kinesis {

HashKey PartitionKeyHash(std::string_view partition_key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(partition_key.data(), partition_key.size(), md, &len, EVP_md5(), nullptr);
  HashKey k = 0;
  for (unsigned i = 0; i < 16 && i < len; ++i) k = (k << 8) | md[i];
  return k;
}

std::optional<HashKey> ParseHashKey(std::string_view decimal) {
  if (decimal.empty() || decimal.size() > 64) return std::nullopt;
  HashKey v = 0;
  for (char c : decimal) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<unsigned>(c - '0');
    if (v > (kMaxHashKey - digit) / 10) return std::nullopt;  // v * 10 + digit overflows
    v = v * 10 + digit;
  }
  return v;
}

std::string HashKeyToString(HashKey key) {
  if (key == 0) return "0";
  std::string s;
  while (key != 0) {
    s.push_back(static_cast<char>('0' + static_cast<unsigned>(key % 10)));
    key /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace hydrant::kinesis
