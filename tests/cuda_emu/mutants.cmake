# The emulator self-test: the units of mutants.txt (mutated copies of real kernels, and unmutated
# controls), each compiled with `lits` renamed so that every unit keeps its own kernels, plus the
# emulator's surface tests.
set(lits_mutant_spec ${CMAKE_CURRENT_SOURCE_DIR}/mutants.txt)
file(STRINGS ${lits_mutant_spec} lits_mutant_lines REGEX "^=== ")
set(lits_mutant_units)
set(lits_mutant_list "")
file(GLOB lits_mutant_inputs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/*.cu ${PROJECT_SOURCE_DIR}/kernels/*.h
     ${CMAKE_CURRENT_SOURCE_DIR}/selftest/*.cu)
foreach(line ${lits_mutant_lines})
  string(SUBSTRING "${line}" 4 -1 name)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/mutants/${name})
  add_custom_command(OUTPUT ${dir}/unit.cpp
    BYPRODUCTS ${dir}/kernel.cpp
    COMMAND lits_cuda_emu_rewrite --mutant ${name} ${lits_mutant_spec} ${PROJECT_SOURCE_DIR} ${dir}
    DEPENDS lits_cuda_emu_rewrite ${lits_mutant_spec} ${lits_mutant_inputs}
    COMMENT "cuda-emu: mutant ${name}")
  set_source_files_properties(${dir}/unit.cpp PROPERTIES
    COMPILE_DEFINITIONS "lits=lits_mutant_${name}"
    INCLUDE_DIRECTORIES ${dir})
  list(APPEND lits_mutant_units ${dir}/unit.cpp)
  string(APPEND lits_mutant_list " X(${name})")
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/mutant_list.h
     CONTENT "// Generated from tests/cuda_emu/mutants.txt.\n#define LITS_EMU_MUTANTS(X)${lits_mutant_list}\n")

set(lits_surface_cpp ${CMAKE_CURRENT_BINARY_DIR}/selftest/surface.cu.cpp)
add_custom_command(OUTPUT ${lits_surface_cpp}
  COMMAND lits_cuda_emu_rewrite ${CMAKE_CURRENT_SOURCE_DIR}/selftest/surface.cu ${lits_surface_cpp}
  DEPENDS lits_cuda_emu_rewrite ${CMAKE_CURRENT_SOURCE_DIR}/selftest/surface.cu
  COMMENT "cuda-emu: rewriting selftest/surface.cu")

add_executable(lits_cuda_emu_selftest selftest/mutants_test.cpp selftest/surface_test.cpp ${lits_surface_cpp}
               ${lits_mutant_units})
target_include_directories(lits_cuda_emu_selftest PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(lits_cuda_emu_selftest PRIVATE lits_cuda_emu lits_kernels GTest::gtest_main lits_warnings)
