// The object index in SQLite (object_store_index.h). The schema is fixed here and
// restated in docs/object-store.md ("The index"); store_format.h names the file.

#include "destinations/object_store_index.h"

#include <sqlite3.h>

#include <cerrno>
#include <utility>

#include "destinations/store_format.h"

namespace hydrant::store {
namespace {

// Version 1. `attrs` holds store_format::EncodeAttrs (content type and encoding,
// user metadata, part sizes), or nothing for ObjectMeta's defaults and no parts:
// read by Get only, so listings read the narrow columns.
// objects_by_data answers "is this data file referenced?" for the orphan sweep
// without a scan.
constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS buckets(name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS objects("
    " bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, md5 BLOB NOT NULL,"
    " mtime_ms INTEGER NOT NULL, data_id INTEGER NOT NULL, parts INTEGER NOT NULL,"
    " attrs BLOB NOT NULL, PRIMARY KEY(bucket, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS objects_by_data ON objects(data_id);";
constexpr int kSchemaVersion = 1;  // PRAGMA user_version

// Idle reader connections kept open (each holds two or three fds and its page cache).
constexpr size_t kIdleReaders = 4;
// Page cache of each connection, KiB (SQLite's "-N" form).
constexpr int kCacheKiB = 4096;

enum Stmt {
  kGet,
  kScan,
  kRefs,
  kEmpty,
  kOldId,
  kUpsert,
  kDelete,
  kBegin,
  kCommit,
  kRollback,
  kStmtCount
};

constexpr const char* kSql[kStmtCount] = {
    "SELECT key, size, md5, mtime_ms, data_id, parts, attrs FROM objects"
    " WHERE bucket = ?1 AND key = ?2",
    "SELECT key, size, md5, mtime_ms, data_id, parts, attrs FROM objects"
    " WHERE bucket = ?1 AND key >= ?2 ORDER BY key",
    "SELECT 1 FROM objects WHERE data_id = ?2 AND bucket = ?1 LIMIT 1",
    "SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1",
    "SELECT data_id FROM objects WHERE bucket = ?1 AND key = ?2",
    "INSERT OR REPLACE INTO objects(bucket, key, size, md5, mtime_ms, data_id, parts, attrs)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void BindBlob(sqlite3_stmt* s, int i, std::string_view v) {
  // A zero-length blob, not NULL, for an empty value.
  sqlite3_bind_blob(s, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
}
std::string ColumnBytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

// Binds the row of `obj` to the kUpsert statement `s`.
sqlite3_stmt* BindUpsert(sqlite3_stmt* s, std::string_view bucket, const IndexedObject& obj) {
  BindText(s, 1, bucket);
  BindBlob(s, 2, obj.key);
  sqlite3_bind_int64(s, 3, static_cast<int64_t>(obj.size));
  BindBlob(s, 4, obj.md5);
  sqlite3_bind_int64(s, 5, obj.mtime_ms);
  sqlite3_bind_int64(s, 6, static_cast<int64_t>(obj.data_id));
  sqlite3_bind_int64(s, 7, static_cast<int64_t>(obj.part_sizes.size()));
  // Most objects (everything delivery writes) have the default attributes: stored
  // as an empty value, a quarter of a row.
  const ObjectMeta defaults;
  bool plain = obj.part_sizes.empty() && obj.meta.user_meta.empty() &&
               obj.meta.content_type == defaults.content_type &&
               obj.meta.content_encoding == defaults.content_encoding &&
               obj.meta.encryption.empty();
  BindBlob(s, 8, plain ? std::string() : store_format::EncodeAttrs(obj.meta, obj.part_sizes));
  return s;
}

// Reads the columns key, size, md5, mtime_ms, data_id, parts.
void ReadRow(sqlite3_stmt* s, IndexedObject* o) {
  o->key = ColumnBytes(s, 0);
  o->size = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
  o->md5 = ColumnBytes(s, 2);
  o->mtime_ms = sqlite3_column_int64(s, 3);
  o->data_id = static_cast<uint64_t>(sqlite3_column_int64(s, 4));
  o->parts = static_cast<size_t>(sqlite3_column_int64(s, 5));
}

}  // namespace

struct ObjectIndex::Conn {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt[kStmtCount] = {};
  ~Conn() {
    for (sqlite3_stmt* s : stmt) sqlite3_finalize(s);
    sqlite3_close(db);
  }
  // The statement `which`, reset and unbound, ready for new bindings.
  sqlite3_stmt* Get(Stmt which) {
    sqlite3_stmt* s = stmt[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }
  // The last error; an OS error (ENOSPC, EIO...) as Status::FromErrno makes it, as
  // the store's file operations report theirs.
  Status Error(std::string_view what) const {
    std::string m = "object index: " + std::string(what) + " (" + sqlite3_errmsg(db) + ")";
    int err = sqlite3_system_errno(db);
    if (sqlite3_errcode(db) == SQLITE_FULL && err == 0) err = ENOSPC;
    return err ? Status::FromErrno(m, err) : Status::IoError(m);
  }
};

namespace {

// Write transactions on the writer connection (caller holds write_mu_).
Status Begin(ObjectIndex::Conn* w) {
  if (sqlite3_step(w->Get(kBegin)) != SQLITE_DONE) return w->Error("begin");
  return Status::Ok();
}

// Rolls back; returns `st`.
Status Abort(ObjectIndex::Conn* w, Status st) {
  sqlite3_step(w->Get(kRollback));
  return st;
}

Status Commit(ObjectIndex::Conn* w) {
  if (sqlite3_step(w->Get(kCommit)) != SQLITE_DONE) return Abort(w, w->Error("commit"));
  return Status::Ok();
}

// The data id of the row of `key`, if there is one.
Result<std::optional<uint64_t>> FindDataId(ObjectIndex::Conn* w, std::string_view bucket,
                                           std::string_view key) {
  sqlite3_stmt* s = w->Get(kOldId);
  BindText(s, 1, bucket);
  BindBlob(s, 2, key);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return w->Error("find");
  std::optional<uint64_t> id;
  if (rc == SQLITE_ROW) id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  sqlite3_reset(s);
  return id;
}

}  // namespace

ObjectIndex::ObjectIndex(std::string path) : path_(std::move(path)) {}

ObjectIndex::~ObjectIndex() = default;

Result<std::unique_ptr<ObjectIndex::Conn>> ObjectIndex::Connect(bool writer) const {
  auto c = std::make_unique<Conn>();
  int rc = sqlite3_open_v2(path_.c_str(), &c->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return Status::IoError("open " + path_ + ": " +
                           (c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc)));
  }
  // A writer holds the lock for one short transaction; readers never block in WAL.
  sqlite3_busy_timeout(c->db, 10000);
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-" +
                        std::to_string(kCacheKiB) + ";";
  char* err = nullptr;
  // The writer (opened first, by Open) creates the schema; readers find it.
  if (sqlite3_exec(c->db, pragmas.c_str(), nullptr, nullptr, &err) != SQLITE_OK ||
      (writer && sqlite3_exec(c->db, kSchema, nullptr, nullptr, &err) != SQLITE_OK)) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    return Status::IoError("object index " + path_ + ": " + msg);
  }
  if (writer) {
    sqlite3_stmt* v = nullptr;
    int version = -1;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &v, nullptr) == SQLITE_OK &&
        sqlite3_step(v) == SQLITE_ROW) {
      version = sqlite3_column_int(v, 0);
    }
    sqlite3_finalize(v);
    if (version > kSchemaVersion) {
      return Status::Internal("object index " + path_ + " has version " +
                                        std::to_string(version) + ", newer than this hydrant's " +
                                        std::to_string(kSchemaVersion));
    }
    if (version < kSchemaVersion) {
      std::string set = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
      if (sqlite3_exec(c->db, set.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        return c->Error("set version");
      }
    }
  }
  for (int i = 0; i < kStmtCount; ++i) {
    if (sqlite3_prepare_v3(c->db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i], nullptr) !=
        SQLITE_OK) {
      return c->Error(std::string("prepare ") + kSql[i]);
    }
  }
  return c;
}

Result<std::unique_ptr<ObjectIndex>> ObjectIndex::Open(const std::string& path) {
  std::unique_ptr<ObjectIndex> index(new ObjectIndex(path));
  auto w = index->Connect(/*writer=*/true);
  if (!w.ok()) return w.status();
  index->writer_ = std::move(w).value();
  return index;
}

Result<std::unique_ptr<ObjectIndex::Conn>> ObjectIndex::AcquireReader() const {
  {
    std::lock_guard lock(readers_mu_);
    if (!readers_.empty()) {
      auto c = std::move(readers_.back());
      readers_.pop_back();
      return c;
    }
  }
  return Connect(/*writer=*/false);
}

void ObjectIndex::ReleaseReader(std::unique_ptr<Conn> c) const {
  for (sqlite3_stmt* s : c->stmt) sqlite3_reset(s);  // ends the read transaction
  std::lock_guard lock(readers_mu_);
  if (readers_.size() < kIdleReaders) readers_.push_back(std::move(c));
}

Status ObjectIndex::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(writer_->db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    return Status::IoError("object index: " + std::string(sql) + ": " + msg);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ObjectIndex::Buckets() const {
  auto c = AcquireReader();
  if (!c.ok()) return c.status();
  std::vector<std::string> out;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2((*c)->db, "SELECT name FROM buckets", -1, &s, nullptr) != SQLITE_OK) {
    return (*c)->Error("list buckets");
  }
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ColumnBytes(s, 0));
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return (*c)->Error("list buckets");
  ReleaseReader(std::move(c).value());
  return out;
}

