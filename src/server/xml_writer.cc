#include "server/xml_writer.h"

#include <cassert>

namespace hydrant::server {
namespace {

void AppendEscaped(std::string* out, std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&apos;";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += "&#x";
          if (c >= 16) *out += kHex[c >> 4];
          *out += kHex[c & 15];
          *out += ';';
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

}  // namespace

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  AppendEscaped(&out, s);
  return out;
}

void XmlWriter::Declaration() { out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"; }

void XmlWriter::Open(std::string_view name, std::string_view xmlns) {
  out_ += '<';
  out_ += name;
  if (!xmlns.empty()) {
    out_ += " xmlns=\"";
    AppendEscaped(&out_, xmlns);
    out_ += '"';
  }
  out_ += '>';
  open_.emplace_back(name);
}

void XmlWriter::Close() {
  assert(!open_.empty());
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
}

void XmlWriter::Text(std::string_view text) { AppendEscaped(&out_, text); }

void XmlWriter::Element(std::string_view name, std::string_view text) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  AppendEscaped(&out_, text);
  out_ += "</";
  out_ += name;
  out_ += '>';
}

std::string XmlWriter::Take() {
  open_.clear();
  return std::exchange(out_, {});
}

}  // namespace hydrant::server
