// CPU GroupNorm and BatchNorm: one statistics set per parallel iteration, double accumulation,
// fixed loop order (results do not depend on the thread count).
#include <cmath>

#include "kernels/norm.h"
#include "kernels/parallel.h"

namespace lits::kernels {

namespace {

// Mean and biased variance of the elements x[base + n * stride_n + i], n < count_n, i < len.
template <typename T>
void moments(const T* x, int64_t count_n, int64_t stride_n, int64_t len, double* mean, double* var) {
  double s = 0.0;
  for (int64_t n = 0; n < count_n; ++n)
    for (int64_t i = 0; i < len; ++i) s += static_cast<double>(x[n * stride_n + i]);
  const double m = s / static_cast<double>(count_n * len);
  double q = 0.0;
  for (int64_t n = 0; n < count_n; ++n)
    for (int64_t i = 0; i < len; ++i) {
      const double d = static_cast<double>(x[n * stride_n + i]) - m;
      q += d * d;
    }
  *mean = m;
  *var = q / static_cast<double>(count_n * len);
}

// Sums over the samples and pixels of channel c of g and of g * xhat, where sample n's statistics
// are mean[stat(n)] and rstd[stat(n)]: the parameter gradients of both norms.
template <typename T, typename Stat>
void channel_grad_sums(const T* x, const T* g, const T* mean, const T* rstd, int64_t N, int64_t C, int64_t HW,
                       int64_t c, Stat stat, double* sg, double* sgx) {
  *sg = 0.0;
  *sgx = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t k = stat(n);
    const double m = static_cast<double>(mean[k]), r = static_cast<double>(rstd[k]);
    const int64_t base = (n * C + c) * HW;
    for (int64_t i = 0; i < HW; ++i) {
      const double gv = static_cast<double>(g[base + i]);
      *sg += gv;
      *sgx += times_xhat(gv, static_cast<double>(x[base + i]), m, r);
    }
  }
}

}  // namespace

template <typename T>
void group_norm_forward_cpu(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                            int64_t HW, int64_t G, double eps) {
  const int64_t cg = C / G, len = cg * HW;
  parallel_for(
      N * G,
      [&](int64_t ng) {
        const int64_t base = ng * len, c0 = (ng % G) * cg;
        double m, v;
        moments(x + base, 1, 0, len, &m, &v);
        const double r = inverse_std(v, eps);
        mean[ng] = static_cast<T>(m);
        rstd[ng] = static_cast<T>(r);
        for (int64_t c = 0; c < cg; ++c) {
          const double ga = static_cast<double>(gamma[c0 + c]), be = static_cast<double>(beta[c0 + c]);
          for (int64_t i = 0; i < HW; ++i) {
            const int64_t k = base + c * HW + i;
            y[k] = static_cast<T>(norm_affine(static_cast<double>(x[k]), m, r, ga, be));
          }
        }
      },
      1);
}

template <typename T>
void group_norm_backward_cpu(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                             T* dbeta, int64_t N, int64_t C, int64_t HW, int64_t G) {
  const int64_t cg = C / G, len = cg * HW;
  if (dx) {
    parallel_for(
        N * G,
        [&](int64_t ng) {
          const int64_t base = ng * len, c0 = (ng % G) * cg;
          const double m = static_cast<double>(mean[ng]), r = static_cast<double>(rstd[ng]);
          double s1 = 0.0, s2 = 0.0;  // sums of dxhat and dxhat * xhat
          for (int64_t c = 0; c < cg; ++c) {
            const double ga = static_cast<double>(gamma[c0 + c]);
            for (int64_t i = 0; i < HW; ++i) {
              const int64_t k = base + c * HW + i;
              const double dxh = static_cast<double>(g[k]) * ga;
              s1 += dxh;
              s2 += times_xhat(dxh, static_cast<double>(x[k]), m, r);
            }
          }
          const double m1 = s1 / static_cast<double>(len), m2 = s2 / static_cast<double>(len);
          for (int64_t c = 0; c < cg; ++c) {
            const double ga = static_cast<double>(gamma[c0 + c]);
            for (int64_t i = 0; i < HW; ++i) {
              const int64_t k = base + c * HW + i;
              dx[k] = norm_input_grad<T>(static_cast<double>(g[k]) * ga, norm_xhat(static_cast<double>(x[k]), m, r), m1,
                                         m2, r);
            }
          }
        },
        1);
  }
  if (dgamma || dbeta) {
    parallel_for(
        C,
        [&](int64_t c) {
          double sg, sgx;
          channel_grad_sums(
              x, g, mean, rstd, N, C, HW, c, [&](int64_t n) { return n * G + c / cg; }, &sg, &sgx);
          if (dgamma) dgamma[c] = static_cast<T>(sgx);
          if (dbeta) dbeta[c] = static_cast<T>(sg);
        },
        1);
  }
}

