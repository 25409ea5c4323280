# MTA-STS (RFC 8461) and TLS-RPT (RFC 8460), included from the top-level CMakeLists.txt after
# the libraries and the program are defined: the readers in core, the policy fetch in the
# engine, `mxtls tlsrpt` in the program.
target_sources(mxtls_core PRIVATE
  src/core/mta_sts_findings.cpp
  src/core/mta_sts_txt.cpp
  src/core/mta_sts_policy.cpp
  src/core/mta_sts_eval.cpp
  src/core/mta_sts_probe.cpp
  src/core/mta_sts_dane.cpp
  src/core/diagnosis/mta_sts.cpp)
target_sources(mxtls_report PRIVATE src/report/mta_sts_report.cpp)
target_sources(mxtls_probe_report PRIVATE src/report/mta_sts_probe_report.cpp)

# TLS-RPT reports: the reader (JSON, gzip, mail) and its summary, and their renderers.
find_package(ZLIB REQUIRED)
add_library(mxtls_tlsrpt src/tlsrpt/report.cpp src/tlsrpt/input.cpp src/tlsrpt/summary.cpp src/report/tlsrpt_report.cpp
  src/report/tlsrpt_html.cpp)
target_include_directories(mxtls_tlsrpt PUBLIC include)
target_link_libraries(mxtls_tlsrpt PUBLIC mxtls_report nlohmann_json::nlohmann_json ZLIB::ZLIB)
mxtls_precompile(mxtls_tlsrpt <fmt/format.h> <nlohmann/json.hpp>)
target_sources(mxtls PRIVATE apps/mxtls/cmd_tlsrpt.cpp)
target_link_libraries(mxtls PRIVATE mxtls_tlsrpt)

# The policy fetch (RFC 8461 §3.3): libcurl's multi socket interface on the engine's Asio loop.
# libcurl is opened at run time on the first fetch (src/net/curl_library.hpp says why), so
# only its headers are used here; dlopen is in glibc's libc itself since 2.34.
find_package(CURL REQUIRED)
target_sources(mxtls_net PRIVATE src/net/mta_sts_fetch.cpp src/net/mta_sts_check.cpp src/net/curl_library.cpp)
target_include_directories(mxtls_net PRIVATE $<TARGET_PROPERTY:CURL::libcurl,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(mxtls_net PUBLIC ${CMAKE_DL_LIBS})
