#pragma once
// RoutingSink: picks, per bucket, where delivery writes: a bucket's own sink if
// one is configured for it, else the default remote (if any), else the embedded
// store. The routes are fixed at construction. Thread-safe as its sinks are.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "destinations/object_store.h"

namespace hydrant::store {

class RoutingSink final : public ObjectSink {
 public:
  // `fallback` (the embedded store) must outlive this; `default_remote` may be null.
  RoutingSink(ObjectSink* fallback, std::shared_ptr<ObjectSink> default_remote,
              std::map<std::string, std::shared_ptr<ObjectSink>, std::less<>> by_bucket);

  ObjectSink* Route(std::string_view bucket) const;

  Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view bucket, std::string_view key,
                                                 const ObjectMeta& meta) override;
  Status CheckAccess(std::string_view bucket, const ObjectMeta& meta) override;
  bool WritesLocalDisk(std::string_view bucket) const override {
    return Route(bucket)->WritesLocalDisk(bucket);
  }

 private:
  ObjectSink* fallback_;
  std::shared_ptr<ObjectSink> default_remote_;
  std::map<std::string, std::shared_ptr<ObjectSink>, std::less<>> by_bucket_;
};

}  // namespace hydrant::store
