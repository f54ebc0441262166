#pragma once
// load_model: file or text -> validated, compiled, verified, shareable Model.

#include <memory>
#include <string>

#include "trignet/format/load_spec.hpp"
#include "trignet/model.hpp"
#include "trignet/verify.hpp"

namespace trignet {

struct LoadOptions {
  /// Re-run the embedded test vectors and throw VerificationError on disagreement.
  bool verify_test_vectors = true;
  /// What a file may declare: file size, nodes, weights, tensor sizes
  /// (FormatError beyond them, before allocating; see docs/errors.md).
  ResourceLimits limits = ResourceLimits();
  /// Where load_model_from_string looks for a binary "weights_file" (load_model
  /// uses the model file's directory). Empty: the text may not reference one.
  std::string weights_directory = std::string();
  /// Compile in reproducible mode (Model's CompileOptions::reproducible).
  bool reproducible = false;
};

/// Compiles a spec for scalar type T (float or double).
template <typename T = float>
std::shared_ptr<const Model<T>> compile_model(ModelSpec spec, const LoadOptions& options = {}) {
  // A spec built in code has not met the limits yet: check before compiling allocates.
  analyse(spec, options.limits);
  CompileOptions compile_options;
  compile_options.reproducible = options.reproducible;
  auto model = std::make_shared<const Model<T>>(std::move(spec), compile_options);
  if (options.verify_test_vectors && !model->spec().test_vectors.empty()) {
    const VerificationReport report = verify_test_vectors(model);
    if (!report.passed())
    {
      std::string failures = describe_failures(model->spec(), report);
      if (!failures.empty() && failures.back() == '\n') failures.pop_back();
      throw VerificationError("trignet: " + model->spec().source +
                              ": embedded test vectors do not reproduce:\n" + failures);
    }
  }
  return model;
}

/// Loads a model file. Throws FormatError (bad file), VerificationError.
template <typename T = float>
std::shared_ptr<const Model<T>> load_model(const std::string& path, const LoadOptions& options = {}) {
  return compile_model<T>(load_model_spec(path, options.limits), options);
}

/// Loads a model from JSON text; `source` names it in error messages.
template <typename T = float>
std::shared_ptr<const Model<T>> load_model_from_string(const std::string& json,
                                                       const LoadOptions& options = {},
                                                       const std::string& source = "<string>") {
  return compile_model<T>(parse_model_spec(json, source, options.limits, options.weights_directory),
                          options);
}

}  // namespace trignet
