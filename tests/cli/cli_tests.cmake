# Tests of the `trignet` command-line tool (tools/cli/trignet.cpp).
#
# This file has two roles:
#  - include()d from tests/CMakeLists.txt, it registers the tests (names "cli: ...");
#  - run by each of those tests as `cmake -D... -P cli_tests.cmake`, it runs the tool
#    once and checks its exit code and output.
#
# Script-mode variables:
#   CLI          the trignet executable
#   ARGS         its arguments, separated by "|"
#   EXIT         the expected exit code
#   STDOUT       regex that standard output must match (optional)
#   STDERR       regex that standard error must match (optional)
#   LAST_LINE    exact last line of standard output (optional)
#   ONE_LINE     if true, standard error must be exactly one line starting "trignet: "
#   OUTPUT_FILE  a file the command must write (removed first), and
#   OUTPUT_REGEX regex its contents must match

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.16)
endif()
# Registered tests run this file itself (its path, as the functions below are called from here).
# Variables this file sets in the including scope start with "cli_" or "trignet_cli_".
set(trignet_cli_script "${CMAKE_CURRENT_LIST_FILE}")

# Script mode: run the tool and compare.
function(trignet_cli_check)
  string(REPLACE "|" ";" args "${ARGS}")
  if(NOT OUTPUT_FILE STREQUAL "")
    file(REMOVE "${OUTPUT_FILE}")
  endif()
  execute_process(COMMAND "${CLI}" ${args}
                  RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(problems "")
  if(NOT exit_code STREQUAL EXIT)
    string(APPEND problems "exit code ${exit_code}, expected ${EXIT}\n")
  endif()
  if(NOT STDOUT STREQUAL "" AND NOT out MATCHES "${STDOUT}")
    string(APPEND problems "standard output does not match: ${STDOUT}\n")
  endif()
  if(NOT STDERR STREQUAL "" AND NOT err MATCHES "${STDERR}")
    string(APPEND problems "standard error does not match: ${STDERR}\n")
  endif()
  if(NOT LAST_LINE STREQUAL "")
    string(REGEX REPLACE "\n$" "" trimmed "${out}")
    string(REGEX REPLACE "^.*\n" "" last "${trimmed}")
    if(NOT last STREQUAL LAST_LINE)
      string(APPEND problems "last line of standard output is '${last}', expected '${LAST_LINE}'\n")
    endif()
  endif()
  if(ONE_LINE AND NOT err MATCHES "^trignet: [^\n]*\n$")
    string(APPEND problems "standard error is not one line starting 'trignet: '\n")
  endif()
  if(NOT OUTPUT_FILE STREQUAL "")
    if(NOT EXISTS "${OUTPUT_FILE}")
      string(APPEND problems "${OUTPUT_FILE} was not written\n")
    else()
      file(READ "${OUTPUT_FILE}" written)
      if(NOT written MATCHES "${OUTPUT_REGEX}")
        string(APPEND problems "${OUTPUT_FILE} does not match: ${OUTPUT_REGEX}\n")
      endif()
    endif()
  endif()
  if(NOT problems STREQUAL "")
    string(REPLACE "|" " " command_line "${ARGS}")
    message(FATAL_ERROR "trignet ${command_line}\n${problems}"
                        "--- standard output:\n${out}--- standard error:\n${err}")
  endif()
endfunction()

# Registration: trignet_cli_test(<name> ARGS <arg>... EXIT <code> [STDOUT <regex>]
#   [STDERR <regex>] [LAST_LINE <text>] [ONE_LINE] [OUTPUT_FILE <path> OUTPUT_REGEX <regex>])
#
# The test names contain spaces, which add_test() accepts only under policy CMP0110, read
# from the including directory. So, as Catch2's and GoogleTest's test discovery do, the tests
# go to a CTest script that CTest includes (TEST_INCLUDE_FILES, written at the end of this
# file). Every argument is a bracket argument, so regexes need no further escaping.
function(trignet_cli_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "ONE_LINE"
                        "EXIT;STDOUT;STDERR;LAST_LINE;OUTPUT_FILE;OUTPUT_REGEX" "ARGS")
  list(JOIN arg_ARGS "|" joined)
  string(APPEND trignet_cli_tests
         "add_test([==[cli: ${name}]==] [==[${CMAKE_COMMAND}]==]\n"
         "  [==[-DCLI=$<TARGET_FILE:trignet_cli>]==] [==[-DARGS=${joined}]==]\n"
         "  [==[-DEXIT=${arg_EXIT}]==] [==[-DONE_LINE=${arg_ONE_LINE}]==]\n"
         "  [==[-DSTDOUT=${arg_STDOUT}]==]\n"
         "  [==[-DSTDERR=${arg_STDERR}]==]\n"
         "  [==[-DLAST_LINE=${arg_LAST_LINE}]==]\n"
         "  [==[-DOUTPUT_FILE=${arg_OUTPUT_FILE}]==]\n"
         "  [==[-DOUTPUT_REGEX=${arg_OUTPUT_REGEX}]==]\n"
         "  -P [==[${trignet_cli_script}]==])\n")
  set(trignet_cli_tests "${trignet_cli_tests}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  trignet_cli_check()
  return()
endif()

set(trignet_cli_tests "")
set(cli_data "${PROJECT_SOURCE_DIR}/tests/cli/data")
set(cli_jet_tagger "${PROJECT_SOURCE_DIR}/models/jet_tagger.json")
set(cli_two_in_two_out "${PROJECT_SOURCE_DIR}/tests/data/layers/graph_two_inputs_two_outputs.json")
set(cli_unused_node "${PROJECT_SOURCE_DIR}/tests/data/layers/graph_unused_node.json")
# SHA-256 content hash of models/jet_tagger.json: changes only if what the model computes changes.
set(cli_jet_tagger_hash "57fd500c745b3c2a485164c4c1a5a9ce4101e455cd5bce42710602bc7cc6fd08")

# --- help, version, command-line mistakes (exit 2)
trignet_cli_test("no arguments prints usage" EXIT 2 STDERR "^usage: trignet info")
trignet_cli_test("--help" ARGS --help EXIT 0 STDOUT "^usage: trignet.*commands:.*exit codes:")
trignet_cli_test("--version" ARGS --version EXIT 0 STDOUT "^trignet [0-9]+[.][0-9]+[.][0-9]+ ")
trignet_cli_test("run --help" ARGS run --help EXIT 0 STDOUT "^usage: trignet run MODEL.json --inputs")
trignet_cli_test("unknown command" ARGS frobnicate ${cli_jet_tagger} EXIT 2 ONE_LINE
                 STDERR "^trignet: error: unknown command 'frobnicate'")
trignet_cli_test("unknown option" ARGS check ${cli_jet_tagger} --fast EXIT 2 ONE_LINE
                 STDERR "^trignet: error: unknown option '--fast' for 'check'")
trignet_cli_test("option of another command" ARGS info ${cli_jet_tagger} --double EXIT 2 ONE_LINE
                 STDERR "unknown option '--double' for 'info'")
trignet_cli_test("missing model argument" ARGS info EXIT 2 ONE_LINE
                 STDERR "^trignet: error: missing MODEL.json argument")
trignet_cli_test("extra argument" ARGS check ${cli_jet_tagger} ${cli_jet_tagger} EXIT 2 ONE_LINE
                 STDERR "unexpected argument")
trignet_cli_test("run without --inputs" ARGS run ${cli_jet_tagger} EXIT 2 ONE_LINE
                 STDERR "'run' needs --inputs")
trignet_cli_test("--inputs without a file" ARGS run ${cli_jet_tagger} --inputs EXIT 2 ONE_LINE
                 STDERR "option --inputs needs a file name")

# --- info
trignet_cli_test("info jet_tagger" ARGS info ${cli_jet_tagger} EXIT 0
                 STDOUT "model: +hls4ml_jet_tagger\n.*content hash: +${cli_jet_tagger_hash}\n.*features +[[]16[]] +no +16\n.*probabilities +dense_4 +[[]5[]] +g, q, W, Z, t\n.*dense_1 +Dense +features +[[]64[]] +1088 +2176\n.*dense_4 +Dense +dense_3 +[[]5[]] +165 +345\n.*parameters: +4389\nFLOPs per sample: +8793\ntest vectors: +3\n$")
trignet_cli_test("info --json jet_tagger" ARGS info --json ${cli_jet_tagger} EXIT 0
                 STDOUT "^{\n.*\"content_hash\": \"${cli_jet_tagger_hash}\".*\"parameter_count\": 4389,\n  \"flops_per_sample\": 8793,\n  \"test_vectors\": 3\n}\n$")
trignet_cli_test("info marks unused nodes" ARGS info ${cli_unused_node} EXIT 0
                 STDOUT "d1 +Dense +x +[[]3[]] +15 +30\n  unused_a +Dense +x +[[]2[]] +10 +18 +[(]unused[)]\n  unused_b +Dense +d1 +[[]2[]] +8 +22 +[(]unused[)]\n.*FLOPs per sample: +30\n")

# --- check
trignet_cli_test("check jet_tagger float" ARGS check ${cli_jet_tagger} EXIT 0
                 STDOUT "in float: 3 test vectors\n.* 2 +probabilities +16 .* 0/80 .* OK\n"
                 LAST_LINE PASS)
trignet_cli_test("check --reproducible jet_tagger" ARGS check --reproducible ${cli_jet_tagger} EXIT 0
                 LAST_LINE "PASS")
trignet_cli_test("check --reproducible refuses a convolution by name"
                 ARGS check --reproducible ${PROJECT_SOURCE_DIR}/models/cicada_cnn.json EXIT 1
                 STDERR "[(]Conv2D[)]: reproducible mode has no kernel for this layer yet" ONE_LINE)
trignet_cli_test("check jet_tagger double" ARGS check --double ${cli_jet_tagger} EXIT 0
                 STDOUT "in double: 3 test vectors\n" LAST_LINE PASS)
trignet_cli_test("check fails on a corrupted expected output"
                 ARGS check ${cli_data}/relu_corrupted_expected.json EXIT 1
                 STDOUT " 0 +y +1 .* 1/8 .* FAIL\n.* 1 +y +3 .* 0/24 .* OK\ntest_vectors[[]0[]][.]outputs[.]y: 1 of 8 values outside tolerance.*expected 5[.]25, computed 5[.]234375\n"
                 LAST_LINE FAIL)
trignet_cli_test("check without test vectors" ARGS check ${cli_data}/relu_no_test_vectors.json
                 EXIT 3 ONE_LINE STDERR "relu_no_test_vectors[.]json: the model has no embedded test vectors")

# --- run
trignet_cli_test("run jet_tagger batch of 4" ARGS run ${cli_jet_tagger} --inputs ${cli_data}/jet_inputs_batch4.json EXIT 0
                 STDOUT "^{\n  \"probabilities\": [[][[]0[.]12619[0-9]*, 0[.]18262[0-9]*, 0[.]24491[0-9]*, 0[.]26412[0-9]*, 0[.]18214[0-9]*[]],\n +[[]0[.]06720[0-9]*, 0[.]22680[0-9]*, 0[.]16562[0-9]*, 0[.]34811[0-9]*, 0[.]19225[0-9]*[]],\n +[[]0[.]09857[0-9]*, [^\n]*[]],\n +[[]0[.]11231[0-9]*, 0[.]23765[0-9]*, 0[.]20548[0-9]*, 0[.]22586[0-9]*, 0[.]21868[0-9]*[]][]]\n}\n$")
trignet_cli_test("run --double writes 17 digits" ARGS run --double ${cli_jet_tagger} --inputs ${cli_data}/jet_inputs_batch4.json EXIT 0
                 STDOUT "\"probabilities\": [[][[]0[.]126196258[0-9]*, ")
trignet_cli_test("run --outputs writes the file"
                 ARGS run ${cli_jet_tagger} --inputs ${cli_data}/jet_inputs_batch4.json
                      --outputs ${CMAKE_CURRENT_BINARY_DIR}/cli_run_outputs.json
                 EXIT 0 STDOUT "^$" OUTPUT_FILE ${CMAKE_CURRENT_BINARY_DIR}/cli_run_outputs.json
                 OUTPUT_REGEX "^{\n  \"probabilities\": [[][[]0[.]12619[0-9]*, .*0[.]21868[0-9]*[]][]]\n}\n$")
trignet_cli_test("run two inputs two outputs" ARGS run ${cli_two_in_two_out} --inputs=${cli_data}/two_inputs.json EXIT 0
                 STDOUT "^{\n  \"out\": [[][[]0[.]33977[0-9]*, 0[.]56928[0-9]*, 0[.]52357[0-9]*, 0[.]65348[0-9]*[]][]],\n  \"hidden\": [[][[]1[.]56286[0-9]*, 0, 0, -0[.]51007[0-9]*, -0[.]23901[0-9]*[]][]]\n}\n$")
trignet_cli_test("run with a missing input" ARGS run ${cli_two_in_two_out} --inputs ${cli_data}/two_inputs_missing_b.json
                 EXIT 1 ONE_LINE STDERR "two_inputs_missing_b[.]json: [(]top level[)]: missing input 'b' [(]the model's inputs: 'a', 'b'[)]")
trignet_cli_test("run with an unknown input name" ARGS run ${cli_jet_tagger} --inputs ${cli_data}/jet_inputs_unknown_name.json
                 EXIT 1 ONE_LINE STDERR "jet_inputs_unknown_name[.]json: jet_pt: unknown input name 'jet_pt' [(]the model's inputs: 'features'[)]")
trignet_cli_test("run with a wrong input shape" ARGS run ${cli_jet_tagger} --inputs ${cli_data}/jet_inputs_wrong_shape.json
                 EXIT 1 ONE_LINE STDERR "jet_inputs_wrong_shape[.]json: features[[]0[]]: expected an array of 16 [(]per-sample shape [[]16[]][)], found an array of 15")
trignet_cli_test("run with unequal batch sizes" ARGS run ${cli_two_in_two_out} --inputs ${cli_data}/two_inputs_batch_mismatch.json
                 EXIT 1 ONE_LINE STDERR "two_inputs_batch_mismatch[.]json: b: expected a batch of 1 samples like input 'a', found 2")
trignet_cli_test("run with a nonexistent inputs file" ARGS run ${cli_jet_tagger} --inputs ${cli_data}/no_such_inputs.json
                 EXIT 1 ONE_LINE STDERR "no_such_inputs[.]json: cannot open inputs file")
trignet_cli_test("run with malformed inputs JSON" ARGS run ${cli_jet_tagger} --inputs ${cli_data}/malformed_inputs.json
                 EXIT 1 ONE_LINE STDERR "malformed_inputs[.]json: malformed JSON: parse error at line 1")

# --- run --fixed (docs/fixed-point.md): mlp_softmax (Dense relu -> Dense tanh -> Dense softmax
# stable), output ap_ufixed<10,0,AP_RND,AP_SAT>. The inputs are the first three samples of
# tests/data/fixed_engine/mlp_softmax.expected.json; the expected raw integers are that file's
# (computed by the exact-rational reference, tests/reference/fixed_engine_reference.py), the
# values are raw / 2^10.
set(cli_fixed_mlp "${PROJECT_SOURCE_DIR}/tests/data/fixed_engine/mlp_softmax.json")
set(cli_fixed_inputs "${CMAKE_CURRENT_BINARY_DIR}/cli_fixed_mlp_inputs.json")
file(WRITE "${cli_fixed_inputs}" "{\"x\": [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],\n"
     "  [-8.0, 8.0, -8.0, 8.0, -8.0, 8.0, -8.0, 8.0],\n"
     "  [-2.81867576, -5.58641338, 2.41495156, -6.84101963, 0.574112058, -2.14897728, -7.07201719, 0.118971728]]}\n")
trignet_cli_test("run --fixed writes the exact fixed-point values"
                 ARGS run ${cli_fixed_mlp} --fixed --inputs ${cli_fixed_inputs}
                      --outputs ${CMAKE_CURRENT_BINARY_DIR}/cli_run_fixed_outputs.json
                 EXIT 0 STDOUT "^$" OUTPUT_FILE ${CMAKE_CURRENT_BINARY_DIR}/cli_run_fixed_outputs.json
                 OUTPUT_REGEX "^{\n  \"p\": [[][[]0[.]2705078125, 0[.]0927734375, 0[.]5712890625, 0[.]158203125, 0[.]03515625[]],\n +[[]0[.]14453125, 0[.]1796875, 0[.]5712890625, 0[.]1396484375, 0[.]0009765625[]],\n +[[]0[.]7998046875, 0[.]0576171875, 0[.]07421875, 0[.]111328125, 0[]][]]\n}\n$")
trignet_cli_test("run --fixed --raw writes integers and the type"
                 ARGS run ${cli_fixed_mlp} --fixed --raw --inputs ${cli_fixed_inputs} EXIT 0
                 STDOUT "^{\n  \"p\": [[][[]277,95,585,162,36[]],\n +[[]148,184,585,143,1[]],\n +[[]819,59,76,114,0[]][]],\n  \"p[.]type\": \"ap_ufixed<10,0,AP_RND,AP_SAT>\"\n}\n$")
trignet_cli_test("run --raw without --fixed" ARGS run ${cli_fixed_mlp} --raw --inputs ${cli_fixed_inputs}
                 EXIT 2 ONE_LINE STDERR "^trignet: error: --raw needs --fixed; see 'trignet --help'\n$")
trignet_cli_test("run --reproducible --fixed" ARGS run ${cli_fixed_mlp} --reproducible --fixed --inputs ${cli_fixed_inputs}
                 EXIT 2 ONE_LINE STDERR "^trignet: error: --reproducible applies to float evaluation")
trignet_cli_test("run --fixed on a model without precision"
                 ARGS run ${cli_jet_tagger} --fixed --inputs ${cli_data}/jet_inputs_batch4.json
                 EXIT 1 ONE_LINE STDERR "jet_tagger[.]json: the model has no \"fixed_point\" block [(]input types[)]: it cannot run in fixed point")
trignet_cli_test("info lists the fixed-point precision" ARGS info ${cli_fixed_mlp} EXIT 0
                 STDOUT "\ntest vectors: +0\n\nfixed point [(]docs/fixed-point[.]md[)]:\n  input x: ap_fixed<12,5,AP_RND,AP_SAT>\n  d1: accum ap_fixed<14,6,AP_RND,AP_SAT>, activation {result ap_ufixed<6,2,AP_RND,AP_SAT>}, bias ap_fixed<6,1>, result ap_fixed<12,5>, weight ap_fixed<6,1,AP_RND_CONV,AP_SAT>\n  d2: [^\n]*table_size 512[^\n]*\n  d3: accum ap_fixed<18,8>, activation {implementation stable, result ap_ufixed<10,0,AP_RND,AP_SAT>}, [^\n]*\n$")
trignet_cli_test("info --json lists the fixed-point precision" ARGS info --json ${cli_fixed_mlp} EXIT 0
                 STDOUT "\"fixed_point\": {\n    \"inputs\": {\n      \"x\": \"ap_fixed<12,5,AP_RND,AP_SAT>\"\n    },\n    \"nodes\": {\n      \"d1\": \"accum ap_fixed<14,6,AP_RND,AP_SAT>, [^\n]*\n      \"d2\": [^\n]*\n      \"d3\": [^\n]*\n    }\n  }\n}")

# --- bad model files (exit 1)
trignet_cli_test("nonexistent model file" ARGS info ${cli_data}/no_such_model.json
                 EXIT 1 ONE_LINE STDERR "^trignet: [^\n]*no_such_model[.]json: cannot open model file\n$")
trignet_cli_test("model path is a directory" ARGS info ${cli_data}
                 EXIT 1 ONE_LINE STDERR "data: is a directory, not a file")
trignet_cli_test("malformed model JSON" ARGS check ${cli_data}/malformed.json
                 EXIT 1 ONE_LINE STDERR "malformed[.]json: malformed JSON: parse error at line 10")
trignet_cli_test("invalid model names the JSON path" ARGS run ${cli_data}/relu_config_typo.json --inputs ${cli_data}/two_inputs.json
                 EXIT 1 ONE_LINE STDERR "relu_config_typo[.]json: nodes[[]0[]][.]config[.]activaton: unknown key")

# The CTest script, one per configuration for multi-configuration generators.
set(cli_include "${CMAKE_CURRENT_BINARY_DIR}/cli_tests_include.cmake")
get_property(cli_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
if(cli_multi_config)
  file(GENERATE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/cli_tests-$<CONFIG>.cmake"
       CONTENT "${trignet_cli_tests}")
  file(WRITE "${cli_include}"
       "include(\"${CMAKE_CURRENT_BINARY_DIR}/cli_tests-\${CTEST_CONFIGURATION_TYPE}.cmake\" OPTIONAL)\n")
else()
  file(GENERATE OUTPUT "${cli_include}" CONTENT "${trignet_cli_tests}")
endif()
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${cli_include}")
