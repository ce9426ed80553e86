// CUDA error checking and device-memory ownership for the CUDA engine.
//
// Every runtime call goes through LUMEN_CUDA_CHECK, which turns a CUDA error into a Status naming
// the call and the place (the engine's callers see errors as values; nothing aborts); kernel
// launches go through LaunchKernel (llm/cuda/kernels.cu), which does the same with CudaError.
// Buffers are RAII: DeviceBuffer (cudaMalloc, never managed memory) and PinnedBuffer (page-locked
// host memory for the per-token copies). Move-only; not thread-safe.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "core/status.h"

namespace lumen::llm::cuda {

inline Status CudaError(cudaError_t e, const char* what, const char* file, int line) {
  return Status(
      e == cudaErrorMemoryAllocation ? StatusCode::kResourceExhausted : StatusCode::kInternal,
      std::string("CUDA: ") + what + " failed: " + cudaGetErrorName(e) + " (" +
          cudaGetErrorString(e) + ") at " + file + ":" + std::to_string(line));
}

// Returns a Status from the enclosing function when `expr` (a cudaError_t) is not cudaSuccess.
#define LUMEN_CUDA_CHECK(expr)                                                          \
  do {                                                                                  \
    const cudaError_t lumen_cuda_err_ = (expr);                                         \
    if (lumen_cuda_err_ != cudaSuccess)                                                 \
      return ::lumen::llm::cuda::CudaError(lumen_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { Reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = o.bytes_;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Frees what it held and allocates `bytes` (uninitialised).
  Status Allocate(std::size_t bytes) {
    Reset();
    if (bytes == 0) return Status::Ok();
    LUMEN_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
    bytes_ = bytes;
    return Status::Ok();
  }
  void Reset() {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer() { Reset(); }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = o.bytes_;
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  Status Allocate(std::size_t bytes) {
    Reset();
    if (bytes == 0) return Status::Ok();
    LUMEN_CUDA_CHECK(cudaMallocHost(&ptr_, bytes));
    bytes_ = bytes;
    return Status::Ok();
  }
  void Reset() {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace lumen::llm::cuda
