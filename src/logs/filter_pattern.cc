#include "logs/filter_pattern.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <boost/json.hpp>

namespace hydrant::logs {

namespace json = boost::json;

namespace {

constexpr size_t kMaxPatternBytes = 1024;

Status Invalid(std::string_view why) {
  return Status::InvalidArgument("Invalid filter pattern: " + std::string(why));
}

// '*' matches any run of characters; everything else literally.
bool WildcardMatch(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] != '*' && pat[p] == s[i]) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

struct FilterPattern::JsonExpr {
  enum class Kind { kAnd, kOr, kCompare };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIsTrue, kIsFalse, kIsNull, kNotExists };
  Kind kind = Kind::kCompare;
  std::unique_ptr<JsonExpr> left, right;  // kAnd / kOr
  // kCompare: a path of keys (strings) and indexes (>= 0).
  struct Step {
    std::string key;
    long index = -1;
  };
  std::vector<Step> path;
  Op op = Op::kEq;
  bool numeric = false;
  double number = 0;
  std::string text;

  bool Eval(const json::value& root) const {
    if (kind == Kind::kAnd) return left->Eval(root) && right->Eval(root);
    if (kind == Kind::kOr) return left->Eval(root) || right->Eval(root);
    const json::value* v = &root;
    for (const Step& s : path) {
      if (s.index >= 0) {
        const json::array* a = v->if_array();
        if (!a || static_cast<size_t>(s.index) >= a->size()) return op == Op::kNotExists;
        v = &(*a)[static_cast<size_t>(s.index)];
      } else {
        const json::object* o = v->if_object();
        v = o ? o->if_contains(s.key) : nullptr;
        if (!v) return op == Op::kNotExists;
      }
    }
    switch (op) {
      case Op::kNotExists:
        return false;
      case Op::kIsNull:
        return v->is_null();
      case Op::kIsTrue:
        return v->is_bool() && v->as_bool();
      case Op::kIsFalse:
        return v->is_bool() && !v->as_bool();
      default:
        break;
    }
    if (numeric) {
      if (!v->is_number()) return false;
      double x = v->to_number<double>();
      switch (op) {
        case Op::kEq: return x == number;
        case Op::kNe: return x != number;
        case Op::kLt: return x < number;
        case Op::kLe: return x <= number;
        case Op::kGt: return x > number;
        case Op::kGe: return x >= number;
        default: return false;
      }
    }
    if (!v->is_string()) return false;
    bool eq = WildcardMatch(text, std::string_view(v->as_string()));
    return op == Op::kEq ? eq : !eq;
  }
};

namespace {

// Recursive descent over "{ expr }".
class JsonParser {
 public:
  using Expr = FilterPattern::JsonExpr;
  explicit JsonParser(std::string_view t) : t_(t) {}

  Result<std::unique_ptr<Expr>> ParseAll() {
    Skip();
    if (!Eat("{")) return Invalid("a JSON pattern starts with '{'");
    auto e = Or();
    if (!e.ok()) return e;
    Skip();
    if (!Eat("}")) return Invalid("expected '}' or '&&' / '||' at offset " + std::to_string(i_));
    Skip();
    if (i_ != t_.size()) return Invalid("unexpected text after '}'");
    return e;
  }

