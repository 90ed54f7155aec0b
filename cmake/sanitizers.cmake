# Sanitizers (EMBER_SANITIZE) and the libFuzzer build (EMBER_BUILD_FUZZERS).
#
# Every C/C++ target of the project is compiled and linked with -fsanitize=<list>: ember, its
# tests, examples and benchmarks (the flags are directory options, set before any of them is
# made). Nothing recovers, so undefined behaviour aborts the test that reaches it instead of
# printing a line a passing ctest hides. ember::ember and ember.pc carry the link flags: the
# objects of a static libember call into the sanitizer runtimes, which only the program that
# links them can bring in.
#
# EMBER_BUILD_FUZZERS (clang only) turns address and undefined on whatever EMBER_SANITIZE says,
# and compiles libember's own objects with libFuzzer's coverage instrumentation
# (-fsanitize=fuzzer-no-link, in ember_add_layer), so the harnesses in tests/fuzz are steered by
# the branches of the readers they drive. The sanitizer runtime defines the coverage hooks as
# no-ops, so the tests and a consumer link the same instrumented library without libFuzzer.

string(REPLACE "," ";" EMBER_SANITIZERS "${EMBER_SANITIZE}")
if(EMBER_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EMBER_BUILD_FUZZERS needs clang's libFuzzer, and the C++ compiler is "
                        "${CMAKE_CXX_COMPILER_ID} (configure with CC=clang-14 CXX=clang++-14)")
  endif()
  list(APPEND EMBER_SANITIZERS address undefined)
endif()
list(REMOVE_DUPLICATES EMBER_SANITIZERS)

set(EMBER_SANITIZE_LINK_FLAGS "")
if(EMBER_SANITIZERS)
  list(JOIN EMBER_SANITIZERS "," _ember_sanitizers)
  set(EMBER_SANITIZE_LINK_FLAGS -fsanitize=${_ember_sanitizers})
  set(_ember_sanitize_compile_flags ${EMBER_SANITIZE_LINK_FLAGS} -fno-sanitize-recover=all
                                    -fno-omit-frame-pointer)
  # A missing runtime (libclang-rt-14-dev for clang, libasan / libubsan for g++) fails here,
  # once, with the flags named, rather than at the first link of the build.
  include(CheckCXXSourceCompiles)
  string(MAKE_C_IDENTIFIER "EMBER_SANITIZE_LINKS_${_ember_sanitizers}" _ember_check)
  set(CMAKE_REQUIRED_FLAGS "${_ember_sanitize_compile_flags}")
  list(JOIN CMAKE_REQUIRED_FLAGS " " CMAKE_REQUIRED_FLAGS)
  set(CMAKE_REQUIRED_LINK_OPTIONS ${EMBER_SANITIZE_LINK_FLAGS})
  check_cxx_source_compiles("int main() { return 0; }" ${_ember_check})
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT ${_ember_check})
    message(FATAL_ERROR "EMBER_SANITIZE: ${CMAKE_CXX_COMPILER} cannot build a program with "
                        "${EMBER_SANITIZE_LINK_FLAGS} (is the sanitizer runtime installed? clang "
                        "needs libclang-rt-14-dev)")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_ember_sanitize_compile_flags}>")
  add_link_options(${EMBER_SANITIZE_LINK_FLAGS})
  message(STATUS "ember: sanitizers = ${_ember_sanitizers}")
endif()
