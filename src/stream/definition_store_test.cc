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
  // The registry makes a stream's folder before its definition is saved.
  for (const char* n : {"a", "b"}) ASSERT_TRUE(fs::MakeDirs(store.StreamDir(n)).ok());
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
  ASSERT_TRUE(fs::MakeDirs(store.StreamDir("a")).ok());
  ASSERT_TRUE(store.Save(Meta("a")).ok());
  ASSERT_TRUE(store.Remove("a").ok());
  ASSERT_TRUE(store.Remove("a").ok());  // absent: still OK
  auto all = store.LoadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  // The folder stays (its logs are the registry's to remove) and is listed.
  auto dirs = store.ListStreamDirs();
  ASSERT_TRUE(dirs.ok());
  ASSERT_EQ(dirs->size(), 1u);
  EXPECT_EQ((*dirs)[0], store.StreamDir("a"));
  // A write that comes after the deletion of the folder does not bring it back.
  ASSERT_TRUE(fs::RemoveAll(store.StreamDir("a")).ok());
  EXPECT_FALSE(store.Save(Meta("a")).ok());
  EXPECT_TRUE(store.LoadAll()->empty());
}

TEST(FileDefinitionStore, AnUnreadableRootIsAnErrorNotAnEmptyList) {
  testing::TempDir dir;
  ASSERT_TRUE(fs::WriteFileAtomic(dir.Sub("streams"), "a file, not a folder").ok());
  FileDefinitionStore store(dir.Sub("streams"));
  EXPECT_FALSE(store.ListStreamDirs().ok());
  EXPECT_FALSE(store.LoadAll().ok());
}

TEST(FileDefinitionStore, UnreadableDefinitionIsCorruption) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  ASSERT_TRUE(fs::MakeDirs(store.StreamDir("a")).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(store.StreamDir("a") + "/stream.json", "{not json").ok());
  auto all = store.LoadAll();
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kCorruption);
  EXPECT_NE(all.status().message().find("s-a/stream.json"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::stream