 private:
  void Skip() {
    while (i_ < t_.size() && IsSpace(t_[i_])) ++i_;
  }
  bool Eat(std::string_view s) {
    Skip();
    if (t_.substr(i_).starts_with(s)) {
      i_ += s.size();
      return true;
    }
    return false;
  }
  bool EatWord(std::string_view w) {
    Skip();
    if (!t_.substr(i_).starts_with(w)) return false;
    size_t end = i_ + w.size();
    if (end < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[end])) || t_[end] == '_'))
      return false;
    i_ = end;
    return true;
  }
  Result<std::unique_ptr<Expr>> Binary(Expr::Kind kind, std::string_view sym,
                                       Result<std::unique_ptr<Expr>> (JsonParser::*next)()) {
    auto left = (this->*next)();
    if (!left.ok()) return left;
    std::unique_ptr<Expr> e = std::move(left).value();
    while (Eat(sym)) {
      auto right = (this->*next)();
      if (!right.ok()) return right;
      auto node = std::make_unique<Expr>();
      node->kind = kind;
      node->left = std::move(e);
      node->right = std::move(right).value();
      e = std::move(node);
    }
    return e;
  }
  Result<std::unique_ptr<Expr>> Or() { return Binary(Expr::Kind::kOr, "||", &JsonParser::And); }
  Result<std::unique_ptr<Expr>> And() { return Binary(Expr::Kind::kAnd, "&&", &JsonParser::Primary); }

  Result<std::unique_ptr<Expr>> Primary() {
    if (Eat("(")) {
      auto e = Or();
      if (!e.ok()) return e;
      if (!Eat(")")) return Invalid("missing ')'");
      return e;
    }
    return Compare();
  }

  Result<std::unique_ptr<Expr>> Compare() {
    auto e = std::make_unique<Expr>();
    Skip();
    if (!Eat("$")) return Invalid("expected a selector starting with '$' at offset " + std::to_string(i_));
    while (i_ < t_.size()) {
      if (t_[i_] == '.') {
        ++i_;
        size_t start = i_;
        while (i_ < t_.size() && !IsSpace(t_[i_]) && std::string_view(".[=!<>)&|}").find(t_[i_]) == std::string_view::npos)
          ++i_;
        if (i_ == start) return Invalid("empty selector member");
        e->path.push_back({std::string(t_.substr(start, i_ - start)), -1});
      } else if (t_[i_] == '[') {
        ++i_;
        size_t start = i_;
        while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) ++i_;
        if (i_ == start || i_ >= t_.size() || t_[i_] != ']') return Invalid("bad array index in selector");
        e->path.push_back({"", std::strtol(std::string(t_.substr(start, i_ - start)).c_str(), nullptr, 10)});
        ++i_;
      } else {
        break;
      }
    }
    if (EatWord("IS")) {
      if (EatWord("TRUE")) e->op = Expr::Op::kIsTrue;
      else if (EatWord("FALSE")) e->op = Expr::Op::kIsFalse;
      else if (EatWord("NULL")) e->op = Expr::Op::kIsNull;
      else return Invalid("IS must be followed by TRUE, FALSE or NULL");
      return e;
    }
    if (EatWord("NOT")) {
      if (!EatWord("EXISTS")) return Invalid("NOT must be followed by EXISTS");
      e->op = Expr::Op::kNotExists;
      return e;
    }
    if (Eat("!=")) e->op = Expr::Op::kNe;
    else if (Eat("<=")) e->op = Expr::Op::kLe;
    else if (Eat(">=")) e->op = Expr::Op::kGe;
    else if (Eat("=")) e->op = Expr::Op::kEq;
    else if (Eat("<")) e->op = Expr::Op::kLt;
    else if (Eat(">")) e->op = Expr::Op::kGt;
    else return Invalid("expected a comparison operator at offset " + std::to_string(i_));
    Skip();
    if (i_ < t_.size() && t_[i_] == '"') {
      ++i_;
      bool closed = false;
      while (i_ < t_.size()) {
        char c = t_[i_++];
        if (c == '\\' && i_ < t_.size()) {
          e->text.push_back(t_[i_++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          e->text.push_back(c);
        }
      }
      if (!closed) return Invalid("unterminated quote");
    } else {
      size_t start = i_;
      while (i_ < t_.size() && !IsSpace(t_[i_]) && std::string_view(")&|}").find(t_[i_]) == std::string_view::npos)
        ++i_;
      if (i_ == start) return Invalid("missing value after the operator");
      e->text = std::string(t_.substr(start, i_ - start));
      char* end = nullptr;
      double d = std::strtod(e->text.c_str(), &end);
      if (end == e->text.c_str() + e->text.size() && std::isfinite(d)) {
        e->numeric = true;
        e->number = d;
      }
    }
    bool ordering = e->op != Expr::Op::kEq && e->op != Expr::Op::kNe;
    if (ordering && !e->numeric) return Invalid("<, <=, > and >= compare numbers");
    return e;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

Result<FilterPattern> FilterPattern::Parse(std::string_view text) {
  if (text.size() > kMaxPatternBytes)
    return Status::InvalidArgument("filterPattern must be at most 1024 characters");
  FilterPattern p;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  skip_space();
  if (i < text.size() && text[i] == '{') {
    auto e = JsonParser(text).ParseAll();
    if (!e.ok()) return e.status();
    p.json_ = std::shared_ptr<const JsonExpr>(std::move(e).value());
    return p;
  }
  if (i < text.size() && text[i] == '[')
    return Invalid("space-delimited filter patterns are not supported");
  std::string_view rest = text.substr(i);
  while (!rest.empty() && IsSpace(rest.back())) rest.remove_suffix(1);
  if (rest.size() >= 2 && rest.front() == '%' && rest.back() == '%')
    return Invalid("regular expressions are not supported");
  while (i < text.size()) {
    char kind = 0;
    if (text[i] == '?' || text[i] == '-') kind = text[i++];
    std::string term;
    if (i < text.size() && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          term.push_back(text[i + 1]);
          i += 2;
        } else if (text[i] == '"') {
          ++i;
          closed = true;
          break;
        } else {
          term.push_back(text[i++]);
        }
      }
      if (!closed) return Invalid("unterminated quote");
    } else {
      while (i < text.size() && !IsSpace(text[i])) term.push_back(text[i++]);
    }
    if (term.size() >= 2 && term.front() == '%' && term.back() == '%')
      return Invalid("regular expressions are not supported");
    if (!term.empty()) {
      if (kind == '?')
        p.any_.push_back(std::move(term));
      else if (kind == '-')
        p.none_.push_back(std::move(term));
      else
        p.all_.push_back(std::move(term));
    }
    skip_space();
  }
  return p;
}

bool FilterPattern::Matches(std::string_view msg) const {
  if (json_) {
    json::error_code ec;
    json::value v = json::parse(msg, ec);
    return !ec && json_->Eval(v);
  }
  for (const auto& t : all_)
    if (msg.find(t) == std::string_view::npos) return false;
  for (const auto& t : none_)
    if (msg.find(t) != std::string_view::npos) return false;
  if (any_.empty()) return true;
  for (const auto& t : any_)
    if (msg.find(t) != std::string_view::npos) return true;
  return false;
}

}  // namespace hydrant::logs
