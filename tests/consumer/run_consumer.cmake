# Runs by ctest: install ember, build tests/consumer against the installed package (CMake
# and pkg-config), run its programs, and compile and link README's 30-second example. Any
# failure is a FATAL_ERROR.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install ${EMBER_BUILD_DIR} --prefix ${WORK}/prefix)
# Exactly the public headers are installed, and each one compiles by itself with plain g++
# (no CUDA include path, nothing of the source tree), so none needs an internal header.
string(REPLACE "," ";" want "${PUBLIC_HEADERS}")
list(SORT want)
file(GLOB_RECURSE got RELATIVE ${WORK}/prefix/include/ember ${WORK}/prefix/include/ember/*)
list(SORT got)
if(NOT got STREQUAL want)
  set(extra ${got})
  list(REMOVE_ITEM extra ${want})
  set(missing ${want})
  list(REMOVE_ITEM missing ${got})
  message(FATAL_ERROR "installed headers differ from EMBER_PUBLIC_HEADERS:\n"
                      "  not public but installed: ${extra}\n  public but not installed: ${missing}")
endif()
foreach(header ${want})
  string(MAKE_C_IDENTIFIER ${header} id)
  file(WRITE ${WORK}/headers/${id}.cpp "#include <ember/${header}>\n")
  run(${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${WORK}/prefix/include
      ${WORK}/headers/${id}.cpp)
endforeach()
# The package asks a consumer only for what ember links: oneDNN's own config would demand
# OpenCL's development files (cmake/FindoneDNN.cmake), which a consumer never asked for.
file(GLOB_RECURSE package_files ${WORK}/prefix/ember*.cmake ${WORK}/prefix/ember.pc)
foreach(f ${package_files})
  file(STRINGS ${f} hits REGEX "OpenCL|DNNL::|dnnl CONFIG")
  if(hits)
    message(FATAL_ERROR "${f} makes consumers find OpenCL or oneDNN's config:\n${hits}")
  endif()
endforeach()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -G ${GENERATOR} -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}
    -DCMAKE_PREFIX_PATH=${WORK}/prefix
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/xor_consumer)
# Run where its safetensors file may be written.
execute_process(COMMAND ${WORK}/build/libtorch_style_consumer WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "libtorch_style_consumer failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "${out}")
# pkg-config, with plain g++ and no CUDA include path.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  file(GLOB pcdir ${WORK}/prefix/lib*/pkgconfig ${WORK}/prefix/lib/*/pkgconfig)
  set(ENV{PKG_CONFIG_PATH} "${pcdir}")
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs ember OUTPUT_VARIABLE flags
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config could not find ember in ${pcdir}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX} -O1 ${SOURCE}/xor.cpp -o ${WORK}/xor_pkgconfig ${flags})
  # pkg-config gives no rpath: with BUILD_SHARED_LIBS=ON the program finds libember.so the
  # way a user's would, through the loader's search path.
  get_filename_component(libdir "${pcdir}" DIRECTORY)
  run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${libdir}" ${WORK}/xor_pkgconfig)
  # README's 30-second example (its first C++ block) compiles and links as printed. It is not
  # run: it trains a whole epoch.
  file(READ ${README} readme)
  string(FIND "${readme}" "```cpp\n" start)
  if(start LESS 0)
    message(FATAL_ERROR "${README} has no ```cpp block")
  endif()
  math(EXPR start "${start} + 7")
  string(SUBSTRING "${readme}" ${start} -1 rest)
  string(FIND "${rest}" "```" stop)
  string(SUBSTRING "${rest}" 0 ${stop} example)
  file(WRITE ${WORK}/readme_example.cpp "${example}")
  run(${CXX} -O0 ${WORK}/readme_example.cpp -o ${WORK}/readme_example ${flags})
endif()
