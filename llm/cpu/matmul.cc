#include "llm/cpu/matmul.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "llm/cpu/amx.h"

namespace lumen::llm::cpu {
namespace {

constexpr std::size_t kTokenTile = 64;  // tokens whose activations stay in L2 during a panel

struct Task {
  const MatMulJob* job;
  std::size_t row_begin, row_end;
  const AmxActivations* amx;  // the job's activations in tile layout, when it runs on AMX
};

void DecodeRows(const SimdKernels& simd, const WeightMatrix& w, std::size_t row, std::size_t count,
                float* out) {
  for (std::size_t r = 0; r < count; ++r) DecodeRow(simd, w, row + r, out + r * w.cols);
}

// One output row computed through a decoded copy (rows that do not fill a group of four).
void SingleRow(const SimdKernels& simd, const MatMulJob& job, std::size_t row,
               std::vector<float>& buf) {
  const WeightMatrix& w = *job.w;
  const std::size_t cols = static_cast<std::size_t>(w.cols),
                    rows = static_cast<std::size_t>(w.rows);
  buf.resize(cols);
  DecodeRow(simd, w, row, buf.data());
  for (std::size_t t = 0; t < job.n; ++t) {
    job.y[t * rows + row] = simd.dot(buf.data(), job.x + t * cols, cols);
  }
}

// xs = ax × the scales of row r's block, for n tokens of arranged activations (`size` floats
// each; a group of 64 lies in one column block, as block_cols % 64 == 0).
void ScaleArranged(const WeightMatrix& w, std::size_t r, const float* ax, std::size_t n,
                   std::size_t size, std::vector<float>& xs) {
  const float* scales = w.ScaleRow(static_cast<std::int64_t>(r));
  const std::size_t block_cols = static_cast<std::size_t>(w.block_cols);
  xs.resize(n * size);
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t g = 0; g < size; g += 64) {
      const float scale = scales[g / block_cols];
      for (std::size_t i = g; i < g + 64; ++i) xs[t * size + i] = ax[t * size + i] * scale;
    }
  }
}

// Rows [r0, r1) of one job, r1 - r0 a multiple of 4 except possibly at the matrix end.
void RunTask(const SimdKernels& simd, const Task& task) {
  const MatMulJob& job = *task.job;
  if (task.amx != nullptr) {
    AmxMultiply(*job.w, task.row_begin, task.row_end, *task.amx, job.y);
    return;
  }
  const WeightMatrix& w = *job.w;
  const std::size_t cols = static_cast<std::size_t>(w.cols),
                    rows = static_cast<std::size_t>(w.rows);
  thread_local std::vector<float> panel;
  std::size_t r = task.row_begin;
  const std::size_t full_end = task.row_begin + (task.row_end - task.row_begin) / 4 * 4;
  const bool streamed = job.n <= 2 && (w.dtype == DType::kF8E4M3 || w.dtype == DType::kBF16);
  if (streamed) {
    // The activations in the FP8 kernel's order, arranged once for all rows of the task.
    const float* ax[2] = {job.x, job.x + cols};
    const std::size_t size = ArrangedFp8Size(cols);
    thread_local std::vector<float> arranged;
    if (w.dtype == DType::kF8E4M3 && simd.arrange_fp8_x != nullptr && full_end > r) {
      arranged.resize(job.n * size);
      for (std::size_t t = 0; t < job.n; ++t) {
        simd.arrange_fp8_x(job.x + t * cols, cols, arranged.data() + t * size);
        ax[t] = arranged.data() + t * size;
      }
    }
    // Four rows at a time as four streams: a run of 4q rows is cut into quarters and call k takes
    // row k of each quarter (rows s + k, s + k + q, ...), prefetching the row after each. The
    // memory system then sees four sequential streams rather than one region read four rows
    // abreast: on our build machine's two vCPUs the expert matvecs from memory went from ~20 to
    // ~23-27 GB/s (docs/BENCHMARKS.md, "sixth pass"). Where the kernels have dot_fp8_rows4_xs
    // and a scale block holds whole groups of 4 rows and 64 columns, the runs are the task's
    // rows of one row block each, whose scales are first multiplied into the arranged
    // activations, and the last call of a run prefetches the next run's rows.
    const bool by_xs = w.dtype == DType::kF8E4M3 && simd.dot_fp8_rows4_xs != nullptr &&
                       simd.arrange_fp8_x != nullptr && w.block_rows % 4 == 0 &&
                       w.block_cols % 64 == 0;
    thread_local std::vector<float> scaled;
    for (std::size_t s0 = r, s1; s0 < full_end; s0 = s1) {
      s1 = full_end;
      if (by_xs) {
        const std::size_t br = static_cast<std::size_t>(w.block_rows);
        s1 = std::min(full_end, (s0 / br + 1) * br);
        ScaleArranged(w, s0, arranged.data(), job.n, size, scaled);
      }
      const std::size_t q = (s1 - s0) / 4;
      for (std::size_t k = 0; k < q; ++k) {
        const std::size_t first = s0 + k;
        const std::size_t row[4] = {first, first + q, first + 2 * q, first + 3 * q};
        // The next row of each stream; after a run's last call, the next run's (same length).
        const std::size_t ahead = (k + 1 < q ? 1 : 3 * q + 1) * cols;
        for (std::size_t t = 0; t < job.n; ++t) {
          float out[4];
          if (by_xs) {
            simd.dot_fp8_rows4_xs(w.data + first * cols, q * cols, ahead, scaled.data() + t * size,
                                  cols, out);
          } else if (w.dtype == DType::kF8E4M3) {
            const float* scales[4] = {w.ScaleRow(row[0]), w.ScaleRow(row[1]), w.ScaleRow(row[2]),
                                      w.ScaleRow(row[3])};
            simd.dot_fp8_rows4(w.data + first * cols, q * cols, ahead, scales, w.block_cols, ax[t],
                               cols, out);
          } else {
            simd.dot_bf16_rows4(reinterpret_cast<const std::uint16_t*>(w.data) + first * cols,
                                q * cols, ahead, job.x + t * cols, cols, out);
          }
          for (int i = 0; i < 4; ++i) job.y[t * rows + row[i]] = out[i];
        }
      }
    }
  } else if (full_end > r) {
    const bool direct = w.dtype == DType::kF32;
    if (!direct) panel.resize(4 * cols);
    for (std::size_t t0 = 0; t0 < job.n; t0 += kTokenTile) {
      const std::size_t t1 = std::min(job.n, t0 + kTokenTile);
      for (std::size_t rr = r; rr < full_end; rr += 4) {
        const float* p = reinterpret_cast<const float*>(w.data) + rr * cols;
        if (!direct) {
          DecodeRows(simd, w, rr, 4, panel.data());
          p = panel.data();
        }
        std::size_t t = t0;
        for (; t < t1; t += 2) {
          const std::size_t x_stride = t + 1 < t1 ? cols : 0;
          float out[8];
          simd.dot_f32_rows4x2(p, cols, job.x + t * cols, x_stride, cols, out);
          for (int i = 0; i < 4; ++i) {
            job.y[t * rows + rr + i] = out[2 * i];
            if (x_stride) job.y[(t + 1) * rows + rr + i] = out[2 * i + 1];
          }
        }
      }
    }
    r = full_end;
  }
  r = std::max(r, full_end);
  thread_local std::vector<float> buf;
  for (; r < task.row_end; ++r) SingleRow(simd, job, r, buf);
}

}  // namespace

