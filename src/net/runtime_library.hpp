// A shared library opened at run time (dlopen) and its functions bound by name to typed
// pointers. For libraries only some commands need (libunbound for DNS, libcurl for MTA-STS
// policies, GnuTLS for the sender replays of GnuTLS senders), so that the others do not load
// them, and their dependencies, at every start.
#pragma once

#include <dlfcn.h>

#include <string>

namespace mxtls {

class runtime_library {
 public:
  // RTLD_LOCAL: the library's symbols stay out of the global scope; only the bound
  // pointers reach them. RTLD_LAZY: the library's own calls are bound when first made, not
  // all at open (libunbound and its libraries: about 0.2 ms of a probe's start); what mxtls
  // calls is bound by dlsym below, so a function missing from the library itself is still
  // found at open. (A symbol missing from one of its own dependencies, a broken install of
  // libunbound, libcurl or GnuTLS, would end the process at its first call instead.) The
  // library stays open for the life of the process.
  bool open(const char* soname, const char* package, std::string& why) {
    soname_ = soname;
    handle_ = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (!handle_) {
      const char* e = dlerror();
      why = std::string(soname) + " cannot be loaded (" + (e ? e : "dlopen failed") + "); the Debian package " + package +
            " provides it";
    }
    return handle_ != nullptr;
  }
  // `slot` gets the function `name`, with the type the library's own header declares.
  template <class F>
  bool bind(const char* name, F& slot, std::string& why) const {
    void* p = handle_ ? dlsym(handle_, name) : nullptr;
    if (!p) {
      why = soname_ + " has no " + name;
      return false;
    }
    slot = reinterpret_cast<F>(p);
    return true;
  }

 private:
  void* handle_ = nullptr;
  std::string soname_;
};

// A library's functions once bound (`ok`), or why they could not be; kept for the process.
template <class Functions>
struct loaded_library {
  Functions lib{};
  bool ok = false;
  std::string why;
};

}  // namespace mxtls
