#include "iam/policy.h"

#include <boost/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "common/strings.h"
#include "iam/condition.h"
#include "iam/wildcard.h"

namespace hydrant::iam {
namespace {

namespace json = boost::json;

// IAM's MalformedPolicyDocument messages (as IAM words them).
constexpr std::string_view kSyntaxError = "Syntax errors in policy.";
constexpr std::string_view kLegacyParsing = "The policy failed legacy parsing";
constexpr std::string_view kNoPrincipalAllowed = "Policy document should not specify a principal.";
constexpr std::string_view kMissingPrincipal = "Missing required field Principal";
constexpr std::string_view kNoActions = "Policy statement must contain actions.";
constexpr std::string_view kNoResources = "Policy statement must contain resources.";
constexpr std::string_view kSidUnique = "Statement IDs (SID) in a single policy must be unique.";
constexpr std::string_view kSidAlnum =
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
    "expression [0-9A-Za-z]*";
constexpr std::string_view kVendorPrefix =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
constexpr std::string_view kOneColon = "Actions/Condition can contain only one colon.";
constexpr std::string_view kTrustActions = "AssumeRole policy may only specify STS AssumeRole actions.";
constexpr std::string_view kTrustResource = "Has prohibited field Resource";

Status Malformed(std::string_view m) { return Status::InvalidArgument(std::string(m)); }

bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The ARN's six colon-separated parts (the last keeps its colons).
bool SplitArn(std::string_view arn, std::string_view parts[6]) {
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  parts[5] = arn;
  return parts[0] == "arn";
}

}  // namespace

// Who a Principal / NotPrincipal element names.
struct PrincipalSet {
  bool any = false;                   // "*" or {"AWS": "*"}
  std::vector<std::string> accounts;  // 12 digits (also from arn:aws:iam::ACCT:root)
  std::vector<std::string> arns;      // user, role and assumed-role session ARNs
  std::vector<std::string> services;  // "firehose.amazonaws.com"
  // Federated and CanonicalUser entries are accepted and never match.

  enum class Match { kNone, kAccount, kSpecific };

  bool HasAccount(std::string_view a) const {
    return std::find(accounts.begin(), accounts.end(), a) != accounts.end();
  }
  bool HasArn(std::string_view a) const {
    return !a.empty() && std::find(arns.begin(), arns.end(), a) != arns.end();
  }

  // kSpecific: named itself (its ARN, its role's ARN, "*", its service; root by
  // its account); kAccount: only its account is named (which delegates to the
  // account's identity policies and grants nothing by itself).
  Match MatchPrincipal(const Principal& p) const {
    using Kind = Principal::Kind;
    if (any) return Match::kSpecific;
    if (p.kind == Kind::kService) {
      for (const std::string& s : services) {
        if (EqualsIgnoreCase(s, p.arn)) return Match::kSpecific;
      }
      return Match::kNone;
    }
    if (p.kind == Kind::kAnonymous) return Match::kNone;
    bool account = HasAccount(p.account_id);
    if (p.kind == Kind::kRoot) return account ? Match::kSpecific : Match::kNone;
    if (HasArn(p.arn)) return Match::kSpecific;
    if (p.kind == Kind::kAssumedRole && HasArn(p.role_arn)) return Match::kSpecific;
    return account ? Match::kAccount : Match::kNone;
  }

