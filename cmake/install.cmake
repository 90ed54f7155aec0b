# Installation: the public headers, the library, emberConfig.cmake (+ version) exporting
# ember::ember, and ember.pc for pkg-config.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EMBER_CONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ember)
install(TARGETS ember ember_blas EXPORT emberTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET ember_cudasim)
  install(TARGETS ember_cudasim EXPORT emberTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
# The public headers, exactly (cmake/layers.cmake): internals are not installed.
foreach(header ${EMBER_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/${dir})
endforeach()
install(EXPORT emberTargets NAMESPACE ember:: DESTINATION ${EMBER_CONFIG_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/emberConfig.cmake.in
  ${PROJECT_BINARY_DIR}/emberConfig.cmake INSTALL_DESTINATION ${EMBER_CONFIG_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/emberConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/emberConfig.cmake ${PROJECT_BINARY_DIR}/emberConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindoneDNN.cmake DESTINATION ${EMBER_CONFIG_DIR})

set(EMBER_PC_PRIVATE_LIBS "-lz")
if(TARGET ember_cudasim)
  set(EMBER_PC_PRIVATE_LIBS "-lember_cudasim -lz")  # after -lember: static link order
endif()
if(EMBER_BLAS STREQUAL "oneDNN")
  string(APPEND EMBER_PC_PRIVATE_LIBS " -ldnnl")
else()
  string(APPEND EMBER_PC_PRIVATE_LIBS " -lopenblas")
endif()
if(EMBER_CUDA_MODE STREQUAL "NVCC")
  string(APPEND EMBER_PC_PRIVATE_LIBS " -L${CUDAToolkit_LIBRARY_DIR} -lcudart -lcublas -lcublasLt")
endif()
if(EMBER_SANITIZE_LINK_FLAGS)
  # A sanitized libember needs the sanitizers' runtimes in the program (cmake/sanitizers.cmake).
  list(JOIN EMBER_SANITIZE_LINK_FLAGS " " _ember_pc_sanitize)
  string(APPEND EMBER_PC_PRIVATE_LIBS " ${_ember_pc_sanitize}")
endif()
file(RELATIVE_PATH EMBER_PC_TO_PREFIX /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
configure_file(${PROJECT_SOURCE_DIR}/cmake/ember.pc.in ${PROJECT_BINARY_DIR}/ember.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ember.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