Status ObjectIndex::AddBucket(std::string_view bucket) {
  std::lock_guard lock(write_mu_);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(writer_->db, "INSERT OR IGNORE INTO buckets(name) VALUES(?1)", -1, &s,
                         nullptr) != SQLITE_OK) {
    return writer_->Error("add bucket");
  }
  BindText(s, 1, bucket);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return writer_->Error("add bucket " + std::string(bucket));
  return Status::Ok();
}

Status ObjectIndex::DropBucket(std::string_view bucket) {
  std::lock_guard lock(write_mu_);
  HYDRANT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  int rc = SQLITE_DONE;
  for (const char* sql :
       {"DELETE FROM objects WHERE bucket = ?1", "DELETE FROM buckets WHERE name = ?1"}) {
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(writer_->db, sql, -1, &s, nullptr);
    if (rc == SQLITE_OK) {
      BindText(s, 1, bucket);
      rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) break;
  }
  if (rc != SQLITE_DONE) {
    Status st = writer_->Error("drop bucket " + std::string(bucket));
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<bool> ObjectIndex::Empty(std::string_view bucket) const {
  auto c = AcquireReader();
  if (!c.ok()) return c.status();
  sqlite3_stmt* s = (*c)->Get(kEmpty);
  BindText(s, 1, bucket);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return (*c)->Error("check bucket");
  ReleaseReader(std::move(c).value());
  return rc == SQLITE_DONE;
}

Result<bool> ObjectIndex::References(std::string_view bucket, uint64_t data_id) const {
  auto c = AcquireReader();
  if (!c.ok()) return c.status();
  sqlite3_stmt* s = (*c)->Get(kRefs);
  BindText(s, 1, bucket);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(data_id));
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return (*c)->Error("find data id");
  ReleaseReader(std::move(c).value());
  return rc == SQLITE_ROW;
}

Result<std::optional<IndexedObject>> ObjectIndex::Get(std::string_view bucket,
                                                      std::string_view key) const {
  auto c = AcquireReader();
  if (!c.ok()) return c.status();
  sqlite3_stmt* s = (*c)->Get(kGet);
  BindText(s, 1, bucket);
  BindBlob(s, 2, key);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    ReleaseReader(std::move(c).value());
    return std::optional<IndexedObject>();
  }
  if (rc != SQLITE_ROW) return (*c)->Error("get");
  IndexedObject o;
  ReadRow(s, &o);
  std::string attrs = ColumnBytes(s, 6);
  ReleaseReader(std::move(c).value());
  if (!attrs.empty() && !store_format::DecodeAttrs(attrs, &o.meta, &o.part_sizes)) {
    return Status::IoError("object index " + path_ + ": damaged attributes of key " +
                           std::string(key));
  }
  return std::optional<IndexedObject>(std::move(o));
}