  // NotPrincipal: a principal is excluded only when every identity it carries is
  // listed, as AWS documents: its account, and its user ARN, or its role's ARN
  // and session ARN.
  bool Excludes(const Principal& p) const {
    using Kind = Principal::Kind;
    if (any) return true;
    switch (p.kind) {
      case Kind::kService:
        return MatchPrincipal(p) == Match::kSpecific;
      case Kind::kRoot:
        return HasAccount(p.account_id);
      case Kind::kUser:
      case Kind::kFederated:
        return HasAccount(p.account_id) && HasArn(p.arn);
      case Kind::kAssumedRole:
        return HasAccount(p.account_id) && HasArn(p.arn) && HasArn(p.role_arn);
      default:
        return false;
    }
  }
};

struct Statement {
  std::string sid;
  bool allow = false;
  bool not_action = false;
  std::vector<WildcardPattern> actions;
  bool has_resource = false;
  bool not_resource = false;
  std::vector<WildcardPattern> resources;
  bool has_principal = false;
  bool not_principal = false;
  PrincipalSet principals;
  std::vector<ConditionClause> conditions;
};

class Policy {
 public:
  PolicyKind kind = PolicyKind::kIdentity;
  std::string version;
  std::vector<Statement> statements;
};

namespace {

// ---------------------------------------------------------------- parsing ---

// A string or an array of strings; false on any other shape.
bool StringList(const json::value& v, std::vector<std::string>* out) {
  if (v.is_string()) {
    out->emplace_back(v.get_string());
    return true;
  }
  if (!v.is_array()) return false;
  for (const json::value& e : v.get_array()) {
    if (!e.is_string()) return false;
    out->emplace_back(e.get_string());
  }
  return true;
}

// Condition values: strings, numbers and booleans (IAM keeps them as text).
bool ScalarText(const json::value& v, std::string* out) {
  switch (v.kind()) {
    case json::kind::string: *out = std::string(v.get_string()); return true;
    case json::kind::bool_: *out = v.get_bool() ? "true" : "false"; return true;
    case json::kind::int64: *out = std::to_string(v.get_int64()); return true;
    case json::kind::uint64: *out = std::to_string(v.get_uint64()); return true;
    case json::kind::double_: *out = json::serialize(v); return true;
    default: return false;
  }
}

bool ConditionValues(const json::value& v, std::vector<std::string>* out) {
  std::string s;
  if (!v.is_array()) {
    if (!ScalarText(v, &s)) return false;
    out->push_back(std::move(s));
    return true;
  }
  for (const json::value& e : v.get_array()) {
    if (!ScalarText(e, &s)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

Status ValidateAction(std::string_view a) {
  if (a == "*") return Status::Ok();
  size_t colon = a.find(':');
  if (colon == std::string_view::npos) return Malformed(kVendorPrefix);
  if (a.find(':', colon + 1) != std::string_view::npos) return Malformed(kOneColon);
  std::string_view vendor = a.substr(0, colon);
  bool ok = !vendor.empty() && std::all_of(vendor.begin(), vendor.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
  });
  if (!ok) return Status::InvalidArgument("Vendor " + std::string(vendor) + " is not valid");
  return Status::Ok();
}

Status ValidateResource(std::string_view r) {
  if (r == "*") return Status::Ok();
  size_t colon = r.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("Resource " + std::string(r) + " must be in ARN format or \"*\".");
  }
  std::string_view rest = r.substr(colon + 1);
  std::string_view partition = rest.substr(0, rest.find(':'));
  if (r.substr(0, colon) != "arn" ||
      (partition != "aws" && partition != "aws-cn" && partition != "aws-us-gov" && partition != "*")) {
    return Status::InvalidArgument("Partition \"" + std::string(partition) +
                                   "\" is not valid for resource \"" + std::string(r) + "\".");
  }
  std::string_view parts[6];
  if (!SplitArn(r, parts)) {
    // "arn:aws:s3" and the like: IAM's words for a vendor it cannot pin down.
    if (std::count(r.begin(), r.end(), ':') < 2 || r.back() != '*') {
      return Status::InvalidArgument("Resource vendor must be fully qualified and cannot contain regexes.");
    }
    return Status::Ok();
  }
  if (parts[2].empty() || parts[2].find_first_of("*?") != std::string_view::npos) {
    return Status::InvalidArgument("Resource vendor must be fully qualified and cannot contain regexes.");
  }
  return Status::Ok();
}

Status ParsePrincipal(const json::value& v, PrincipalSet* set) {
  auto invalid = [](std::string_view type, std::string_view value) {
    return Status::InvalidArgument("Invalid principal in policy: \"" + std::string(type) + "\":\"" +
                                   std::string(value) + "\"");
  };
  if (v.is_string()) {
    if (v.get_string() != "*") return invalid("AWS", v.get_string());
    set->any = true;
    return Status::Ok();
  }
  if (!v.is_object() || v.get_object().empty()) return Malformed(kSyntaxError);
  for (const auto& [type, value] : v.get_object()) {
    std::vector<std::string> ids;
    if (!StringList(value, &ids)) return Malformed(kSyntaxError);
    if (type == "AWS") {
      for (std::string& id : ids) {
        std::string_view parts[6];
        if (id == "*") {
          set->any = true;
        } else if (IsAccountId(id)) {
          set->accounts.push_back(id);
        } else if (SplitArn(id, parts) && parts[3].empty() && IsAccountId(parts[4]) &&
                   parts[1].starts_with("aws")) {
          if (parts[2] == "iam" && parts[5] == "root") {
            set->accounts.emplace_back(parts[4]);
          } else if ((parts[2] == "iam" && (parts[5].starts_with("user/") || parts[5].starts_with("role/")) &&
                      parts[5].find_first_of("*?") == std::string_view::npos) ||
                     (parts[2] == "sts" && (parts[5].starts_with("assumed-role/") ||
                                            parts[5].starts_with("federated-user/")))) {
            set->arns.push_back(id);
          } else {
            return invalid(type, id);
          }
        } else {
          return invalid(type, id);
        }
      }
    } else if (type == "Service") {
      for (std::string& id : ids) {
        if (id.empty() || id.find_first_of("*? ") != std::string::npos) return invalid("Service", id);
        set->services.push_back(std::move(id));
      }
    } else if (type == "Federated" || type == "CanonicalUser") {
      for (const std::string& id : ids) {
        if (id.empty()) return invalid(type, id);
      }
    } else {
      return Malformed(kSyntaxError);
    }
  }
  return Status::Ok();
}

// The shape of one statement (before the checks IAM runs over all statements).
Status ParseStatement(const json::value& v, PolicyKind kind, bool variables, Statement* st,
                      const json::value** action_v, const json::value** resource_v) {
  if (!v.is_object()) return Malformed(kSyntaxError);
  const json::object& o = v.as_object();
  if (kind == PolicyKind::kIdentity && (o.contains("Principal") || o.contains("NotPrincipal"))) {
    return Malformed(kNoPrincipalAllowed);
  }
  for (const auto& [name, value] : o) {
    static constexpr std::string_view kElements[] = {
        "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
        "NotPrincipal", "Condition"};
    if (std::find(std::begin(kElements), std::end(kElements), std::string_view(name)) ==
        std::end(kElements)) {
      return Malformed(kSyntaxError);
    }
  }
  if ((o.contains("Action") && o.contains("NotAction")) ||
      (o.contains("Resource") && o.contains("NotResource")) ||
      (o.contains("Principal") && o.contains("NotPrincipal"))) {
    return Malformed(kSyntaxError);
  }
  const json::value* effect = o.if_contains("Effect");
  if (effect == nullptr || !effect->is_string()) return Malformed(kSyntaxError);
  std::string_view e = effect->get_string();
  if (e == "Allow") {
    st->allow = true;
  } else if (e == "Deny") {
    st->allow = false;
  } else {
    return Malformed(EqualsIgnoreCase(e, "allow") || EqualsIgnoreCase(e, "deny") ? kLegacyParsing : kSyntaxError);
  }
  if (const json::value* sid = o.if_contains("Sid")) {
    if (!sid->is_string()) return Malformed(kSyntaxError);
    st->sid = std::string(sid->get_string());
  }
  // Action / Resource shapes (contents are checked later, in IAM's order).
  std::vector<std::string> scratch;
  for (const char* name : {"Action", "NotAction", "Resource", "NotResource"}) {
    if (const json::value* a = o.if_contains(name)) {
      if (!StringList(*a, &scratch)) return Malformed(kSyntaxError);
    }
  }
  if (const json::value* a = o.if_contains("Action")) *action_v = a;
  if (const json::value* a = o.if_contains("NotAction")) {
    *action_v = a;
    st->not_action = true;
  }
  if (const json::value* r = o.if_contains("Resource")) *resource_v = r;
  if (const json::value* r = o.if_contains("NotResource")) {
    *resource_v = r;
    st->not_resource = true;
  }
  const json::value* principal = o.if_contains("Principal");
  if (principal == nullptr) {
    principal = o.if_contains("NotPrincipal");
    st->not_principal = principal != nullptr;
  }
  if (principal != nullptr) {
    st->has_principal = true;
    HYDRANT_RETURN_IF_ERROR(ParsePrincipal(*principal, &st->principals));
  }
  if (const json::value* cond = o.if_contains("Condition")) {
    if (!cond->is_object()) return Malformed(kSyntaxError);
    for (const auto& [op_name, block] : cond->get_object()) {
      if (!block.is_object()) return Malformed(kSyntaxError);
      ConditionClause::Op op;
      bool if_exists;
      ConditionClause::SetQualifier set;
      if (!ConditionClause::ParseOperator(op_name, &op, &if_exists, &set)) {
        return Malformed(kSyntaxError);  // IAM's answer to an unknown operator
      }
      for (const auto& [key, values] : block.get_object()) {
        std::vector<std::string> texts;
        if (!ConditionValues(values, &texts)) return Malformed(kSyntaxError);
        if (key.find(':') == json::string_view::npos) return Malformed(kVendorPrefix);
        Result<ConditionClause> clause = ConditionClause::Compile(op_name, key, texts, variables);
        if (!clause.ok()) return clause.status();
        st->conditions.push_back(std::move(clause.value()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const Policy>> ParsePolicy(std::string_view text, PolicyKind kind) {
  json::error_code ec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !doc.is_object()) return Malformed(kSyntaxError);
  const json::object& top = doc.get_object();
  for (const auto& [name, value] : top) {
    if (name != "Version" && name != "Id" && name != "Statement") return Malformed(kSyntaxError);
  }
  auto policy = std::make_shared<Policy>();
  policy->kind = kind;
  policy->version = "2008-10-17";  // IAM's default: policy variables are plain text
  if (const json::value* v = top.if_contains("Version")) {
    if (!v->is_string() || (v->get_string() != "2012-10-17" && v->get_string() != "2008-10-17")) {
      return Malformed(kSyntaxError);
    }
    policy->version = std::string(v->get_string());
  }
  if (const json::value* id = top.if_contains("Id"); id != nullptr && !id->is_string()) {
    return Malformed(kSyntaxError);
  }
  const bool variables = policy->version == "2012-10-17";
  const json::value* stmts = top.if_contains("Statement");
  if (stmts == nullptr) return Malformed(kSyntaxError);
  std::vector<const json::value*> raw;
  if (stmts->is_object()) {
    raw.push_back(stmts);
  } else if (stmts->is_array()) {
    for (const json::value& s : stmts->get_array()) raw.push_back(&s);
  } else {
    return Malformed(kSyntaxError);
  }
  if (raw.empty()) return Malformed(kSyntaxError);

  std::vector<const json::value*> actions(raw.size(), nullptr);
  std::vector<const json::value*> resources(raw.size(), nullptr);
  policy->statements.resize(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    HYDRANT_RETURN_IF_ERROR(
        ParseStatement(*raw[i], kind, variables, &policy->statements[i], &actions[i], &resources[i]));
  }
  // Checks across statements, in the order IAM reports them.
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& sid = policy->statements[i].sid;
    if (kind != PolicyKind::kResource &&
        !std::all_of(sid.begin(), sid.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        })) {
      return Malformed(kSidAlnum);
    }
    for (size_t j = 0; j < i && !sid.empty(); ++j) {
      if (policy->statements[j].sid == sid) return Malformed(kSidUnique);
    }
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (actions[i] == nullptr || (actions[i]->is_array() && actions[i]->get_array().empty())) {
      return Malformed(kNoActions);
    }
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (kind == PolicyKind::kTrust) {
      if (resources[i] != nullptr) return Malformed(kTrustResource);
      continue;
    }
    if (resources[i] == nullptr || (resources[i]->is_array() && resources[i]->get_array().empty())) {
      return Malformed(kNoResources);
    }
  }
  using Mode = WildcardPattern::Mode;
  for (size_t i = 0; i < raw.size(); ++i) {
    Statement& st = policy->statements[i];
    std::vector<std::string> list;
    if (resources[i] != nullptr) {
      (void)StringList(*resources[i], &list);  // shape checked in ParseStatement
      for (const std::string& r : list) {
        HYDRANT_RETURN_IF_ERROR(ValidateResource(r));
        st.resources.push_back(WildcardPattern::Compile(r, Mode::kArn, variables));
      }
      st.has_resource = true;
    }
    list.clear();
    (void)StringList(*actions[i], &list);
    for (const std::string& a : list) {
      HYDRANT_RETURN_IF_ERROR(ValidateAction(a));
      if (kind == PolicyKind::kTrust && !EqualsIgnoreCase(a.substr(0, 4), "sts:")) {
        return Malformed(kTrustActions);
      }
      st.actions.push_back(WildcardPattern::Compile(a, Mode::kGlobNoCase, false));
    }
  }
  if (kind != PolicyKind::kIdentity) {
    for (const Statement& st : policy->statements) {
      if (!st.has_principal) return Malformed(kMissingPrincipal);
    }
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

// ------------------------------------------------------------- evaluation ---

namespace {

bool AnyMatch(const std::vector<WildcardPattern>& patterns, std::string_view text,
              const RequestKeys& keys) {
  for (const WildcardPattern& p : patterns) {
    if (p.Match(text, &keys)) return true;
  }
  return false;
}

// Action, resource and conditions (the principal is the caller's part).
bool Applies(const Statement& st, const AuthzContext& ctx, const RequestKeys& keys) {
  if (AnyMatch(st.actions, ctx.action, keys) == st.not_action) return false;
  if (st.has_resource && AnyMatch(st.resources, ctx.resource, keys) == st.not_resource) return false;
  for (const ConditionClause& c : st.conditions) {
    if (!c.Evaluate(keys)) return false;
  }
  return true;
}

// Whether the statement is about this principal: identity policies' always
// are; a statement naming only the principal's account grants nothing by itself
// (the account's identity policies must allow) but still denies.
bool ForPrincipal(const Statement& st, const Principal& p) {
  if (!st.has_principal) return true;
  PrincipalSet::Match m;
  if (st.not_principal) {
    m = st.principals.Excludes(p) ? PrincipalSet::Match::kNone : PrincipalSet::Match::kSpecific;
  } else {
    m = st.principals.MatchPrincipal(p);
  }
  return m == PrincipalSet::Match::kSpecific || (m == PrincipalSet::Match::kAccount && !st.allow);
}

// One policy's statements: the index of the statement that denies explicitly,
// or -1; sets *allowed on an Allow.
int Scan(const Policy& policy, const AuthzContext& ctx, const RequestKeys& keys, bool* allowed) {
  for (size_t i = 0; i < policy.statements.size(); ++i) {
    const Statement& st = policy.statements[i];
    if (st.allow && *allowed) continue;  // only a Deny can change the answer now
    if (!ForPrincipal(st, *ctx.principal) || !Applies(st, ctx, keys)) continue;
    if (!st.allow) return static_cast<int>(i);
    *allowed = true;
  }
  return -1;
}

// How a trust policy's Allow statements that apply name the principal: by name
// (kSpecific), only by its account (kAccount), or not at all.
PrincipalSet::Match TrustAllows(const Policy& trust, const AuthzContext& ctx, const RequestKeys& keys) {
  PrincipalSet::Match best = PrincipalSet::Match::kNone;
  for (const Statement& st : trust.statements) {
    if (!st.allow || !st.has_principal || !Applies(st, ctx, keys)) continue;
    PrincipalSet::Match m = st.not_principal
                                ? (st.principals.Excludes(*ctx.principal) ? PrincipalSet::Match::kNone
                                                                          : PrincipalSet::Match::kSpecific)
                                : st.principals.MatchPrincipal(*ctx.principal);
    if (m == PrincipalSet::Match::kSpecific) return m;
    if (m == PrincipalSet::Match::kAccount) best = m;
  }
  return best;
}

}  // namespace

Evaluation EvaluateRoleTrust(const AuthzContext& ctx,
                             std::span<const std::shared_ptr<const Policy>> identity_policies,
                             const Policy& trust) {
  Evaluation out = Evaluate(ctx, identity_policies, &trust);
  const Principal* p = ctx.principal;
  if (p == nullptr || p->kind == Principal::Kind::kAnonymous) return out;
  if (out.decision == Decision::kExplicitDeny) return out;
  // Unlike other resource policies, the trust policy must allow the caller:
  // naming it, or naming its account and an identity policy allowing too.
  RequestKeys keys(ctx);
  const PrincipalSet::Match m = TrustAllows(trust, ctx, keys);
  bool allowed = m == PrincipalSet::Match::kSpecific;
  if (m == PrincipalSet::Match::kAccount) {
    allowed = p->kind == Principal::Kind::kRoot || Evaluate(ctx, identity_policies, nullptr).allowed();
  }
  out.decision = allowed ? Decision::kAllow : Decision::kImplicitDeny;
  return out;
}

Evaluation Evaluate(const AuthzContext& ctx,
                    std::span<const std::shared_ptr<const Policy>> identity_policies,
                    const Policy* resource_policy) {
  Evaluation out;
  const Principal* p = ctx.principal;
  if (p == nullptr || p->kind == Principal::Kind::kAnonymous) {
    out.decision = Decision::kAllow;
    return out;
  }
  RequestKeys keys(ctx);
  bool allowed = false;
  // Root has no identity policies (and is allowed what no resource policy denies).
  if (p->kind != Principal::Kind::kRoot) {
    for (size_t i = 0; i < identity_policies.size(); ++i) {
      const Policy* policy = identity_policies[i].get();
      const int denied = policy != nullptr ? Scan(*policy, ctx, keys, &allowed) : -1;
      if (denied >= 0) {
        out.decision = Decision::kExplicitDeny;
        out.deny_source = Evaluation::Source::kIdentity;
        out.deny_policy = static_cast<int>(i);
        out.deny_statement = denied;
        return out;
      }
    }
  }
  const int denied = resource_policy != nullptr ? Scan(*resource_policy, ctx, keys, &allowed) : -1;
  if (denied >= 0) {
    out.decision = Decision::kExplicitDeny;
    out.deny_source = Evaluation::Source::kResource;
    out.deny_policy = 0;
    out.deny_statement = denied;
    return out;
  }
  if (p->kind == Principal::Kind::kRoot) allowed = true;
  out.decision = allowed ? Decision::kAllow : Decision::kImplicitDeny;
  return out;
}

std::string AccessDeniedMessage(const AuthzContext& ctx, const Evaluation& e) {
  if (e.decision == Decision::kAllow) return "";
  std::string m = "User: ";
  m += ctx.principal != nullptr && !ctx.principal->arn.empty() ? ctx.principal->arn : "anonymous";
  m += " is not authorized to perform: ";
  m += ctx.action;
  if (!ctx.resource.empty() && ctx.resource != "*") {
    m += " on resource: ";
    m += ctx.resource;
  }
  if (e.decision == Decision::kExplicitDeny) {
    m += e.deny_source == Evaluation::Source::kResource
             ? " with an explicit deny in a resource-based policy"
             : " with an explicit deny in an identity-based policy";
  } else {
    m += " because no identity-based policy allows the ";
    m += ctx.action;
    m += " action";
  }
  return m;
}

}  // namespace hydrant::iam
