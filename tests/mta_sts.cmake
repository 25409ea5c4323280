# MTA-STS and TLS-RPT tests, included from tests/CMakeLists.txt.

# The readers' conformance vectors (tests/conformance/mta-sts/*.json), in the unit test binary.
target_sources(mxtls_unit_tests PRIVATE conformance/mta_sts_test.cpp)

# TLS-RPT reports (tests/conformance/tlsrpt/): files, gzip, mail, the summary.
add_executable(mxtls_tlsrpt_tests unit/tlsrpt/tlsrpt_test.cpp)
target_link_libraries(mxtls_tlsrpt_tests PRIVATE mxtls_tlsrpt GTest::gtest_main)
target_compile_definitions(mxtls_tlsrpt_tests PRIVATE MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gtest_discover_tests(mxtls_tlsrpt_tests DISCOVERY_TIMEOUT 60)
