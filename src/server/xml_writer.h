#pragma once
// XmlWriter: builds the XML documents the S3 API answers with, one element at
// a time, escaping all text. The output has no whitespace between elements and
// an empty element is written <Name></Name> (never <Name/>), as S3 writes them;
// the replies' bytes are pinned by server/s3_wire_test.cc.
//
// Not thread-safe; a writer builds one document. Close() closes the element
// opened last; Take() expects every element closed.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydrant::server {

// Escapes the five XML special characters by name, and control characters
// (below 0x20 and 0x7f) as numeric references, as S3 does (parsers would
// otherwise drop or normalise them, \r for one).
std::string XmlEscape(std::string_view s);

class XmlWriter {
 public:
  // <?xml version="1.0" encoding="UTF-8"?> and a newline.
  void Declaration();
  // <name> or, with a namespace, <name xmlns="...">.
  void Open(std::string_view name, std::string_view xmlns = {});
  // </name> of the element opened last.
  void Close();
  // Escaped character data inside the open element.
  void Text(std::string_view text);
  // <name>text</name>, the text escaped.
  void Element(std::string_view name, std::string_view text);

  // The document; the writer is left empty.
  std::string Take();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

}  // namespace hydrant::server
