# Installs the library, its headers, a CMake package config (find_package(redisrpc CONFIG))
# and a pkg-config file. Included from the top-level CMakeLists.txt when REDISRPC_INSTALL is on;
# tests/packaging/run.sh checks the result from a consumer's point of view.
include(CMakePackageConfigHelpers)

set(REDISRPC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/redisrpc)
get_target_property(REDISRPC_LIBRARY_TYPE redisrpc TYPE)
if(REDISRPC_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  set(REDISRPC_STATIC ON)
else()
  set(REDISRPC_STATIC OFF)
endif()

install(TARGETS redisrpc EXPORT redisrpcTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/redisrpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/redisrpc/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/redisrpc)
install(EXPORT redisrpcTargets NAMESPACE redisrpc:: DESTINATION ${REDISRPC_CMAKE_DIR})

# The package config. A static redisrpc carries its private dependencies (hiredis through
# pkg-config, OpenSSL) as link-only entries of the exported target, so the config must find them.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/redisrpcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/redisrpcConfig.cmake INSTALL_DESTINATION ${REDISRPC_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/redisrpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/redisrpcConfig.cmake ${PROJECT_BINARY_DIR}/redisrpcConfigVersion.cmake
        DESTINATION ${REDISRPC_CMAKE_DIR})

# The pkg-config file, relocatable: paths are relative to the .pc file's own directory, so
# `cmake --install build --prefix <anywhere>` yields a working file.
set(REDISRPC_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(REDISRPC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(REDISRPC_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(REDISRPC_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _redisrpc_up "/${REDISRPC_PC_DIR}" "/")
  string(REGEX REPLACE "/$" "" _redisrpc_up "${_redisrpc_up}")
  set(REDISRPC_PC_PREFIX "\${pcfiledir}/${_redisrpc_up}")
  set(REDISRPC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(REDISRPC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# Debian's pkg-config names: nlohmann_json (nlohmann-json3-dev), hiredis, openssl. A static
# library needs hiredis and OpenSSL at the consumer's link, so they are plain requirements then
# (`pkg-config --libs redisrpc` works without --static); a shared one keeps them private.
if(REDISRPC_STATIC)
  set(REDISRPC_PC_REQUIRES "nlohmann_json hiredis openssl")
  set(REDISRPC_PC_REQUIRES_PRIVATE "")
else()
  set(REDISRPC_PC_REQUIRES "nlohmann_json")
  set(REDISRPC_PC_REQUIRES_PRIVATE "hiredis openssl")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/redisrpc.pc.in ${PROJECT_BINARY_DIR}/redisrpc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/redisrpc.pc DESTINATION ${REDISRPC_PC_DIR})
