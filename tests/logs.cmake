# mxtls logs: the log reader's own tests, and the logs of real MTAs delivering to `mxtls serve`.

# A real Postfix delivering to every scenario of integration/logs/postfix-scenarios.json, its
# log read by `mxtls logs` and by pflogsumm. One ctest test: the Postfix run is shared by all
# the cases of the program (release build only: it tests behaviour, not memory).
add_executable(mxtls_logs_postfix_tests integration/logs/postfix_logs_test.cpp)
target_link_libraries(mxtls_logs_postfix_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json fmt::fmt)
target_compile_definitions(mxtls_logs_postfix_tests PRIVATE
  MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  MXTLS_BINARY="$<TARGET_FILE:mxtls>")
add_dependencies(mxtls_logs_postfix_tests mxtls)
if(NOT MXTLS_SANITIZE)
  add_test(NAME logs.postfix COMMAND mxtls_logs_postfix_tests)
  set_tests_properties(logs.postfix PROPERTIES TIMEOUT 300 LABELS integration)
endif()

# A real Exim 4.96 (Debian's exim4-daemon-light, unpacked from its .deb by
# integration/exim-instance) delivering to every scenario of integration/logs/exim-scenarios.json,
# its main log read by `mxtls logs`. One ctest test: the Exim run is shared by the cases.
add_executable(mxtls_logs_exim_tests integration/logs/exim_logs_test.cpp)
target_link_libraries(mxtls_logs_exim_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json)
target_compile_definitions(mxtls_logs_exim_tests PRIVATE
  MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  MXTLS_BINARY="$<TARGET_FILE:mxtls>")
add_dependencies(mxtls_logs_exim_tests mxtls)
if(NOT MXTLS_SANITIZE)
  add_test(NAME logs.exim COMMAND mxtls_logs_exim_tests)
  set_tests_properties(logs.exim PROPERTIES TIMEOUT 300 LABELS integration)
endif()

# A real Sendmail 8.17 (Debian's sendmail-bin, unpacked from its .deb by
# integration/sendmail-instance) delivering to every scenario of
# integration/logs/sendmail-scenarios.json, its syslog lines read by `mxtls logs`. One ctest
# test: the Sendmail run is shared by the cases.
add_executable(mxtls_logs_sendmail_tests integration/logs/sendmail_logs_test.cpp)
target_link_libraries(mxtls_logs_sendmail_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json)
target_compile_definitions(mxtls_logs_sendmail_tests PRIVATE
  MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  MXTLS_BINARY="$<TARGET_FILE:mxtls>")
add_dependencies(mxtls_logs_sendmail_tests mxtls)
if(NOT MXTLS_SANITIZE)
  add_test(NAME logs.sendmail COMMAND mxtls_logs_sendmail_tests)
  set_tests_properties(logs.sendmail PROPERTIES TIMEOUT 300 LABELS integration)
endif()

# The ESA line grammar both ways, the reader on lines written with it, the input (merge, gzip).
add_executable(mxtls_logs_tests unit/logs/esa_lines_test.cpp unit/logs/log_input_test.cpp unit/logs/exim_reader_test.cpp
  unit/logs/sendmail_reader_test.cpp)
target_link_libraries(mxtls_logs_tests PRIVATE mxtls_logs GTest::gtest_main)
target_sources(mxtls_logs_tests PRIVATE unit/logs/journal_input_test.cpp unit/logs/exchange_reader_test.cpp)
target_compile_definitions(mxtls_logs_tests PRIVATE MXTLS_EXCHANGE_LOGS="${CMAKE_CURRENT_SOURCE_DIR}/unit/logs/exchange")
target_include_directories(mxtls_logs_tests PRIVATE ${PROJECT_SOURCE_DIR}/src)  # the journal decoder (src/logs/journal_input.hpp)
gtest_discover_tests(mxtls_logs_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)

# `mxtls probe --log esa` against `mxtls serve` scenarios, read back by `mxtls logs`.
add_executable(mxtls_logs_esa_probe_tests integration/logs/esa_probe_test.cpp)
target_link_libraries(mxtls_logs_esa_probe_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json)
target_compile_definitions(mxtls_logs_esa_probe_tests PRIVATE
  MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  MXTLS_BINARY="$<TARGET_FILE:mxtls>")
add_dependencies(mxtls_logs_esa_probe_tests mxtls)
gtest_discover_tests(mxtls_logs_esa_probe_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)

# Inputs of several kinds in one run (a journal beside plain files), the reader and the command.
target_sources(mxtls_logs_tests PRIVATE unit/logs/mixed_inputs_test.cpp unit/logs/logs_cli_test.cpp)
target_compile_definitions(mxtls_logs_tests PRIVATE MXTLS_BINARY="$<TARGET_FILE:mxtls>")
add_dependencies(mxtls_logs_tests mxtls)
