// Phantom abdominal CT: anatomy drawn from a seeded generator in patient millimetres, sampled voxel by
// voxel through the volume's affine (several sub-samples across thick slices for partial volume), blurred
// in-plane, given CT noise, and written in the LiTS folder layout.
#include "pipeline/data/phantom.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>
#include <regex>
#include <system_error>

#include "engine/error.h"
#include "kernels/parallel.h"

namespace lits {

namespace {

namespace fs = std::filesystem;

constexpr double kPi = std::numbers::pi;
constexpr double kAirHu = -1000.0;

// SplitMix64's finaliser: turns (seed, set, index, slice) into well separated generator seeds, so that
// neighbouring volumes and slices share no structure.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Draws built only on mt19937_64's raw outputs, which the standard fixes bit for bit; the standard
// distributions are implementation-defined and would make datasets differ between standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return std::min(n - 1, static_cast<int>(uniform() * n)); }
  bool chance(double p) { return uniform() < p; }
  // Box-Muller; both values of a pair are used.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1], so the log is finite
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * kPi * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * kPi * u2);
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Header values pass through NIfTI-1's floats; rounding them first makes a written file read back equal.
double f32(double v) { return static_cast<double>(static_cast<float>(v)); }

double sq(double v) { return v * v; }

// An ellipsoid turned by `angle` about the z axis; q < 1 inside.
struct Ellipsoid {
  std::array<double, 3> c{0.0, 0.0, 0.0};
  std::array<double, 3> r{1.0, 1.0, 1.0};
  double angle = 0.0;

  double q(double x, double y, double z) const {
    const double dx = x - c[0], dy = y - c[1];
    const double ca = std::cos(angle), sa = std::sin(angle);
    return sq((ca * dx + sa * dy) / r[0]) + sq((-sa * dx + ca * dy) / r[1]) + sq((z - c[2]) / r[2]);
  }
  // The same in-plane only (a cylinder along z).
  double q2(double x, double y) const { return sq((x - c[0]) / r[0]) + sq((y - c[1]) / r[1]); }
};

// A plane wave in millimetres, the building block of the smooth shape deformations.
struct Wave {
  std::array<double, 3> k{0.0, 0.0, 0.0};  // radians per mm
  double phase = 0.0, amplitude = 0.0;
  double at(double x, double y, double z) const { return amplitude * std::sin(k[0] * x + k[1] * y + k[2] * z + phase); }
};

Wave random_wave(Rng& rng, double wavelength_mm, double amplitude) {
  Wave w;
  const double theta = rng.uniform(0.0, kPi), phi = rng.uniform(0.0, 2.0 * kPi);
  const double k = 2.0 * kPi / wavelength_mm;
  w.k = {k * std::sin(theta) * std::cos(phi), k * std::sin(theta) * std::sin(phi), k * std::cos(theta)};
  w.phase = rng.uniform(0.0, 2.0 * kPi);
  w.amplitude = amplitude;
  return w;
}

struct Lesion {
  Ellipsoid shape;
  Wave wave;
  double hu = 0.0;
};

struct Rib {
  double theta = 0.0, phase = 0.0;
};

// One patient in world (RAS+) millimetres: +x toward the patient's right, +y anterior, +z superior, the
// body centred near the origin.
struct Anatomy {
  // Body outline: an ellipse whose radius is modulated by low angular harmonics and slowly along z.
  double ax = 0.0, ay = 0.0, cy = 0.0;
  std::array<double, 2> harmonic_amp{0.0, 0.0}, harmonic_phase{0.0, 0.0};
  double z_wave_k = 0.0, z_wave_phase = 0.0;
  double fat_mm = 0.0, muscle_mm = 0.0;
  double fat_hu = 0.0, muscle_hu = 0.0, soft_hu = 0.0, liver_hu = 0.0, kidney_hu = 0.0, cortex_hu = 0.0;
  double cancellous_hu = 0.0, cortical_hu = 0.0, rib_hu = 0.0, gas_hu = 0.0, blood_hu = 0.0;
  Ellipsoid vertebra, spinous, aorta;  // cylinders
  std::array<Ellipsoid, 2> paraspinal, kidneys;
  std::vector<Ellipsoid> gas;
  std::array<Ellipsoid, 2> liver_lobes;  // right lobe, left lobe
  std::vector<Wave> liver_waves;
  std::array<double, 6> liver_box{0, 0, 0, 0, 0, 0};  // x0, x1, y0, y1, z0, z1: nothing of the liver outside
  std::vector<Lesion> lesions;
  std::vector<Rib> ribs;
  double rib_radius = 0.0, rib_period = 0.0, rib_bottom = 0.0;

