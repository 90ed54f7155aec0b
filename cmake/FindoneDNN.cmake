# Finds oneDNN's CPU library as the imported target oneDNN::dnnl.
#
# Why not find_package(dnnl CONFIG): Debian's libdnnl-dev is built with the OpenCL GPU runtime,
# so its dnnl-config.cmake calls find_package(OpenCL REQUIRED) and fails on a machine without
# OpenCL's development files -- a configure error for a library of which ember only calls the
# CPU sgemm. The shared library itself needs only the OpenCL loader at run time, which
# libdnnl's package brings. This module is installed beside emberConfig.cmake, so a program
# linking a static libember finds oneDNN the same way and needs no OpenCL either.
#
# Sets oneDNN_FOUND, oneDNN_INCLUDE_DIR, oneDNN_LIBRARY and oneDNN_VERSION (from dnnl_version.h).
find_path(oneDNN_INCLUDE_DIR oneapi/dnnl/dnnl.h)
find_library(oneDNN_LIBRARY NAMES dnnl)
if(oneDNN_INCLUDE_DIR AND EXISTS ${oneDNN_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h)
  file(STRINGS ${oneDNN_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h _onednn_version_lines
       REGEX "#define DNNL_VERSION_(MAJOR|MINOR|PATCH) ")
  set(oneDNN_VERSION "")
  foreach(part MAJOR MINOR PATCH)
    if("${_onednn_version_lines}" MATCHES "#define DNNL_VERSION_${part} ([0-9]+)")
      list(APPEND oneDNN_VERSION ${CMAKE_MATCH_1})
    endif()
  endforeach()
  list(JOIN oneDNN_VERSION "." oneDNN_VERSION)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(oneDNN REQUIRED_VARS oneDNN_LIBRARY oneDNN_INCLUDE_DIR
                                  VERSION_VAR oneDNN_VERSION)
mark_as_advanced(oneDNN_INCLUDE_DIR oneDNN_LIBRARY)

if(oneDNN_FOUND AND NOT TARGET oneDNN::dnnl)
  add_library(oneDNN::dnnl UNKNOWN IMPORTED)
  set_target_properties(oneDNN::dnnl PROPERTIES IMPORTED_LOCATION "${oneDNN_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${oneDNN_INCLUDE_DIR}")
endif()
