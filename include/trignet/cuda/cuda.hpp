#pragma once
// The CUDA backend in one include (nvcc translation units only, as model.hpp
// holds kernels). Host-only parts: plan.hpp, dense_net.hpp (no CUDA header),
// dense_net_device.hpp and runtime.hpp (CUDA runtime API, any C++ compiler).

#include "trignet/cuda/dense_net.hpp"
#include "trignet/cuda/dense_net_device.hpp"
#include "trignet/cuda/model.hpp"
#include "trignet/cuda/ops.hpp"
#include "trignet/cuda/plan.hpp"
#include "trignet/cuda/runtime.hpp"
#include "trignet/format/load_spec.hpp"
