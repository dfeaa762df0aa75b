#pragma once
// The on-disk format of the embedded object store (destinations/object_store.h),
// fixed in one place (restated in prose in docs/object-store.md; change both
// together, and bump the version in the magic line of a file whose format changes
// incompatibly).
//
// A store root holds:
//   .lock                                   flock'ed while a store has the root open
//   .tmp/                                   temp files (below); emptied at every Open
//   .index.db (+ -wal, -shm)                the object index: one row per object
//                                           (object_store_index.h); the object exists iff
//                                           its row does
//   .clean                                  present while closed cleanly (kCleanFile)
//   <bucket>/                               one folder per bucket (a valid S3 name)
//   <bucket>/.bucket                        bucket metadata (creation time)
//   <bucket>/.policy                        the bucket policy (S3 PutBucketPolicy): the JSON
//                                           document as sent, written atomically; absent = none
//   <bucket>/.encryption                    the bucket's default encryption (S3
//                                           PutBucketEncryption), as the caller's module wrote
//                                           it (server/s3_sse.cc); absent = none
//   <bucket>/<hh>/<sha>.<id>.data           object bytes (the row names the current one)
//   <bucket>/<hh>/<sha>.meta                object metadata of stores written before the
//                                           index: imported once at Open, then removed
//   .uploads/<upload id>/upload             a multipart upload: bucket, key, time, metadata
//   .uploads/<upload id>/<nnnnn>.meta       part nnnnn: size, md5, its data file
//   .uploads/<upload id>/<nnnnn>.<id>.data  part bytes
// where <sha> is the lower-case hex SHA-256 of the key (64 digits) and <hh> its
// first two; <id> is 16 lower-case hex digits, fresh for every write; <nnnnn> is
// the part number in 5 decimal digits (00001..10000, so part files sort by number);
// <upload id> is 32 lower-case hex digits (14 of (ms << 12), strictly increasing
// within a process, then 18 random: ids sort in initiation order). Bucket names
// never start with '.', so the store's own names cannot collide with a bucket;
// hashed names cannot collide with anything, and no part of a key is ever a path.
//
// Temp files are .tmp/<16 hex digits><suffix>; the suffix says what they are
// (kTemp* below). Nothing in .tmp is visible, and Open removes all of it.
//
// Metadata files (.meta, .bucket, upload, part .meta) are text: a magic line that
// names the kind and its version, then "name value" lines, then a line "end" (a
// file without it is incomplete and ignored). Values that hold arbitrary bytes
// (keys, content types, user metadata) are percent-escaped: every byte outside
// 0x21..0x7E, and '%', is written %XX. Unknown field names are ignored (room for
// later versions).
//
//   hydrant-object-meta 1                   hydrant-upload 1
//   key <escaped key>                       bucket <escaped>
//   size <decimal bytes>                    key <escaped>
//   md5 <32 hex>                            initiated_ms <ms since the epoch>
//   mtime_ms <ms since the epoch, UTC>      content_type, content_encoding, meta
//   data <16 hex: the data file's id>         lines as in an object's .meta
//   content_type <escaped>                  end
//   content_encoding <escaped, may be empty>
//   meta <escaped name> <escaped value>     hydrant-part 1
//     (one per x-amz-meta-*, lower-case)    number <1..10000>
//   part_sizes <size>,<size>,...            size <decimal bytes>
//     (objects made by a multipart upload)  md5 <32 hex>
//   sse <escaped>  (encrypted objects and uploads: server/sse_format.h's record)
//   end                                     mtime_ms <ms since the epoch>
//                                           data <16 hex>
//   hydrant-bucket 1                        end
//   creation_ms <ms since the epoch>
//   end
//
// For an object made by a multipart upload, md5 is the MD5 of the concatenated
// binary MD5s of its parts and part_sizes add up to size.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "destinations/object_sink.h"

