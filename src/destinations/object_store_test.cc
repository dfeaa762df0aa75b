#include "destinations/object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace hydrant::store {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test: <parent>/store is the store root, so anything
// written beside it (in <parent>) would be an escape.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hydrant-store-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    parent_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(parent_, ec);
  }
  std::string parent() const { return parent_; }
  std::string root() const { return parent_ + "/store"; }

 private:
  std::string parent_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// MD5 by an independent tool (coreutils md5sum), quoted as S3 does.
std::string Md5sumEtag(const std::string& data, const std::string& dir) {
  std::string path = dir + "/md5-input";
  {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }
  std::string cmd = "md5sum '" + path + "'";
  FILE* f = ::popen(cmd.c_str(), "r");
  EXPECT_NE(f, nullptr);
  char buf[64] = {0};
  size_t n = fread(buf, 1, 32, f);
  ::pclose(f);
  fs::remove(path);
  return "\"" + std::string(buf, n) + "\"";
}

std::vector<std::string> Keys(const Result<ListResult>& r) {
  std::vector<std::string> out;
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  for (const auto& o : r.value().objects) out.push_back(o.key);
  return out;
}

std::vector<std::string> Keys(const ListResult& r) {
  std::vector<std::string> out;
  for (const auto& o : r.objects) out.push_back(o.key);
  return out;
}

std::vector<std::string> AllFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

std::unique_ptr<ObjectStore> OpenOrDie(const std::string& root) {
  auto s = ObjectStore::Open(root);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(BucketName, S3Rules) {
  for (const char* ok :
       {"abc", "my-bucket", "my.bucket.name", "a1b", "123", "xn-abc", "bucket-s3alia"}) {
    EXPECT_TRUE(IsValidBucketName(ok)) << ok;
  }
  EXPECT_TRUE(IsValidBucketName(std::string(63, 'a')));
  for (const char* bad : {"ab", "", "My-Bucket", "my_bucket", "-abc", "abc-", ".abc", "abc.",
                          "a..b", "192.168.1.1", "xn--abc", "sthree-abc", "abc-s3alias",
                          "abc--ol-s3", "a b c", "abc/def", ".tmp", ".lock"}) {
    EXPECT_FALSE(IsValidBucketName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidBucketName(std::string(64, 'a')));
}

TEST(Key, Validation) {
  EXPECT_EQ(ValidateKey("a"), std::nullopt);
  EXPECT_EQ(ValidateKey(std::string(1024, 'k')), std::nullopt);
  EXPECT_NE(ValidateKey(std::string(1025, 'k')), std::nullopt);
  EXPECT_NE(ValidateKey(""), std::nullopt);
  EXPECT_NE(ValidateKey(std::string("a\0b", 3)), std::nullopt);
  EXPECT_EQ(ValidateKey("日本語/ключ/🔥"), std::nullopt);
  EXPECT_NE(ValidateKey("\xff"), std::nullopt);          // not UTF-8
  EXPECT_NE(ValidateKey("\xc0\xaf"), std::nullopt);      // overlong '/'
  EXPECT_NE(ValidateKey("\xed\xa0\x80"), std::nullopt);  // surrogate
  EXPECT_NE(ValidateKey("abc\xe6\x97"), std::nullopt);   // truncated sequence
  // S3 accepts these; the store keeps them safe by hashing.
  EXPECT_EQ(ValidateKey("../../etc/passwd"), std::nullopt);
  EXPECT_EQ(ValidateKey("/etc/passwd"), std::nullopt);
  EXPECT_EQ(ValidateKey("a//b/./c/"), std::nullopt);
}

TEST(ObjectStore, BucketLifecycle) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  EXPECT_FALSE(s->BucketExists("b1"));
  EXPECT_EQ(s->CreateBucket("Bad_Name").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s->CreateBucket("bkt-two").ok());
  ASSERT_TRUE(s->CreateBucket("bkt-one").ok());
  EXPECT_EQ(s->CreateBucket("bkt-one").code(), StatusCode::kAlreadyExists);
  auto list = s->ListBuckets();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "bkt-one");
  EXPECT_EQ(list[1].name, "bkt-two");
  EXPECT_GT(list[0].creation_ms, 1600000000000);

  ASSERT_TRUE(s->PutObject("bkt-one", "k", "v", {}).ok());
  Status st = s->DeleteBucket("bkt-one");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "BucketNotEmpty");
  EXPECT_TRUE(s->BucketExists("bkt-one"));
  ASSERT_TRUE(s->DeleteObject("bkt-one", "k").ok());
  ASSERT_TRUE(s->DeleteBucket("bkt-one").ok());
  EXPECT_FALSE(s->BucketExists("bkt-one"));
  EXPECT_FALSE(fs::exists(t.root() + "/bkt-one"));
  EXPECT_EQ(s->DeleteBucket("bkt-one").code(), StatusCode::kNotFound);
  EXPECT_EQ(s->PutObject("bkt-one", "k", "v", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->HeadObject("bkt-one", "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->List("bkt-one", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->DeleteObject("bkt-one", "k").code(), StatusCode::kNotFound);
  // A deleted bucket's name can be reused.
  EXPECT_TRUE(s->CreateBucket("bkt-one").ok());
}

TEST(ObjectStore, PutHeadDeleteAndEtag) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  ObjectMeta meta;
  meta.content_type = "text/plain";
  meta.content_encoding = "gzip";
  meta.user_meta["color"] = "blue green";
  auto put = s->PutObject("bkt", "dir/file.txt", "hello world", meta);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, Md5sumEtag("hello world", t.parent()));
  auto head = s->HeadObject("bkt", "dir/file.txt");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 11u);
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->meta.content_type, "text/plain");
  EXPECT_EQ(head->meta.content_encoding, "gzip");
  EXPECT_EQ(head->meta.user_meta.at("color"), "blue green");
  EXPECT_EQ(ReadFile(head->data_path), "hello world");
  EXPECT_EQ(s->HeadObject("bkt", "dir/other").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->HeadObject("bkt", "dir/").status().code(), StatusCode::kNotFound);

  EXPECT_TRUE(s->DeleteObject("bkt", "dir/file.txt").ok());
  EXPECT_TRUE(s->DeleteObject("bkt", "dir/file.txt").ok());  // absent: still OK
  EXPECT_EQ(s->HeadObject("bkt", "dir/file.txt").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(head->data_path));

  // Empty objects are objects too.
  auto empty = s->PutObject("bkt", "empty", "", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(empty->size, 0u);
}

