#pragma once
// DefinitionStore: where stream definitions (StreamMeta) are kept, apart from the
// streams' data. The registry loads them at start and the control plane's changes
// go through it, so a replicated key-value store can take the place of the local
// files (the cluster mode) without the registry or the streams knowing.
//
// FileDefinitionStore keeps each definition as <root>/s-NAME/stream.json (the
// stream's folder, beside its logs), written atomically (temporary file, rename,
// folder fsync). A folder without stream.json is what an interrupted deletion
// leaves (the definition goes first).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stream/stream_meta.h"

namespace hydrant::stream {

class DefinitionStore {
 public:
  virtual ~DefinitionStore() = default;
  // Every stored definition. A definition that cannot be read is an error
  // (Corruption naming it).
  virtual Result<std::vector<StreamMeta>> LoadAll() = 0;
  // Creates or replaces `meta.name`'s definition; durable when OK is returned. The
  // stream's folder must exist (a write that comes after the stream's deletion
  // fails instead of bringing it back).
  virtual Status Save(const StreamMeta& meta) = 0;
  // Removes a definition; durable when OK is returned; OK if absent.
  virtual Status Remove(std::string_view name) = 0;
};

class FileDefinitionStore final : public DefinitionStore {
 public:
  // `root` is <data-dir>/streams; created if missing by LoadAll.
  explicit FileDefinitionStore(std::string root) : root_(std::move(root)) {}

  // The folder of a stream's definition and data.
  std::string StreamDir(std::string_view name) const;
  // The stream folders under the root (whether or not they hold a definition); an
  // error when the root cannot be read (never an empty list instead).
  Result<std::vector<std::string>> ListStreamDirs() const;

  Result<std::vector<StreamMeta>> LoadAll() override;
  Status Save(const StreamMeta& meta) override;
  Status Remove(std::string_view name) override;

 private:
  std::string root_;
};

}  // namespace hydrant::stream
