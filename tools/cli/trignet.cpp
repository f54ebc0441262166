// trignet: command-line tool for trignet model files.
//
//   trignet info  MODEL.json [--json]
//   trignet check MODEL.json [--double] [--reproducible]
//   trignet run   MODEL.json --inputs IN.json [--outputs OUT.json] [--double] [--reproducible]
//   trignet run   MODEL.json --fixed --inputs IN.json [--outputs OUT.json] [--raw] [--double]
//   trignet codegen MODEL.json --namespace NS [--name TYPE] [--embed-weights] [-o OUT.hpp]
//
// Every error ends in one line on stderr and a documented exit code (see
// general_help()); no exception escapes main().

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "trignet/format/batch_json.hpp"
#include "trignet/format/json_reader.hpp"
#include "trignet/static/codegen.hpp"
#include "trignet/trignet.hpp"

namespace {

using trignet::Shape;
using trignet::TensorInfo;
using trignet::format::JsonReader;
using OrderedJson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Exit codes and help texts

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;  // unreadable/invalid model or inputs, I/O error, check FAIL
constexpr int exit_usage = 2;    // bad command line
constexpr int exit_no_test_vectors = 3;  // check: the model has nothing to check

const char* usage_text() {
  return "usage: trignet info  MODEL.json [--json]\n"
         "       trignet check MODEL.json [--double]\n"
         "       trignet run   MODEL.json --inputs IN.json [--outputs OUT.json] [--double]\n"
         "       trignet codegen MODEL.json --namespace NS [--name TYPE] [--embed-weights] [-o OUT.hpp]\n"
         "       trignet --help | --version | COMMAND --help\n";
}

const char* general_help() {
  return "Inspects, verifies and runs trignet model files (see docs/format.md).\n"
         "\n"
         "commands:\n"
         "  info   describe a model: hash, inputs, outputs, layers, parameters, FLOPs\n"
         "  check  re-run the model's embedded test vectors and compare\n"
         "  run    evaluate the model on inputs read from a JSON file\n"
         "  codegen  write a C++ header with the model's compile-time network type\n"
         "\n"
         "exit codes:\n"
         "  0  success (check: every test vector reproduces)\n"
         "  1  the model or inputs file cannot be read or is invalid, an output cannot be\n"
         "     written, or check found values outside tolerance (FAIL)\n"
         "  2  bad command line (unknown command or option, missing argument)\n"
         "  3  check: the model has no embedded test vectors\n"
         "\n"
         "Run 'trignet COMMAND --help' for a command's options.\n";
}

const char* info_help() {
  return "usage: trignet info MODEL.json [--json]\n"
         "\n"
         "Loads and validates MODEL.json (without re-running its test vectors) and prints\n"
         "its name, format version, content hash (SHA-256), metadata, inputs, outputs,\n"
         "the layers in evaluation order (nodes no output needs are listed last, marked\n"
         "unused), the parameter count (all weights in the file), the FLOPs per sample\n"
         "(of the evaluated layers) and the number of test vectors.\n"
         "\n"
         "options:\n"
         "  --json   print the same information as one JSON object\n";
}

const char* check_help() {
  return "usage: trignet check MODEL.json [--double]\n"
         "\n"
         "Loads MODEL.json, runs its embedded test vectors and prints, per test vector and\n"
         "output: batch size, largest absolute and relative error, mismatching values\n"
         "(outside |computed - expected| <= abs + rel * |expected|) and OK or FAIL. The last\n"
         "line is PASS or FAIL.\n"
         "\n"
         "options:\n"
         "  --double         evaluate in double precision (default: float)\n"
         "  --reproducible   reproducible mode: outputs independent of batch and SIMD\n"
         "                   level (docs/user-guide.md)\n"
         "\n"
         "exit codes: 0 PASS, 1 FAIL or invalid model, 2 bad command line,\n"
         "            3 the model has no test vectors\n";
}

const char* run_help() {
  return "usage: trignet run MODEL.json --inputs IN.json [--outputs OUT.json] [--double]\n"
         "\n"
         "Evaluates MODEL.json on the samples in IN.json: a JSON object mapping every model\n"
         "input name to a batch-first nested array of shape [batch, *input shape] (as in\n"
         "the model's test vectors), e.g. {\"features\": [[0.1, 0.2, ...], [...]]}. All\n"
         "inputs must have the same batch size; unknown names are rejected. Inputs are raw:\n"
         "the model applies its own preprocessing.\n"
         "\n"
         "The result is a JSON object mapping every output name to a batch-first nested\n"
         "array, with 9 significant digits (float) or 17 (--double); NaN and infinities\n"
         "are written as null.\n"
         "\n"
         "options:\n"
         "  --inputs IN.json     the samples (required)\n"
         "  --outputs OUT.json   write the result there (default: standard output)\n"
         "  --double             evaluate in double precision (default: float)\n"
         "  --reproducible       reproducible mode: each sample's outputs bit-identical\n"
         "                       whatever the batch and the SIMD level (docs/user-guide.md)\n"
         "  --fixed              evaluate in fixed point from the model's precision\n"
         "                       (docs/fixed-point.md); inputs are rounded to float32\n"
         "                       first, or used as doubles with --double; values are\n"
         "                       written with 17 significant digits\n"
         "  --raw                with --fixed: write each output element as the raw\n"
         "                       integer of its type (value * 2^F) and add an entry\n"
         "                       \"<output>.type\" with the type\n";
}

const char* codegen_help() {
  return "usage: trignet codegen MODEL.json --namespace NS [--name TYPE] [--embed-weights] [-o OUT.hpp]\n"
         "\n"
         "Writes a C++ header defining NS::TYPE, the trignet::static_model type of MODEL.json\n"
         "(docs/fast-path.md), and NS::load(path). The model must be a chain of Dense,\n"
         "BatchNormalization and Activation layers from one rank-1 input to one output;\n"
         "otherwise the error names the first node that cannot be expressed.\n"
         "\n"
         "options:\n"
         "  --namespace NS     namespace of the generated code (required; a::b allowed)\n"
         "  --name TYPE        name of the type (default: Model)\n"
         "  --embed-weights    also write the weights as constexpr arrays and NS::make(),\n"
         "                     which builds the model without reading any file\n"
         "  -o, --output FILE  write the header there (default: standard output)\n";
}

// ---------------------------------------------------------------------------
// Command line

/// A mistake on the command line: reported as "trignet: error: ...", exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Command { info, check, run, codegen };

struct Options {
  Command command = Command::info;
  std::string model_path;
  std::string inputs_path;
  std::string outputs_path;  // empty: standard output
  bool use_double = false;
  bool reproducible = false;  // check, run: reproducible mode (docs/user-guide.md)
  bool fixed = false;  // run: the fixed-point engine (docs/fixed-point.md)
  bool raw = false;    // run --fixed: raw integers instead of values
  bool json = false;
  bool help = false;
  trignet::CodegenOptions codegen;  // codegen
};

std::optional<Command> parse_command(const std::string& word) {
  if (word == "info") return Command::info;
  if (word == "check") return Command::check;
  if (word == "run") return Command::run;
  if (word == "codegen") return Command::codegen;
  return std::nullopt;
}

const char* command_help(Command command) {
  switch (command) {
    case Command::info: return info_help();
    case Command::check: return check_help();
    case Command::run: return run_help();
    case Command::codegen: return codegen_help();
  }
  return general_help();
}

const char* command_name(Command command) {
  switch (command) {
    case Command::info: return "info";
    case Command::check: return "check";
    case Command::run: return "run";
    case Command::codegen: return "codegen";
  }
  return "?";
}

/// One command-line word, with "--name=value" split into name and value.
struct Argument {
  std::string name;
  std::optional<std::string> value;
};

Argument split_argument(const std::string& word) {
  const std::size_t eq = word.find('=');
  if (word.rfind("--", 0) != 0 || eq == std::string::npos) return {word, std::nullopt};
  return {word.substr(0, eq), word.substr(eq + 1)};
}

bool take_flag(const Argument& arg) {
  if (arg.value) throw UsageError("option " + arg.name + " takes no value");
  return true;
}

/// The file name of an option: "--name=FILE" or "--name FILE" (advancing i).
std::string take_file(const Argument& arg, const std::vector<std::string>& words, std::size_t& i) {
  std::string file;
  if (arg.value)
    file = *arg.value;
  else if (i + 1 < words.size())
    file = words[++i];
  if (file.empty()) throw UsageError("option " + arg.name + " needs a file name");
  return file;
}

/// Parses the words after the command word.
Options parse_command_options(Command command, const std::vector<std::string>& words) {
  Options options;
  options.command = command;
  const bool is_run = command == Command::run;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const Argument arg = split_argument(words[i]);
    if (arg.name == "--help" || arg.name == "-h")
      options.help = take_flag(arg);
    else if (arg.name == "--json" && command == Command::info)
      options.json = take_flag(arg);
    else if (arg.name == "--double" && (command == Command::check || command == Command::run))
      options.use_double = take_flag(arg);
    else if (arg.name == "--reproducible" && (command == Command::check || command == Command::run))
      options.reproducible = take_flag(arg);
    else if (arg.name == "--fixed" && is_run)
      options.fixed = take_flag(arg);
    else if (arg.name == "--raw" && is_run)
      options.raw = take_flag(arg);
    else if (arg.name == "--inputs" && is_run)
      options.inputs_path = take_file(arg, words, i);
    else if (arg.name == "--outputs" && is_run)
      options.outputs_path = take_file(arg, words, i);
    else if (command == Command::codegen && arg.name == "--namespace")
      options.codegen.namespace_name = take_file(arg, words, i);
    else if (command == Command::codegen && arg.name == "--name")
      options.codegen.type_name = take_file(arg, words, i);
    else if (command == Command::codegen && arg.name == "--embed-weights")
      options.codegen.embed_weights = take_flag(arg);
    else if (command == Command::codegen && (arg.name == "-o" || arg.name == "--output"))
      options.outputs_path = take_file(arg, words, i);
    else if (arg.name.size() > 1 && arg.name[0] == '-')
      throw UsageError("unknown option '" + arg.name + "' for '" + command_name(command) + "'");
    else
      positional.push_back(words[i]);
  }
  if (options.help) return options;
  if (positional.empty()) throw UsageError("missing MODEL.json argument");
  if (positional.size() > 1) throw UsageError("unexpected argument '" + positional[1] + "'");
  options.model_path = positional[0];
  if (is_run && options.inputs_path.empty()) throw UsageError("'run' needs --inputs IN.json");
  if (options.raw && !options.fixed) throw UsageError("--raw needs --fixed");
  if (options.reproducible && options.fixed)
    throw UsageError("--reproducible applies to float evaluation; fixed point is bit-exact by construction");
  if (command == Command::codegen && options.codegen.namespace_name.empty())
    throw UsageError("'codegen' needs --namespace NS");
  return options;
}