// What GetObject and CopyObject read: the description and the data file opened
// together, so an overwrite or a delete afterwards leaves the opened version whole.
TEST(ObjectStore, AnOpenedObjectOutlivesItsOverwriteAndDelete) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  ASSERT_TRUE(s->PutObject("bkt", "k", "first version", {}).ok());
  auto opened = s->OpenObject("bkt", "k");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->info.size, 13u);
  ASSERT_TRUE(s->PutObject("bkt", "k", "second, longer version", {}).ok());
  ASSERT_TRUE(s->DeleteObject("bkt", "k").ok());
  EXPECT_FALSE(fs::exists(opened->info.data_path));  // unlinked, still open
  std::string got(64, '\0');
  ssize_t n = ::pread(opened->data.get(), got.data(), got.size(), 0);
  ASSERT_EQ(n, 13);
  got.resize(13);
  EXPECT_EQ(got, "first version");
  EXPECT_EQ(opened->info.etag, Md5sumEtag("first version", t.parent()));

  EXPECT_EQ(s->OpenObject("bkt", "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->OpenObject("nobkt", "k").status().code(), StatusCode::kNotFound);
}

TEST(ObjectStore, StreamingWriterLargeObject) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  std::string data;
  for (size_t i = 0; i < 700000; ++i) data += static_cast<char>((i * 7919) % 251);
  auto w = s->BeginPut("bkt", "big", {});
  ASSERT_TRUE(w.ok());
  // Odd-sized pieces, one larger than the writer's buffer.
  size_t off = 0;
  for (size_t n : {1u, 1000u, 300000u, 77u, 100000u}) {
    ASSERT_TRUE((*w)->Write(std::string_view(data).substr(off, n)).ok());
    off += n;
  }
  ASSERT_TRUE((*w)->Write(std::string_view(data).substr(off)).ok());
  // Not visible until committed.
  EXPECT_EQ(s->HeadObject("bkt", "big").status().code(), StatusCode::kNotFound);
  auto info = (*w)->Commit();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(ReadFile(info->data_path), data);
  EXPECT_EQ(info->etag, Md5sumEtag(data, t.parent()));
}

TEST(ObjectStore, HostileKeysNeverLeaveTheRoot) {
  TempDir t;
  std::vector<std::string> keys = {"../../../../etc/passwd",
                                   "/etc/passwd",
                                   "..",
                                   ".",
                                   "a//b",
                                   "a/../../x",
                                   "trailing/",
                                   "//",
                                   " space key ",
                                   "ünïcødé/日本語/🔥",
                                   ".tmp",
                                   ".lock",
                                   ".bucket",
                                   "../.bucket",
                                   "../other-bucket/x",
                                   "%2e%2e/x",
                                   "back\\slash\\..\\..",
                                   std::string(1024, '/'),
                                   "new\nline\r",
                                   "ab"};
  {
    auto s = OpenOrDie(t.root());
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    ASSERT_TRUE(s->CreateBucket("other-bucket").ok());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto r = s->PutObject("bkt", keys[i], "content-" + std::to_string(i), {});
      ASSERT_TRUE(r.ok()) << keys[i] << ": " << r.status().ToString();
    }
    // Rejected keys leave nothing behind.
    EXPECT_EQ(s->PutObject("bkt", std::string(1025, 'x'), "x", {}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(s->PutObject("bkt", std::string("nul\0key", 7), "x", {}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(s->PutObject("bkt", "", "x", {}).status().code(), StatusCode::kInvalidArgument);
  }
  // Nothing was created beside the root...
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(t.parent())) beside.push_back(e.path().string());
  EXPECT_THAT(beside, ::testing::ElementsAre(t.root()));
  // ...nor in the other bucket, and every file in the root is one of the store's.
  auto s = OpenOrDie(t.root());
  EXPECT_TRUE(s->BucketExists("other-bucket"));
  EXPECT_TRUE(s->List("other-bucket", {})->objects.empty());
  for (const std::string& f : AllFiles(t.root())) {
    std::string rel = f.substr(t.root().size() + 1);
    bool known = rel == ".lock" || rel == ".tmp" || rel == ".uploads" || rel == "bkt" ||
                 rel == "other-bucket" || rel == "bkt/.bucket" || rel == "other-bucket/.bucket" ||
                 (rel.rfind("bkt/", 0) == 0 && rel.size() == 6) ||  // shard folder
                 (rel.rfind("bkt/", 0) == 0 && (rel.ends_with(".meta") || rel.ends_with(".data")));
    EXPECT_TRUE(known) << rel;
    EXPECT_EQ(fs::canonical(f).string().rfind(fs::canonical(t.root()).string(), 0), 0u) << f;
  }
  // All keys survive a reopen with their own content, and list in byte order.
  for (size_t i = 0; i < keys.size(); ++i) {
    auto h = s->HeadObject("bkt", keys[i]);
    ASSERT_TRUE(h.ok()) << keys[i];
    EXPECT_EQ(ReadFile(h->data_path), "content-" + std::to_string(i)) << keys[i];
  }
  auto all = s->List("bkt", {});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*all), sorted);
}

