# Finds every dependency. Debian 12 packages on development machines; on the GPU machine the CUDA
# libraries come from python wheels (LITS_CUDA_LIB_HINTS) and GoogleTest/CLI11 from .gpu-deps/.

find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)

# ---------------- CUDA: AUTO | ON | OFF ----------------
set(LITS_HAVE_CUDA OFF)
set(LITS_HAVE_CUDNN OFF)
set(LITS_HAVE_NCCL OFF)
if(LITS_CUDA_EMU)
  # The emulated device (docs/cuda-emulation.md): the CUDA backend compiled by the C++ compiler
  # against cuda_emu/ (runtime, cuBLAS, cuDNN, NCCL), no toolkit and no GPU.
  if(LITS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LITS_CUDA_EMU=ON replaces nvcc and the CUDA libraries: leave LITS_CUDA at AUTO or OFF")
  endif()
  set(LITS_HAVE_CUDA ON)
  set(LITS_HAVE_CUDNN ON)
  set(LITS_HAVE_NCCL ON)
elseif(NOT LITS_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Must be set before enable_language(CUDA): unset means sm_75, "native" fails without a GPU.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    # CMake 3.25 does not know nvcc 13's C++20 flag ("requires the language dialect CUDA20"):
    # tell it (nvcc 13 with g++ 12 supports C++20).
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
    # Debian 12's CMake 3.25.1 FindCUDAToolkit marks CUDA::nvToolsExt deprecated without checking
    # that the target exists, when the project requires CMake >= 3.25: a toolkit without
    # libnvToolsExt (CUDA 12 and later ship only the header-only NVTX 3) fails to configure.
    # (Fixed in CMake 3.25.2.) Below 3.25 the module skips that step; the policies stay 3.25's.
    set(_lits_cmake_min ${CMAKE_MINIMUM_REQUIRED_VERSION})
    set(CMAKE_MINIMUM_REQUIRED_VERSION 3.24)
    find_package(CUDAToolkit REQUIRED)
    set(CMAKE_MINIMUM_REQUIRED_VERSION ${_lits_cmake_min})
    set(LITS_HAVE_CUDA ON)
  elseif(LITS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LITS_CUDA=ON but no CUDA compiler was found (set CUDACXX or CMAKE_CUDA_COMPILER)")
  endif()
endif()

if(LITS_HAVE_CUDA AND NOT LITS_CUDA_EMU)
  set(_hints ${LITS_CUDA_LIB_HINTS} ${CUDAToolkit_LIBRARY_DIR})
  set(_ihints ${LITS_CUDA_INCLUDE_HINTS} ${CUDAToolkit_INCLUDE_DIRS})
  # Python wheels ship only versioned sonames (libcudnn.so.9), hence the explicit names.
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${_ihints})
  find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${_hints})
  if(NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
    message(FATAL_ERROR "CUDA backend needs cuDNN: cudnn.h or libcudnn not found "
                        "(include ${CUDNN_INCLUDE_DIR}, lib ${CUDNN_LIBRARY}); set LITS_CUDA_LIB_HINTS/"
                        "LITS_CUDA_INCLUDE_HINTS, or configure with -DLITS_CUDA=OFF")
  endif()
  set(LITS_HAVE_CUDNN ON)
  if(TARGET CUDA::cublas)
    set(LITS_CUBLAS_TARGET CUDA::cublas)
  else()
    find_library(CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12 HINTS ${_hints} REQUIRED)
    set(LITS_CUBLAS_TARGET ${CUBLAS_LIBRARY})
  endif()
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_ihints})
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${_hints})
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(LITS_HAVE_NCCL ON)
  endif()
endif()

