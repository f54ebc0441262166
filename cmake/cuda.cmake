# The CUDA backend: target trignet::cuda, its GPU tests and benchmark.
# Included by the top-level CMakeLists.txt when TRIGNET_ENABLE_CUDA is ON,
# after tests/ (the host tests reuse its Catch2 main).
#
# CMAKE_CUDA_ARCHITECTURES defaults to 90 (sm_90 machine code for H100/H200
# plus compute_90 PTX); override it, e.g. -DCMAKE_CUDA_ARCHITECTURES="80;90".

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures for the trignet CUDA backend")
endif()
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

set(TRIGNET_ROOT ${PROJECT_SOURCE_DIR})

add_library(trignet_cuda INTERFACE)
add_library(trignet::cuda ALIAS trignet_cuda)
target_link_libraries(trignet_cuda INTERFACE trignet::trignet CUDA::cudart CUDA::cublas)
target_compile_features(trignet_cuda INTERFACE cuda_std_17)

if(TRIGNET_BUILD_TESTS)
  add_subdirectory(${TRIGNET_ROOT}/tests/cuda ${CMAKE_CURRENT_BINARY_DIR}/tests/cuda)
endif()

if(TRIGNET_BUILD_BENCHMARKS)
  add_executable(trignet_cuda_bench ${TRIGNET_ROOT}/benchmarks/cuda_bench.cu)
  set_target_properties(trignet_cuda_bench PROPERTIES OUTPUT_NAME trignet-cuda-bench)
  target_link_libraries(trignet_cuda_bench PRIVATE trignet::cuda)
endif()
