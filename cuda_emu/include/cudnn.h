// The emulated device's cudnn.h: the cuDNN calls the project makes, served on the CPU
// (cuda_emu/cudnn.cpp).
#pragma once

#include "cuda_emu/cudnn.h"
