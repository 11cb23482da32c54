// Progress of long commands (convert, train, segment, submit, evaluate): the percentage done, the time so
// far and the estimated time left, as one line rewritten in place on a terminal, or as plain lines every
// tenth of the work when the output goes to a log file (so a log shows that a 45-minute volume advances).
#pragma once

#include <chrono>
#include <string>

namespace lits::tools {

// "1m05s", "2h03m"; "?" for a negative or non-finite time.
std::string duration_text(double seconds);

class Progress {
 public:
  // `tty`: whether stdout is a terminal; `every`: the fraction of the work between plain lines (0: a line
  // at every call).
  explicit Progress(bool tty, double every = 0.1);
  // Restarts the clock and the plain-line schedule (a new volume).
  void restart();
  // "40% 1m10s, ETA 1m45s" at `fraction` (0..1) of the work.
  std::string status(double fraction) const;
  // Shows `line`: on a terminal rewritten in place at every call; otherwise printed when `fraction` has
  // passed the next multiple of `every` since the last printed line (and at 100%).
  void show(double fraction, const std::string& line);
  // Ends a line left on the terminal, so that the next output starts on a fresh line.
  void finish();
  bool tty() const { return tty_; }

 private:
  bool tty_;
  double every_, next_ = 0.0;
  size_t width_ = 0;  // of the line now on the terminal
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace lits::tools
