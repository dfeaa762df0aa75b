// Fuzz target: IAM policy documents (iam/policy.h) and the wildcard matcher
// beneath them (iam/wildcard.h).
//
// Input parts (fuzz_util.h SplitParts): a policy document; an action; a
// resource; condition keys ("key=value" lines); a wildcard pattern; a text.
//
// The document is parsed as each PolicyKind; when it parses, it is evaluated for
// a user, a role session, the root user, a service and the anonymous caller,
// with the fixed requests and the one from the input.
// Invariants: the anonymous caller is always allowed; root is allowed unless a
// resource policy denies; an explicit deny names where it came from; evaluating
// twice gives the same answer; every denial has an AccessDenied message; a
// failed parse is InvalidArgument with a message. The pattern is compiled in
// each mode and its Match agrees with a plain dynamic-programming matcher
// written from IAM's rules.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "iam/policy.h"
#include "iam/wildcard.h"

namespace iam = hydrant::iam;

namespace {

iam::Principal MakePrincipal(iam::Principal::Kind kind) {
  iam::Principal p;
  p.kind = kind;
  p.account_id = "111122223333";
  switch (kind) {
    case iam::Principal::Kind::kUser:
      p.arn = "arn:aws:iam::111122223333:user/alice";
      p.user_name = "alice";
      p.user_id = "AIDAEXAMPLE";
      break;
    case iam::Principal::Kind::kAssumedRole:
      p.arn = "arn:aws:sts::111122223333:assumed-role/writer/s1";
      p.role_arn = "arn:aws:iam::111122223333:role/writer";
      p.user_id = "AROAEXAMPLE:s1";
      break;
    case iam::Principal::Kind::kRoot:
      p.arn = "arn:aws:iam::111122223333:root";
      p.user_id = "111122223333";
      break;
    case iam::Principal::Kind::kService:
      p.arn = "firehose.amazonaws.com";
      break;
    default:
      break;
  }
  return p;
}

// The reference: IAM's wildcard rules as a table over (pattern, text) suffixes.
bool Reference(std::string_view pat, iam::WildcardPattern::Mode mode, std::string_view text) {
  using Mode = iam::WildcardPattern::Mode;
  const bool wild = mode == Mode::kGlob || mode == Mode::kGlobNoCase || mode == Mode::kArn;
  const bool no_case = mode == Mode::kGlobNoCase || mode == Mode::kExactNoCase;
  auto low = [&](char c) { return no_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  const size_t n = pat.size(), m = text.size();
  // ok[i][j]: pat[i..] matches text[j..].
  std::vector<char> table((n + 1) * (m + 1), 0);
  auto ok = [&](size_t i, size_t j) -> char& { return table[i * (m + 1) + j]; };
  ok(n, m) = 1;
  for (size_t i = n; i-- > 0;) {
    char pc = pat[i];
    bool star = wild && pc == '*';
    bool one = wild && pc == '?';
    bool crossing = true;
    if (star && mode == Mode::kArn) {
      size_t k = i;
      while (k < n && pat[k] == '*') ++k;
      crossing = k == n || pat[k] == ':';
    }
    for (size_t j = m + 1; j-- > 0;) {
      bool r = false;
      if (star) {
        r = ok(i + 1, j) || (j < m && (crossing || text[j] != ':') && ok(i, j + 1));
      } else if (j < m) {
        bool char_ok = one ? (mode != Mode::kArn || text[j] != ':') : low(pc) == low(text[j]);
        r = char_ok && ok(i + 1, j + 1);
      }
      ok(i, j) = r;
    }
  }
  return ok(0, 0) != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 6);

  // The matcher against the reference (no variables: ${ is text here).
  const std::string_view pattern = parts[4].substr(0, 64);
  const std::string_view text = parts[5].substr(0, 256);
  using Mode = iam::WildcardPattern::Mode;
  for (Mode mode : {Mode::kExact, Mode::kExactNoCase, Mode::kGlob, Mode::kGlobNoCase, Mode::kArn}) {
    auto compiled = iam::WildcardPattern::Compile(pattern, mode, false);
    bool got = compiled.Match(text, nullptr);
    FUZZ_CHECK(got == Reference(pattern, mode, text),
               "wildcard mismatch: mode " + std::to_string(static_cast<int>(mode)) + " pattern " +
                   std::string(pattern) + " text " + std::string(text));
    // With variables enabled the pattern still matches without crashing.
    (void)iam::WildcardPattern::Compile(pattern, mode, true).Match(text, nullptr);
  }

  std::vector<std::pair<std::string, std::string>> keys;
  std::string_view lines = parts[3];
  while (!lines.empty() && keys.size() < 16) {
    size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    keys.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  const std::pair<std::string, std::string> requests[] = {
      {"firehose:PutRecordBatch", "arn:aws:firehose:us-east-1:111122223333:deliverystream/s1"},
      {"s3:GetObject", "arn:aws:s3:::bucket/home/alice/key"},
      {"sts:AssumeRole", "arn:aws:iam::111122223333:role/writer"},
      {std::string(parts[1].substr(0, 256)), std::string(parts[2].substr(0, 512))},
  };
  const iam::Principal principals[] = {
      MakePrincipal(iam::Principal::Kind::kUser), MakePrincipal(iam::Principal::Kind::kAssumedRole),
      MakePrincipal(iam::Principal::Kind::kRoot), MakePrincipal(iam::Principal::Kind::kService),
      MakePrincipal(iam::Principal::Kind::kAnonymous)};

  for (iam::PolicyKind kind : {iam::PolicyKind::kIdentity, iam::PolicyKind::kResource, iam::PolicyKind::kTrust}) {
    auto parsed = iam::ParsePolicy(parts[0], kind);
    if (!parsed.ok()) {
      FUZZ_CHECK(parsed.status().code() == hydrant::StatusCode::kInvalidArgument &&
                     !parsed.status().message().empty(),
                 "a failed parse without a MalformedPolicyDocument message");
      continue;
    }
    std::shared_ptr<const iam::Policy> policy = parsed.value();
    std::vector<std::shared_ptr<const iam::Policy>> identity;
    const iam::Policy* resource = nullptr;
    if (kind == iam::PolicyKind::kIdentity) {
      identity.push_back(policy);
    } else {
      resource = policy.get();
    }
    for (const iam::Principal& principal : principals) {
      for (const auto& [action, res] : requests) {
        for (int64_t now : {int64_t{-1}, int64_t{1700000000000}}) {
          iam::AuthzContext ctx;
          ctx.principal = &principal;
          ctx.action = action;
          ctx.resource = res;
          ctx.keys = keys;
          ctx.now_ms = now;
          iam::Evaluation e = iam::Evaluate(ctx, identity, resource);
          iam::Evaluation again = iam::Evaluate(ctx, identity, resource);
          FUZZ_CHECK(e.decision == again.decision, "Evaluate is not deterministic");
          if (principal.kind == iam::Principal::Kind::kAnonymous) {
            FUZZ_CHECK(e.allowed(), "the anonymous caller was denied");
          }
          if (principal.kind == iam::Principal::Kind::kRoot && resource == nullptr) {
            FUZZ_CHECK(e.allowed(), "root was denied without a resource policy");
          }
          if (e.decision == iam::Decision::kExplicitDeny) {
            FUZZ_CHECK(e.deny_source == (resource != nullptr ? iam::Evaluation::Source::kResource
                                                             : iam::Evaluation::Source::kIdentity),
                       "an explicit deny from the wrong source");
          }
          if (!e.allowed()) {
            FUZZ_CHECK(!iam::AccessDeniedMessage(ctx, e).empty(), "a denial without a message");
          }
        }
      }
    }
  }
  return 0;
}
