#pragma once
// The little XML reading the S3 API needs: the request bodies it accepts
// (CompleteMultipartUpload, Delete) are flat lists, so elements are found by
// name rather than by a full parser. Pure functions, no state.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydrant::server {

// Decodes the five named entities and numeric references; nullopt on a bad one.
std::optional<std::string> XmlUnescape(std::string_view s);

// Finds the text of each <name>...</name> in `xml` (no nesting of `name`); an
// empty <name/> gives an empty text. The texts are not unescaped.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);

}  // namespace hydrant::server
