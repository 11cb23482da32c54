// The emulated device's cuda_runtime.h: first on the include path of the emulated kernels, so the
// unmodified kernels/*.cu compile as C++ against cuda_emu/emu.h instead of the CUDA toolkit.
#pragma once

#include "cuda_emu/emu.h"
