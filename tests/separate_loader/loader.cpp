// The one translation unit of this program that compiles the JSON loader and
// graph validation (TRIGNET_SEPARATE_LOADER, docs/fast-path.md "Compile time").
#define TRIGNET_LOADER_IMPLEMENTATION
#include <trignet/format/load_spec.hpp>
