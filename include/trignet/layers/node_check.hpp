#pragma once
// What a layer's validation sees of its node: its input shapes and weights,
// and a way to report a problem with the exact place in the model file.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "trignet/error.hpp"
#include "trignet/shape.hpp"
#include "trignet/weights.hpp"

namespace trignet {

class NodeCheck {
 public:
  NodeCheck(std::string source, std::size_t node_index, std::string node_name,
            std::string node_type, std::vector<Shape> input_shapes, const WeightMap& weights)
      : source_(std::move(source)),
        index_(node_index),
        name_(std::move(node_name)),
        type_(std::move(node_type)),
        inputs_(std::move(input_shapes)),
        weights_(weights) {}

  std::size_t input_count() const { return inputs_.size(); }
  const Shape& input(std::size_t i) const { return inputs_.at(i); }
  const std::vector<Shape>& inputs() const { return inputs_; }

  /// Throws a FormatError naming the file, `nodes[i].<field>` and the node.
  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    std::string where = source_.empty() ? std::string() : source_ + ": ";
    where += "nodes[" + std::to_string(index_) + "]";
    if (!field.empty()) where += "." + field;
    throw FormatError("trignet: " + where + ": " + message + " (node '" + name_ + "', " + type_ +
                      ")");
  }

  void expect_inputs(std::size_t n) const {
    if (inputs_.size() != n)
      fail("inputs", "expected " + std::to_string(n) + " input" + (n == 1 ? "" : "s") +
                         ", found " + std::to_string(inputs_.size()));
  }
  void expect_at_least_inputs(std::size_t n) const {
    if (inputs_.size() < n)
      fail("inputs", "expected at least " + std::to_string(n) + " inputs, found " +
                         std::to_string(inputs_.size()));
  }
  void expect_min_rank(std::size_t input, std::size_t rank) const {
    if (inputs_.at(input).size() < rank)
      fail("inputs", "expected input " + std::to_string(input) + " of rank >= " +
                         std::to_string(rank) + ", found shape " + to_string(inputs_.at(input)));
  }

  /// Rejects any weight whose name is not listed (catches typos and wrong layer types).
  void allow_weights(std::initializer_list<const char*> names) const {
    for (const auto& entry : weights_) {
      bool known = false;
      for (const char* n : names) known = known || entry.first == n;
      if (!known) {
        std::string list;
        for (const char* n : names) list += std::string(list.empty() ? "" : ", ") + n;
        fail("weights." + entry.first,
             "unexpected weight (this layer takes: " + (list.empty() ? "none" : list) + ")");
      }
    }
  }

  /// The named weight as it is in the file (nullptr if absent), for layers whose
  /// sizes come from a weight's shape.
  const WeightTensor* find_weight(const std::string& name) const {
    auto it = weights_.find(name);
    return it == weights_.end() ? nullptr : &it->second;
  }

  /// The named weight checked against its expected shape; nullptr if optional and absent.
  const WeightTensor* weight(const std::string& name, const Shape& expected, bool required,
                             const std::string& meaning = "") const {
    auto it = weights_.find(name);
    if (it == weights_.end()) {
      if (required)
        fail("weights." + name, "missing weight, expected shape " + to_string(expected) +
                                    (meaning.empty() ? "" : " (" + meaning + ")"));
      return nullptr;
    }
    if (it->second.shape != expected)
      fail("weights." + name + ".shape", "expected " + to_string(expected) +
                                             (meaning.empty() ? "" : " (" + meaning + ")") +
                                             ", found " + to_string(it->second.shape));
    return &it->second;
  }

  /// A per-sample axis resolved against an input's rank (negative counts from the end).
  std::size_t axis(const std::string& field, long long axis, std::size_t rank) const {
    std::size_t out = 0;
    if (!normalize_axis(axis, rank, out))
      fail(field, "axis " + std::to_string(axis) + " is out of range for per-sample rank " +
                      std::to_string(rank) + " (valid: " + std::to_string(-(long long)rank) +
                      " .. " + std::to_string((long long)rank - 1) + ")");
    return out;
  }

 private:
  std::string source_;
  std::size_t index_;
  std::string name_;
  std::string type_;
  std::vector<Shape> inputs_;
  const WeightMap& weights_;
};

}  // namespace trignet
