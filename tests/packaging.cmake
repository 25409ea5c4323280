# Included from tests/CMakeLists.txt: the program as a package (man pages against --help,
# install into a staging root and consumers built against it) and the CLI conventions.

# Every command and option of `mxtls COMMAND --help` is in its manual page, and back.
add_test(NAME packaging.man_pages
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/man_pages_test.sh $<TARGET_FILE:mxtls> ${PROJECT_SOURCE_DIR}/docs/man)

# Version, help, nearest command, error prefixes and hints, --json, -q, --color, NO_COLOR,
# serve --allow-remote.
add_test(NAME cli.conventions
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/golden/cli_conventions_test.sh $<TARGET_FILE:mxtls> ${PROJECT_SOURCE_DIR})
set_tests_properties(cli.conventions PROPERTIES TIMEOUT 120)

# cmake --install into a staging root, then only what it installed: files, man, bash
# completion, a consumer built with find_package and with pkg-config, and
# examples/scan_two_targets.cpp built with find_package and run. Release build only (the
# consumers are built without the sanitizers).
if(NOT MXTLS_SANITIZE)
  add_test(NAME packaging.install_staging
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/staging_test.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(packaging.install_staging PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endif()

# Targets as people write them (src/core/target_text.cpp), in the unit test binary.
target_sources(mxtls_unit_tests PRIVATE unit/core/target_text_test.cpp)
