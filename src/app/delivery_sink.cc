#include "app/delivery_sink.h"

#include <spdlog/spdlog.h>

#include <map>
#include <string>

#include "remote/remote_s3_sink.h"

namespace hydrant::app {
namespace {

Result<std::shared_ptr<store::ObjectSink>> MakeRemote(const std::string& what,
                                                      remote::RemoteS3Options o,
                                                      const Config& cfg) {
  if (o.region.empty()) o.region = cfg.account.region;
  auto sink = remote::RemoteS3Sink::Create(std::move(o));
  if (!sink.ok()) return Status::InvalidArgument(what + ": " + sink.status().message());
  const auto& opts = (*sink)->options();
  spdlog::info("event=remote_s3 route={} endpoint={} region={} addressing={} assume_role={}", what,
               (*sink)->endpoint(), opts.region,
               opts.addressing == remote::RemoteS3Options::Addressing::kVirtual ? "virtual"
                                                                                : "path",
               opts.assume_role);
  return std::shared_ptr<store::ObjectSink>(std::move(sink).value());
}

}  // namespace

Result<std::unique_ptr<store::RoutingSink>> MakeDeliverySink(const Config& cfg,
                                                             store::ObjectSink* embedded) {
  std::shared_ptr<store::ObjectSink> def;
  if (cfg.s3_default_remote) {
    auto r = MakeRemote("s3 (default)", cfg.s3_default, cfg);
    if (!r.ok()) return r.status();
    def = std::move(r).value();
  }
  // An embedded route is a non-owning pointer to the store (or its wrapper).
  std::shared_ptr<store::ObjectSink> embedded_route(embedded, [](store::ObjectSink*) {});
  std::map<std::string, std::shared_ptr<store::ObjectSink>, std::less<>> routes;
  for (const auto& b : cfg.s3_buckets) {
    if (b.embedded) {
      routes[b.name] = embedded_route;
      continue;
    }
    auto r = MakeRemote("s3 bucket " + b.name, b.remote, cfg);
    if (!r.ok()) return r.status();
    routes[b.name] = std::move(r).value();
  }
  return std::make_unique<store::RoutingSink>(embedded, std::move(def), std::move(routes));
}

}  // namespace hydrant::app