// ---------------------------------------------------------------------------
// Text helpers

/// "1088", or "1.5e+12" for values that are not small whole numbers.
std::string count_text(double v) {
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// Whole numbers as JSON integers, anything else as a JSON number.
OrderedJson count_json(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return static_cast<std::int64_t>(v);
  return v;
}

std::string error_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) text += (i ? separator : "") + items[i];
  return text;
}

/// Rows of cells printed in aligned columns; the first row is the header.
struct Table {
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right_aligned;  // per column
};

void print_table(std::ostream& out, const Table& table, const std::string& indent) {
  std::vector<std::size_t> widths;
  for (const auto& row : table.rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], row[c].size());
    }
  for (const auto& row : table.rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - row[c].size(), ' ');
      const bool right = c < table.right_aligned.size() && table.right_aligned[c];
      line += (c ? "  " : "") + (right ? pad + row[c] : row[c] + pad);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

// ---------------------------------------------------------------------------
// Files

/// A directory opens like a file but reads as nothing: say what it is instead.
void reject_directory(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    throw trignet::Error("trignet: " + path + ": is a directory, not a file");
}

/// Writes text to a file, or to standard output when path is empty.
void write_text(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text << std::flush;
    if (!std::cout) throw trignet::Error("trignet: error while writing to standard output");
    return;
  }
  std::ofstream file(path, std::ios::binary);
  if (!file) throw trignet::Error("trignet: " + path + ": cannot open for writing");
  file << text;
  file.close();
  if (!file) throw trignet::Error("trignet: " + path + ": error while writing the file");
}

