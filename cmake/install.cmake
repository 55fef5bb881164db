include(CMakePackageConfigHelpers)

install(TARGETS cogent cogent_static EXPORT cogentTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cogent DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(COGENT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cogent)
install(EXPORT cogentTargets NAMESPACE cogent:: DESTINATION ${COGENT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cogentConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cogentConfig.cmake INSTALL_DESTINATION ${COGENT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cogentConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cogentConfig.cmake ${PROJECT_BINARY_DIR}/cogentConfigVersion.cmake
  DESTINATION ${COGENT_CMAKE_DIR})

# Relative to the .pc file, so the package also works when installed with --prefix elsewhere.
file(RELATIVE_PATH COGENT_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" COGENT_PC_TO_PREFIX "${COGENT_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/cogent.pc.in ${PROJECT_BINARY_DIR}/cogent.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cogent.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
