# The Debian package for operators: `cpack -G DEB` in a build directory makes
# cogent_<version>_<arch>.deb holding everything `cmake --install` installs: the shared and static
# library, the headers, the CMake package and pkg-config files, libcogent_preload.so and the
# `cogent` launcher (scripts/package_test.sh builds, installs and tries it).
#
# Configure with -DCMAKE_INSTALL_PREFIX=/usr for Debian's multiarch library directory
# (lib/x86_64-linux-gnu): GNUInstallDirs derives it from the prefix. With the default prefix the
# package still installs under /usr, with the libraries in /usr/lib, which works as well.

set(CPACK_PACKAGE_NAME cogent)
set(CPACK_PACKAGE_VENDOR "cogent developers")
set(CPACK_PACKAGE_CONTACT "cogent developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "gevent for native code: greenlets and C++20 tasks on io_uring or epoll")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "cogent developers")
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The body below the summary line (CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first, and formats
# the lines and the empty line between paragraphs the Debian way).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "A per-thread hub runs stackful greenlets and C++20 coroutine tasks on io_uring (or epoll \
through libev), with cooperative sockets, timers, locks, queues and pools.

The package also holds libcogent_preload.so and the cogent launcher: `cogent run -- program` \
runs an unmodified, dynamically linked threaded program with its threads turned into greenlets \
on one OS thread and its blocking calls yielding to the hub.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # cogent_<version>_<arch>.deb
# Depends from what the shipped binaries link (dpkg-shlibdeps, from dpkg-dev): libc6,
# libstdc++6, libgcc-s1, liburing2, libev4.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Linking the static library (cogent::cogent_static, `pkg-config --static`) also needs the
# development files of its two system libraries; running programs under the shim does not.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "liburing-dev, libev-dev")
# The project has no HOMEPAGE_URL in project(); once it has one, CPack puts it in Homepage:.

include(CPack)
