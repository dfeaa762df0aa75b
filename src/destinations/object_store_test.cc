// Tests for the embedded object store's buckets and objects (object_store.h): puts,
// reads, listings, hostile keys, crashes and damage. Multipart uploads:
// multipart_test.cc; the files on disk: store_format_test.cc.

#include "destinations/object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "destinations/object_store_test_util.h"
#include "destinations/store_format.h"

namespace hydrant::store {
namespace {

namespace fs = std::filesystem;

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

TEST(ObjectStore, BucketLifecycle) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_FALSE(fs::exists(StoreRoot(t) + "/bkt-one"));
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
  auto s = OpenOrDie(StoreRoot(t));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  ObjectMeta meta;
  meta.content_type = "text/plain";
  meta.content_encoding = "gzip";
  meta.user_meta["color"] = "blue green";
  auto put = s->PutObject("bkt", "dir/file.txt", "hello world", meta);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, Md5sumEtag("hello world", t.path()));
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
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_EQ(opened->info.etag, Md5sumEtag("first version", t.path()));

  EXPECT_EQ(s->OpenObject("bkt", "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->OpenObject("nobkt", "k").status().code(), StatusCode::kNotFound);
}

TEST(ObjectStore, StreamingWriterLargeObject) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_EQ(info->etag, Md5sumEtag(data, t.path()));
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
    auto s = OpenOrDie(StoreRoot(t));
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
  for (const auto& e : fs::directory_iterator(t.path())) beside.push_back(e.path().string());
  EXPECT_THAT(beside, ::testing::ElementsAre(StoreRoot(t)));
  // ...nor in the other bucket, and every file in the root is one of the store's.
  auto s = OpenOrDie(StoreRoot(t));
  EXPECT_TRUE(s->BucketExists("other-bucket"));
  EXPECT_TRUE(s->List("other-bucket", {})->objects.empty());
  for (const std::string& f : AllFiles(StoreRoot(t))) {
    std::string rel = f.substr(StoreRoot(t).size() + 1);
    bool known = rel == ".lock" || rel == ".tmp" || rel == ".uploads" || rel == ".clean" ||
                 rel.rfind(".index.db", 0) == 0 || rel == "bkt" || rel == "other-bucket" ||
                 rel == "bkt/.bucket" || rel == "other-bucket/.bucket" ||
                 (rel.rfind("bkt/", 0) == 0 && rel.size() == 6) ||  // shard folder
                 (rel.rfind("bkt/", 0) == 0 && rel.ends_with(".data"));
    EXPECT_TRUE(known) << rel;
    EXPECT_EQ(fs::canonical(f).string().rfind(fs::canonical(StoreRoot(t)).string(), 0), 0u) << f;
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
  auto s = OpenOrDie(StoreRoot(t));
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
  auto s = OpenOrDie(StoreRoot(t));
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
    auto s = OpenOrDie(StoreRoot(t));
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
    for (const auto& f : AllFiles(StoreRoot(t))) data_files += f.ends_with(".data");
    EXPECT_EQ(data_files, 1);
  }
  auto s = OpenOrDie(StoreRoot(t));
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
  auto s = OpenOrDie(StoreRoot(t));
  auto again = ObjectStore::Open(StoreRoot(t));
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable);
  s.reset();
  EXPECT_TRUE(ObjectStore::Open(StoreRoot(t)).ok());
}

