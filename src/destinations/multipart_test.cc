// Tests for the embedded store's multipart uploads (multipart.cc): ETags checked with
// independent tools, completion errors, persistence across a reopen, concurrency.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "destinations/object_store.h"
#include "destinations/object_store_test_util.h"

namespace hydrant::store {
namespace {

namespace fs = std::filesystem;

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
  auto s = OpenOrDie(StoreRoot(t));
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
  std::string up_dir = StoreRoot(t) + "/.uploads/" + up->upload_id;
  ASSERT_TRUE(fs::is_directory(up_dir));

  std::vector<std::string> parts = {Bytes(kMinPartSize, 1), Bytes(kMinPartSize + 17, 2),
                                    Bytes(12345, 3)};
  for (int i = 0; i < 3; ++i) {
    auto p = s->UploadPart("bkt", "dir/big.csv", up->upload_id, i + 1, parts[i]);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->part_number, i + 1);
    EXPECT_EQ(p->size, parts[i].size());
    EXPECT_EQ(p->etag, Md5sumEtag(parts[i], t.path()));
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
  std::string want_etag = ToolMultipartEtag(parts, t.path());
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
  EXPECT_TRUE(FilesUnder(StoreRoot(t) + "/.tmp").empty());
  EXPECT_TRUE(s->ListMultipartUploads("bkt", {})->uploads.empty());
  EXPECT_EQ(CodeOf(s->CompleteMultipartUpload("bkt", "dir/big.csv", up->upload_id, done).status()),
            kNoSuchUpload);
  EXPECT_EQ(CodeOf(s->UploadPart("bkt", "dir/big.csv", up->upload_id, 1, "x").status()),
            kNoSuchUpload);

  // The object survives a reopen with its multipart ETag.
  s.reset();
  s = OpenOrDie(StoreRoot(t));
  h = s->HeadObject("bkt", "dir/big.csv");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->etag, want_etag);
  EXPECT_EQ(h->part_sizes.size(), 3u);
  EXPECT_TRUE(ReadFile(h->data_path) == whole);
}

TEST(Multipart, SubsetOfPartsAndReupload) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_EQ(lp->parts[2].etag, Md5sumEtag("second try", t.path()));
  int data_files = 0;  // the replaced part's data is gone
  for (const auto& f : AllFiles(StoreRoot(t) + "/.uploads/" + id))
    data_files += f.ends_with(".data");
  EXPECT_EQ(data_files, 3);
  // The first upload's ETag no longer names part 7.
  auto old = s->CompleteMultipartUpload("bkt", "k", id, {{7, Md5sumEtag("first try", t.path())}});
  EXPECT_EQ(CodeOf(old.status()), kInvalidPart);
  // Parts 3 and 7 (not 5): parts need not be contiguous.
  auto info =
      s->CompleteMultipartUpload("bkt", "k", id, {{3, lp->parts[0].etag}, {7, lp->parts[2].etag}});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(ReadFile(info->data_path), std::string(kMinPartSize, 'a') + "second try");
  EXPECT_THAT(info->etag, ::testing::EndsWith("-2\""));
  EXPECT_FALSE(fs::exists(StoreRoot(t) + "/.uploads/" + id));
}

TEST(Multipart, CompletionErrorsLeaveTheUploadUsable) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_TRUE(FilesUnder(StoreRoot(t) + "/.tmp").empty());

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
  auto s = OpenOrDie(StoreRoot(t));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  auto before = FilesUnder(StoreRoot(t) + "/bkt");
  auto up = s->CreateMultipartUpload("bkt", "k", {});
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", up->upload_id, 1, Bytes(100000, 9)).ok());
  ASSERT_TRUE(s->UploadPart("bkt", "k", up->upload_id, 2, "two").ok());
  EXPECT_EQ(FilesUnder(StoreRoot(t) + "/.uploads/" + up->upload_id).size(), 5u);  // upload+2x2
  EXPECT_EQ(FilesUnder(StoreRoot(t) + "/bkt"), before);  // nothing inside the bucket
  ASSERT_TRUE(s->AbortMultipartUpload("bkt", "k", up->upload_id).ok());
  EXPECT_TRUE(FilesUnder(StoreRoot(t) + "/.uploads").empty());
  EXPECT_TRUE(FilesUnder(StoreRoot(t) + "/.tmp").empty());
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
  EXPECT_TRUE(FilesUnder(StoreRoot(t) + "/.uploads").empty());
  EXPECT_TRUE(FilesUnder(StoreRoot(t) + "/.tmp").empty());
}

TEST(Multipart, UploadsSurviveReopen) {
  TempDir t;
  std::string id, orphan, torn;
  std::string etag1;
  {
    auto s = OpenOrDie(StoreRoot(t));
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
  std::string dir = StoreRoot(t) + "/.uploads/" + id;
  // What a crash could leave (a part's data renamed in, its .meta never), and damage.
  orphan = dir + "/00004.00000000deadbeef.data";
  std::ofstream(orphan) << "uncommitted";
  std::string text = ReadFile(dir + "/00003.meta");
  std::ofstream(dir + "/00003.meta", std::ios::trunc) << text.substr(0, text.size() - 4);

  auto s = OpenOrDie(StoreRoot(t));
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
  auto s = OpenOrDie(StoreRoot(t));
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
  auto s = OpenOrDie(StoreRoot(t));
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
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_FALSE(fs::exists(StoreRoot(t) + "/.uploads/" + up->upload_id));
  EXPECT_TRUE(fs::exists(StoreRoot(t) + "/.uploads/" + kept->upload_id));
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
    auto s = OpenOrDie(StoreRoot(t));
    ASSERT_TRUE(s->CreateBucket("bkt").ok());
    auto up = s->CreateMultipartUpload("bkt", "k", {});
    ASSERT_TRUE(up.ok());
    id = up->upload_id;
  }
  fs::remove_all(StoreRoot(t) + "/bkt");
  auto s = OpenOrDie(StoreRoot(t));
  EXPECT_FALSE(fs::exists(StoreRoot(t) + "/.uploads/" + id));
  ASSERT_TRUE(s->CreateBucket("bkt").ok());
  EXPECT_TRUE(s->ListMultipartUploads("bkt", {})->uploads.empty());
}

TEST(Multipart, ConcurrentPartsThenComplete) {
  TempDir t;
  auto s = OpenOrDie(StoreRoot(t));
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
  EXPECT_EQ(info->etag, ToolMultipartEtag(parts, t.path()));
  std::string whole;
  for (const auto& p : parts) whole += p;
  EXPECT_TRUE(ReadFile(info->data_path) == whole);
}

}  // namespace
}  // namespace hydrant::store
