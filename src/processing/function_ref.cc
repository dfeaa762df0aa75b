// ParseFunctionRef: the forms Lambda's Invoke accepts for FunctionName, restricted
// to the two the configuration uses: a full function ARN, or a bare name.
//   arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
//   NAME[:QUALIFIER]
// NAME is [A-Za-z0-9_-]{1,64}; QUALIFIER is $LATEST, a version number or an
// alias ([A-Za-z0-9_-]{1,128}); ACCOUNT is 12 digits; PARTITION is aws, aws-cn,
// aws-us-gov... (aws[a-z-]*); REGION is [a-z0-9-]+ so that local endpoints with
// made-up regions still parse.

#include <algorithm>
#include <vector>

#include "processing/invoker.h"

namespace hydrant::processing {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool ValidName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), IsNameChar);
}

bool ValidQualifier(std::string_view s) {
  if (s == "$LATEST") return true;
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), IsNameChar);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    if (next == std::string_view::npos) {
      parts.push_back(s.substr(pos));
      return parts;
    }
    parts.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
}

}  // namespace

bool ParseFunctionRef(std::string_view arn, FunctionRef* out) {
  FunctionRef ref;
  ref.arn = std::string(arn);
  std::vector<std::string_view> parts = Split(arn, ':');
  if (parts[0] == "arn") {
    // arn : partition : lambda : region : account : function : name [: qualifier]
    if (parts.size() != 7 && parts.size() != 8) return false;
    std::string_view partition = parts[1];
    if (partition.substr(0, 3) != "aws" ||
        !std::all_of(partition.begin(), partition.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; })) {
      return false;
    }
    if (parts[2] != "lambda" || parts[5] != "function") return false;
    std::string_view region = parts[3];
    if (region.empty() || !std::all_of(region.begin(), region.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        })) {
      return false;
    }
    std::string_view account = parts[4];
    if (account.size() != 12 ||
        !std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (!ValidName(parts[6])) return false;
    if (parts.size() == 8 && !ValidQualifier(parts[7])) return false;
    ref.region = std::string(region);
    ref.account = std::string(account);
    ref.name = std::string(parts[6]);
    if (parts.size() == 8) ref.qualifier = std::string(parts[7]);
  } else {
    if (parts.size() > 2 || !ValidName(parts[0])) return false;
    if (parts.size() == 2 && !ValidQualifier(parts[1])) return false;
    ref.name = std::string(parts[0]);
    if (parts.size() == 2) ref.qualifier = std::string(parts[1]);
  }
  *out = std::move(ref);
  return true;
}

}  // namespace hydrant::processing