  double body_scale(double z) const { return 1.0 + 0.04 * std::sin(z_wave_k * z + z_wave_phase); }
  double outline(double theta) const {
    return 1.0 + harmonic_amp[0] * std::cos(2.0 * theta + harmonic_phase[0]) +
           harmonic_amp[1] * std::cos(3.0 * theta + harmonic_phase[1]);
  }
  // < 0 inside the liver.
  double liver_f(double x, double y, double z) const {
    double f = std::min(liver_lobes[0].q(x, y, z), liver_lobes[1].q(x, y, z)) - 1.0;
    for (const Wave& w : liver_waves) f += w.at(x, y, z);
    return f;
  }
  bool in_liver_box(double x, double y, double z) const {
    return x >= liver_box[0] && x <= liver_box[1] && y >= liver_box[2] && y <= liver_box[3] && z >= liver_box[4] &&
           z <= liver_box[5];
  }
};

// What lies at one point.
struct Sample {
  double hu = kAirHu;
  uint8_t label = 0;
  int lesion = -1;
};

// The parts of the anatomy that depend on z alone, computed once per sampled plane.
struct Plane {
  double z = 0.0, scale = 1.0;
  std::vector<std::array<double, 2>> ribs;  // centres of the rib sections cut by this plane
};

Plane make_plane(const Anatomy& a, double z) {
  Plane p;
  p.z = z;
  p.scale = a.body_scale(z);
  if (z < a.rib_bottom) return p;
  for (const Rib& rib : a.ribs) {
    if (std::cos(2.0 * kPi * z / a.rib_period + rib.phase) < 0.25) continue;
    const double rx = a.ax * p.scale, ry = a.ay * p.scale;
    const double radius = std::hypot(rx * std::cos(rib.theta), ry * std::sin(rib.theta));
    const double rho = a.outline(rib.theta) - (a.fat_mm + 0.5 * a.muscle_mm) / radius;
    p.ribs.push_back({rx * rho * std::cos(rib.theta), a.cy + ry * rho * std::sin(rib.theta)});
  }
  return p;
}

Sample sample(const Anatomy& a, const Plane& p, double x, double y) {
  Sample s;
  const double rx = a.ax * p.scale, ry = a.ay * p.scale;
  const double nx = x / rx, ny = (y - a.cy) / ry;
  const double rho = std::hypot(nx, ny);
  const double theta = std::atan2(ny, nx);
  const double edge = a.outline(theta);
  if (rho >= edge) return s;
  // Depth below the skin, in mm along the ray from the centre.
  const double depth = (edge - rho) * std::hypot(rx * std::cos(theta), ry * std::sin(theta));
  const double z = p.z;
  if (depth < a.fat_mm) {
    s.hu = a.fat_hu;
  } else if (depth < a.fat_mm + a.muscle_mm) {
    s.hu = a.muscle_hu;
  } else {
    s.hu = a.soft_hu;
    bool organ = false;
    for (const Ellipsoid& k : a.kidneys) {
      const double q = k.q(x, y, z);
      if (q < 1.0) {
        s.hu = q > 0.55 ? a.cortex_hu : a.kidney_hu;
        organ = true;
      } else if (!organ && q < 1.9) {  // perirenal fat
        s.hu = a.fat_hu;
        organ = true;
      }
    }
    if (!organ && a.aorta.q2(x, y) < 1.0) {
      s.hu = a.blood_hu;
      organ = true;
    }
    if (!organ && a.in_liver_box(x, y, z) && a.liver_f(x, y, z) < 0.0) {
      s.hu = a.liver_hu;
      s.label = 1;
      organ = true;
      for (size_t l = 0; l < a.lesions.size(); ++l) {
        const Lesion& lesion = a.lesions[l];
        if (lesion.shape.q(x, y, z) + lesion.wave.at(x, y, z) < 1.0) {
          s.hu = lesion.hu;
          s.label = 2;
          s.lesion = static_cast<int>(l);
          break;
        }
      }
    }
    if (!organ) {
      for (const Ellipsoid& g : a.gas) {
        if (g.q(x, y, z) < 1.0) s.hu = a.gas_hu;
      }
    }
  }
  // Bone and the back muscles lie over whatever the soft-tissue layers put there.
  bool bone = false;
  if (const double q = a.vertebra.q2(x, y); q < 1.0) {
    s.hu = q > 0.65 ? a.cortical_hu : a.cancellous_hu;
    bone = true;
  } else if (a.spinous.q2(x, y) < 1.0) {
    s.hu = a.cortical_hu;
    bone = true;
  } else if (a.paraspinal[0].q2(x, y) < 1.0 || a.paraspinal[1].q2(x, y) < 1.0) {
    s.hu = a.muscle_hu;
    bone = true;
  }
  for (const auto& c : p.ribs) {
    if (bone) break;
    if (sq(x - c[0]) + sq(y - c[1]) < sq(a.rib_radius)) {
      s.hu = a.rib_hu;
      bone = true;
    }
  }
  if (bone) {
    s.label = 0;
    s.lesion = -1;
  }
  return s;
}

// The volume's grid: spacing, orientation and origin, centred on the patient.
NiftiGeometry draw_geometry(Rng& rng, const PhantomOptions& o, bool las) {
  const double d_in = f32(std::round(rng.uniform(0.6, 1.0) * 1000.0) / 1000.0);
  const double d_z = f32(std::round(rng.uniform(1.0, 5.0) * 100.0) / 100.0);
  NiftiGeometry g = make_nifti_geometry({o.size, o.size, o.slices}, {d_in, d_in, d_z});
  const double half_x = f32(0.5 * static_cast<double>(o.size - 1) * d_in);
  const double x0 = las ? half_x : -half_x;
  const double y0 = -half_x;
  const double z0 = f32(-0.5 * static_cast<double>(o.slices - 1) * d_z);
  g.srow_x = {las ? -d_in : d_in, 0.0, 0.0, x0};
  g.srow_y = {0.0, d_in, 0.0, y0};
  g.srow_z = {0.0, 0.0, d_z, z0};
  // The qform says the same: for LAS, diag(-1, 1, 1) = a half turn about y, diag(-1, 1, -1), with qfac -1.
  if (las) {
    g.quatern_c = 1.0;
    g.qfac = -1.0;
  }
  g.qoffset_x = x0;
  g.qoffset_y = y0;
  g.qoffset_z = z0;
  return g;
}

Anatomy draw_anatomy(Rng& rng, const NiftiGeometry& g, int lesion_count) {
  Anatomy a;
  // Scaled so that the body fits the narrowest field of view (0.6 mm spacing): a large grid holds an
  // adult-sized abdomen, the default 128 a small one; at 1.0 mm the body fills about half the width.
  const double fov = 0.6 * static_cast<double>(g.dims[0]);
  const double z_extent = g.pixdim[2] * static_cast<double>(g.dims[2]);
  a.ax = 0.5 * fov * rng.uniform(0.82, 0.92);
  a.ay = a.ax * rng.uniform(0.68, 0.8);
  a.cy = rng.uniform(-0.04, 0.04) * fov;
  a.harmonic_amp = {rng.uniform(0.0, 0.04), rng.uniform(0.0, 0.025)};
  a.harmonic_phase = {rng.uniform(0.0, 2 * kPi), rng.uniform(0.0, 2 * kPi)};
  a.z_wave_k = 2.0 * kPi / (z_extent * rng.uniform(1.5, 3.0));
  a.z_wave_phase = rng.uniform(0.0, 2 * kPi);
  a.fat_mm = a.ax * rng.uniform(0.07, 0.16);
  a.muscle_mm = a.ax * rng.uniform(0.045, 0.065);

  a.fat_hu = rng.uniform(-110.0, -90.0);
  a.muscle_hu = rng.uniform(35.0, 55.0);
  a.soft_hu = rng.uniform(20.0, 35.0);
  a.liver_hu = rng.uniform(50.0, 70.0);
  a.kidney_hu = rng.uniform(25.0, 35.0);
  a.cortex_hu = a.kidney_hu + rng.uniform(10.0, 30.0);
  a.cancellous_hu = rng.uniform(400.0, 550.0);
  a.cortical_hu = rng.uniform(700.0, 1000.0);
  a.rib_hu = rng.uniform(450.0, 900.0);
  a.gas_hu = rng.uniform(-950.0, -850.0);
  a.blood_hu = rng.uniform(35.0, 50.0);

  // Cavity semi-axes: inside the muscle wall.
  const double cx = a.ax - a.fat_mm - a.muscle_mm, cyr = a.ay - a.fat_mm - a.muscle_mm;
  const double rv = 0.12 * a.ax;
  const double spine_y = a.cy - 0.5 * a.ay;
  a.vertebra = {{0.0, spine_y, 0.0}, {rv, rv * 0.9, 1.0}, 0.0};
  a.spinous = {{0.0, spine_y - 1.55 * rv, 0.0}, {0.28 * rv, 0.65 * rv, 1.0}, 0.0};
  for (int side = 0; side < 2; ++side) {
    const double sx = side == 0 ? 1.0 : -1.0;
    a.paraspinal[side] = {{sx * 1.45 * rv, spine_y - 1.45 * rv, 0.0}, {1.0 * rv, 0.85 * rv, 1.0}, 0.0};
  }
  a.aorta = {{-0.45 * rv, spine_y + 1.45 * rv, 0.0}, {0.45 * rv, 0.45 * rv, 1.0}, 0.0};

  // The liver: a right lobe and a smaller left lobe reaching over the midline, deformed by a few long
  // waves; it spans a sub-range of the slices, leaving liver-free slices above and below.
  const double hz = z_extent * rng.uniform(0.22, 0.32);
  const double zc = z_extent * rng.uniform(-0.06, 0.06);
  Ellipsoid& right = a.liver_lobes[0];
  right.c = {0.36 * cx, a.cy + rng.uniform(0.0, 0.12) * cyr, zc};
  right.r = {0.5 * cx * rng.uniform(0.9, 1.1), 0.68 * cyr * rng.uniform(0.9, 1.1), hz};
  right.angle = rng.uniform(-0.25, 0.25);
  Ellipsoid& left = a.liver_lobes[1];
  left.c = {-0.08 * cx, a.cy + 0.35 * cyr, zc + 0.3 * hz};
  left.r = {0.36 * cx * rng.uniform(0.8, 1.1), 0.26 * cyr * rng.uniform(0.8, 1.1), 0.6 * hz};
  left.angle = rng.uniform(-0.35, 0.1);
  const double liver_size = (right.r[0] + right.r[1] + right.r[2]) / 3.0;
  for (int w = 0; w < 4; ++w) a.liver_waves.push_back(random_wave(rng, liver_size * rng.uniform(0.8, 2.0), 0.055));
  // sqrt(1 + total wave amplitude) bounds how far a deformed lobe reaches beyond its ellipsoid.
  const double reach = std::sqrt(1.0 + 4 * 0.055) * 1.3;
  a.liver_box = {1e30, -1e30, 1e30, -1e30, 1e30, -1e30};
  for (const Ellipsoid& lobe : a.liver_lobes) {
    const double rxy = std::max(lobe.r[0], lobe.r[1]) * reach;
    a.liver_box[0] = std::min(a.liver_box[0], lobe.c[0] - rxy);
    a.liver_box[1] = std::max(a.liver_box[1], lobe.c[0] + rxy);
    a.liver_box[2] = std::min(a.liver_box[2], lobe.c[1] - rxy);
    a.liver_box[3] = std::max(a.liver_box[3], lobe.c[1] + rxy);
    a.liver_box[4] = std::min(a.liver_box[4], lobe.c[2] - lobe.r[2] * reach);
    a.liver_box[5] = std::max(a.liver_box[5], lobe.c[2] + lobe.r[2] * reach);
  }

  // Kidneys lie behind and below the liver, the right one lower; obliquely turned, in perirenal fat.
  for (int side = 0; side < 2; ++side) {
    const double sx = side == 0 ? 1.0 : -1.0;
    Ellipsoid& k = a.kidneys[side];
    k.c = {sx * 0.42 * cx, spine_y + rng.uniform(0.1, 0.3) * cyr,
           zc - z_extent * (rng.uniform(0.2, 0.32) + (side == 0 ? 0.05 : 0.0))};
    k.r = {0.13 * cx * rng.uniform(0.9, 1.1), 0.2 * cyr * rng.uniform(0.9, 1.1), z_extent * rng.uniform(0.14, 0.2)};
    k.angle = sx * rng.uniform(0.3, 0.6);
  }
  // Bowel gas on the patient's left, in front.
  const int gas_count = rng.below(4);
  for (int i = 0; i < gas_count; ++i) {
    const double r = cx * rng.uniform(0.04, 0.1);
    a.gas.push_back(
        {{-cx * rng.uniform(0.2, 0.6), a.cy + cyr * rng.uniform(0.0, 0.5), z_extent * rng.uniform(-0.5, 0.5)},
         {r * rng.uniform(0.8, 1.3), r, rng.uniform(5.0, 20.0)},
         rng.uniform(0.0, kPi)});
  }
  // Ribs on both sides, cut by the slices where their (z-periodic) course crosses the plane.
  a.rib_radius = a.ax * rng.uniform(0.03, 0.04);
  a.rib_period = rng.uniform(25.0, 40.0);
  a.rib_bottom = zc - 0.3 * hz;
  for (double deg : {-45.0, -15.0, 15.0, 45.0, 70.0}) {
    for (int side = 0; side < 2; ++side) {
      const double t = deg * kPi / 180.0;
      a.ribs.push_back({side == 0 ? t : kPi - t, rng.uniform(0.0, 2 * kPi)});
    }
  }

  // Lesions: centred deep inside the liver on a slice centre (so each one shows on at least one slice),
  // radius 3..20 mm but no more than fits the liver and at least two voxels; label 2 only where liver.
  const double d_in = g.pixdim[0], d_z = g.pixdim[2];
  const double z0 = g.srow_z[3];
  const double r_max = std::max(0.4 * std::min(right.r[0], right.r[1]), 2.0 * d_in);
  for (int l = 0; l < lesion_count; ++l) {
    const Ellipsoid& lobe = a.liver_lobes[rng.chance(0.8) ? 0 : 1];
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::array<double, 3> u{rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6)};
      const double ca = std::cos(lobe.angle), sa = std::sin(lobe.angle);
      const double lx = u[0] * lobe.r[0], ly = u[1] * lobe.r[1];
      double x = lobe.c[0] + ca * lx - sa * ly, y = lobe.c[1] + sa * lx + ca * ly, z = lobe.c[2] + u[2] * lobe.r[2];
      const double k = std::clamp(std::round((z - z0) / d_z), 0.0, static_cast<double>(g.dims[2] - 1));
      z = z0 + k * d_z;
      if (a.liver_f(x, y, z) > -0.35) continue;
      const double r = std::clamp(3.0 * std::exp(rng.uniform(0.0, std::log(20.0 / 3.0))), 2.0 * d_in, r_max);
      Lesion lesion;
      lesion.shape = {{x, y, z},
                      {r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.2)},
                      rng.uniform(0.0, kPi)};
      lesion.wave = random_wave(rng, r * rng.uniform(1.5, 3.0), 0.12);
      lesion.hu = a.liver_hu - rng.uniform(10.0, 40.0);
      a.lesions.push_back(lesion);
      break;
    }
  }
  return a;
}

