// The emulated device's cublas_v2.h: the cuBLAS calls the project makes, served on the CPU
// (tests/cuda_emu/cublas.cpp).
#pragma once

#include "tests/cuda_emu/cublas.h"