Result<std::optional<uint64_t>> ObjectIndex::Put(std::string_view bucket,
                                                 const IndexedObject& obj) {
  std::lock_guard lock(write_mu_);
  Conn* w = writer_.get();
  HYDRANT_RETURN_IF_ERROR(Begin(w));
  auto old = FindDataId(w, bucket, obj.key);
  if (!old.ok()) return Abort(w, old.status());
  if (sqlite3_step(BindUpsert(w->Get(kUpsert), bucket, obj)) != SQLITE_DONE) {
    return Abort(w, w->Error("put"));
  }
  HYDRANT_RETURN_IF_ERROR(Commit(w));
  return *old;
}

Status ObjectIndex::PutMany(std::string_view bucket, const std::vector<IndexedObject>& objs) {
  std::lock_guard lock(write_mu_);
  Conn* w = writer_.get();
  HYDRANT_RETURN_IF_ERROR(Begin(w));
  for (const IndexedObject& obj : objs) {
    if (sqlite3_step(BindUpsert(w->Get(kUpsert), bucket, obj)) != SQLITE_DONE) {
      return Abort(w, w->Error("put"));
    }
  }
  return Commit(w);
}

Result<std::optional<uint64_t>> ObjectIndex::Remove(std::string_view bucket,
                                                    std::string_view key) {
  std::lock_guard lock(write_mu_);
  Conn* w = writer_.get();
  HYDRANT_RETURN_IF_ERROR(Begin(w));
  auto old = FindDataId(w, bucket, key);
  if (!old.ok()) return Abort(w, old.status());
  if (!*old) {
    (void)Abort(w, Status::Ok());  // nothing to remove
    return *old;
  }
  sqlite3_stmt* s = w->Get(kDelete);
  BindText(s, 1, bucket);
  BindBlob(s, 2, key);
  if (sqlite3_step(s) != SQLITE_DONE) return Abort(w, w->Error("delete"));
  HYDRANT_RETURN_IF_ERROR(Commit(w));
  return *old;
}