template <typename T>
std::shared_ptr<const trignet::Model<T>> load_unverified(const std::string& path, bool reproducible = false) {
  reject_directory(path);
  trignet::LoadOptions load;
  load.verify_test_vectors = false;
  load.reproducible = reproducible;
  return trignet::compile_model<T>(trignet::load_model_spec(path), load);
}

// ---------------------------------------------------------------------------
// info

/// One row of the layer table.
struct LayerRow {
  std::size_t node = 0;  // index into spec.nodes
  bool used = true;      // some output needs it
};

std::size_t node_parameter_count(const trignet::NodeSpec& node) {
  std::size_t count = 0;
  for (const auto& entry : node.weights) count += entry.second.values.size();
  return count;
}

/// Evaluated nodes in evaluation order, then the nodes no output needs, each
/// after the nodes it reads (file order among the ready ones).
std::vector<LayerRow> layer_rows(const trignet::GraphInfo& graph) {
  const std::size_t n = graph.node_shapes.size();
  std::vector<LayerRow> rows;
  std::vector<bool> listed(n, false);
  for (std::size_t node : graph.order) {
    rows.push_back({node, true});
    listed[node] = true;
  }
  auto ready = [&](std::size_t node) {
    for (const trignet::ValueRef& ref : graph.node_inputs[node])
      if (!ref.is_model_input && !listed[ref.index]) return false;
    return true;
  };
  for (bool progress = true; progress && rows.size() < n;) {
    progress = false;
    for (std::size_t node = 0; node < n; ++node)
      if (!listed[node] && ready(node)) {
        rows.push_back({node, false});
        listed[node] = progress = true;
      }
  }
  return rows;
}

