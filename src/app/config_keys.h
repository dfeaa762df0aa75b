#pragma once
// The table of hydrant's top-level configuration keys: each key once, with its
// TOML name, its `hydrant serve` flag (if any), its default and its help. The
// table drives the TOML loader (LoadConfigFile), the command-line options, the
// text of `hydrant serve --help`, and README.md's options table (config_test.cc
// checks that README.md shows exactly these rows). The [lambda], [s3], [kinesis]
// and [auth] tables have loaders of their own (config.cc) and are listed here for
// the help only.
// A key named "table.key" (tls.cert) is `key` inside the TOML table [table],
// loaded through its row like a top-level key.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant::app {

struct Config;

struct ConfigKey {
  enum class Type { kString, kInteger, kBool, kTable };
  std::string_view toml;        // key in the TOML file
  std::string_view flag;        // "--listen"; "" = TOML only
  std::string_view value_name;  // "HOST:PORT", for the help; "" for a kBool flag
  Type type;
  std::string_view default_text;  // as the README shows it
  std::string_view help;
  // Stores a value of the key's type into *cfg; InvalidArgument naming the key when
  // the value is out of range. Null for tables.
  Status (*set_string)(Config* cfg, std::string value) = nullptr;
  Status (*set_integer)(Config* cfg, int64_t value) = nullptr;
  Status (*set_bool)(Config* cfg, bool value) = nullptr;
};

std::span<const ConfigKey> ConfigKeys();
// nullptr when there is no such key.
const ConfigKey* FindConfigKey(std::string_view toml_name);

// The options part of `hydrant serve --help`, one key a line.
std::string ConfigKeysHelp();
// README.md's options table (Markdown, header included).
std::string ConfigKeysMarkdown();

}  // namespace hydrant::app
