#include "stream/definition_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

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
  auto loaded = store.LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto* all = &loaded->streams;
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
  // With its copy, written after it.
  EXPECT_EQ(fs::ReadFile(store.StreamDir("b") + "/stream.json.bak").value(),
            fs::ReadFile(store.StreamDir("b") + "/stream.json").value());
}

TEST(FileDefinitionStore, RemovedDefinitionLeavesItsFolderMarkedForTheRegistryToReap) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  ASSERT_TRUE(fs::MakeDirs(store.StreamDir("a")).ok());
  ASSERT_TRUE(store.Save(Meta("a")).ok());
  ASSERT_TRUE(store.Remove("a").ok());
  ASSERT_TRUE(store.Remove("a").ok());  // absent: still OK
  EXPECT_FALSE(fs::Exists(store.StreamDir("a") + "/stream.json.bak"));
  auto all = store.LoadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->streams.empty());
  EXPECT_EQ(all->deleting, std::vector<std::string>{"a"});
  // A write after the deletion began does not bring the definition back.
  EXPECT_FALSE(store.Save(Meta("a")).ok());
  // The folder stays (its logs are the registry's to remove) and is listed.
  auto dirs = store.ListStreamDirs();
  ASSERT_TRUE(dirs.ok());
  ASSERT_EQ(dirs->size(), 1u);
  EXPECT_EQ((*dirs)[0], store.StreamDir("a"));
  // A write that comes after the deletion of the folder does not bring it back.
  ASSERT_TRUE(fs::RemoveAll(store.StreamDir("a")).ok());
  EXPECT_FALSE(store.Save(Meta("a")).ok());
  EXPECT_TRUE(store.LoadAll()->deleting.empty());
}

TEST(FileDefinitionStore, AnUnreadableRootIsAnErrorNotAnEmptyList) {
  testing::TempDir dir;
  ASSERT_TRUE(fs::WriteFileAtomic(dir.Sub("streams"), "a file, not a folder").ok());
  FileDefinitionStore store(dir.Sub("streams"));
  EXPECT_FALSE(store.ListStreamDirs().ok());
  EXPECT_FALSE(store.LoadAll().ok());
}

TEST(FileDefinitionStore, UnreadableDefinitionWithoutCopyIsReportedNotFatal) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(fs::MakeDirs(store.StreamDir(n)).ok());
  ASSERT_TRUE(store.Save(Meta("b")).ok());
  ASSERT_TRUE(fs::WriteFileAtomic(store.StreamDir("a") + "/stream.json", "{not json").ok());
  // A definition of another stream copied into this folder is not this stream's.
  ASSERT_TRUE(fs::WriteFileAtomic(store.StreamDir("c") + "/stream.json",
                                  fs::ReadFile(store.StreamDir("b") + "/stream.json").value())
                  .ok());
  auto all = store.LoadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->streams.size(), 1u);
  ASSERT_EQ(all->damaged.size(), 2u);
  std::sort(all->damaged.begin(), all->damaged.end(),
            [](auto& x, auto& y) { return x.name < y.name; });
  EXPECT_EQ(all->damaged[0].name, "a");
  EXPECT_NE(all->damaged[0].reason.find("s-a/stream.json is not valid JSON"), std::string::npos);
  EXPECT_NE(all->damaged[0].reason.find("stream.json.bak is missing"), std::string::npos);
  EXPECT_NE(all->damaged[1].reason.find("names stream \"b\""), std::string::npos)
      << all->damaged[1].reason;
  EXPECT_TRUE(all->deleting.empty());
  // Nothing was removed.
  EXPECT_TRUE(fs::Exists(store.StreamDir("a") + "/stream.json"));
}

TEST(FileDefinitionStore, LostDefinitionIsRebuiltFromItsCopy) {
  testing::TempDir dir;
  FileDefinitionStore store(dir.Sub("streams"));
  ASSERT_TRUE(fs::MakeDirs(store.StreamDir("a")).ok());
  ASSERT_TRUE(store.Save(Meta("a")).ok());
  ASSERT_EQ(::unlink((store.StreamDir("a") + "/stream.json").c_str()), 0);
  auto all = store.LoadAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->streams.size(), 1u);
  EXPECT_EQ(all->streams[0].destination(), Meta("a").destination());
  ASSERT_EQ(all->restored.size(), 1u);
  EXPECT_EQ(all->restored[0].name, "a");
  EXPECT_NE(all->restored[0].reason.find("rebuilt from"), std::string::npos)
      << all->restored[0].reason;
  EXPECT_TRUE(fs::Exists(store.StreamDir("a") + "/stream.json"));
  // Found whole at the next load: nothing more to report.
  EXPECT_TRUE(store.LoadAll()->restored.empty());
}

}  // namespace
}  // namespace hydrant::stream