std::vector<std::string> preprocessing_parts(const trignet::Preprocessing& p) {
  std::vector<std::string> parts;
  if (!p.nan_replacement.empty()) parts.push_back("nan_replacement");
  if (!p.offset.empty()) parts.push_back("offset");
  if (!p.scale.empty()) parts.push_back("scale");
  return parts;
}

OrderedJson shape_json(const Shape& shape) {
  OrderedJson array = OrderedJson::array();
  for (std::size_t d : shape) array.push_back(d);
  return array;
}

template <typename T>
OrderedJson info_json(const trignet::Model<T>& model, const std::string& path) {
  const trignet::ModelSpec& spec = model.spec();
  const trignet::GraphInfo& graph = model.graph();
  OrderedJson j;
  j["name"] = spec.name;
  j["file"] = path;
  j["format_version"] = trignet::format_version;
  j["content_hash"] = model.content_hash();
  j["metadata"] =
      spec.metadata_json.empty() ? OrderedJson::object() : OrderedJson::parse(spec.metadata_json);
  j["inputs"] = OrderedJson::array();
  for (const trignet::InputSpec& in : spec.inputs)
    j["inputs"].push_back({{"name", in.name},
                           {"shape", shape_json(in.shape)},
                           {"preprocessing", preprocessing_parts(in.preprocessing)},
                           {"variables", in.variables.size()}});
  j["outputs"] = OrderedJson::array();
  for (std::size_t o = 0; o < spec.outputs.size(); ++o)
    j["outputs"].push_back({{"name", spec.outputs[o].name},
                            {"node", spec.outputs[o].node},
                            {"shape", shape_json(model.outputs()[o].shape)},
                            {"labels", spec.outputs[o].labels}});
  j["layers"] = OrderedJson::array();
  for (const LayerRow& row : layer_rows(graph)) {
    const trignet::NodeSpec& node = spec.nodes[row.node];
    j["layers"].push_back({{"name", node.name},
                           {"type", trignet::layer_type_name(node.params)},
                           {"inputs", node.inputs},
                           {"shape", shape_json(graph.node_shapes[row.node])},
                           {"parameters", node_parameter_count(node)},
                           {"flops_per_sample", count_json(graph.node_flops[row.node])},
                           {"used", row.used}});
  }
  j["parameter_count"] = model.parameter_count();
  j["flops_per_sample"] = count_json(model.flops_per_sample());
  j["test_vectors"] = spec.test_vectors.size();
  return j;
}

void print_metadata(std::ostream& out, const trignet::ModelSpec& spec) {
  out << "\nmetadata:" << (spec.metadata.empty() ? " none\n" : "\n");
  for (const auto& [key, value] : spec.metadata) out << "  " << key << ": " << value << '\n';
}

