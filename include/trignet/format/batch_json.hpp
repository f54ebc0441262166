#pragma once
// Batch-first nested JSON arrays <-> flat batch-major buffers: how test vectors,
// `trignet run` inputs and outputs are written.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "trignet/detail/text.hpp"
#include "trignet/format/json_reader.hpp"
#include "trignet/shape.hpp"

namespace trignet::format {

namespace detail {

inline void read_nested(const JsonReader& j, const Shape& shape, std::size_t axis,
                        std::vector<double>& out) {
  if (axis == shape.size()) {
    // null stands for NaN, which JSON cannot spell (see write_batch).
    out.push_back(j.json().is_null() ? std::numeric_limits<double>::quiet_NaN() : j.number());
    return;
  }
  if (!j.json().is_array())
    j.fail("expected an array of " + std::to_string(shape[axis]) + " (per-sample shape " +
           to_string(shape) + "; values are batch-first arrays [batch, ...]), found " +
           j.describe());
  const std::size_t n = j.size();
  if (n != shape[axis])
    j.fail("expected an array of " + std::to_string(shape[axis]) + " (per-sample shape " +
           to_string(shape) + "), found " + j.describe());
  for (std::size_t i = 0; i < n; ++i) read_nested(j[i], shape, axis + 1, out);
}

}  // namespace detail

/// Reads a batch-first nested array of shape [batch, *shape]; returns the batch size.
inline std::size_t read_batch(const JsonReader& j, const Shape& shape, std::vector<double>& out) {
  if (!j.json().is_array())
    j.fail("expected a batch-first array [batch, " + to_string(shape).substr(1) + ", found " +
           j.describe());
  const std::size_t batch = j.size();
  if (batch == 0) j.fail("expected at least one sample, found an empty array");
  out.clear();
  // Reserve only a bounded amount up front: a short file can declare many
  // samples of a large shape ([[],[],...]) and must fail on its first sample,
  // not on a huge allocation.
  const std::size_t per_sample = element_count(shape);
  constexpr std::size_t reserve_limit = std::size_t(1) << 20;
  if (per_sample != 0 && batch <= reserve_limit / per_sample) out.reserve(batch * per_sample);
  for (std::size_t b = 0; b < batch; ++b) detail::read_nested(j[b], shape, 0, out);
  return batch;
}

/// Values for named inputs, as `trignet run` reads them: batch-major per input.
struct NamedBatches {
  std::size_t batch = 0;
  std::vector<std::vector<double>> values;  // one per name, batch x element_count(shape)
};

/// Reads an object {"name": batch-first array, ...} holding every one of
/// `names` (with per-sample `shapes`) and nothing else, all with the same batch
/// size. null stands for NaN. Throws FormatError naming the JSON path.
inline NamedBatches read_named_batches(const JsonReader& root, const std::vector<std::string>& names,
                                       const std::vector<Shape>& shapes) {
  auto quoted = [&] {
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
    return list;
  };
  root.expect_object();
  for (auto it = root.json().begin(); it != root.json().end(); ++it)
    if (std::find(names.begin(), names.end(), it.key()) == names.end())
      root.at(it.key().c_str())
          .fail("unknown input name '" + it.key() + "' (the model's inputs: " + quoted() + ")");
  NamedBatches result;
  result.values.resize(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::optional<JsonReader> entry = root.find(names[i].c_str());
    if (!entry) root.fail("missing input '" + names[i] + "' (the model's inputs: " + quoted() + ")");
    const std::size_t batch = read_batch(*entry, shapes[i], result.values[i]);
    if (i > 0 && batch != result.batch)
      entry->fail("expected a batch of " + std::to_string(result.batch) + " samples like input '" +
                  names[0] + "', found " + std::to_string(batch));
    result.batch = batch;
  }
  return result;
}

/// A number as JSON text (9 significant digits for float32, 17 for float64).
/// JSON has no NaN or infinity: they are written as null (read back as NaN).
inline std::string number_text(double v, int digits) {
  return std::isfinite(v) ? trignet::detail::number_text(v, digits) : "null";
}

/// Writes a flat batch-major buffer as a batch-first nested array.
template <typename T>
std::string write_batch(const T* data, std::size_t batch, const Shape& shape, int digits) {
  std::string s;
  const std::size_t per_sample = element_count(shape);
  // span[a]: elements in one block of axis a of the [batch, *shape] tensor; a
  // block opens where the flat index is a multiple of it and closes before the next.
  Shape full{batch};
  full.insert(full.end(), shape.begin(), shape.end());
  std::vector<std::size_t> span(full.size());
  span.back() = full.back();
  for (std::size_t a = full.size() - 1; a-- > 0;) span[a] = full[a] * span[a + 1];
  const std::size_t total = batch * per_sample;
  for (std::size_t i = 0; i < total; ++i) {
    for (std::size_t a = 0; a < full.size(); ++a)
      if (i % span[a] == 0) s += '[';
    s += number_text(static_cast<double>(data[i]), digits);
    bool closed = false;
    for (std::size_t a = full.size(); a-- > 0;)
      if ((i + 1) % span[a] == 0) {
        s += ']';
        closed = true;
      }
    if (i + 1 < total) s += closed ? ",\n" : ", ";
  }
  return s;
}

}  // namespace trignet::format
