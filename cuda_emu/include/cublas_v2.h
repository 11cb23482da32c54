// The emulated device's cublas_v2.h: the cuBLAS calls the project makes, served on the CPU
// (cuda_emu/cublas.cpp).
#pragma once

#include "cuda_emu/cublas.h"