namespace hydrant::store::store_format {

// ---- names in the root ----
inline constexpr char kTmpDir[] = ".tmp";
inline constexpr char kLockFile[] = ".lock";
inline constexpr char kBucketFile[] = ".bucket";
inline constexpr char kBucketPolicyFile[] = ".policy";
inline constexpr char kBucketEncryptionFile[] = ".encryption";
inline constexpr char kUploadsDir[] = ".uploads";
inline constexpr char kUploadFile[] = "upload";
// The object index (SQLite; schema in object_store_index.cc), with SQLite's own
// "-wal" and "-shm" files beside it.
inline constexpr char kIndexFile[] = ".index.db";
// Written when a store is closed with nothing left to sweep, removed at Open: a
// store opened without it sweeps for orphaned data files in the background.
inline constexpr char kCleanFile[] = ".clean";

// ---- magic lines (kind and version) ----
inline constexpr char kMetaMagic[] = "hydrant-object-meta 1";
inline constexpr char kBucketMagic[] = "hydrant-bucket 1";
inline constexpr char kUploadMagic[] = "hydrant-upload 1";
inline constexpr char kPartMagic[] = "hydrant-part 1";
inline constexpr char kAttrsMagic[] = "hydrant-object-attrs 1";

inline constexpr size_t kUploadIdLen = 32;

// ---- temp file suffixes: .tmp/<16 hex><suffix> ----
inline constexpr char kTempData[] = ".data";               // an object's (or completion's) bytes
inline constexpr char kTempMeta[] = ".meta";               // an object's or part's metadata
inline constexpr char kTempPart[] = ".part";               // a part's bytes
inline constexpr char kTempBucket[] = ".bucket";           // a bucket folder being created
inline constexpr char kTempDeletedBucket[] = ".deleted";   // a bucket folder being removed
inline constexpr char kTempUpload[] = ".upload";           // an upload folder being created
inline constexpr char kTempGoneUpload[] = ".upload-gone";  // an upload folder being removed

// ---- names ----
// 16 lower-case hex digits of `id` (data file ids, temp file names).
std::string IdHex(uint64_t id);
// Lower-case hex of raw bytes (an MD5 as stored and as in ETags).
std::string HexOf(const std::string& raw);

// Where the files of `key` live in the bucket folder `bucket_dir`.
struct KeyPaths {
  std::string shard_dir;  // <bucket>/<hh>
  std::string stem;       // <bucket>/<hh>/<sha>
  std::string Meta() const { return stem + ".meta"; }
  std::string Data(uint64_t id) const { return stem + "." + IdHex(id) + ".data"; }
};
KeyPaths PathsFor(const std::string& bucket_dir, std::string_view key);

// Whether a name in a bucket folder is a shard folder (<hh>), and a name in a
// shard folder an object's metadata (<sha>.meta); and whether a name in a shard
// or upload folder is a data file (*.data).
bool IsShardName(std::string_view name);
bool IsObjectMetaName(std::string_view name);
bool IsDataName(std::string_view name);

// Exactly kUploadIdLen lower-case hex digits: ids are checked before they become paths.
bool IsUploadId(std::string_view id);
// "00042": part files sort by number.
std::string PartStem(int number);
// A part's metadata and data file names in its upload folder.
bool IsPartMetaName(std::string_view name);  // <nnnnn>.meta
std::string PartMetaName(int number);
std::string PartDataName(int number, uint64_t data_id);

// ---- object metadata (.meta) ----
struct ParsedMeta {
  std::string key;
  uint64_t size = 0;
  std::string md5;  // 16 raw bytes
  int64_t mtime_ms = 0;
  uint64_t data_id = 0;
  ObjectMeta meta;
  std::vector<uint64_t> part_sizes;
};
std::string EncodeMeta(std::string_view key, uint64_t size, const std::string& md5,
                       int64_t mtime_ms, uint64_t data_id, const ObjectMeta& meta,
                       const std::vector<uint64_t>& part_sizes);
// Parses a metadata file; nullopt when it is not a complete, well-formed one.
std::optional<ParsedMeta> DecodeMeta(std::string_view text);

// ---- an object's attributes in the index (object_store_index.h: column attrs) ----
// The content_type, content_encoding, meta and part_sizes lines of a .meta file,
// between the magic line kAttrsMagic and "end".
std::string EncodeAttrs(const ObjectMeta& meta, const std::vector<uint64_t>& part_sizes);
// False when `text` is not complete and well-formed.
bool DecodeAttrs(std::string_view text, ObjectMeta* meta, std::vector<uint64_t>* part_sizes);

// ---- bucket metadata (.bucket) ----
std::string EncodeBucket(int64_t creation_ms);
// The creation time of a complete, well-formed file, else nullopt.
std::optional<int64_t> DecodeBucket(std::string_view text);

// ---- multipart upload (upload) and part (<nnnnn>.meta) ----
std::string EncodeUpload(std::string_view bucket, std::string_view key, int64_t initiated_ms,
                         const ObjectMeta& meta);
struct ParsedUpload {
  std::string bucket, key;
  int64_t initiated_ms = 0;
  ObjectMeta meta;
};
std::optional<ParsedUpload> DecodeUpload(std::string_view text);

std::string EncodePart(int number, uint64_t size, const std::string& md5, int64_t mtime_ms,
                       uint64_t data_id);
struct ParsedPart {
  uint64_t number = 0;
  uint64_t size = 0;
  std::string md5;
  uint64_t mtime_ms = 0;
  uint64_t data_id = 0;
};
// nullopt unless complete, with every field, and number in 1..kMaxPartNumber.
std::optional<ParsedPart> DecodePart(std::string_view text);

}  // namespace hydrant::store::store_format
