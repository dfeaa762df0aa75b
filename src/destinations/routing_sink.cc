#include "destinations/routing_sink.h"

#include <utility>

namespace hydrant::store {

RoutingSink::RoutingSink(ObjectSink* fallback, std::shared_ptr<ObjectSink> default_remote,
                         std::map<std::string, std::shared_ptr<ObjectSink>, std::less<>> by_bucket)
    : fallback_(fallback),
      default_remote_(std::move(default_remote)),
      by_bucket_(std::move(by_bucket)) {}

ObjectSink* RoutingSink::Route(std::string_view bucket) const {
  if (auto it = by_bucket_.find(bucket); it != by_bucket_.end()) return it->second.get();
  return default_remote_ ? default_remote_.get() : fallback_;
}

Result<std::unique_ptr<ObjectWriter>> RoutingSink::BeginPut(std::string_view bucket,
                                                            std::string_view key,
                                                            const ObjectMeta& meta) {
  return Route(bucket)->BeginPut(bucket, key, meta);
}

Status RoutingSink::CheckAccess(std::string_view bucket, const ObjectMeta& meta) {
  return Route(bucket)->CheckAccess(bucket, meta);
}

}  // namespace hydrant::store