// In-plane partial volume: a separable Gaussian over one slice, edges clamped.
void blur_slice(float* slice, int64_t nx, int64_t ny, double sigma) {
  constexpr int kRadius = 2;
  std::array<double, 2 * kRadius + 1> w{};
  double total = 0.0;
  for (int t = -kRadius; t <= kRadius; ++t) total += w[t + kRadius] = std::exp(-0.5 * sq(t / sigma));
  for (double& v : w) v /= total;
  std::vector<float> tmp(static_cast<size_t>(nx * ny));
  for (int64_t j = 0; j < ny; ++j) {
    for (int64_t i = 0; i < nx; ++i) {
      double acc = 0.0;
      for (int t = -kRadius; t <= kRadius; ++t)
        acc += w[t + kRadius] * slice[j * nx + std::clamp<int64_t>(i + t, 0, nx - 1)];
      tmp[j * nx + i] = static_cast<float>(acc);
    }
  }
  for (int64_t j = 0; j < ny; ++j) {
    for (int64_t i = 0; i < nx; ++i) {
      double acc = 0.0;
      for (int t = -kRadius; t <= kRadius; ++t)
        acc += w[t + kRadius] * tmp[std::clamp<int64_t>(j + t, 0, ny - 1) * nx + i];
      slice[j * nx + i] = static_cast<float>(acc);
    }
  }
}

}  // namespace

