#pragma once
// Owns the device copy of a DenseNet's parameters and hands out the View a
// kernel takes. Host API only: usable from .cpp and .cu files.
//
//   using Mva = trignet::cuda::DenseNet<4, 20, 20, 1>;
//   trignet::cuda::DeviceDenseNet<Mva> mva(trignet::load_model_spec("mva.json"));
//   select<<<blocks, threads, 0, stream>>>(mva.view(), d_x, d_score, n);

#include "trignet/cuda/dense_net.hpp"
#include "trignet/cuda/runtime.hpp"

namespace trignet::cuda {

template <typename Net>
class DeviceDenseNet {
 public:
  /// Reads and checks the parameters (UnsupportedError naming the first
  /// difference between the file and the type), then uploads them.
  explicit DeviceDenseNet(const ModelSpec& spec) : DeviceDenseNet(Net::parameters(spec)) {}
  explicit DeviceDenseNet(DenseNetParameters<Net> params)
      : host_(std::move(params)), device_(upload(host_.values.data(), host_.values.size())) {}

  /// The view for kernels: trivially copyable, pass it by value.
  typename Net::View view() const { return host_.view(device_.data()); }
  /// The same parameters in host memory, for Net::forward on the CPU.
  typename Net::View host_view() const { return host_.view(host_.values.data()); }

 private:
  DenseNetParameters<Net> host_;
  DeviceBuffer<float> device_;
};

}  // namespace trignet::cuda
