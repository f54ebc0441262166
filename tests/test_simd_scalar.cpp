// The SIMD checks built for one instruction set (flags set in tests/CMakeLists.txt).
#define SIMD_CHECKS_NS simd_checks_scalar
#include "simd_checks.inc"