TEST(ObjectStore, ListOrderPrefixDelimiterPagination) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  std::vector<std::string> keys = {"a",
                                   "a/1",
                                   "a/2",
                                   "a/b/1",
                                   "a/b/2",
                                   "ab",
                                   "b/x",
                                   "b/y/z",
                                   "B",
                                   "c",
                                   "é",
                                   "z/",
                                   "a/b/c/d",
                                   "photos/2024/01.jpg",
                                   "photos/2024/02.jpg",
                                   "photos/2025/01.jpg",
                                   "photos/index"};
  for (const auto& k : keys) ASSERT_TRUE(s->PutObject("bkt", k, k, {}).ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());  // std::string compares bytes: 'B' < 'a' < 'é'

  auto all = s->List("bkt", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Keys(*all), sorted);
  EXPECT_FALSE(all->truncated);
  EXPECT_EQ(all->objects.back().key, "é");
  EXPECT_EQ(all->objects.front().size, 1u);  // "B"

  ListRequest req;
  req.prefix = "a/";
  EXPECT_THAT(Keys(s->List("bkt", req)),
              ::testing::ElementsAre("a/1", "a/2", "a/b/1", "a/b/2", "a/b/c/d"));

  req.delimiter = "/";
  auto r = s->List("bkt", req);
  EXPECT_THAT(Keys(*r), ::testing::ElementsAre("a/1", "a/2"));
  EXPECT_THAT(r->common_prefixes, ::testing::ElementsAre("a/b/"));

  req.prefix = "";
  r = s->List("bkt", req);
  EXPECT_THAT(Keys(*r), ::testing::ElementsAre("B", "a", "ab", "c", "é"));
  EXPECT_THAT(r->common_prefixes, ::testing::ElementsAre("a/", "b/", "photos/", "z/"));

  req.prefix = "photos/20";
  r = s->List("bkt", req);
  EXPECT_TRUE(r->objects.empty());
  EXPECT_THAT(r->common_prefixes, ::testing::ElementsAre("photos/2024/", "photos/2025/"));

  // A multi-character delimiter.
  req.prefix = "photos/";
  req.delimiter = "/0";
  r = s->List("bkt", req);
  EXPECT_THAT(Keys(*r), ::testing::ElementsAre("photos/index"));
  EXPECT_THAT(r->common_prefixes, ::testing::ElementsAre("photos/2024/0", "photos/2025/0"));

  // start_after is exclusive, and works inside a prefix.
  ListRequest sa;
  sa.prefix = "a/";
  sa.start_after = "a/b/1";
  EXPECT_THAT(Keys(s->List("bkt", sa)), ::testing::ElementsAre("a/b/2", "a/b/c/d"));
  sa.start_after = "0";  // before the prefix: no effect
  EXPECT_EQ(s->List("bkt", sa)->objects.size(), 5u);
  sa.start_after = "zzz";  // after everything
  EXPECT_TRUE(s->List("bkt", sa)->objects.empty());

  ListRequest none;
  none.max_keys = 0;
  EXPECT_TRUE(s->List("bkt", none)->objects.empty());
}

// Walks every page of size `page` and checks the union is the single-page answer.
void CheckPagination(ObjectStore* s, const std::string& prefix, const std::string& delim,
                     int page) {
  ListRequest full;
  full.prefix = prefix;
  full.delimiter = delim;
  auto want = s->List("bkt", full);
  ASSERT_TRUE(want.ok());
  std::vector<std::string> got_keys, got_prefixes;
  ListRequest req = full;
  req.max_keys = page;
  for (int pages = 0; pages < 1000; ++pages) {
    auto r = s->List("bkt", req);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(static_cast<int>(r->objects.size() + r->common_prefixes.size()), page);
    for (auto& o : r->objects) got_keys.push_back(o.key);
    for (auto& p : r->common_prefixes) got_prefixes.push_back(p);
    if (!r->truncated) break;
    EXPECT_EQ(static_cast<int>(r->objects.size() + r->common_prefixes.size()), page);
    ASSERT_FALSE(r->next_start_after.empty());
    req.start_after = r->next_start_after;
  }
  EXPECT_EQ(got_keys, Keys(*want)) << prefix << " " << delim << " " << page;
  EXPECT_EQ(got_prefixes, want->common_prefixes) << prefix << " " << delim << " " << page;
}

TEST(ObjectStore, PaginationCoversEverythingOnce) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  for (int d = 0; d < 5; ++d) {
    for (int f = 0; f < 7; ++f) {
      std::string k = "dir" + std::to_string(d) + "/f" + std::to_string(f);
      ASSERT_TRUE(s->PutObject("bkt", k, "x", {}).ok());
      if (f < 3) {
        ASSERT_TRUE(s->PutObject("bkt", k + "/sub", "x", {}).ok());
      }
    }
    ASSERT_TRUE(s->PutObject("bkt", "top" + std::to_string(d), "x", {}).ok());
  }
  for (int page : {1, 2, 3, 7, 1000}) {
    CheckPagination(s.get(), "", "", page);
    CheckPagination(s.get(), "", "/", page);
    CheckPagination(s.get(), "dir2/", "/", page);
    CheckPagination(s.get(), "dir", "/", page);
  }
  ListRequest req;
  req.delimiter = "/";
  req.max_keys = 2;
  auto r = s->List("bkt", req);
  EXPECT_TRUE(r->truncated);
  EXPECT_THAT(r->common_prefixes, ::testing::ElementsAre("dir0/", "dir1/"));
  EXPECT_EQ(r->next_start_after, "dir1/");
  req.max_keys = 10;
  r = s->List("bkt", req);  // exactly 10 entries: not truncated
  EXPECT_EQ(r->common_prefixes.size() + r->objects.size(), 10u);
  EXPECT_FALSE(r->truncated);
  EXPECT_TRUE(r->next_start_after.empty());
}