Phantom make_phantom(const PhantomOptions& options, int64_t volume_index, bool test_set) {
  LITS_CHECK(options.size >= 16 && options.slices >= 4,
             "phantom: size " << options.size << " x " << options.size << " x " << options.slices
                              << " is too small; expected at least 16 x 16 x 4");
  LITS_CHECK(volume_index >= 0, "phantom: volume index " << volume_index << " must be >= 0");
  const uint64_t volume_seed =
      mix64(mix64(mix64(options.seed) ^ (test_set ? 2u : 1u)) ^ static_cast<uint64_t>(volume_index));
  Rng rng(volume_seed);
  // Alternating orientation (from a per-seed start) puts both RAS and LAS in any two consecutive volumes.
  const bool las = ((static_cast<uint64_t>(volume_index) + (mix64(options.seed) & 1u)) & 1u) != 0;
  int lesion_count = 1 + rng.below(6);
  if (volume_index == 1 || (volume_index > 1 && rng.chance(0.25))) lesion_count = 0;
  if (volume_index == 0) lesion_count = std::max(lesion_count, 1);

  Phantom p;
  p.geometry = draw_geometry(rng, options, las);
  const Anatomy a = draw_anatomy(rng, p.geometry, lesion_count);
  const double noise_sigma = rng.uniform(10.0, 20.0);
  const double blur_sigma = rng.uniform(0.4, 0.7);

  const NiftiGeometry& g = p.geometry;
  const int64_t nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  const auto rows = g.affine();
  // Thick slices average the anatomy over their thickness: an odd number of samples about 1 mm apart,
  // the middle one (the slice centre) giving the label.
  const int subsamples = 1 + 2 * static_cast<int>(std::floor(g.pixdim[2] / 2.0));
  p.hu.assign(static_cast<size_t>(g.voxel_count()), 0.0f);
  p.labels.assign(static_cast<size_t>(g.voxel_count()), 0);
  std::vector<std::vector<char>> seen(static_cast<size_t>(nz), std::vector<char>(a.lesions.size(), 0));
  kernels::parallel_for(
      nz,
      [&](int64_t k) {
        float* hu = p.hu.data() + k * nx * ny;
        uint8_t* labels = p.labels.data() + k * nx * ny;
        for (int s = 0; s < subsamples; ++s) {
          const double kk = static_cast<double>(k) + (s - subsamples / 2) / static_cast<double>(subsamples);
          const Plane plane = make_plane(a, rows[2][2] * kk + rows[2][3]);
          for (int64_t j = 0; j < ny; ++j) {
            for (int64_t i = 0; i < nx; ++i) {
              const double x = rows[0][0] * static_cast<double>(i) + rows[0][3];
              const double y = rows[1][1] * static_cast<double>(j) + rows[1][3];
              const Sample v = sample(a, plane, x, y);
              hu[j * nx + i] += static_cast<float>(v.hu / subsamples);
              if (s == subsamples / 2) {
                labels[j * nx + i] = v.label;
                if (v.lesion >= 0) seen[static_cast<size_t>(k)][static_cast<size_t>(v.lesion)] = 1;
              }
            }
          }
        }
        blur_slice(hu, nx, ny, blur_sigma);
        Rng noise(mix64(volume_seed ^ mix64(0x6e6f697365ULL + static_cast<uint64_t>(k))));
        for (int64_t v = 0; v < nx * ny; ++v)
          hu[v] = static_cast<float>(std::clamp(std::round(hu[v] + noise_sigma * noise.normal()), -1024.0, 3071.0));
      },
      1);
  for (size_t l = 0; l < a.lesions.size(); ++l) {
    for (const auto& slice_seen : seen) {
      if (slice_seen[l]) {
        ++p.lesions;
        break;
      }
    }
  }
  return p;
}

