// Progress lines (see progress.h).
#include "tools/progress.h"

#include <cmath>
#include <cstdio>

namespace lits::tools {

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  }
  return buf;
}

Progress::Progress(bool tty, double every) : tty_(tty), every_(every) { restart(); }

void Progress::restart() {
  t0_ = std::chrono::steady_clock::now();
  next_ = every_;
}

std::string Progress::status(double fraction) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  // The rate so far predicts the rest; nothing is predicted before any work is done.
  const double left = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : -1.0;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%3.0f%% %s, ETA %s", 100.0 * fraction, duration_text(elapsed).c_str(),
                duration_text(left).c_str());
  return buf;
}

void Progress::show(double fraction, const std::string& line) {
  if (tty_) {
    std::string text = "\r" + line;
    const size_t width = text.size();
    if (width < width_) text.append(width_ - width, ' ');  // hide the end of a longer line before
    width_ = width;
    std::fputs(text.c_str(), stdout);
  } else {
    if (every_ > 0) {
      if (fraction + 1e-9 < next_ && fraction < 1.0) return;
      while (next_ <= fraction + 1e-9) next_ += every_;
    }
    std::printf("  %s\n", line.c_str());
  }
  std::fflush(stdout);
}

void Progress::finish() {
  if (tty_ && width_ > 0) std::printf("\r%*s\r", static_cast<int>(width_), "");
  width_ = 0;
  std::fflush(stdout);
}

}  // namespace lits::tools
