#pragma once
// DefinitionStore: where stream definitions (StreamMeta) are kept, apart from the
// streams' data. The registry loads them at start and the control plane's changes
// go through it, so a replicated key-value store can take the place of the local
// files (the cluster mode) without the registry or the streams knowing.
//
// FileDefinitionStore keeps each definition as <root>/s-NAME/stream.json (the
// stream's folder, beside its logs) and a copy of it, stream.json.bak, each written
// atomically (temporary file, rename, folder fsync). A deletion first writes the
// marker DELETING (durably), then removes the definition and its copy: a folder
// with the marker is an interrupted deletion, to be finished. Any other folder
// whose definition cannot be read is damage, never deleted on a guess: the
// definition is rebuilt from the copy when the copy is valid (the damaged file is
// kept as stream.json.damaged), else the folder is reported and kept.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stream/stream_meta.h"

namespace hydrant::stream {

// A stream whose definition cannot be read: its name (from the folder) and why.
struct DamagedDefinition {
  std::string name;
  std::string reason;
};

struct LoadedDefinitions {
  std::vector<StreamMeta> streams;
  // Streams whose deletion was interrupted (their folders are to be removed).
  std::vector<std::string> deleting;
  // Streams with data but no readable definition: to be kept and reported.
  std::vector<DamagedDefinition> damaged;
  // Definitions rebuilt from their copies: the stream and what happened (to be
  // logged; those streams are in `streams` too).
  std::vector<DamagedDefinition> restored;
};

class DefinitionStore {
 public:
  virtual ~DefinitionStore() = default;
  // Every stored definition, sorted into the outcomes above. An error only when
  // the store itself cannot be read (never one bad definition).
  virtual Result<LoadedDefinitions> LoadAll() = 0;
  // One definition: NotFound when it was deleted (or its deletion is under way),
  // Corruption (with the reason) when it cannot be read. `restored` (may be null)
  // gets a line when the definition was rebuilt from its copy.
  virtual Result<StreamMeta> Load(std::string_view name, std::string* restored) = 0;
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
  // The stream name of a folder listed above.
  static std::string NameOfDir(std::string_view dir);

  Result<LoadedDefinitions> LoadAll() override;
  Result<StreamMeta> Load(std::string_view name, std::string* restored) override;
  Status Save(const StreamMeta& meta) override;
  Status Remove(std::string_view name) override;

 private:
  std::string root_;
};

}  // namespace hydrant::stream
