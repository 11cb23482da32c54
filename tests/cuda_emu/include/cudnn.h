// The emulated device's cudnn.h: the cuDNN calls the project makes, served on the CPU
// (tests/cuda_emu/cudnn.cpp).
#pragma once

#include "tests/cuda_emu/cudnn.h"
