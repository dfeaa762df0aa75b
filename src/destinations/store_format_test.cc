// The embedded store's files against their description (store_format.h and
// docs/object-store.md, "On-disk layout"): the bytes a put leaves on disk are
// checked with the layout and field list written out by hand, and the key's
// hash is computed by an independent tool (coreutils sha256sum).

#include "destinations/store_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "destinations/object_store.h"
#include "destinations/object_store_test_util.h"

namespace hydrant::store {
namespace {

namespace fs = std::filesystem;

std::string Sha256sum(const std::string& data, const std::string& dir) {
  std::string path = dir + "/sha-input";
  std::ofstream(path, std::ios::binary) << data;
  FILE* f = ::popen(("sha256sum '" + path + "'").c_str(), "r");
  EXPECT_NE(f, nullptr);
  char buf[65] = {0};
  size_t n = fread(buf, 1, 64, f);
  ::pclose(f);
  fs::remove(path);
  return std::string(buf, n);
}

TEST(StoreFormat, APutLeavesTheDocumentedFiles) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  const std::string key = "dir/a b%c";
  ObjectMeta meta;
  meta.content_type = "text/plain";
  meta.user_meta["color"] = "blue";
  auto info = s->PutObject("bkt", key, "hello", meta);
  ASSERT_TRUE(info.ok()) << info.status().ToString();

  EXPECT_TRUE(fs::exists(StoreRoot(t) + "/.lock"));
  EXPECT_TRUE(fs::exists(StoreRoot(t) + "/.index.db"));
  EXPECT_TRUE(fs::is_directory(StoreRoot(t) + "/.tmp"));
  EXPECT_TRUE(fs::is_directory(StoreRoot(t) + "/.uploads"));
  const std::string bucket_file = ReadFile(StoreRoot(t) + "/bkt/.bucket");
  EXPECT_EQ(bucket_file.rfind("hydrant-bucket 1\ncreation_ms ", 0), 0u) << bucket_file;
  EXPECT_TRUE(bucket_file.ends_with("\nend\n")) << bucket_file;

  const std::string sha = Sha256sum(key, t.path());
  const std::string shard = StoreRoot(t) + "/bkt/" + sha.substr(0, 2);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(shard)) names.push_back(e.path().filename());
  ASSERT_EQ(names.size(), 1u);  // the data file; the description is in the index
  ASSERT_EQ(names[0].size(), 64 + 1 + 16 + 5) << names[0];
  EXPECT_EQ(names[0].substr(0, 65), sha + ".");
  EXPECT_TRUE(names[0].ends_with(".data"));
  const std::string id = names[0].substr(65, 16);
  EXPECT_EQ(info->data_path, shard + "/" + names[0]);
  EXPECT_EQ(ReadFile(info->data_path), "hello");

  // The index row, read by an independent tool (the sqlite3 shell) with the
  // schema written out in docs/object-store.md.
  const std::string md5 = Md5sumEtag("hello", t.path());  // quoted
  std::string cmd = "sqlite3 -separator '|' '" + StoreRoot(t) + "/.index.db' " +
                    "\"SELECT bucket, CAST(key AS TEXT), size, lower(hex(md5)), mtime_ms, "
                    "printf('%016x', data_id), parts, CAST(attrs AS TEXT) FROM objects\"";
  EXPECT_EQ(CommandOutput(cmd), "bkt|dir/a b%c|5|" + md5.substr(1, 32) + "|" +
                     std::to_string(info->last_modified_ms) + "|" + id +
                     "|0|hydrant-object-attrs 1\n"
                     "content_type text/plain\n"
                     "content_encoding \n"
                     "meta color blue\n"
                     "end\n\n");
}

TEST(StoreFormat, MetadataFilesDecodeAsDocumented) {
  const std::string md5(16, '\x01');
  std::string text = store_format::EncodeMeta("k", 3, md5, 7, 0xabcdef, ObjectMeta{}, {1, 2});
  auto pm = store_format::DecodeMeta(text);
  ASSERT_TRUE(pm.has_value());
  // The attributes column of the index: the same lines, between their own magic and "end".
  ObjectMeta am;
  std::vector<uint64_t> sizes;
  am.user_meta["a b"] = "%";
  std::string attrs = store_format::EncodeAttrs(am, {1, 2});
  EXPECT_EQ(attrs,
            "hydrant-object-attrs 1\ncontent_type application/octet-stream\ncontent_encoding \n"
            "meta a%20b %25\npart_sizes 1,2\nend\n");
  ObjectMeta back;
  ASSERT_TRUE(store_format::DecodeAttrs(attrs, &back, &sizes));
  EXPECT_EQ(back.user_meta, am.user_meta);
  EXPECT_EQ(sizes, (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(store_format::DecodeAttrs(attrs.substr(0, attrs.size() - 4), &back, &sizes));
  EXPECT_EQ(pm->data_id, 0xabcdefu);
  EXPECT_EQ(pm->part_sizes, (std::vector<uint64_t>{1, 2}));
  // Unknown fields are ignored; a file without "end" is incomplete.
  std::string newer = text;
  newer.insert(newer.size() - 4, "future_field x\n");
  EXPECT_TRUE(store_format::DecodeMeta(newer).has_value());
  EXPECT_FALSE(store_format::DecodeMeta(text.substr(0, text.size() - 4)).has_value());
  // Part sizes must add up to the size.
  EXPECT_FALSE(
      store_format::DecodeMeta(store_format::EncodeMeta("k", 4, md5, 7, 1, ObjectMeta{}, {1, 2}))
          .has_value());

  EXPECT_EQ(store_format::EncodeBucket(42), "hydrant-bucket 1\ncreation_ms 42\nend\n");
  EXPECT_EQ(store_format::DecodeBucket("hydrant-bucket 1\ncreation_ms 42\nend\n"), 42);
  EXPECT_EQ(store_format::DecodeBucket("hydrant-bucket 1\ncreation_ms 42\n"), std::nullopt);

  EXPECT_EQ(store_format::PartMetaName(42), "00042.meta");
  EXPECT_EQ(store_format::PartDataName(42, 1), "00042.0000000000000001.data");
  EXPECT_TRUE(store_format::IsPartMetaName("10000.meta"));
  EXPECT_TRUE(store_format::IsUploadId(std::string(32, 'a')));
  EXPECT_FALSE(store_format::IsUploadId(std::string(32, 'A')));
  EXPECT_FALSE(store_format::IsUploadId("../" + std::string(29, 'a')));
}

}  // namespace
}  // namespace hydrant::store