TEST(ObjectStore, UncommittedWriterLeavesNothing) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  {
    auto w = s->BeginPut("bkt", "pending", {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("partial data").ok());
    EXPECT_EQ(s->HeadObject("bkt", "pending").status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(s->List("bkt", {})->objects.empty());
    EXPECT_EQ(AllFiles(StoreRoot(t) + "/.tmp").size(), 1u);  // the writer's temp file
  }
  EXPECT_TRUE(AllFiles(StoreRoot(t) + "/.tmp").empty());
  EXPECT_EQ(s->HeadObject("bkt", "pending").status().code(), StatusCode::kNotFound);
}

// A process that dies mid-put (no destructor runs) leaves a temp file; the next
// Open removes it and shows only what was committed.
TEST(ObjectStore, CrashBeforeCommitIsInvisibleAfterReopen) {
  TempDir t;
  {
    auto s = OpenOrDie(StoreRoot(t));
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = ObjectStore::Open(StoreRoot(t));
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
  EXPECT_FALSE(AllFiles(StoreRoot(t) + "/.tmp").empty());  // the crash left temp files

  auto s = OpenOrDie(StoreRoot(t));
  EXPECT_TRUE(AllFiles(StoreRoot(t) + "/.tmp").empty());
  EXPECT_THAT(Keys(s->List("bkt", {})), ::testing::ElementsAre("committed"));
  EXPECT_EQ(ReadFile(s->HeadObject("bkt", "committed")->data_path), "yes");
  EXPECT_EQ(s->HeadObject("bkt", "torn").status().code(), StatusCode::kNotFound);
}

// Runs `body` in a child process, which ends it with ::_exit(0) while its store is
// still open (no destructor runs: the store is left as a crash leaves it), or
// returns a non-zero code on failure.
void InCrashingChild(const std::function<int()>& body) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(body());
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
}

int CountFiles(const std::string& root, std::string_view suffix) {
  int n = 0;
  for (const auto& f : AllFiles(root)) n += f.ends_with(suffix);
  return n;
}

// What a crash can leave inside a bucket (docs/object-store.md): a data file
// renamed into place whose index row never committed (orphan), or the data of a
// deleted or overwritten version. The next Open serves every committed object at
// once and a background sweep removes the rest.
TEST(ObjectStore, SweepAfterCrashRemovesOrphans) {
  TempDir t;
  std::string good_path;
  InCrashingChild([&] {
    auto s = ObjectStore::Open(StoreRoot(t));
    if (!s.ok() || !(*s)->CreateBucket("bkt").ok()) return 2;
    if (!(*s)->PutObject("bkt", "good", "good data", {}).ok()) return 3;
    if (!(*s)->PutObject("bkt", "gone", "x", {}).ok()) return 4;
    ::_exit(0);  // with the store open: no destructor runs
  });
  {
    auto s = OpenOrDie(StoreRoot(t));
    s->WaitForSweep();  // nothing to remove yet
    good_path = s->HeadObject("bkt", "good")->data_path;
  }
  // Orphans as a crash leaves them: an uncommitted version of "good" renamed in,
  // and the data of "gone" whose row was removed (its unlink never happened).
  InCrashingChild([&] {
    auto s = ObjectStore::Open(StoreRoot(t));
    if (!s.ok()) return 2;
    (*s)->WaitForSweep();
    auto gone = (*s)->HeadObject("bkt", "gone");
    if (!gone.ok()) return 3;
    std::string keep = gone->data_path + ".keep";
    if (::link(gone->data_path.c_str(), keep.c_str()) != 0) return 4;
    if (!(*s)->DeleteObject("bkt", "gone").ok()) return 5;
    if (::rename(keep.c_str(), gone->data_path.c_str()) != 0) return 6;
    ::_exit(0);
  });
  std::string stem = good_path.substr(0, good_path.size() - 22);  // drop ".<id>.data"
  std::string orphan = stem + ".00000000deadbeef.data";
  std::ofstream(orphan) << "uncommitted bytes";
  EXPECT_EQ(CountFiles(StoreRoot(t), ".data"), 3);

  auto s = OpenOrDie(StoreRoot(t));
  EXPECT_THAT(Keys(s->List("bkt", {})), ::testing::ElementsAre("good"));
  EXPECT_EQ(ReadFile(s->HeadObject("bkt", "good")->data_path), "good data");
  s->WaitForSweep();
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_EQ(CountFiles(StoreRoot(t), ".data"), 1);
  EXPECT_EQ(ReadFile(s->HeadObject("bkt", "good")->data_path), "good data");
}

// A store written before the index (one .meta file per object, as store_format.h
// still describes) opens with every object; damaged metadata is not imported; the
// old files are removed by the sweep once the rows are committed.
TEST(ObjectStore, ImportsAStoreWrittenBeforeTheIndex) {
  TempDir t;
  std::string root = StoreRoot(t);
  fs::create_directories(root + "/bkt");
  std::ofstream(root + "/bkt/.bucket") << store_format::EncodeBucket(1234);
  ObjectMeta meta;
  meta.content_type = "application/json";
  meta.user_meta["m"] = "v";
  auto write_legacy = [&](const std::string& key, const std::string& data, uint64_t id,
                          std::vector<uint64_t> parts, bool damage) {
    auto kp = store_format::PathsFor(root + "/bkt", key);
    fs::create_directories(kp.shard_dir);
    std::ofstream(kp.Data(id), std::ios::binary) << data;
    std::string md5(16, static_cast<char>(id));
    std::string text = store_format::EncodeMeta(key, data.size(), md5, 1000 + id, id, meta, parts);
    if (damage) text.resize(text.size() / 2);
    std::ofstream(kp.Meta(), std::ios::binary) << text;
    return kp;
  };
  for (int i = 0; i < 300; ++i) {
    write_legacy("logs/" + std::to_string(1000 + i), "data" + std::to_string(i), i + 1, {}, false);
  }
  write_legacy("multi", "abcdef", 900, {4, 2}, false);
  write_legacy("damaged", "zz", 901, {}, true);
  auto kp = store_format::PathsFor(root + "/bkt", "multi");
  std::ofstream(kp.Data(0xdead)) << "orphan";
  {
    auto s = OpenOrDie(root);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->ListBuckets()[0].creation_ms, 1234);
    ListRequest req;
    req.prefix = "logs/";
    auto page = s->List("bkt", req);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->objects.size(), 300u);
    EXPECT_EQ(page->objects[7].key, "logs/1007");
    EXPECT_EQ(page->objects[7].size, 5u);
    auto multi = s->HeadObject("bkt", "multi");
    ASSERT_TRUE(multi.ok());
    EXPECT_EQ(multi->part_sizes, (std::vector<uint64_t>{4, 2}));
    EXPECT_TRUE(multi->etag.ends_with("-2\""));
    EXPECT_EQ(multi->meta.user_meta.at("m"), "v");
    EXPECT_EQ(multi->last_modified_ms, 1900);
    EXPECT_EQ(ReadFile(multi->data_path), "abcdef");
    EXPECT_EQ(s->HeadObject("bkt", "damaged").status().code(), StatusCode::kNotFound);
    s->WaitForSweep();
    EXPECT_EQ(CountFiles(root, ".meta"), 0);
    EXPECT_FALSE(fs::exists(kp.Data(0xdead)));
    // As before the index: the data of damaged metadata cannot be served and goes.
    EXPECT_EQ(CountFiles(root, ".data"), 301);
  }
  auto s = OpenOrDie(root);
  EXPECT_EQ(Keys(s->List("bkt", {})).size(), 301u);
}

