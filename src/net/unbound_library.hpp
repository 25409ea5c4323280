// libunbound opened at run time, when the first resolver is made (a probe's first DNS
// lookup, a scan's start), instead of linked: with the
// libraries it brings (libevent, nettle, hogweed, gmp) it was about 2 ms of the start of
// every mxtls command on the machine the bench runs on, including the many that never ask
// DNS (lint, logs, tlsa, serve, a probe of an address). The header is libunbound's own;
// only the linking is deferred (runtime_library.hpp).
#pragma once

#include <unbound.h>

#include <string>

namespace mxtls {

// The libunbound functions mxtls calls, with libunbound's own signatures.
struct unbound_library {
  decltype(&::ub_ctx_create) ctx_create;
  decltype(&::ub_ctx_delete) ctx_delete;
  decltype(&::ub_ctx_set_option) ctx_set_option;
  decltype(&::ub_ctx_set_fwd) ctx_set_fwd;
  decltype(&::ub_ctx_set_stub) ctx_set_stub;
  decltype(&::ub_ctx_resolvconf) ctx_resolvconf;
  decltype(&::ub_ctx_add_ta_file) ctx_add_ta_file;
  decltype(&::ub_ctx_async) ctx_async;
  decltype(&::ub_fd) fd;
  decltype(&::ub_process) process;
  decltype(&::ub_resolve_async) resolve_async;
  decltype(&::ub_cancel) cancel;
  decltype(&::ub_resolve_free) resolve_free;
  decltype(&::ub_strerror) strerror;
  decltype(&::ub_version) version;
};

// libunbound (libunbound.so.8, the soname Debian's libunbound8 ships), opened once per
// process, thread-safe. Null when it cannot be used, with the reason in `why`: not
// installed, or a symbol missing.
const unbound_library* load_unbound(std::string* why = nullptr);

// The library, or std::invalid_argument with that reason (an unusable installation: exit
// code 2, as for a resolver libunbound does not accept).
const unbound_library& unbound();

}  // namespace mxtls