void print_inputs(std::ostream& out, const trignet::ModelSpec& spec) {
  Table table{{{"name", "shape", "preprocessing", "variables"}}, {false, false, false, true}};
  for (const trignet::InputSpec& in : spec.inputs) {
    const std::vector<std::string> parts = preprocessing_parts(in.preprocessing);
    table.rows.push_back({in.name, trignet::to_string(in.shape),
                          parts.empty() ? "no" : "yes (" + join(parts, ", ") + ")",
                          in.variables.empty() ? "-" : std::to_string(in.variables.size())});
  }
  out << "\ninputs:\n";
  print_table(out, table, "  ");
}

template <typename T>
void print_outputs(std::ostream& out, const trignet::Model<T>& model) {
  const trignet::ModelSpec& spec = model.spec();
  Table table{{{"name", "node", "shape", "labels"}}, {}};
  for (std::size_t o = 0; o < spec.outputs.size(); ++o) {
    const trignet::OutputSpec& output = spec.outputs[o];
    table.rows.push_back({output.name, output.node, trignet::to_string(model.outputs()[o].shape),
                          output.labels.empty() ? "-" : join(output.labels, ", ")});
  }
  out << "\noutputs:\n";
  print_table(out, table, "  ");
}

template <typename T>
void print_layers(std::ostream& out, const trignet::Model<T>& model) {
  const trignet::ModelSpec& spec = model.spec();
  const trignet::GraphInfo& graph = model.graph();
  Table table{{{"node", "type", "inputs", "output shape", "parameters", "FLOPs/sample", ""}},
              {false, false, false, false, true, true, false}};
  for (const LayerRow& row : layer_rows(graph)) {
    const trignet::NodeSpec& node = spec.nodes[row.node];
    table.rows.push_back({node.name, trignet::layer_type_name(node.params), join(node.inputs, ", "),
                          trignet::to_string(graph.node_shapes[row.node]),
                          std::to_string(node_parameter_count(node)),
                          count_text(graph.node_flops[row.node]), row.used ? "" : "(unused)"});
  }
  out << "\nlayers (evaluation order):\n";
  print_table(out, table, "  ");
}

template <typename T>
void print_info_text(std::ostream& out, const trignet::Model<T>& model, const std::string& path) {
  const trignet::ModelSpec& spec = model.spec();
  Table header{{{"model:", spec.name},
                {"file:", path},
                {"format version:", std::to_string(trignet::format_version)},
                {"content hash:", model.content_hash()}},
               {}};
  print_table(out, header, "");
  print_metadata(out, spec);
  print_inputs(out, spec);
  print_outputs(out, model);
  print_layers(out, model);
  out << '\n';
  Table totals{{{"parameters:", std::to_string(model.parameter_count())},
                {"FLOPs per sample:", count_text(model.flops_per_sample())},
                {"test vectors:", std::to_string(spec.test_vectors.size())}},
               {}};
  print_table(out, totals, "");
}

/// "weight ap_fixed<6,1>, accum ap_fixed<16,6>, ...": one node's precision, in file order.
std::string precision_text(const trignet::PrecisionSpec& p) {
  std::string out;
  auto add = [&](const std::string& key, const std::string& value) {
    out += (out.empty() ? "" : ", ") + key + " " + value;
  };
  for (const std::string& key : p.keys) {
    const std::optional<trignet::FixedType>* t = nullptr;
    if (key == "weight") t = &p.weight;
    else if (key == "bias") t = &p.bias;
    else if (key == "scale") t = &p.scale;
    else if (key == "accum") t = &p.accum;
    else if (key == "result") t = &p.result;
    else if (key == "table") t = &p.table;
    else if (key == "param") t = &p.param;
    else if (key == "slope") t = &p.slope;
    else if (key == "shift") t = &p.shift;
    else if (key == "exp_table") t = &p.exp_table;
    else if (key == "inv_table") t = &p.inv_table;
    else if (key == "inv_input") t = &p.inv_input;
    else if (key == "norm_input") t = &p.norm_input;
    if (t && *t) add(key, trignet::to_string(**t));
    else if (key == "table_size" && p.table_size) add(key, std::to_string(*p.table_size));
    else if (key == "exp_table_size" && p.exp_table_size) add(key, std::to_string(*p.exp_table_size));
    else if (key == "inv_table_size" && p.inv_table_size) add(key, std::to_string(*p.inv_table_size));
    else if (key == "implementation" && p.implementation) add(key, trignet::softmax_implementation_name(*p.implementation));
    else if (key == "exp_scale" && p.exp_scale) add(key, trignet::detail::number_text(*p.exp_scale, 17));
    else if (key == "raw") add("raw", "values for " + std::to_string(p.raw.size()) + " weight(s)");
    else if (key == "activation" && !p.activation.empty()) add("activation", "{" + precision_text(p.activation[0]) + "}");
  }
  return out;
}

