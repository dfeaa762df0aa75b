#include "stream/definition_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <boost/json.hpp>

#include "common/file_util.h"
#include "testing/temp_dir.h"

namespace hydrant::stream {
namespace {

StreamMeta Meta(const std::string& name) {
  StreamMeta m;
  m.name = name;
  m.arn = StreamArn(AccountContext{}, name);
  m.incarnation = "inc-" + name;
  m.SetDestination({{"BucketARN", "arn:aws:s3:::b"},
                    {"BufferingHints", {{"SizeInMBs", 2}, {"IntervalInSeconds", 60}}},
                    {"S3BackupMode", "Enabled"},
                    {"S3BackupDescription", {{"BucketARN", "arn:aws:s3:::backup"}}}});
  m.tags = {{"k", "v"}};
  return m;
}

TEST(FileDefinitionStore, SavedDefinitionsLoadBackWithTheirTypedDestination) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  ASSERT_TRUE(store.LoadAll().ok());  // creates the root
  ASSERT_TRUE(store.Save(Meta("a")).ok());
  StreamMeta b = Meta("b");
  ASSERT_TRUE(store.Save(b).ok());
  b.version_id = 2;
  ASSERT_TRUE(store.Save(b).ok());  // replaces
  auto all = store.LoadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  std::sort(all->begin(), all->end(), [](auto& x, auto& y) { return x.name < y.name; });
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_EQ((*all)[1].version_id, 2);
  EXPECT_EQ((*all)[1].destination(), b.destination());
  // The typed form is read again on load, not stored.
  EXPECT_EQ((*all)[1].spec().s3.buffer_size_bytes, 2u << 20);
  ASSERT_TRUE((*all)[1].spec().backup.has_value());
  EXPECT_EQ((*all)[1].spec().backup->bucket, "backup");
  EXPECT_TRUE(fs::Exists(store.StreamDir("a") + "/stream.json"));
}

TEST(FileDefinitionStore, RemovedDefinitionLeavesItsFolderForTheRegistryToReap) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  ASSERT_TRUE(store.Save(Meta("a")).ok());
  ASSERT_TRUE(store.Remove("a").ok());
  ASSERT_TRUE(store.Remove("a").ok());  // absent: still OK
  auto all = store.LoadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  // The folder stays (its logs are the registry's to remove) and is listed.
  ASSERT_EQ(store.ListStreamDirs().size(), 1u);
  EXPECT_EQ(store.ListStreamDirs()[0], store.StreamDir("a"));
}

TEST(FileDefinitionStore, UnreadableDefinitionIsCorruption) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  ASSERT_TRUE(store.Save(Meta("a")).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(store.StreamDir("a") + "/stream.json", "{not json").ok());
  auto all = store.LoadAll();
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kCorruption);
  EXPECT_NE(all.status().message().find("s-a/stream.json"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::stream
