// The emulated device's nccl.h: the NCCL calls the project makes, served in-process
// (cuda_emu/nccl.cpp).
#pragma once

#include "cuda_emu/nccl.h"