TEST(ObjectStore, PersistsAcrossReopen) {
  TempDir t;
  int64_t created = 0;
  std::string etag;
  int64_t mtime = 0;
  {
    auto s = OpenOrDie(t.root());
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    created = s->ListBuckets()[0].creation_ms;
    ObjectMeta meta;
    meta.content_type = "application/json";
    meta.user_meta["a b"] = "x\ny%";
    ASSERT_TRUE(s->PutObject("bkt", "keep", "first version", meta).ok());
    auto second = s->PutObject("bkt", "keep", "second version!", meta);
    ASSERT_TRUE(second.ok());
    etag = second->etag;
    mtime = second->last_modified_ms;
    ASSERT_TRUE(s->PutObject("bkt", "gone", "x", {}).ok());
    ASSERT_TRUE(s->DeleteObject("bkt", "gone").ok());
    // The overwritten version's data file is gone: one .data file is left.
    int data_files = 0;
    for (const auto& f : AllFiles(t.root())) data_files += f.ends_with(".data");
    EXPECT_EQ(data_files, 1);
  }
  auto s = OpenOrDie(t.root());
  ASSERT_EQ(s->ListBuckets().size(), 1u);
  EXPECT_EQ(s->ListBuckets()[0].creation_ms, created);
  auto h = s->HeadObject("bkt", "keep");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->etag, etag);
  EXPECT_EQ(h->last_modified_ms, mtime);
  EXPECT_EQ(h->size, 15u);
  EXPECT_EQ(h->meta.content_type, "application/json");
  EXPECT_EQ(h->meta.user_meta.at("a b"), "x\ny%");
  EXPECT_EQ(ReadFile(h->data_path), "second version!");
  EXPECT_EQ(s->HeadObject("bkt", "gone").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(Keys(s->List("bkt", {})), ::testing::ElementsAre("keep"));
}

TEST(ObjectStore, OneStorePerRoot) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  auto again = ObjectStore::Open(t.root());
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable);
  s.reset();
  EXPECT_TRUE(ObjectStore::Open(t.root()).ok());
}

