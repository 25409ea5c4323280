# MTA-STS and TLS-RPT tests, included from tests/CMakeLists.txt.

# The readers' conformance vectors (tests/conformance/mta-sts/*.json), in the unit test binary.
target_sources(mxtls_unit_tests PRIVATE conformance/mta_sts_test.cpp)

# TLS-RPT reports (tests/conformance/tlsrpt/): files, gzip, mail, the summary.
add_executable(mxtls_tlsrpt_tests unit/tlsrpt/tlsrpt_test.cpp)
target_link_libraries(mxtls_tlsrpt_tests PRIVATE mxtls_tlsrpt GTest::gtest_main)
target_compile_definitions(mxtls_tlsrpt_tests PRIVATE MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gtest_discover_tests(mxtls_tlsrpt_tests DISCOVERY_TIMEOUT 60)

# The policy fetch against a real nginx with a test CA on loopback (release and ASan builds).
add_executable(mxtls_mta_sts_fetch_tests integration/mta_sts_fetch_test.cpp)
target_include_directories(mxtls_mta_sts_fetch_tests PRIVATE integration)
target_link_libraries(mxtls_mta_sts_fetch_tests PRIVATE mxtls_net GTest::gtest_main)
gtest_discover_tests(mxtls_mta_sts_fetch_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120 LABELS integration)

# MTA-STS end to end (signed zone on NSD, nginx policy hosts, `mxtls serve` MX host, `mxtls
# probe`), with postfix-mta-sts-resolver's mta-sts-query as the differential peer.
add_executable(mxtls_mta_sts_probe_tests integration/mta_sts_probe_test.cpp)
target_include_directories(mxtls_mta_sts_probe_tests PRIVATE integration)
target_link_libraries(mxtls_mta_sts_probe_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json)
target_compile_definitions(mxtls_mta_sts_probe_tests PRIVATE MXTLS_BINARY="$<TARGET_FILE:mxtls>" MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(mxtls_mta_sts_probe_tests mxtls)
mxtls_release_only(mxtls_mta_sts_probe_tests)
if(NOT MXTLS_SANITIZE)
  gtest_discover_tests(mxtls_mta_sts_probe_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300 LABELS integration)
endif()

# `mxtls tlsrpt` as a program: each exit code of docs/exit-codes.md with its words, on files,
# gzip, mail and standard input.
add_executable(mxtls_tlsrpt_cli_tests integration/tlsrpt_cli_test.cpp)
target_include_directories(mxtls_tlsrpt_cli_tests PRIVATE integration)
target_link_libraries(mxtls_tlsrpt_cli_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json)
target_compile_definitions(mxtls_tlsrpt_cli_tests PRIVATE MXTLS_BINARY="$<TARGET_FILE:mxtls>" MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(mxtls_tlsrpt_cli_tests mxtls)
gtest_discover_tests(mxtls_tlsrpt_cli_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)
