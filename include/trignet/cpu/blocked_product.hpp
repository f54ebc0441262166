#pragma once
// The one way layers multiply matrices on the CPU without touching the heap.

#include <algorithm>

#include <Eigen/Core>

namespace trignet::cpu {

/// dst += lhs * rhs through Eigen, in blocks of at most 64 x 64 results and
/// 64 KiB of each packed operand. Eigen's GEMM heap-allocates its packing
/// buffers above EIGEN_STACK_ALLOCATION_LIMIT (128 KiB); these blocks keep them
/// on the stack, so run() never allocates, and keep the working set in cache.
/// Single columns of moderate size go straight to Eigen's GEMV. dst, lhs and
/// rhs are Eigen expressions (maps, blocks, transposes).
template <typename Dst, typename Lhs, typename Rhs>
void blocked_product_add(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  using Eigen::Index;
  using T = typename Eigen::internal::traits<std::decay_t<Lhs>>::Scalar;
  constexpr Index block = 64;
  constexpr Index depth_block = static_cast<Index>(65536 / (block * sizeof(T)));
  const Index m = lhs.rows(), depth = lhs.cols(), n = rhs.cols();
  if (n == 1 && m <= 4096 && depth <= 4096) {
    dst.col(0).noalias() += lhs * rhs.col(0);
    return;
  }
  for (Index c = 0; c < n; c += block) {
    const Index nc = std::min(block, n - c);
    for (Index r = 0; r < m; r += block) {
      const Index mr = std::min(block, m - r);
      for (Index k = 0; k < depth; k += depth_block) {
        const Index dk = std::min(depth_block, depth - k);
        dst.block(r, c, mr, nc).noalias() += lhs.block(r, k, mr, dk) * rhs.block(k, c, dk, nc);
      }
    }
  }
}

}  // namespace trignet::cpu