// Start-up does not depend on the number of objects: Open reads no per-object file
// (the old store read every object's metadata file before it could answer). Counted
// with the process's read(2) calls, which do not depend on timing.
TEST(ObjectStore, OpenReadsNothingPerObject) {
  TempDir t;
  constexpr int kObjects = 400;  // the old code made 2 read calls per object
  {
    auto s = OpenOrDie(StoreRoot(t));
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    for (int i = 0; i < kObjects; ++i) {
      ASSERT_TRUE(s->PutObject("bkt", "k" + std::to_string(i), "x", {}).ok());
    }
  }
  auto read_calls = [] {
    std::ifstream io("/proc/self/io");
    std::string name;
    uint64_t value = 0;
    while (io >> name >> value)
      if (name == "syscr:") return value;
    return uint64_t{0};
  };
  uint64_t before = read_calls();
  auto s = OpenOrDie(StoreRoot(t));
  uint64_t reads = read_calls() - before;
  EXPECT_LT(reads, 100u) << "Open made " << reads << " read calls for " << kObjects << " objects";
  EXPECT_EQ(Keys(s->List("bkt", {})).size(), static_cast<size_t>(kObjects));
  EXPECT_EQ(ReadFile(s->HeadObject("bkt", "k399")->data_path), "x");
}

// A crash inside DeleteBucket (folder renamed away, index rows not yet removed):
// Open forgets the rows, and a bucket created again under the name is empty.
TEST(ObjectStore, CrashInsideDeleteBucketForgetsItsRows) {
  TempDir t;
  {
    auto s = OpenOrDie(StoreRoot(t));
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    ASSERT_TRUE(s->PutObject("bkt", "k", "x", {}).ok());
  }
  fs::rename(StoreRoot(t) + "/bkt", StoreRoot(t) + "/.tmp/0000000000000001.deleted");
  auto s = OpenOrDie(StoreRoot(t));
  EXPECT_FALSE(s->BucketExists("bkt"));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  EXPECT_TRUE(Keys(s->List("bkt", {})).empty());
  EXPECT_EQ(s->HeadObject("bkt", "k").status().code(), StatusCode::kNotFound);
}

TEST(ObjectStore, ConcurrentPutsAndLists) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
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
  for (const auto& f : AllFiles(StoreRoot(t)))
    shared_files += f.rfind(prefix, 0) == 0 && f.ends_with(".data");
  EXPECT_EQ(shared_files, 1);
}

}  // namespace
}  // namespace hydrant::store