Result<std::unique_ptr<ObjectIndex::Cursor>> ObjectIndex::NewCursor(std::string_view bucket) const {
  auto c = AcquireReader();
  if (!c.ok()) return c.status();
  return std::unique_ptr<Cursor>(new Cursor(this, std::move(c).value(), std::string(bucket)));
}

ObjectIndex::Cursor::Cursor(const ObjectIndex* index, std::unique_ptr<Conn> conn,
                            std::string bucket)
    : index_(index), conn_(std::move(conn)), bucket_(std::move(bucket)) {}

ObjectIndex::Cursor::~Cursor() { index_->ReleaseReader(std::move(conn_)); }

Status ObjectIndex::Cursor::Seek(std::string_view from) {
  sqlite3_stmt* s = conn_->Get(kScan);
  BindText(s, 1, bucket_);
  BindBlob(s, 2, from);
  return Step();
}

Status ObjectIndex::Cursor::Next() { return Step(); }

Status ObjectIndex::Cursor::Step() {
  sqlite3_stmt* s = conn_->stmt[kScan];
  int rc = sqlite3_step(s);
  valid_ = rc == SQLITE_ROW;
  if (valid_) {
    ReadRow(s, &row_);
    // The attributes of encrypted objects only (their listed size is the
    // plaintext's, which needs the record and the part sizes).
    row_.meta = ObjectMeta();
    row_.part_sizes.clear();
    const char* a = static_cast<const char*>(sqlite3_column_blob(s, 6));
    std::string_view attrs(a ? a : "", static_cast<size_t>(sqlite3_column_bytes(s, 6)));
    if (attrs.find("\nsse ") != std::string_view::npos &&
        !store_format::DecodeAttrs(attrs, &row_.meta, &row_.part_sizes)) {
      return Status::IoError("object index " + index_->path_ + ": damaged attributes of key " +
                             row_.key);
    }
    return Status::Ok();
  }
  if (rc == SQLITE_DONE) return Status::Ok();
  return conn_->Error("list");
}

}  // namespace hydrant::store