TEST(ObjectStore, UncommittedWriterLeavesNothing) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  {
    auto w = s->BeginPut("bkt", "pending", {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("partial data").ok());
    EXPECT_EQ(s->HeadObject("bkt", "pending").status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(s->List("bkt", {})->objects.empty());
    EXPECT_EQ(AllFiles(t.root() + "/.tmp").size(), 1u);  // the writer's temp file
  }
  EXPECT_TRUE(AllFiles(t.root() + "/.tmp").empty());
  EXPECT_EQ(s->HeadObject("bkt", "pending").status().code(), StatusCode::kNotFound);
}

// A process that dies mid-put (no destructor runs) leaves a temp file; the next
// Open removes it and shows only what was committed.
TEST(ObjectStore, CrashBeforeCommitIsInvisibleAfterReopen) {
  TempDir t;
  {
    auto s = OpenOrDie(t.root());
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = ObjectStore::Open(t.root());
    if (!s.ok()) ::_exit(2);
    if (!(*s)->PutObject("bkt", "committed", "yes", {}).ok()) ::_exit(3);
    auto w = (*s)->BeginPut("bkt", "torn", {});
    if (!w.ok() || !(*w)->Write(std::string(100000, 'x')).ok()) ::_exit(4);
    auto w2 = (*s)->BeginPut("bkt", "committed", {});  // an overwrite that never lands
    if (!w2.ok() || !(*w2)->Write("no").ok()) ::_exit(5);
    ::_exit(0);  // "crash": no destructors, no cleanup
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(AllFiles(t.root() + "/.tmp").empty());  // the crash left temp files

  auto s = OpenOrDie(t.root());
  EXPECT_TRUE(AllFiles(t.root() + "/.tmp").empty());
  EXPECT_THAT(Keys(s->List("bkt", {})), ::testing::ElementsAre("committed"));
  EXPECT_EQ(ReadFile(s->HeadObject("bkt", "committed")->data_path), "yes");
  EXPECT_EQ(s->HeadObject("bkt", "torn").status().code(), StatusCode::kNotFound);
}

// The states a crash can leave inside a bucket (docs/object-store.md): a data
// file renamed into place whose metadata never was (orphan), and a damaged
// metadata file. Open removes both and keeps every committed object.
TEST(ObjectStore, OpenRemovesOrphansAndDamagedMetadata) {
  TempDir t;
  std::string data_path, shard;
  {
    auto s = OpenOrDie(t.root());
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    auto info = s->PutObject("bkt", "good", "good data", {});
    ASSERT_TRUE(info.ok());
    data_path = info->data_path;
    shard = fs::path(data_path).parent_path().string();
    auto other = s->PutObject("bkt", "damaged", "other data", {});
    ASSERT_TRUE(other.ok());
    // Damage "damaged": cut its metadata file short (as a torn write would).
    std::string meta = fs::path(other->data_path).parent_path().string() + "/" +
                       fs::path(other->data_path).filename().string().substr(0, 64) + ".meta";
    ASSERT_TRUE(fs::exists(meta));
    std::string text = ReadFile(meta);
    std::ofstream(meta, std::ios::binary | std::ios::trunc) << text.substr(0, text.size() / 2);
  }
  // An orphan: a data file for "good" under another id, never committed.
  std::string stem = fs::path(data_path).filename().string().substr(0, 64);
  std::string orphan = shard + "/" + stem + ".00000000deadbeef.data";
  std::ofstream(orphan) << "uncommitted bytes";
  auto s = OpenOrDie(t.root());
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_THAT(Keys(s->List("bkt", {})), ::testing::ElementsAre("good"));
  EXPECT_EQ(ReadFile(s->HeadObject("bkt", "good")->data_path), "good data");
  int data_files = 0;
  for (const auto& f : AllFiles(t.root())) data_files += f.ends_with(".data");
  EXPECT_EQ(data_files, 1);
}

TEST(ObjectStore, ConcurrentPutsAndLists) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 25; ++i) {
        std::string k = "t" + std::to_string(th) + "/" + std::to_string(i);
        EXPECT_TRUE(s->PutObject("bkt", k, k, {}).ok());
        EXPECT_TRUE(s->PutObject("bkt", "shared", k, {}).ok());
        EXPECT_TRUE(s->List("bkt", {}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto r = s->List("bkt", {});
  EXPECT_EQ(r->objects.size(), 101u);
  // Exactly one version of "shared" remains on disk.
  int shared_files = 0;
  std::string shared_data = s->HeadObject("bkt", "shared")->data_path;
  std::string prefix = shared_data.substr(0, shared_data.size() - 22);  // drop ".<id>.data"
  for (const auto& f : AllFiles(t.root()))
    shared_files += f.rfind(prefix, 0) == 0 && f.ends_with(".data");
  EXPECT_EQ(shared_files, 1);
}

// --- multipart uploads ---------------------------------------------------------------

// Deterministic, incompressible-looking bytes.
std::string Bytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

// S3's multipart ETag computed by independent tools: openssl's binary MD5 of each
// part, concatenated, then md5sum of that, then "-<parts>".
std::string ToolMultipartEtag(const std::vector<std::string>& parts, const std::string& dir) {
  std::string cmd = "for f in";
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string path = dir + "/etag-part-" + std::to_string(i);
    std::ofstream(path, std::ios::binary) << parts[i];
    cmd += " '" + path + "'";
  }
  cmd += "; do openssl dgst -md5 -binary \"$f\"; done | md5sum";
  FILE* f = ::popen(cmd.c_str(), "r");
  EXPECT_NE(f, nullptr);
  char buf[64] = {0};
  size_t n = fread(buf, 1, 32, f);
  ::pclose(f);
  for (size_t i = 0; i < parts.size(); ++i) fs::remove(dir + "/etag-part-" + std::to_string(i));
  EXPECT_EQ(n, 32u);
  return "\"" + std::string(buf, n) + "-" + std::to_string(parts.size()) + "\"";
}

std::string CodeOf(const Status& st) { return SplitErrorCode(st).first; }

std::vector<std::string> FilesUnder(const std::string& dir) {
  if (!fs::exists(dir)) return {};
  return AllFiles(dir);
}

TEST(Multipart, UploadCompleteAndEtag) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  ObjectMeta meta;
  meta.content_type = "text/csv";
  meta.content_encoding = "gzip";
  meta.user_meta["origin"] = "unit";
  auto up = s->CreateMultipartUpload("bkt", "dir/big.csv", meta);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->upload_id.size(), 32u);
  EXPECT_EQ(up->key, "dir/big.csv");
  // Part data is kept outside every bucket, in a folder for the upload.
  std::string up_dir = t.root() + "/.uploads/" + up->upload_id;
  ASSERT_TRUE(fs::is_directory(up_dir));

  std::vector<std::string> parts = {Bytes(kMinPartSize, 1), Bytes(kMinPartSize + 17, 2),
                                    Bytes(12345, 3)};
  for (int i = 0; i < 3; ++i) {
    auto p = s->UploadPart("bkt", "dir/big.csv", up->upload_id, i + 1, parts[i]);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->part_number, i + 1);
    EXPECT_EQ(p->size, parts[i].size());
    EXPECT_EQ(p->etag, Md5sumEtag(parts[i], t.parent()));
  }
  // Nothing is visible before completion.
  EXPECT_EQ(s->HeadObject("bkt", "dir/big.csv").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s->List("bkt", {})->objects.empty());

  auto lp = s->ListParts("bkt", "dir/big.csv", up->upload_id, {});
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->parts.size(), 3u);
  std::vector<CompletedPart> done;
  for (const auto& p : lp->parts) done.push_back({p.part_number, p.etag});
  done[1].etag = done[1].etag.substr(1, 32);  // unquoted ETags are accepted too
  auto info = s->CompleteMultipartUpload("bkt", "dir/big.csv", up->upload_id, done);
  ASSERT_TRUE(info.ok()) << info.status().ToString();

  std::string whole = parts[0] + parts[1] + parts[2];
  std::string want_etag = ToolMultipartEtag(parts, t.parent());
  EXPECT_EQ(info->etag, want_etag);
  EXPECT_EQ(info->size, whole.size());
  auto h = s->HeadObject("bkt", "dir/big.csv");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->etag, want_etag);
  EXPECT_EQ(h->meta.content_type, "text/csv");
  EXPECT_EQ(h->meta.content_encoding, "gzip");
  EXPECT_EQ(h->meta.user_meta.at("origin"), "unit");
  EXPECT_THAT(h->part_sizes,
              ::testing::ElementsAre(parts[0].size(), parts[1].size(), parts[2].size()));
  EXPECT_TRUE(ReadFile(h->data_path) == whole);
  EXPECT_EQ(s->List("bkt", {})->objects.at(0).etag, want_etag);
  // The upload and its files are gone; nothing is left in tmp.
  EXPECT_FALSE(fs::exists(up_dir));
  EXPECT_TRUE(FilesUnder(t.root() + "/.tmp").empty());
  EXPECT_TRUE(s->ListMultipartUploads("bkt", {})->uploads.empty());
  EXPECT_EQ(CodeOf(s->CompleteMultipartUpload("bkt", "dir/big.csv", up->upload_id, done).status()),
            kNoSuchUpload);
  EXPECT_EQ(CodeOf(s->UploadPart("bkt", "dir/big.csv", up->upload_id, 1, "x").status()),
            kNoSuchUpload);

  // The object survives a reopen with its multipart ETag.
  s.reset();
  s = OpenOrDie(t.root());
  h = s->HeadObject("bkt", "dir/big.csv");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->etag, want_etag);
  EXPECT_EQ(h->part_sizes.size(), 3u);
  EXPECT_TRUE(ReadFile(h->data_path) == whole);
}

