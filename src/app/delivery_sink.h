#pragma once
// The ObjectSink delivery writes through: the [s3] configuration turned into a
// RoutingSink over the embedded store and the remote S3 services it names.

#include <memory>

#include "app/config.h"
#include "common/status.h"
#include "destinations/object_store.h"
#include "destinations/routing_sink.h"

namespace hydrant::app {

// `embedded` (the embedded store, or a sink in front of it) must outlive the result. A remote's region defaults to cfg.account.region.
// InvalidArgument naming the [s3] entry when a remote cannot be set up.
Result<std::unique_ptr<store::RoutingSink>> MakeDeliverySink(const Config& cfg,
                                                             store::ObjectSink* embedded);

}  // namespace hydrant::app