bool has_fixed_point(const trignet::ModelSpec& spec) {
  if (spec.fixed_point) return true;
  for (const auto& n : spec.nodes)
    if (n.precision) return true;
  return false;
}

void print_fixed_point_text(std::ostream& out, const trignet::ModelSpec& spec) {
  if (!has_fixed_point(spec)) return;
  out << "\nfixed point (docs/fixed-point.md):\n";
  if (spec.fixed_point)
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
      const trignet::FixedInputSpec& f = spec.fixed_point->inputs[i];
      out << "  input " << spec.inputs[i].name << ": " << trignet::to_string(f.type);
      if (f.offset != 0) out << ", offset " << trignet::detail::number_text(f.offset, 17);
      if (f.shift != 0) out << ", shift " << f.shift;
      out << '\n';
    }
  else
    out << "  (no \"fixed_point\" block: the model cannot run in fixed point)\n";
  for (const auto& n : spec.nodes)
    out << "  " << n.name << ": " << (n.precision ? precision_text(*n.precision) : std::string("(no precision)"))
        << '\n';
}

OrderedJson fixed_point_json(const trignet::ModelSpec& spec) {
  OrderedJson j;
  OrderedJson inputs = OrderedJson::object();
  if (spec.fixed_point)
    for (std::size_t i = 0; i < spec.inputs.size(); ++i)
      inputs[spec.inputs[i].name] = trignet::to_string(spec.fixed_point->inputs[i].type);
  j["inputs"] = inputs;
  OrderedJson nodes = OrderedJson::object();
  for (const auto& n : spec.nodes)
    if (n.precision) nodes[n.name] = precision_text(*n.precision);
  j["nodes"] = nodes;
  return j;
}

int run_info(const Options& options) {
  const auto model = load_unverified<float>(options.model_path);
  std::ostringstream text;
  if (options.json) {
    auto j = info_json(*model, options.model_path);
    if (has_fixed_point(model->spec())) j["fixed_point"] = fixed_point_json(model->spec());
    text << j.dump(2) << '\n';
  } else {
    print_info_text(text, *model, options.model_path);
    print_fixed_point_text(text, model->spec());
  }
  write_text("", text.str());
  return exit_ok;
}

// ---------------------------------------------------------------------------
// check

template <typename T>
const char* scalar_name() {
  return std::is_same_v<T, double> ? "double" : "float";
}

Table agreement_table(const trignet::ModelSpec& spec, const trignet::VerificationReport& report) {
  Table table{{{"test vector", "output", "batch", "max abs error", "max rel error", "mismatches",
                "tolerance (abs, rel)", "result"}},
              {true, false, true, true, true, true, false, false}};
  for (const trignet::OutputAgreement& a : report.outputs) {
    const trignet::TestVector& tv = spec.test_vectors[a.test_vector];
    table.rows.push_back({std::to_string(a.test_vector), a.output, std::to_string(tv.batch),
                          error_text(a.max_abs_error), error_text(a.max_rel_error),
                          std::to_string(a.mismatches) + "/" + std::to_string(a.values),
                          error_text(tv.abs_tolerance) + ", " + error_text(tv.rel_tolerance),
                          a.mismatches ? "FAIL" : "OK"});
  }
  return table;
}

