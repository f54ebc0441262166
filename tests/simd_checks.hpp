#pragma once
// Interface of tests/simd_checks.inc, compiled once per instruction set.

#include <cstddef>

struct SimdLog {
  int failures = 0;
  std::size_t used = 0;
  char text[16384] = {};
};

struct AccuracyRow {
  const char* name;
  double max_abs, max_rel, max_ulp;
};

#define TRIGNET_DECLARE_SIMD_CHECKS(ns)                                                  \
  namespace ns {                                                                         \
  const char* isa();                                                                     \
  void check_activation_accuracy(SimdLog& log, AccuracyRow* rows, std::size_t* n_rows); \
  void check_activation_sizes(SimdLog& log);                                             \
  void check_softmax(SimdLog& log);                                                      \
  void check_dense(SimdLog& log);                                                        \
  void check_exp_floor(SimdLog& log);                                                    \
  void check_dense_softmax(SimdLog& log);                                                \
  void check_dense_fixed(SimdLog& log);                                                  \
  }

TRIGNET_DECLARE_SIMD_CHECKS(simd_checks_default)
TRIGNET_DECLARE_SIMD_CHECKS(simd_checks_scalar)
TRIGNET_DECLARE_SIMD_CHECKS(simd_checks_avx2)
TRIGNET_DECLARE_SIMD_CHECKS(simd_checks_avx512)