template <typename T>
void batch_norm_forward_cpu(const T* x, const T* gamma, const T* beta, T* y, bool training, const T* running_mean,
                            const T* running_var, T* batch_mean, T* batch_var, T* rstd, int64_t N, int64_t C,
                            int64_t HW, double eps) {
  parallel_for(
      C,
      [&](int64_t c) {
        double m, v;
        if (training) {
          moments(x + c * HW, N, C * HW, HW, &m, &v);
          batch_mean[c] = static_cast<T>(m);
          batch_var[c] = static_cast<T>(v);
        } else {
          m = static_cast<double>(running_mean[c]);
          v = static_cast<double>(running_var[c]);
        }
        const double r = inverse_std(v, eps);
        rstd[c] = static_cast<T>(r);
        const double ga = static_cast<double>(gamma[c]), be = static_cast<double>(beta[c]);
        for (int64_t n = 0; n < N; ++n) {
          const int64_t base = (n * C + c) * HW;
          for (int64_t i = 0; i < HW; ++i)
            y[base + i] = static_cast<T>(norm_affine(static_cast<double>(x[base + i]), m, r, ga, be));
        }
      },
      1);
}

template <typename T>
void batch_norm_backward_cpu(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                             T* dbeta, bool training, int64_t N, int64_t C, int64_t HW) {
  parallel_for(
      C,
      [&](int64_t c) {
        const double m = static_cast<double>(mean[c]), r = static_cast<double>(rstd[c]);
        const double ga = static_cast<double>(gamma[c]);
        double sg, sgx;
        channel_grad_sums(
            x, g, mean, rstd, N, C, HW, c, [&](int64_t) { return c; }, &sg, &sgx);
        if (dgamma) dgamma[c] = static_cast<T>(sgx);
        if (dbeta) dbeta[c] = static_cast<T>(sg);
        if (!dx) return;
        const double count = static_cast<double>(N * HW);
        // Training: the statistics depend on x too. Evaluation: a fixed affine map.
        const double m1 = training ? ga * sg / count : 0.0, m2 = training ? ga * sgx / count : 0.0;
        for (int64_t n = 0; n < N; ++n) {
          const int64_t base = (n * C + c) * HW;
          for (int64_t i = 0; i < HW; ++i) {
            const double xh = norm_xhat(static_cast<double>(x[base + i]), m, r);
            dx[base + i] = norm_input_grad<T>(static_cast<double>(g[base + i]) * ga, xh, m1, m2, r);
          }
        }
      },
      1);
}

#define LITS_INSTANTIATE(T)                                                                                       \
  template void group_norm_forward_cpu<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t,    \
                                          int64_t, double);                                                       \
  template void group_norm_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, \
                                           int64_t, int64_t, int64_t);                                            \
  template void batch_norm_forward_cpu<T>(const T*, const T*, const T*, T*, bool, const T*, const T*, T*, T*, T*, \
                                          int64_t, int64_t, int64_t, double);                                     \
  template void batch_norm_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, bool,    \
                                           int64_t, int64_t, int64_t);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