TEST(Multipart, SubsetOfPartsAndReupload) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  ASSERT_TRUE(up.ok());
  const std::string& id = up->upload_id;
  ASSERT_TRUE(s->UploadPart("bkt", "k", id, 7, "first try").ok());
  auto again = s->UploadPart("bkt", "k", id, 7, "second try");  // replaces part 7
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", id, 3, std::string(kMinPartSize, 'a')).ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", id, 5, "not used").ok());
  auto lp = s->ListParts("bkt", "k", id, {});
  ASSERT_EQ(lp->parts.size(), 3u);
  EXPECT_EQ(lp->parts[2].part_number, 7);
  EXPECT_EQ(lp->parts[2].etag, Md5sumEtag("second try", t.parent()));
  int data_files = 0;  // the replaced part's data is gone
  for (const auto& f : AllFiles(t.root() + "/.uploads/" + id)) data_files += f.ends_with(".data");
  EXPECT_EQ(data_files, 3);
  // The first upload's ETag no longer names part 7.
  auto old = s->CompleteMultipartUpload("bkt", "k", id, {{7, Md5sumEtag("first try", t.parent())}});
  EXPECT_EQ(CodeOf(old.status()), kInvalidPart);
  // Parts 3 and 7 (not 5): parts need not be contiguous.
  auto info =
      s->CompleteMultipartUpload("bkt", "k", id, {{3, lp->parts[0].etag}, {7, lp->parts[2].etag}});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(ReadFile(info->data_path), std::string(kMinPartSize, 'a') + "second try");
  EXPECT_THAT(info->etag, ::testing::EndsWith("-2\""));
  EXPECT_FALSE(fs::exists(t.root() + "/.uploads/" + id));
}

