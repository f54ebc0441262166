#pragma once
// Re-running a model's embedded test vectors: the proof that a file computes
// what the training framework computed.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "trignet/format/batch_json.hpp"
#include "trignet/session.hpp"

namespace trignet {

/// Agreement of one output on one test vector.
struct OutputAgreement {
  std::size_t test_vector = 0;
  std::string output;
  std::size_t values = 0;
  std::size_t mismatches = 0;  // values outside |y - e| <= abs + rel * |e|
  double max_abs_error = 0;
  double max_rel_error = 0;    // |y - e| / |e|, over values with e != 0
  // The worst value relative to its allowance (first mismatch if any).
  std::size_t worst_index = 0;
  double worst_expected = 0;
  double worst_computed = 0;
};

struct VerificationReport {
  std::vector<OutputAgreement> outputs;
  bool passed() const {
    for (const OutputAgreement& o : outputs)
      if (o.mismatches) return false;
    return true;
  }
};

/// Runs every embedded test vector through a fresh session.
template <typename T>
VerificationReport verify_test_vectors(const std::shared_ptr<const Model<T>>& model) {
  VerificationReport report;
  Session<T> session(model);
  const ModelSpec& spec = model->spec();
  for (std::size_t t = 0; t < spec.test_vectors.size(); ++t) {
    const TestVector& tv = spec.test_vectors[t];
    std::vector<std::vector<T>> inputs(tv.inputs.size());
    std::vector<Span<const T>> views;
    for (std::size_t i = 0; i < tv.inputs.size(); ++i) {
      inputs[i].assign(tv.inputs[i].begin(), tv.inputs[i].end());
      views.emplace_back(inputs[i]);
    }
    session.run(Span<const Span<const T>>(views.data(), views.size()), tv.batch);
    for (std::size_t o = 0; o < tv.outputs.size(); ++o) {
      const Span<const T> y = session.output(o);
      const std::vector<double>& e = tv.outputs[o];
      OutputAgreement a;
      a.test_vector = t;
      a.output = spec.outputs[o].name;
      a.values = e.size();
      double worst_ratio = -1;
      for (std::size_t i = 0; i < e.size(); ++i) {
        const double got = static_cast<double>(y[i]);
        const double err = std::fabs(got - e[i]);
        const double allowed = tv.abs_tolerance + tv.rel_tolerance * std::fabs(e[i]);
        const bool ok = std::isnan(e[i]) ? std::isnan(got) : err <= allowed;
        const double ratio = ok ? err / (allowed > 0 ? allowed : 1) : std::numeric_limits<double>::infinity();
        if (!ok) ++a.mismatches;
        if (!std::isnan(err)) {
          a.max_abs_error = std::max(a.max_abs_error, err);
          if (e[i] != 0) a.max_rel_error = std::max(a.max_rel_error, err / std::fabs(e[i]));
        }
        if (ratio > worst_ratio) {
          worst_ratio = ratio;
          a.worst_index = i;
          a.worst_expected = e[i];
          a.worst_computed = got;
        }
      }
      report.outputs.push_back(a);
    }
  }
  return report;
}

/// One line per failing output, e.g. for a VerificationError.
inline std::string describe_failures(const ModelSpec& spec, const VerificationReport& report) {
  std::string text;
  for (const OutputAgreement& a : report.outputs) {
    if (!a.mismatches) continue;
    const TestVector& tv = spec.test_vectors[a.test_vector];
    text += "test_vectors[" + std::to_string(a.test_vector) + "].outputs." + a.output + ": " +
            std::to_string(a.mismatches) + " of " + std::to_string(a.values) +
            " values outside tolerance (abs " + format::number_text(tv.abs_tolerance, 6) + ", rel " +
            format::number_text(tv.rel_tolerance, 6) + "); flat index " +
            std::to_string(a.worst_index) + ": expected " +
            format::number_text(a.worst_expected, 9) + ", computed " +
            format::number_text(a.worst_computed, 9) + "\n";
  }
  return text;
}

}  // namespace trignet
