// The slice store opened for training (docs/architecture.md section 9): index.json plus every volume's arrays mapped
// read-only (MappedNpy), so the dataset reads single slices through the page cache and a store larger
// than memory works. Each array's dtype and shape are checked against the volume's entry when opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/data/convert.h"
#include "pipeline/io/npy.h"

namespace lits {

class SliceStore {
 public:
  // Throws lits::Error naming the folder or file when the store is missing, incomplete or inconsistent.
  explicit SliceStore(const std::string& dir);

  const std::string& dir() const { return dir_; }
  int64_t volumes() const { return static_cast<int64_t>(entries_.size()); }
  const StoreEntry& entry(int64_t v) const { return entries_[static_cast<size_t>(v)]; }
  // The index of volume `name` ("volume-12"), or -1.
  int64_t find(const std::string& name) const;
  // The volumes' numbers (the N of volume-N), in store order.
  std::vector<int> numbers() const;

  // Slice k of volume v, H x W row-major. labels() and the weights need a training volume.
  const int16_t* image(int64_t v, int64_t k) const;
  const uint8_t* labels(int64_t v, int64_t k) const;
  const uint16_t* liver_weights(int64_t v, int64_t k) const;  // float16 bits
  const uint16_t* lesion_weights(int64_t v, int64_t k) const;

 private:
  struct Arrays {
    std::unique_ptr<MappedNpy> image, labels, liver_weights, lesion_weights;
  };
  int64_t slice_offset(int64_t v, int64_t k) const;
  const Arrays& training_arrays(int64_t v, const char* what) const;

  std::string dir_;
  std::vector<StoreEntry> entries_;
  std::vector<Arrays> arrays_;
};

// The number N of a store volume name "volume-N" / "test-volume-N"; -1 when the name has no number.
int volume_number(const std::string& name);

}  // namespace lits