TEST(Multipart, CompletionErrorsLeaveTheUploadUsable) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  ASSERT_TRUE(up.ok());
  const std::string& id = up->upload_id;
  auto p1 = s->UploadPart("bkt", "k", id, 1, "small first part");
  auto p2 = s->UploadPart("bkt", "k", id, 2, "last");
  ASSERT_TRUE(p1.ok() && p2.ok());

  auto c = s->CompleteMultipartUpload("bkt", "k", id, {{2, p2->etag}, {1, p1->etag}});
  EXPECT_EQ(CodeOf(c.status()), kInvalidPartOrder);
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  c = s->CompleteMultipartUpload("bkt", "k", id, {{1, p1->etag}, {1, p1->etag}});
  EXPECT_EQ(CodeOf(c.status()), kInvalidPartOrder);
  c = s->CompleteMultipartUpload("bkt", "k", id, {{1, p1->etag}, {3, p2->etag}});
  EXPECT_EQ(CodeOf(c.status()), kInvalidPart);  // part 3 was never uploaded
  c = s->CompleteMultipartUpload("bkt", "k", id, {{1, p2->etag}, {2, p2->etag}});
  EXPECT_EQ(CodeOf(c.status()), kInvalidPart);  // wrong ETag for part 1
  c = s->CompleteMultipartUpload("bkt", "k", id, {{1, p1->etag}, {2, p2->etag}});
  EXPECT_EQ(CodeOf(c.status()), kEntityTooSmall);  // part 1 is not the last and < 5 MiB
  c = s->CompleteMultipartUpload("bkt", "k", id, {});
  EXPECT_EQ(CodeOf(c.status()), kMalformedXml);
  EXPECT_EQ(s->HeadObject("bkt", "k").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(FilesUnder(t.root() + "/.tmp").empty());

  // Part numbers out of range; uploads that do not exist or belong elsewhere.
  EXPECT_EQ(s->UploadPart("bkt", "k", id, 0, "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->UploadPart("bkt", "k", id, kMaxPartNumber + 1, "x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(s->UploadPart("bkt", "k", id, kMaxPartNumber, "x").ok());
  for (std::string bad :
       {std::string(32, '0'), std::string("../../etc"), std::string(""), id.substr(0, 31) + "/"}) {
    auto st = s->UploadPart("bkt", "k", bad, 1, "x").status();
    EXPECT_EQ(st.code(), StatusCode::kNotFound) << bad;
    EXPECT_EQ(CodeOf(st), kNoSuchUpload) << bad;
    EXPECT_EQ(CodeOf(s->AbortMultipartUpload("bkt", "k", bad)), kNoSuchUpload);
    EXPECT_EQ(CodeOf(s->ListParts("bkt", "k", bad, {}).status()), kNoSuchUpload);
  }
  EXPECT_EQ(CodeOf(s->UploadPart("bkt", "other-key", id, 1, "x").status()), kNoSuchUpload);
  ASSERT_TRUE(s->CreateBucket("other").ok());
  EXPECT_EQ(CodeOf(s->ListParts("other", "k", id, {}).status()), kNoSuchUpload);
  auto nb = s->UploadPart("nobucket", "k", id, 1, "x").status();
  EXPECT_EQ(nb.code(), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(nb), "");  // a missing bucket, not a missing upload
  EXPECT_EQ(s->CreateMultipartUpload("nobucket", "k", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->CreateMultipartUpload("bkt", "", {}).status().code(), StatusCode::kInvalidArgument);

  // After all that the upload still completes (part 2 alone is the last part).
  auto done = s->CompleteMultipartUpload("bkt", "k", id, {{2, p2->etag}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(ReadFile(done->data_path), "last");
}

TEST(Multipart, AbortRemovesEverything) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  auto before = FilesUnder(t.root() + "/bkt");
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", up->upload_id, 1, Bytes(100000, 9)).ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", up->upload_id, 2, "two").ok());
  EXPECT_EQ(FilesUnder(t.root() + "/.uploads/" + up->upload_id).size(), 5u);  // upload+2x2
  EXPECT_EQ(FilesUnder(t.root() + "/bkt"), before);  // nothing inside the bucket
  ASSERT_TRUE(s->AbortMultipartUpload("bkt", "k", up->upload_id).ok());
  EXPECT_TRUE(FilesUnder(t.root() + "/.uploads").empty());
  EXPECT_TRUE(FilesUnder(t.root() + "/.tmp").empty());
  EXPECT_EQ(s->HeadObject("bkt", "k").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s->ListMultipartUploads("bkt", {})->uploads.empty());
  EXPECT_EQ(CodeOf(s->AbortMultipartUpload("bkt", "k", up->upload_id)), kNoSuchUpload);
  EXPECT_EQ(CodeOf(s->UploadPart("bkt", "k", up->upload_id, 3, "x").status()), kNoSuchUpload);
  // A part writer begun before the abort cannot add to it afterwards.
  auto up2 = s->CreateMultipartUpload("bkt", "k", {});
  auto w = s->BeginUploadPart("bkt", "k", up2->upload_id, 1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("late").ok());
  ASSERT_TRUE(s->AbortMultipartUpload("bkt", "k", up2->upload_id).ok());
  EXPECT_EQ(CodeOf((*w)->Commit().status()), kNoSuchUpload);
  w->reset();
  EXPECT_TRUE(FilesUnder(t.root() + "/.uploads").empty());
  EXPECT_TRUE(FilesUnder(t.root() + "/.tmp").empty());
}

TEST(Multipart, UploadsSurviveReopen) {
  TempDir t;
  std::string id, orphan, torn;
  std::string etag1;
  {
    auto s = OpenOrDie(t.root());
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    ObjectMeta meta;
    meta.content_type = "image/png";
    meta.user_meta["k"] = "v v";
    auto up = s->CreateMultipartUpload("bkt", "pic.png", meta);
    ASSERT_TRUE(up.ok());
    id = up->upload_id;
    auto p1 = s->UploadPart("bkt", "pic.png", id, 1, std::string(kMinPartSize, 'p'));
    ASSERT_TRUE(p1.ok());
    etag1 = p1->etag;
    ASSERT_TRUE(s->UploadPart("bkt", "pic.png", id, 2, "tail").ok());
    ASSERT_TRUE(s->UploadPart("bkt", "pic.png", id, 3, "damaged later").ok());
  }
  std::string dir = t.root() + "/.uploads/" + id;
  // What a crash could leave (a part's data renamed in, its .meta never), and damage.
  orphan = dir + "/00004.00000000deadbeef.data";
  std::ofstream(orphan) << "uncommitted";
  std::string text = ReadFile(dir + "/00003.meta");
  std::ofstream(dir + "/00003.meta", std::ios::trunc) << text.substr(0, text.size() - 4);

  auto s = OpenOrDie(t.root());
  EXPECT_FALSE(fs::exists(orphan));
  auto list = s->ListMultipartUploads("bkt", {});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->uploads.size(), 1u);
  EXPECT_EQ(list->uploads[0].upload_id, id);
  EXPECT_EQ(list->uploads[0].key, "pic.png");
  auto lp = s->ListParts("bkt", "pic.png", id, {});
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->parts.size(), 2u);  // part 3's metadata was damaged: dropped
  EXPECT_EQ(lp->parts[0].etag, etag1);
  EXPECT_EQ(lp->upload.meta.content_type, "image/png");
  auto info =
      s->CompleteMultipartUpload("bkt", "pic.png", id, {{1, etag1}, {2, lp->parts[1].etag}});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->meta.content_type, "image/png");
  EXPECT_EQ(info->meta.user_meta.at("k"), "v v");
  EXPECT_EQ(ReadFile(info->data_path), std::string(kMinPartSize, 'p') + "tail");
}

TEST(Multipart, ListPartsPages) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  for (int n : {9, 1, 5, 3, 7}) {
    ASSERT_TRUE(s->UploadPart("bkt", "k", up->upload_id, n, std::to_string(n)).ok());
  }
  std::vector<int> seen;
  ListPartsRequest req;
  req.max_parts = 2;
  int pages = 0;
  while (true) {
    auto r = s->ListParts("bkt", "k", up->upload_id, req);
    ASSERT_TRUE(r.ok());
    ++pages;
    for (const auto& p : r->parts) seen.push_back(p.part_number);
    if (!r->truncated) break;
    EXPECT_EQ(r->next_part_number_marker, r->parts.back().part_number);
    req.part_number_marker = r->next_part_number_marker;
  }
  EXPECT_THAT(seen, ::testing::ElementsAre(1, 3, 5, 7, 9));
  EXPECT_EQ(pages, 3);
  req.part_number_marker = 9;
  EXPECT_TRUE(s->ListParts("bkt", "k", up->upload_id, req)->parts.empty());
}

