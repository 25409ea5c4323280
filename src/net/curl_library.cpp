#include "net/curl_library.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include <mutex>

namespace mxtls {

namespace {

struct loaded {
  curl_library lib{};
  bool ok = false;
  std::string why;
};

template <class F>
bool bind(void* handle, const char* name, F& slot, std::string& why) {
  void* p = dlsym(handle, name);
  if (!p) {
    why = fmt::format("libcurl.so.4 has no {}", name);
    return false;
  }
  slot = reinterpret_cast<F>(p);
  return true;
}

loaded open_curl() {
  loaded l;
  // RTLD_LOCAL: libcurl's symbols (and those of its own dependencies) stay out of the
  // global scope; mxtls reaches them only through the table.
  void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    l.why = fmt::format("libcurl cannot be loaded ({}); the Debian package libcurl4 provides it", e ? e : "dlopen failed");
    return l;
  }
  curl_library& c = l.lib;
  decltype(&::curl_global_init) global_init = nullptr;
  bool all = bind(h, "curl_global_init", global_init, l.why) && bind(h, "curl_easy_init", c.easy_init, l.why) &&
             bind(h, "curl_easy_setopt", c.easy_setopt, l.why) && bind(h, "curl_easy_getinfo", c.easy_getinfo, l.why) &&
             bind(h, "curl_easy_cleanup", c.easy_cleanup, l.why) &&
             bind(h, "curl_easy_strerror", c.easy_strerror, l.why) && bind(h, "curl_multi_init", c.multi_init, l.why) &&
             bind(h, "curl_multi_setopt", c.multi_setopt, l.why) &&
             bind(h, "curl_multi_add_handle", c.multi_add_handle, l.why) &&
             bind(h, "curl_multi_remove_handle", c.multi_remove_handle, l.why) &&
             bind(h, "curl_multi_socket_action", c.multi_socket_action, l.why) &&
             bind(h, "curl_multi_info_read", c.multi_info_read, l.why) &&
             bind(h, "curl_multi_cleanup", c.multi_cleanup, l.why) && bind(h, "curl_slist_append", c.slist_append, l.why) &&
             bind(h, "curl_slist_free_all", c.slist_free_all, l.why) && bind(h, "curl_version_info", c.version_info, l.why);
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
  l.ok = true;  // the handle stays open for the life of the process
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
