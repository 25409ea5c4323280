#include "net/curl_library.hpp"

#include <fmt/format.h>

#include <mutex>

#include "net/runtime_library.hpp"

namespace mxtls {

namespace {

using loaded = loaded_library<curl_library>;

loaded open_curl() {
  loaded l;
  runtime_library so;
  if (!so.open("libcurl.so.4", "libcurl4", l.why)) return l;
  curl_library& c = l.lib;
  decltype(&::curl_global_init) global_init = nullptr;
  std::string& w = l.why;
  bool all = so.bind("curl_global_init", global_init, w) && so.bind("curl_easy_init", c.easy_init, w) &&
             so.bind("curl_easy_setopt", c.easy_setopt, w) && so.bind("curl_easy_getinfo", c.easy_getinfo, w) &&
             so.bind("curl_easy_cleanup", c.easy_cleanup, w) && so.bind("curl_easy_strerror", c.easy_strerror, w) &&
             so.bind("curl_multi_init", c.multi_init, w) && so.bind("curl_multi_setopt", c.multi_setopt, w) &&
             so.bind("curl_multi_add_handle", c.multi_add_handle, w) &&
             so.bind("curl_multi_remove_handle", c.multi_remove_handle, w) &&
             so.bind("curl_multi_socket_action", c.multi_socket_action, w) &&
             so.bind("curl_multi_info_read", c.multi_info_read, w) && so.bind("curl_multi_cleanup", c.multi_cleanup, w) &&
             so.bind("curl_slist_append", c.slist_append, w) && so.bind("curl_slist_free_all", c.slist_free_all, w) &&
             so.bind("curl_version_info", c.version_info, w);
  if (!all) return l;
  const curl_version_info_data* v = c.version_info(CURLVERSION_NOW);
  if (!v || v->version_num < LIBCURL_VERSION_NUM) {
    l.why = fmt::format("libcurl {} is older than {}, the version mxtls was built with", v ? v->version : "(unknown)",
                        LIBCURL_VERSION);
    return l;
  }
  if (CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    l.why = fmt::format("curl_global_init failed ({})", c.easy_strerror(rc));
    return l;
  }
  l.ok = true;
  return l;
}

}  // namespace

const curl_library* load_curl(std::string* why) {
  static std::once_flag once;
  static loaded l;
  std::call_once(once, [] { l = open_curl(); });
  if (!l.ok && why) *why = l.why;
  return l.ok ? &l.lib : nullptr;
}

}  // namespace mxtls