TEST(Multipart, ListUploadsOrderPrefixDelimiterAndMarkers) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  ASSERT_TRUE(s->CreateBucket("else").ok());
  ASSERT_TRUE(s->CreateMultipartUpload("else", "a", {}).ok());  // another bucket's
  std::vector<std::pair<std::string, std::string>> made;        // key, id
  for (std::string k : {"b", "a", "dir/x", "dir/y", "b", "c"}) {
    auto up = s->CreateMultipartUpload("bkt", k, {});
    ASSERT_TRUE(up.ok());
    made.emplace_back(k, up->upload_id);
  }
  auto r = s->ListMultipartUploads("bkt", {});
  ASSERT_TRUE(r.ok());
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& u : r->uploads) got.emplace_back(u.key, u.upload_id);
  auto want = made;
  // By key, then by initiation (ids sort in creation order).
  std::stable_sort(want.begin(), want.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  EXPECT_EQ(got, want);
  EXPECT_FALSE(r->truncated);

  ListUploadsRequest req;
  req.delimiter = "/";
  r = s->ListMultipartUploads("bkt", req);
  got.clear();
  for (const auto& u : r->uploads) got.emplace_back(u.key, u.upload_id);
  EXPECT_EQ(got.size(), 4u);  // a, b, b, c
  EXPECT_THAT(r->common_prefixes, ::testing::ElementsAre("dir/"));
  req = {};
  req.prefix = "dir/";
  r = s->ListMultipartUploads("bkt", req);
  ASSERT_EQ(r->uploads.size(), 2u);
  EXPECT_EQ(r->uploads[1].key, "dir/y");

  // Pages of two, with delimiter: every upload and prefix exactly once.
  for (int page : {1, 2, 3, 100}) {
    ListUploadsRequest pr;
    pr.delimiter = "/";
    pr.max_uploads = page;
    std::vector<std::string> items;
    for (int guard = 0; guard < 20; ++guard) {
      auto p = s->ListMultipartUploads("bkt", pr);
      ASSERT_TRUE(p.ok());
      EXPECT_LE(static_cast<int>(p->uploads.size() + p->common_prefixes.size()), page);
      for (const auto& u : p->uploads) items.push_back(u.key + "#" + u.upload_id);
      for (const auto& cp : p->common_prefixes) items.push_back(cp);
      if (!p->truncated) break;
      pr.key_marker = p->next_key_marker;
      pr.upload_id_marker = p->next_upload_id_marker;
    }
    std::set<std::string> unique(items.begin(), items.end());
    EXPECT_EQ(items.size(), 5u) << page;
    EXPECT_EQ(unique.size(), 5u) << page;
    EXPECT_TRUE(unique.count("dir/")) << page;
  }
  // key-marker alone skips every upload of that key.
  req = {};
  req.key_marker = "b";
  r = s->ListMultipartUploads("bkt", req);
  ASSERT_FALSE(r->uploads.empty());
  EXPECT_EQ(r->uploads[0].key, "c");
  EXPECT_EQ(s->ListMultipartUploads("nobucket", {}).status().code(), StatusCode::kNotFound);
}

TEST(Multipart, DeleteBucketDiscardsItsUploads) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  ASSERT_TRUE(s->CreateBucket("keep").ok());
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  auto kept = s->CreateMultipartUpload("keep", "k", {});
  ASSERT_TRUE(up.ok() && kept.ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", up->upload_id, 1, "data").ok());
  // Objects keep a bucket alive; uploads do not.
  ASSERT_TRUE(s->PutObject("bkt", "obj", "x", {}).ok());
  EXPECT_EQ(s->DeleteBucket("bkt").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->ListMultipartUploads("bkt", {})->uploads.size(), 1u);
  ASSERT_TRUE(s->DeleteObject("bkt", "obj").ok());
  ASSERT_TRUE(s->DeleteBucket("bkt").ok());
  EXPECT_FALSE(fs::exists(t.root() + "/.uploads/" + up->upload_id));
  EXPECT_TRUE(fs::exists(t.root() + "/.uploads/" + kept->upload_id));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  EXPECT_TRUE(s->ListMultipartUploads("bkt", {})->uploads.empty());
  EXPECT_EQ(CodeOf(s->UploadPart("bkt", "k", up->upload_id, 2, "x").status()), kNoSuchUpload);
  EXPECT_EQ(s->ListMultipartUploads("keep", {})->uploads.size(), 1u);
}

// A bucket removed while an upload was open, with the upload's folder left
// behind (a crash between the two): Open drops the upload.
TEST(Multipart, OpenDropsUploadsOfMissingBuckets) {
  TempDir t;
  std::string id;
  {
    auto s = OpenOrDie(t.root());
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    auto up = s->CreateMultipartUpload("bkt", "k", {});
    ASSERT_TRUE(up.ok());
    id = up->upload_id;
  }
  fs::remove_all(t.root() + "/bkt");
  auto s = OpenOrDie(t.root());
  EXPECT_FALSE(fs::exists(t.root() + "/.uploads/" + id));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  EXPECT_TRUE(s->ListMultipartUploads("bkt", {})->uploads.empty());
}

TEST(Multipart, ConcurrentPartsThenComplete) {
  TempDir t;
  auto s = OpenOrDie(t.root());
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  ASSERT_TRUE(up.ok());
  constexpr int kParts = 8;
  std::vector<std::string> parts(kParts);
  std::vector<std::string> etags(kParts);
  std::vector<std::thread> threads;
  for (int i = 0; i < kParts; ++i) {
    parts[i] = Bytes(i + 1 < kParts ? kMinPartSize : 1000, 100 + i);
    threads.emplace_back([&, i] {
      auto w = s->BeginUploadPart("bkt", "k", up->upload_id, i + 1);
      ASSERT_TRUE(w.ok());
      for (size_t off = 0; off < parts[i].size(); off += 100000) {  // streamed in pieces
        ASSERT_TRUE((*w)->Write(std::string_view(parts[i]).substr(off, 100000)).ok());
      }
      auto p = (*w)->Commit();
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      etags[i] = p->etag;
    });
  }
  for (auto& th : threads) th.join();
  std::vector<CompletedPart> done;
  for (int i = 0; i < kParts; ++i) done.push_back({i + 1, etags[i]});
  auto info = s->CompleteMultipartUpload("bkt", "k", up->upload_id, done);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->etag, ToolMultipartEtag(parts, t.parent()));
  std::string whole;
  for (const auto& p : parts) whole += p;
  EXPECT_TRUE(ReadFile(info->data_path) == whole);
}

}  // namespace
}  // namespace hydrant::store
