// libcurl opened at run time, on the first MTA-STS policy fetch, instead of linked: libcurl
// brings about twenty shared libraries of its own (HTTP/2, SSH, LDAP, Kerberos, RTMP and
// GnuTLS among them), and loading and relocating them was a third of the start-up of every
// mxtls command, including the many that never fetch a policy (lint, logs, tlsa, serve, a
// probe with --skip mta-sts). The headers are libcurl's own; only the linking is deferred.
#pragma once

#include <curl/curl.h>

#include <string>

namespace mxtls {

// The libcurl functions the policy fetch calls, with libcurl's own signatures.
struct curl_library {
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_socket_action) multi_socket_action;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_version_info) version_info;
};

// libcurl (libcurl.so.4, the soname Debian's libcurl4 ships), opened and initialised
// (curl_global_init) once per process, thread-safe. Null when it cannot be used, with the
// reason in `why`: not installed, a symbol missing, or older than the headers mxtls was built
// with (the fetch uses options those headers have, CURLOPT_PROTOCOLS_STR since 7.85.0).
const curl_library* load_curl(std::string* why = nullptr);

}  // namespace mxtls