namespace {

const std::array<const char*, 3> kFolders = {"Training_Data", "Test_Data", "Test_Truth"};

// The LiTS file names each folder may hold; the number is the volume index.
const std::regex& name_pattern(const std::string& folder) {
  static const std::regex train(R"((volume|segmentation)-(\d+)\.nii\.gz)");
  static const std::regex test(R"(test-volume-(\d+)\.nii\.gz)");
  static const std::regex truth(R"(test-segmentation-(\d+)\.nii\.gz)");
  return folder == kFolders[0] ? train : folder == kFolders[1] ? test : truth;
}

// A temporary file that write_nifti_volume/mask left behind when a run was killed mid-write.
bool is_stale_temp(const std::string& name) {
  static const std::regex temp(R"(.*\.tmp\d+_\d+\.nii(\.gz)?)");
  return std::regex_match(name, temp);
}

// Refuses any `out` that is not empty, absent or a synth dataset, before anything is written.
void check_out_folder(const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(out, ec)) return;
  LITS_CHECK(fs::is_directory(out, ec),
             "synth: output '" << out.string() << "' exists and is not a folder; expected a new or empty folder");
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    const bool ours = std::find(kFolders.begin(), kFolders.end(), name) != kFolders.end() && entry.is_directory();
    if (!ours) {
      LITS_THROW("synth: output folder '" << out.string() << "' holds '" << name
                                          << "', which is not part of a synthetic dataset; expected a new or empty "
                                             "folder, or a previous `lits synth` output (Training_Data, Test_Data, "
                                             "Test_Truth only)");
    }
    for (const auto& file : fs::directory_iterator(entry.path())) {
      const std::string fname = file.path().filename().string();
      if (file.is_regular_file() && (std::regex_match(fname, name_pattern(name)) || is_stale_temp(fname))) continue;
      LITS_THROW("synth: output folder '" << out.string() << "' holds '" << (fs::path(name) / fname).string()
                                          << "', which is not a file of a synthetic dataset; expected a new or empty "
                                             "folder, or a previous `lits synth` output");
    }
  }
}

