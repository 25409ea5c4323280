# mxtls logs: the log reader's own tests, and the logs of real MTAs delivering to `mxtls serve`.

# A real MTA delivering to every scenario of integration/logs/MTA-scenarios.json, its log read by
# `mxtls logs` (integration/logs/MTA_logs_test.cpp, sharing integration/logs/mta_log_run.hpp).
# One ctest test, logs.MTA: the MTA's run is shared by all the cases of the program (release
# build only: it tests behaviour, not memory).
function(mxtls_mta_logs_test mta)
  add_executable(mxtls_logs_${mta}_tests integration/logs/${mta}_logs_test.cpp)
  target_link_libraries(mxtls_logs_${mta}_tests PRIVATE GTest::gtest_main nlohmann_json::nlohmann_json ${MXTLS_FMT})
  target_compile_definitions(mxtls_logs_${mta}_tests PRIVATE
    MXTLS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    MXTLS_BINARY="$<TARGET_FILE:mxtls>")
  add_dependencies(mxtls_logs_${mta}_tests mxtls)
  mxtls_release_only(mxtls_logs_${mta}_tests)
  if(NOT MXTLS_SANITIZE)
    add_test(NAME logs.${mta} COMMAND mxtls_logs_${mta}_tests)
    set_tests_properties(logs.${mta} PROPERTIES TIMEOUT 300 LABELS integration)
  endif()
endfunction()

# Postfix (the system's, a private instance: integration/postfix-instance), also read by pflogsumm.
mxtls_mta_logs_test(postfix)
# Exim 4.96 (Debian's exim4-daemon-light, unpacked from its .deb by integration/exim-instance).
mxtls_mta_logs_test(exim)
# Sendmail 8.17 (Debian's sendmail-bin, unpacked from its .deb by integration/sendmail-instance).
mxtls_mta_logs_test(sendmail)

# The ESA line grammar both ways, the reader on lines written with it, the input (merge, gzip).
add_executable(mxtls_logs_tests unit/logs/esa_lines_test.cpp unit/logs/log_input_test.cpp unit/logs/exim_reader_test.cpp
  unit/logs/sendmail_reader_test.cpp)
target_link_libraries(mxtls_logs_tests PRIVATE mxtls_logs GTest::gtest_main)
target_sources(mxtls_logs_tests PRIVATE unit/logs/journal_input_test.cpp unit/logs/exchange_reader_test.cpp
  unit/logs/messages_test.cpp unit/logs/postfix_dane_reader_test.cpp)
target_link_libraries(mxtls_logs_tests PRIVATE nlohmann_json::nlohmann_json)
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