# ---------------- CPU libraries ----------------
set(LITS_HAVE_ONEDNN OFF)
if(NOT LITS_ONEDNN STREQUAL "OFF")
  # The header and the library, not oneDNN's CMake config: Debian's config requires OpenCL's
  # development files (oneDNN's GPU runtime), which the CPU library never needs to build against.
  # The code uses the oneDNN 2.x API (op descriptors), so 2.x is what is accepted.
  find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
  find_library(DNNL_LIBRARY NAMES dnnl)
  set(_dnnl_major "")
  if(DNNL_INCLUDE_DIR AND EXISTS ${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h)
    file(STRINGS ${DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h _dnnl_major REGEX "#define DNNL_VERSION_MAJOR ")
    string(REGEX REPLACE ".*DNNL_VERSION_MAJOR +([0-9]+).*" "\\1" _dnnl_major "${_dnnl_major}")
  endif()
  if(DNNL_INCLUDE_DIR AND DNNL_LIBRARY AND _dnnl_major STREQUAL "2")
    add_library(DNNL::dnnl UNKNOWN IMPORTED)
    set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION ${DNNL_LIBRARY}
                                                INTERFACE_INCLUDE_DIRECTORIES ${DNNL_INCLUDE_DIR})
    set(LITS_HAVE_ONEDNN ON)
  elseif(LITS_ONEDNN STREQUAL "ON" AND DNNL_INCLUDE_DIR AND DNNL_LIBRARY)
    message(FATAL_ERROR "LITS_ONEDNN=ON but oneDNN in ${DNNL_INCLUDE_DIR} is version ${_dnnl_major}.x; "
                        "the code needs the 2.x API (Debian 12: libdnnl-dev 2.6)")
  elseif(LITS_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "LITS_ONEDNN=ON but oneDNN was not found (Debian: apt-get install libdnnl-dev)")
  endif()
endif()

set(LITS_HAVE_BLAS OFF)
if(NOT LITS_BLAS STREQUAL "OFF")
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS QUIET)
  find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas-pthread openblas)
  if(BLAS_FOUND AND CBLAS_INCLUDE_DIR)
    set(LITS_HAVE_BLAS ON)
  elseif(LITS_BLAS STREQUAL "ON")
    message(FATAL_ERROR "LITS_BLAS=ON but OpenBLAS (cblas.h + libopenblas) was not found "
                        "(Debian: apt-get install libopenblas-dev)")
  endif()
endif()

# MPI (OpenMPI on Debian): multi-process training; optional, a single process never touches it.
set(LITS_HAVE_MPI OFF)
if(NOT LITS_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(LITS_HAVE_MPI ON)
  elseif(LITS_MPI STREQUAL "ON")
    message(FATAL_ERROR "LITS_MPI=ON but MPI was not found (Debian: apt-get install libopenmpi-dev openmpi-bin)")
  endif()
endif()

# ONNX (Debian: libonnx-dev, with libprotobuf-dev): `lits export` writes ONNX models through ONNX's generated
# protobuf classes (libonnx_proto) and checks them with its model checker (libonnx). Found by hand, as
# oneDNN: Debian's ONNX config needs protobuf's targets first. The generated headers only compile against
# the protobuf they were generated with (3.21 on Debian 12). Optional: without it `lits export` says so.
set(LITS_HAVE_ONNX OFF)
if(NOT LITS_ONNX STREQUAL "OFF")
  find_package(Protobuf QUIET)
  find_path(ONNX_INCLUDE_DIR onnx/onnx-ml.pb.h)
  find_library(ONNX_PROTO_LIBRARY NAMES onnx_proto)
  find_library(ONNX_LIBRARY NAMES onnx)
  if(Protobuf_FOUND AND ONNX_INCLUDE_DIR AND ONNX_PROTO_LIBRARY AND ONNX_LIBRARY)
    add_library(LITS::onnx INTERFACE IMPORTED)
    target_include_directories(LITS::onnx INTERFACE ${ONNX_INCLUDE_DIR} ${Protobuf_INCLUDE_DIRS})
    target_compile_definitions(LITS::onnx INTERFACE ONNX_ML=1 ONNX_NAMESPACE=onnx)
    target_link_libraries(LITS::onnx INTERFACE ${ONNX_LIBRARY} ${ONNX_PROTO_LIBRARY} ${Protobuf_LIBRARIES})
    set(LITS_HAVE_ONNX ON)
  elseif(LITS_ONNX STREQUAL "ON")
    message(FATAL_ERROR "LITS_ONNX=ON but ONNX or protobuf was not found (onnx/onnx-ml.pb.h: ${ONNX_INCLUDE_DIR}, "
                        "libonnx_proto: ${ONNX_PROTO_LIBRARY}, libonnx: ${ONNX_LIBRARY}, protobuf: ${Protobuf_FOUND}); "
                        "Debian: apt-get install libonnx-dev libprotobuf-dev")
  endif()
endif()

# CLI11 is header-only: the Debian config package, or a folder holding CLI/CLI.hpp.
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp HINTS ${CMAKE_SOURCE_DIR}/.gpu-deps/cli11 REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

if(LITS_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    if(NOT LITS_GTEST_SOURCE AND EXISTS ${CMAKE_SOURCE_DIR}/.gpu-deps/googletest/CMakeLists.txt)
      set(LITS_GTEST_SOURCE ${CMAKE_SOURCE_DIR}/.gpu-deps/googletest)
    endif()
    if(NOT LITS_GTEST_SOURCE)
      message(FATAL_ERROR "GoogleTest not found (Debian: apt-get install libgtest-dev), "
                          "or pass -DLITS_GTEST_SOURCE=<googletest source tree>")
    endif()
    set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
    set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
    add_subdirectory(${LITS_GTEST_SOURCE} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
    if(NOT TARGET GTest::gtest)
      add_library(GTest::gtest ALIAS gtest)
    endif()
  endif()
endif()
