# LITS_SANITIZE (e.g. address,undefined) instruments every C++ target, the tests and the `lits` command
# included; `make test-sanitizers` runs the whole suite so. Any report aborts the test
# (-fno-sanitize-recover), so a clean run means no report at all.
# LITS_FUZZ builds tests/fuzz with clang's libFuzzer: every library is compiled with the coverage
# hooks (fuzzer-no-link) and, unless LITS_SANITIZE says otherwise, with ASan+UBSan, so a fuzz input
# that reads out of bounds or overflows stops the run instead of passing silently.
if(LITS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LITS_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "(make fuzz does this), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(NOT LITS_SANITIZE)
    set(LITS_SANITIZE address,undefined)
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>)
endif()
if(LITS_SANITIZE)
  if(NOT LITS_SANITIZE MATCHES "^[a-z,]+$")
    message(FATAL_ERROR "LITS_SANITIZE=${LITS_SANITIZE}: expected a comma-separated list such as address,undefined")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${LITS_SANITIZE}>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=${LITS_SANITIZE})
  # GCC's flow analysis of instrumented code reports uninitialized reads inside libstdc++ (std::regex's
  # std::function) that the plain build does not: false positives, which -Werror would turn into failures.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
  endif()
endif()
