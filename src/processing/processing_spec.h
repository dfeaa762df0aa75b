#pragma once
// ProcessingSpec: a stream's ProcessingConfiguration read once into types, for the
// pipeline (Pipeline::Create), the API's checks and the doctor. JSON stays at the
// edge: ParseProcessingSpec is the one place that reads the stored
// ProcessingConfiguration object.
//
// A configuration that cannot be read (hand-edited stream.json, or a rule the API
// did not check) is kept as read so far with the reason in `invalid`: the stream
// then knows processing was asked for, and never delivers untransformed records.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "common/status.h"

namespace hydrant::processing {

// A processor's parameters: ParameterName -> ParameterValue.
using ProcessorParameters = std::map<std::string, std::string, std::less<>>;

struct ProcessorSpec {
  std::string type;  // "Lambda", "Decompression", ... (not checked here)
  ProcessorParameters parameters;
  // Non-empty: the processor's Parameters could not be read (the message).
  std::string invalid;
};

struct ProcessingSpec {
  bool enabled = false;                  // Enabled: true
  std::vector<ProcessorSpec> processors;  // as listed (only read when enabled)
  // Non-empty: the configuration could not be read past `processors` (the message).
  std::string invalid;

  // The Lambda processor's LambdaArn when enabled with one; "" otherwise.
  std::string LambdaArn() const;
};

// Reads a ProcessingConfiguration object. Never fails: problems go to `invalid`
// (of the spec, or of the processor whose Parameters are malformed).
ProcessingSpec ParseProcessingSpec(const boost::json::object& processing_configuration);

// Reads the "Parameters" array of a Processor object; a repeated name is
// InvalidArgument.
Result<ProcessorParameters> ReadProcessorParameters(const boost::json::object& processor);

}  // namespace hydrant::processing
