#include "processing/processing_spec.h"

#include <boost/json.hpp>

namespace hydrant::processing {

namespace json = boost::json;

Result<ProcessorParameters> ReadProcessorParameters(const json::object& processor) {
  ProcessorParameters out;
  const json::value* params = processor.if_contains("Parameters");
  if (params == nullptr || params->is_null()) return out;
  if (!params->is_array()) return Status::InvalidArgument("Processor Parameters is not a list");
  for (const json::value& p : params->get_array()) {
    const json::object* o = p.if_object();
    const json::value* name = o ? o->if_contains("ParameterName") : nullptr;
    const json::value* value = o ? o->if_contains("ParameterValue") : nullptr;
    if (name == nullptr || !name->is_string() || value == nullptr || !value->is_string()) {
      return Status::InvalidArgument(
          "each processor parameter needs a string ParameterName and ParameterValue");
    }
    std::string key(name->get_string());
    if (!out.emplace(key, std::string(value->get_string())).second) {
      return Status::InvalidArgument("processor parameter " + key + " is given more than once");
    }
  }
  return out;
}

ProcessingSpec ParseProcessingSpec(const json::object& pc) {
  ProcessingSpec spec;
  const json::value* enabled = pc.if_contains("Enabled");
  if (enabled != nullptr && !enabled->is_bool() && !enabled->is_null()) {
    spec.invalid = "ProcessingConfiguration Enabled must be a boolean";
    return spec;
  }
  spec.enabled = enabled != nullptr && enabled->is_bool() && enabled->get_bool();
  if (!spec.enabled) return spec;
  const json::value* processors = pc.if_contains("Processors");
  if (processors == nullptr || processors->is_null()) return spec;
  if (!processors->is_array()) {
    spec.invalid = "ProcessingConfiguration Processors must be a list";
    return spec;
  }
  for (const json::value& p : processors->get_array()) {
    const json::object* po = p.if_object();
    const json::value* type = po ? po->if_contains("Type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      spec.invalid = "each processor needs a string Type";
      return spec;
    }
    ProcessorSpec ps;
    ps.type = std::string(type->get_string());
    auto params = ReadProcessorParameters(*po);
    if (params.ok()) {
      ps.parameters = std::move(params).value();
    } else {
      ps.invalid = params.status().message();
    }
    spec.processors.push_back(std::move(ps));
  }
  return spec;
}

std::string ProcessingSpec::LambdaArn() const {
  if (!enabled) return "";
  for (const auto& p : processors) {
    if (p.type != "Lambda") continue;
    if (auto it = p.parameters.find("LambdaArn"); it != p.parameters.end()) return it->second;
  }
  return "";
}

}  // namespace hydrant::processing
