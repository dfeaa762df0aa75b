#pragma once
// ObjectIndex: the embedded object store's index of objects, kept on disk in an
// SQLite database (<root>/.index.db, WAL journal, synchronous=FULL), read lazily
// and paged: nothing is loaded at open, a lookup reads a few pages of a B-tree, a
// listing walks it in key order. Why SQLite rather than a file format of our own,
// and the figures: docs/object-store.md, "The index".
//
// Contract:
//  - A row is the object's description; a committed Put/Remove is durable when it
//    returns OK (the WAL is fsynced at every commit). The row is the object's
//    commit point (ObjectStore::Publish renames and syncs the data file first).
//  - A bucket is "indexed" once AddBucket (or ImportRows' caller, via AddBucket)
//    marked it: its objects are exactly its rows. Buckets of an older store that
//    kept one metadata file per object are imported once (ObjectStore::Load).
//  - Keys are stored as BLOBs, so rows sort by UTF-8 bytes, as S3 lists them.
//  - Thread-safe. Writes go through one connection under a mutex (SQLite has one
//    writer at a time); reads use a small pool of reader connections, each reading
//    a consistent snapshot, concurrently with the writer.
// Errors are IoError with SQLite's message (an OS error, such as a full disk, as
// Status::FromErrno makes it); Internal at Open for an index written by a newer
// version of hydrant.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "destinations/object_sink.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hydrant::store {

// One object's row.
struct IndexedObject {
  std::string key;
  uint64_t size = 0;
  std::string md5;  // 16 raw bytes (multipart: MD5 of the parts' MD5s)
  int64_t mtime_ms = 0;
  uint64_t data_id = 0;
  size_t parts = 0;  // read back only: Put stores part_sizes.size()
  // Filled by Get; by a Cursor only for encrypted objects (ObjectMeta::encryption).
  ObjectMeta meta;
  std::vector<uint64_t> part_sizes;
};

class ObjectIndex {
 public:
  class Cursor;
  struct Conn;  // a connection and its prepared statements

  // Opens (creating if needed) the index database at `path`.
  static Result<std::unique_ptr<ObjectIndex>> Open(const std::string& path);
  ~ObjectIndex();
  ObjectIndex(const ObjectIndex&) = delete;
  ObjectIndex& operator=(const ObjectIndex&) = delete;

  // The buckets marked indexed.
  Result<std::vector<std::string>> Buckets() const;
  // Marks `bucket` indexed (its objects are its rows, none yet or those imported).
  Status AddBucket(std::string_view bucket);
  // Removes the bucket's rows and its mark.
  Status DropBucket(std::string_view bucket);
  // Whether the bucket has no rows.
  Result<bool> Empty(std::string_view bucket) const;

  // Inserts or replaces the row of obj.key (every field of `obj` is stored); returns
  // the data id of the row it replaced, if any. Durable when it returns OK.
  Result<std::optional<uint64_t>> Put(std::string_view bucket, const IndexedObject& obj);
  // Removes the row of `key`; returns its data id, if there was one.
  Result<std::optional<uint64_t>> Remove(std::string_view bucket, std::string_view key);
  Result<std::optional<IndexedObject>> Get(std::string_view bucket, std::string_view key) const;
  // Whether a row of `bucket` names the data file id `data_id` (the orphan sweep).
  Result<bool> References(std::string_view bucket, uint64_t data_id) const;
  // Inserts or replaces many rows in one transaction (imports and bulk loads; one
  // fsync for all of them).
  Status PutMany(std::string_view bucket, const std::vector<IndexedObject>& objs);

  // A cursor over a bucket's rows in key order; each Seek reads from a fresh
  // snapshot. Holds a reader connection until destroyed: keep it short-lived.
  Result<std::unique_ptr<Cursor>> NewCursor(std::string_view bucket) const;

 private:
  explicit ObjectIndex(std::string path);
  // A new connection; the writer's also creates the schema and checks its version.
  Result<std::unique_ptr<Conn>> Connect(bool writer) const;
  // A reader connection from the pool (or a new one), returned by ReleaseReader.
  Result<std::unique_ptr<Conn>> AcquireReader() const;
  void ReleaseReader(std::unique_ptr<Conn> c) const;
  // Runs `sql` (no results) on the writer connection; caller holds write_mu_.
  Status Exec(const char* sql);

  std::string path_;
  std::mutex write_mu_;
  std::unique_ptr<Conn> writer_;  // guarded by write_mu_
  mutable std::mutex readers_mu_;
  mutable std::vector<std::unique_ptr<Conn>> readers_;  // idle readers; guarded by readers_mu_
};

class ObjectIndex::Cursor {
 public:
  ~Cursor();
  // Positions at the first row with key >= `from` (in bytes).
  Status Seek(std::string_view from);
  bool Valid() const { return valid_; }
  // The current row (key, size, md5, mtime_ms, data_id, parts).
  const IndexedObject& row() const { return row_; }
  Status Next();

 private:
  friend class ObjectIndex;
  Cursor(const ObjectIndex* index, std::unique_ptr<Conn> conn, std::string bucket);
  Status Step();

  const ObjectIndex* index_;
  std::unique_ptr<Conn> conn_;
  std::string bucket_;
  bool valid_ = false;
  IndexedObject row_;
};

}  // namespace hydrant::store
