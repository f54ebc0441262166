#pragma once
// The optional binary weight file of format v1 (docs/format.md, "Binary
// weight file"): little-endian float32 values that weights reference by
// element offset instead of carrying a "data" array. Parsing 50 MB of JSON
// numbers costs seconds; reading the same weights as bytes costs milliseconds.
// The file is named by a path relative to the model file and pinned by its
// SHA-256 and size, so a model never runs with weights it was not made with.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "trignet/detail/sha256.hpp"
#include "trignet/error.hpp"
#include "trignet/format/json_reader.hpp"
#include "trignet/graph.hpp"
#include "trignet/weights.hpp"

namespace trignet::format {

/// The values of a verified weight file, in file order.
struct WeightsFile {
  std::string path;  // as resolved, for messages
  std::vector<float> values;
};

namespace detail {

inline bool host_is_little_endian() {
  const std::uint32_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

/// A relative path without "..": the weight file travels with its model file
/// and a model file cannot make the loader read elsewhere.
inline std::filesystem::path checked_relative_path(const JsonReader& j) {
  const std::string text = j.string();
  const std::filesystem::path p(text);
  if (text.empty() || p.is_absolute() || p.has_root_name() || p.has_root_directory())
    j.fail("expected a path relative to the model file's directory, found \"" + text + "\"");
  for (const auto& part : p)
    if (part == "..") j.fail("the path must not leave the model file's directory (\"..\" in \"" + text + "\")");
  return p;
}

}  // namespace detail

/// Reads and verifies the file described by the top-level "weights_file"
/// object. `base_directory` is the model file's directory; empty means the
/// model came from text with no directory (FormatError: say where it is).
inline WeightsFile read_weights_file(const JsonReader& j, const std::string& base_directory,
                                     const ResourceLimits& limits) {
  j.only_keys({"path", "sha256", "bytes"});
  const std::filesystem::path relative = detail::checked_relative_path(j.at("path"));
  const JsonReader sha = j.at("sha256");
  const std::string expected_sha = sha.string();
  if (expected_sha.size() != 64 ||
      expected_sha.find_first_not_of("0123456789abcdef") != std::string::npos)
    sha.fail("expected 64 lower-case hexadecimal digits");
  const JsonReader bytes_reader = j.at("bytes");
  const long long declared = bytes_reader.integer();
  if (declared < 0 || declared % 4 != 0)
    bytes_reader.fail("expected a non-negative multiple of 4 (float32 values), found " +
                      std::to_string(declared));
  const std::size_t bytes = static_cast<std::size_t>(declared);
  if (bytes / 4 > limits.max_weight_elements)
    bytes_reader.fail(std::to_string(bytes / 4) + " weight elements, more than " +
                      std::to_string(limits.max_weight_elements) +
                      " (ResourceLimits::max_weight_elements)");
  if (base_directory.empty())
    j.fail("a model with a binary weight file must be loaded from its file (load_model(path)) "
           "or given the file's directory (LoadOptions::weights_directory)");

  WeightsFile out;
  out.path = (std::filesystem::path(base_directory) / relative).string();
  std::error_code ec;
  const std::uintmax_t actual = std::filesystem::file_size(out.path, ec);
  if (ec) j.at("path").fail("cannot read weight file " + out.path + ": " + ec.message());
  if (actual != bytes)
    j.at("path").fail("weight file " + out.path + " has " + std::to_string(actual) +
                      " bytes, the model declares " + std::to_string(bytes) +
                      " (truncated or replaced file?)");
  std::vector<unsigned char> raw(bytes);
  std::ifstream file(out.path, std::ios::binary);
  if (!file || !file.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(bytes)))
    j.at("path").fail("cannot read weight file " + out.path);

  trignet::detail::Sha256 hash;
  hash.update(raw.data(), raw.size());
  const std::string actual_sha = hash.finish_hex();
  if (actual_sha != expected_sha)
    sha.fail("weight file " + out.path + " has SHA-256 " + actual_sha +
             ": not the file this model was written with");

  out.values.resize(bytes / 4);
  if (!detail::host_is_little_endian())
    for (std::size_t i = 0; i < bytes; i += 4) {
      std::swap(raw[i], raw[i + 3]);
      std::swap(raw[i + 1], raw[i + 2]);
    }
  if (bytes) std::memcpy(out.values.data(), raw.data(), bytes);
  return out;
}

/// The values of one weight given as {"shape", "offset"}: `count` elements
/// from element `offset` of the verified file, which must all be finite.
inline std::vector<float> weight_values_from_file(const JsonReader& offset_reader, std::size_t count,
                                                  const WeightsFile* file) {
  if (!file)
    offset_reader.fail("\"offset\" refers to a binary weight file, but the model has no "
                       "top-level \"weights_file\"");
  const long long offset = offset_reader.integer();
  if (offset < 0) offset_reader.fail("expected a non-negative element offset, found " + std::to_string(offset));
  const std::size_t first = static_cast<std::size_t>(offset);
  if (first > file->values.size() || count > file->values.size() - first)
    offset_reader.fail("elements [" + std::to_string(first) + ", " + std::to_string(first) + " + " +
                       std::to_string(count) + ") lie beyond the weight file's " +
                       std::to_string(file->values.size()) + " elements");
  std::vector<float> values(file->values.begin() + static_cast<std::ptrdiff_t>(first),
                            file->values.begin() + static_cast<std::ptrdiff_t>(first + count));
  for (std::size_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i]))
      offset_reader.fail("element " + std::to_string(i) + " (file element " + std::to_string(first + i) +
                         ") is " + (std::isnan(values[i]) ? "NaN" : "infinite") +
                         ": weights must be finite float32 values");
  return values;
}

}  // namespace trignet::format