void DecodeRow(const SimdKernels& simd, const WeightMatrix& w, std::size_t row, float* out) {
  const std::size_t cols = static_cast<std::size_t>(w.cols);
  switch (w.dtype) {
    case DType::kF8E4M3: {
      const std::uint8_t* src = w.data + row * cols;
      const float* scales = w.ScaleRow(static_cast<std::int64_t>(row));
      const std::size_t bc = static_cast<std::size_t>(w.block_cols);
      for (std::size_t j = 0, b = 0; j < cols; j += bc, ++b) {
        simd.decode_fp8(src + j, scales[b], std::min(bc, cols - j), out + j);
      }
      return;
    }
    case DType::kBF16:
      simd.decode_bf16(reinterpret_cast<const std::uint16_t*>(w.data) + row * cols, cols, out);
      return;
    case DType::kF16:
      simd.decode_f16(reinterpret_cast<const std::uint16_t*>(w.data) + row * cols, cols, out);
      return;
    case DType::kF32: std::memcpy(out, w.data + row * cols * 4, cols * 4); return;
    default: std::fill(out, out + cols, 0.0f);
  }
}

void MatMulMany(const CpuContext& ctx, std::span<const MatMulJob> jobs) {
  // Split every job's rows into groups of four so that there are about 16 tasks per thread,
  // weighting a row by its weight bytes plus its multiply-adds. Threads claim tasks one at a
  // time, so at the end of each product a thread waits for at most one small task of another.
  double total = 0;
  for (const MatMulJob& j : jobs) {
    if (j.n == 0) continue;
    total += static_cast<double>(j.w->rows) * static_cast<double>(j.w->cols) *
             (static_cast<double>(j.n) + 4.0);
  }
  if (total == 0) return;
  const double per_task = total / static_cast<double>(ctx.threads() * 16);
  // Multi-token FP8 products on AMX: each distinct activation matrix is put into tile layout
  // once (jobs often share one, e.g. an expert's gate and up projections), and tasks take whole
  // 16-row tiles.
  const bool amx = ctx.simd->isa == Isa::kAmx;
  thread_local std::deque<AmxActivations> prepared;  // reused; pointers stay valid as it grows
  std::size_t used = 0;
  std::vector<const AmxActivations*> job_amx(jobs.size(), nullptr);
  if (amx) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const MatMulJob& j = jobs[i];
      if (j.n < 3 || !AmxCanMultiply(*j.w)) continue;
      for (std::size_t k = 0; k < i && job_amx[i] == nullptr; ++k) {
        if (job_amx[k] != nullptr && jobs[k].x == j.x && jobs[k].n == j.n &&
            jobs[k].w->cols == j.w->cols) {
          job_amx[i] = job_amx[k];
        }
      }
      if (job_amx[i] != nullptr) continue;
      if (used == prepared.size()) prepared.emplace_back();
      AmxPrepare(j.x, j.n, static_cast<std::size_t>(j.w->cols), prepared[used]);
      job_amx[i] = &prepared[used++];
    }
  }
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const MatMulJob& j = jobs[i];
    if (j.n == 0) continue;
    const std::size_t rows = static_cast<std::size_t>(j.w->rows);
    const double row_work = static_cast<double>(j.w->cols) * (static_cast<double>(j.n) + 4.0);
    const std::size_t quantum = job_amx[i] != nullptr ? 16 : 4;
    std::size_t step = static_cast<std::size_t>(per_task / row_work);
    step = std::max(quantum, step / quantum * quantum);
    for (std::size_t r = 0; r < rows; r += step) {
      tasks.push_back({&j, r, std::min(rows, r + step), job_amx[i]});
    }
  }
  const SimdKernels& simd = *ctx.simd;
  ctx.ParallelFor(tasks.size(), [&](std::size_t i) { RunTask(simd, tasks[i]); });
}

}  // namespace lumen::llm::cpu
