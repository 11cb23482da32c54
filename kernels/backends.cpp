// Version strings of the optional CPU libraries.
#include "kernels/backends.h"

#if LITS_HAVE_ONEDNN
#include <dnnl.hpp>
#endif

namespace lits::kernels {

std::string onednn_info() {
#if LITS_HAVE_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#else
  return "off (built without oneDNN)";
#endif
}

}  // namespace lits::kernels