// Removes files of an earlier, larger dataset and leftover temporaries, so the folder holds one dataset.
void remove_stale(const fs::path& out, const std::array<int, 3>& counts) {
  for (size_t f = 0; f < kFolders.size(); ++f) {
    for (const auto& file : fs::directory_iterator(out / kFolders[f])) {
      const std::string name = file.path().filename().string();
      std::smatch m;
      bool stale = is_stale_temp(name);
      if (std::regex_match(name, m, name_pattern(kFolders[f]))) stale = std::stoll(m[m.size() - 1].str()) >= counts[f];
      if (!stale) continue;
      std::error_code ec;
      fs::remove(file.path(), ec);
      if (ec) LITS_THROW("synth: cannot remove the stale file '" << file.path().string() << "': " << ec.message());
    }
  }
}

int64_t size_of(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

}  // namespace

void write_synth_dataset(const SynthOptions& options, const std::function<void(const SynthVolumeInfo&)>& progress) {
  LITS_CHECK(!options.out.empty(), "synth: no output folder given");
  LITS_CHECK(options.train >= 1 && options.test >= 0,
             "synth: " << options.train << " training and " << options.test
                       << " test volumes requested; expected at least 1 and 0");
  const fs::path out(options.out);
  check_out_folder(out);
  for (const char* folder : kFolders) {
    std::error_code ec;
    fs::create_directories(out / folder, ec);
    if (ec) LITS_THROW("synth: cannot create the folder '" << (out / folder).string() << "': " << ec.message());
  }
  for (int set = 0; set < 2; ++set) {
    const bool test_set = set == 1;
    const int count = test_set ? options.test : options.train;
    for (int i = 0; i < count; ++i) {
      const Phantom p = make_phantom(options.phantom, i, test_set);
      SynthVolumeInfo info;
      const std::string n = std::to_string(i);
      info.image = (test_set ? out / "Test_Data" / ("test-volume-" + n + ".nii.gz")
                             : out / "Training_Data" / ("volume-" + n + ".nii.gz"))
                       .string();
      info.labels = (test_set ? out / "Test_Truth" / ("test-segmentation-" + n + ".nii.gz")
                              : out / "Training_Data" / ("segmentation-" + n + ".nii.gz"))
                        .string();
      write_nifti_volume(info.image, p.geometry, p.hu, NiftiType::kInt16);
      write_nifti_mask(info.labels, p.geometry, p.labels);
      info.test_set = test_set;
      info.index = i;
      info.dims = p.geometry.dims;
      info.spacing = p.geometry.pixdim;
      info.orientation = p.geometry.orientation();
      info.lesions = p.lesions;
      info.bytes = size_of(info.image) + size_of(info.labels);
      if (progress) progress(info);
    }
  }
  remove_stale(out, {options.train, options.test, options.test});
}

}  // namespace lits
