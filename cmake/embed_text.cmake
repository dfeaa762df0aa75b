# Writes OUTPUT, a C++ source file that defines
#   extern const std::string_view SYMBOL;   // e.g. hydrant::processing::kPythonWorkerSource
# whose bytes are exactly those of INPUT (any bytes: each one is written as a \xNN
# escape, one string literal per line of INPUT). Run by hydrant_embed_text() in
# CMakeLists.txt at build time:
#   cmake -DINPUT=<file> -DOUTPUT=<file.cc> -DSYMBOL=<ns::name> -DSOURCE_NAME=<path> -P embed_text.cmake
foreach(var INPUT OUTPUT SYMBOL SOURCE_NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: ${var} is not set")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
string(REPLACE "\\x0a" "\\x0a\"\n    \"" escaped "${escaped}")

string(FIND "${SYMBOL}" "::" last_colons REVERSE)
if(last_colons LESS 0)
  message(FATAL_ERROR "embed_text.cmake: SYMBOL must be namespace-qualified: ${SYMBOL}")
endif()
string(SUBSTRING "${SYMBOL}" 0 ${last_colons} namespace)
math(EXPR name_start "${last_colons} + 2")
string(SUBSTRING "${SYMBOL}" ${name_start} -1 name)

file(WRITE "${OUTPUT}" "\
// Generated at build time by cmake/embed_text.cmake from ${SOURCE_NAME}: edit that file.
#include <string_view>

namespace ${namespace} {

extern const std::string_view ${name};
const std::string_view ${name}(
    \"${escaped}\",
    ${size});

}  // namespace ${namespace}
")
