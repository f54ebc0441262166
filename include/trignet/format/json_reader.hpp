#pragma once
// A strict, path-tracking view of a parsed JSON document: every accessor
// checks the type it expects and every failure names the JSON path.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trignet/error.hpp"
#include "trignet/shape.hpp"

namespace trignet::format {

/// Largest element count accepted for one tensor (guards against absurd shapes
/// before anything is allocated).
inline constexpr std::size_t max_tensor_elements = std::size_t(1) << 31;

/// Deepest nesting accepted: model files need a handful of levels, and a limit
/// keeps hostile files from exhausting the stack in recursive JSON code.
inline constexpr int max_json_depth = 64;

/// Parser callback that rejects deep nesting and repeated keys in an object
/// (which nlohmann would otherwise resolve silently, last one wins).
inline nlohmann::json::parser_callback_t strict_json_callback(const std::string& source) {
  auto keys = std::make_shared<std::vector<std::vector<std::string>>>();
  return [keys, source](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (depth > max_json_depth)
      throw FormatError("trignet: " + source + ": JSON nested deeper than " +
                        std::to_string(max_json_depth) + " levels");
    if (event == Event::object_start) {
      keys->emplace_back();
    } else if (event == Event::object_end) {
      if (!keys->empty()) keys->pop_back();
    } else if (event == Event::key && !keys->empty()) {
      const std::string key = parsed.get<std::string>();
      auto& seen = keys->back();
      if (std::find(seen.begin(), seen.end(), key) != seen.end())
        throw FormatError("trignet: " + source + ": duplicate key \"" + key +
                          "\" in one JSON object (the file is ambiguous)");
      seen.push_back(key);
    }
    return true;
  };
}

/// Parses JSON text strictly (depth limit, no repeated keys). Every failure,
/// nlohmann's own exceptions included, becomes a FormatError naming `source`.
inline nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text, strict_json_callback(source));
  } catch (const nlohmann::json::exception& e) {
    // Syntax errors (truncated files end here, with the byte position) and
    // numbers beyond double range.
    std::string what = e.what();
    const auto pos = what.find("] ");
    throw FormatError("trignet: " + source + ": malformed JSON: " +
                      (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
}

class JsonReader {
 public:
  /// Keeps pointers to `value` and `source`: both must outlive the reader.
  JsonReader(const nlohmann::json& value, std::string path, const std::string& source)
      : value_(&value), path_(std::move(path)), source_(&source) {}
  // A temporary would dangle (e.g. a string literal as source): not allowed.
  JsonReader(const nlohmann::json& value, std::string path, std::string&& source) = delete;
  JsonReader(nlohmann::json&& value, std::string path, const std::string& source) = delete;

  const std::string& path() const { return path_; }
  const nlohmann::json& json() const { return *value_; }

  [[noreturn]] void fail(const std::string& message) const {
    const std::string where = source_->empty() ? "" : *source_ + ": ";
    throw FormatError("trignet: " + where + (path_.empty() ? "(top level)" : path_) + ": " +
                      message);
  }

  /// "an object", "the string \"abc\"", "the number 3.5": for "found ..." messages.
  std::string describe() const {
    const nlohmann::json& v = *value_;
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array of " + std::to_string(v.size());
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 40) + "...";
      return "the string \"" + s + "\"";
    }
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_null()) return "null";
    return "the number " + v.dump();
  }

  void expect_object() const {
    if (!value_->is_object()) fail("expected an object, found " + describe());
  }
  void expect_array() const {
    if (!value_->is_array()) fail("expected an array, found " + describe());
  }

  bool has(const char* key) const { return value_->is_object() && value_->contains(key); }

  JsonReader at(const char* key) const {
    expect_object();
    auto it = value_->find(key);
    if (it == value_->end()) fail("missing required key \"" + std::string(key) + "\"");
    return JsonReader(*it, child_path(key), *source_);
  }

  std::optional<JsonReader> find(const char* key) const {
    expect_object();
    auto it = value_->find(key);
    if (it == value_->end()) return std::nullopt;
    return JsonReader(*it, child_path(key), *source_);
  }

  /// The object at `key`, or an empty object (with the same path) when absent.
  JsonReader object_or_empty(const char* key) const {
    static const nlohmann::json empty = nlohmann::json::object();
    std::optional<JsonReader> found = find(key);
    JsonReader r = found ? *found : JsonReader(empty, child_path(key), *source_);
    r.expect_object();
    return r;
  }

  std::size_t size() const {
    expect_array();
    return value_->size();
  }

  JsonReader operator[](std::size_t i) const {
    expect_array();
    return JsonReader((*value_)[i], path_ + "[" + std::to_string(i) + "]", *source_);
  }

  /// Rejects keys outside `allowed`, so typos in a file never pass silently.
  void only_keys(std::initializer_list<const char*> allowed) const {
    expect_object();
    for (auto it = value_->begin(); it != value_->end(); ++it) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || it.key() == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        JsonReader(it.value(), child_path(it.key()), *source_)
            .fail("unknown key (allowed here: " + (list.empty() ? "none" : list) + ")");
      }
    }
  }

  std::string string() const {
    if (!value_->is_string()) fail("expected a string, found " + describe());
    return value_->get<std::string>();
  }

  bool boolean() const {
    if (!value_->is_boolean()) fail("expected true or false, found " + describe());
    return value_->get<bool>();
  }

  double number() const {
    if (!value_->is_number()) fail("expected a number, found " + describe());
    const double v = value_->get<double>();
    if (!std::isfinite(v)) fail("expected a finite number, found " + describe());
    return v;
  }

  long long integer() const {
    if (!value_->is_number_integer()) fail("expected an integer, found " + describe());
    if (value_->is_number_unsigned() &&
        value_->get<unsigned long long>() >
            static_cast<unsigned long long>(std::numeric_limits<long long>::max()))
      fail("integer out of range, found " + describe());
    return value_->get<long long>();
  }

  std::size_t positive_integer() const {
    const long long v = integer();
    if (v <= 0) fail("expected a positive integer, found " + std::to_string(v));
    return static_cast<std::size_t>(v);
  }

  /// A shape: non-empty array of positive integers with a bounded element count.
  Shape shape() const {
    expect_array();
    if (value_->empty()) fail("expected a shape of rank >= 1, found []");
    Shape s;
    std::size_t total = 1;
    for (std::size_t i = 0; i < value_->size(); ++i) {
      const std::size_t d = (*this)[i].positive_integer();
      if (d > max_tensor_elements || total > max_tensor_elements / d)
        fail("shape has more than " + std::to_string(max_tensor_elements) + " elements");
      total *= d;
      s.push_back(d);
    }
    return s;
  }

  std::vector<long long> integer_array() const {
    expect_array();
    std::vector<long long> out;
    out.reserve(value_->size());
    for (std::size_t i = 0; i < value_->size(); ++i) out.push_back((*this)[i].integer());
    return out;
  }

  std::vector<std::string> string_array() const {
    expect_array();
    std::vector<std::string> out;
    out.reserve(value_->size());
    for (std::size_t i = 0; i < value_->size(); ++i) out.push_back((*this)[i].string());
    return out;
  }

  /// Numbers rounded to float32; each must be finite after rounding.
  std::vector<float> float_array() const {
    expect_array();
    std::vector<float> out;
    out.reserve(value_->size());
    std::size_t i = 0;
    for (const auto& v : *value_) {
      if (!v.is_number())
        (*this)[i].fail("expected a number, found " + JsonReader(v, "", *source_).describe());
      const float f = static_cast<float>(v.get<double>());
      if (!std::isfinite(f))
        (*this)[i].fail("expected a finite float32 value, found " + v.dump() +
                        (std::isfinite(v.get<double>()) ? " (beyond float32 range)" : ""));
      out.push_back(f);
      ++i;
    }
    return out;
  }

 private:
  std::string child_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  const nlohmann::json* value_;
  std::string path_;
  const std::string* source_;
};

}  // namespace trignet::format
