# Installs the library, its headers, a CMake package config (find_package(redisrpc CONFIG))
# and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS redisrpc EXPORT redisrpcTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/redisrpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/redisrpc/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/redisrpc)
install(EXPORT redisrpcTargets NAMESPACE redisrpc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/redisrpc)

configure_package_config_file(cmake/redisrpcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/redisrpcConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/redisrpc)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/redisrpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/redisrpcConfig.cmake ${PROJECT_BINARY_DIR}/redisrpcConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/redisrpc)

configure_file(cmake/redisrpc.pc.in ${PROJECT_BINARY_DIR}/redisrpc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/redisrpc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