template <typename T>
int run_check(const Options& options) {
  const auto model = load_unverified<T>(options.model_path, options.reproducible);
  const trignet::ModelSpec& spec = model->spec();
  if (spec.test_vectors.empty()) {
    std::cerr << "trignet: " << options.model_path
              << ": the model has no embedded test vectors; nothing to check\n";
    return exit_no_test_vectors;
  }
  const trignet::VerificationReport report = trignet::verify_test_vectors(model);
  std::ostringstream text;
  text << "checking '" << spec.name << "' (" << options.model_path << ") in " << scalar_name<T>()
       << ": " << spec.test_vectors.size() << " test vector"
       << (spec.test_vectors.size() == 1 ? "" : "s") << '\n';
  print_table(text, agreement_table(spec, report), "  ");
  if (!report.passed()) text << trignet::describe_failures(spec, report);
  text << (report.passed() ? "PASS" : "FAIL") << '\n';
  write_text("", text.str());
  return report.passed() ? exit_ok : exit_failure;
}

// ---------------------------------------------------------------------------
// run

/// The samples of an inputs file: batch-major values per model input, read
/// with the library's strict parser (depth limit, duplicate keys, overflow).
trignet::format::NamedBatches read_inputs(const std::string& path,
                                          const std::vector<TensorInfo>& inputs) {
  reject_directory(path);
  std::ifstream file(path, std::ios::binary);
  if (!file) throw trignet::Error("trignet: " + path + ": cannot open inputs file");
  std::ostringstream text;
  text << file.rdbuf();
  const nlohmann::json doc = trignet::format::parse_json_text(text.str(), path);
  const JsonReader root(doc, "", path);
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  for (const TensorInfo& in : inputs) {
    names.push_back(in.name);
    shapes.push_back(in.shape);
  }
  return trignet::format::read_named_batches(root, names, shapes);
}

/// Indents every line after the first.
std::string indent_continuation(const std::string& text, const std::string& indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

template <typename T>
std::string outputs_json(const trignet::Session<T>& session) {
  const auto& outputs = session.model().outputs();
  constexpr int digits = std::numeric_limits<T>::max_digits10;  // 9 for float, 17 for double
  std::string text = "{";
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const std::string values = trignet::format::write_batch(
        session.output(o).data(), session.batch(), outputs[o].shape, digits);
    text += (o ? ",\n  " : "\n  ") + nlohmann::json(outputs[o].name).dump() + ": " +
            indent_continuation(values, "   ");
  }
  return text + "\n}\n";
}

template <typename T>
int run_inference(const Options& options) {
  const auto model = load_unverified<T>(options.model_path, options.reproducible);
  const auto samples = read_inputs(options.inputs_path, model->inputs());
  std::vector<std::vector<T>> buffers;
  std::vector<trignet::Span<const T>> views;
  for (const std::vector<double>& values : samples.values)
    buffers.emplace_back(values.begin(), values.end());
  for (const std::vector<T>& buffer : buffers) views.emplace_back(buffer);
  trignet::Session<T> session(model, samples.batch);
  session.run(trignet::Span<const trignet::Span<const T>>(views.data(), views.size()),
              samples.batch);
  write_text(options.outputs_path, outputs_json(session));
  return exit_ok;
}

/// run --fixed: the fixed-point engine, one sample at a time.
int run_fixed_point(const Options& options) {
  reject_directory(options.model_path);
  const auto model = trignet::load_fixed_model(options.model_path);
  std::vector<TensorInfo> infos;
  for (const auto& in : model->inputs()) infos.push_back(TensorInfo{in.name, in.shape, in.size});
  const auto samples = read_inputs(options.inputs_path, infos);
  trignet::FixedSession session(model);
  const std::size_t n_out = model->outputs().size();
  std::vector<std::vector<double>> values(n_out);
  std::vector<std::vector<std::int64_t>> raws(n_out);
  std::vector<std::vector<float>> as_float(samples.values.size());
  std::vector<trignet::Span<const float>> float_views(samples.values.size());
  std::vector<trignet::Span<const double>> double_views(samples.values.size());
  for (std::size_t b = 0; b < samples.batch; ++b) {
    for (std::size_t i = 0; i < samples.values.size(); ++i) {
      const std::size_t n = model->inputs()[i].size;
      const double* first = samples.values[i].data() + b * n;
      as_float[i].assign(first, first + n);  // float32, as a float32 numpy array reaches hls4ml
      float_views[i] = trignet::Span<const float>(as_float[i].data(), n);
      double_views[i] = trignet::Span<const double>(first, n);
    }
    if (options.use_double)
      session.run(trignet::Span<const trignet::Span<const double>>(double_views.data(), double_views.size()));
    else
      session.run(trignet::Span<const trignet::Span<const float>>(float_views.data(), float_views.size()));
    for (std::size_t o = 0; o < n_out; ++o) {
      const auto r = session.raw_output(o);
      const auto v = session.output(o);
      raws[o].insert(raws[o].end(), r.begin(), r.end());
      values[o].insert(values[o].end(), v.begin(), v.end());
    }
  }
  std::string text = "{";
  for (std::size_t o = 0; o < n_out; ++o) {
    const auto& info = model->outputs()[o];
    std::string body;
    if (options.raw) {
      // Exact integers (any width): nested arrays [batch, *shape], one sample per line.
      Shape full{samples.batch};
      full.insert(full.end(), info.shape.begin(), info.shape.end());
      std::size_t next = 0;
      const std::function<nlohmann::json(std::size_t)> nest = [&](std::size_t axis) {
        nlohmann::json a = nlohmann::json::array();
        for (std::size_t k = 0; k < full[axis]; ++k)
          a.push_back(axis + 1 == full.size() ? nlohmann::json(raws[o][next++]) : nest(axis + 1));
        return a;
      };
      const nlohmann::json all = nest(0);
      body = "[";
      for (std::size_t b = 0; b < all.size(); ++b) body += (b ? ",\n" : "") + all[b].dump();
      body += "]";
    } else {
      body = trignet::format::write_batch(values[o].data(), samples.batch, info.shape, 17);
    }
    text += (o ? ",\n  " : "\n  ") + nlohmann::json(info.name).dump() + ": " + indent_continuation(body, "   ");
    if (options.raw)
      text += ",\n  " + nlohmann::json(info.name + ".type").dump() + ": " +
              nlohmann::json(trignet::to_string(info.type)).dump();
  }
  write_text(options.outputs_path, text + "\n}\n");
  return exit_ok;
}

// ---------------------------------------------------------------------------
// codegen

int run_codegen(const Options& options) {
  reject_directory(options.model_path);
  const trignet::ModelSpec spec = trignet::load_model_spec(options.model_path);
  write_text(options.outputs_path, trignet::generate_static_header(spec, options.codegen));
  return exit_ok;
}

// ---------------------------------------------------------------------------
// Dispatch

template <typename T>
int run_command(const Options& options) {
  switch (options.command) {
    case Command::info: return run_info(options);
    case Command::check: return run_check<T>(options);
    case Command::run: return options.fixed ? run_fixed_point(options) : run_inference<T>(options);
    case Command::codegen: return run_codegen(options);
  }
  return exit_usage;
}

int dispatch(const std::vector<std::string>& words) {
  if (words.empty()) {
    std::cerr << usage_text();
    return exit_usage;
  }
  const std::string& first = words[0];
  if (first == "--help" || first == "-h") {
    write_text("", std::string(usage_text()) + "\n" + general_help());
    return exit_ok;
  }
  if (first == "--version") {
    write_text("", std::string("trignet ") + trignet::version_string + " (model format version " +
                       std::to_string(trignet::format_version) + ")\n");
    return exit_ok;
  }
  if (first.size() > 1 && first[0] == '-') throw UsageError("unknown option '" + first + "'");
  const std::optional<Command> command = parse_command(first);
  if (!command) throw UsageError("unknown command '" + first + "' (expected info, check, run or codegen)");
  const Options options =
      parse_command_options(*command, std::vector<std::string>(words.begin() + 1, words.end()));
  if (options.help) {
    write_text("", command_help(options.command));
    return exit_ok;
  }
  return options.use_double ? run_command<double>(options) : run_command<float>(options);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "trignet: error: " << e.what() << "; see 'trignet --help'\n";
    return exit_usage;
  } catch (const trignet::Error& e) {
    std::cerr << e.what() << '\n';  // names the file and the JSON path already
    return exit_failure;
  } catch (const std::bad_alloc&) {
    std::cerr << "trignet: error: out of memory\n";
    return exit_failure;
  } catch (const std::exception& e) {
    std::cerr << "trignet: error: " << e.what() << '\n';
    return exit_failure;
  }
}
