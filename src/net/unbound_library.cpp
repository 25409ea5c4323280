#include "net/unbound_library.hpp"

#include "mxtls/dns.hpp"

#include <stdexcept>

#include "net/runtime_library.hpp"

namespace mxtls {

namespace {

using loaded = loaded_library<unbound_library>;

loaded open_unbound() {
  loaded l;
  runtime_library so;
  if (!so.open("libunbound.so.8", "libunbound8", l.why)) return l;
  unbound_library& u = l.lib;
  std::string& w = l.why;
  l.ok = so.bind("ub_ctx_create", u.ctx_create, w) && so.bind("ub_ctx_delete", u.ctx_delete, w) &&
         so.bind("ub_ctx_set_option", u.ctx_set_option, w) && so.bind("ub_ctx_set_fwd", u.ctx_set_fwd, w) &&
         so.bind("ub_ctx_set_stub", u.ctx_set_stub, w) && so.bind("ub_ctx_resolvconf", u.ctx_resolvconf, w) &&
         so.bind("ub_ctx_add_ta_file", u.ctx_add_ta_file, w) && so.bind("ub_ctx_async", u.ctx_async, w) &&
         so.bind("ub_fd", u.fd, w) && so.bind("ub_process", u.process, w) &&
         so.bind("ub_resolve_async", u.resolve_async, w) && so.bind("ub_cancel", u.cancel, w) &&
         so.bind("ub_resolve_free", u.resolve_free, w) && so.bind("ub_strerror", u.strerror, w) &&
         so.bind("ub_version", u.version, w);
  return l;
}

}  // namespace

const unbound_library* load_unbound(std::string* why) {
  static const loaded l = open_unbound();  // once, thread-safe (C++11 statics)
  if (!l.ok && why) *why = l.why;
  return l.ok ? &l.lib : nullptr;
}

const unbound_library& unbound() {
  std::string why;
  const unbound_library* u = load_unbound(&why);
  if (!u) throw std::invalid_argument("DNS lookups need libunbound: " + why);
  return *u;
}

std::string libunbound_version_text() {
  std::string why;
  const unbound_library* u = load_unbound(&why);
  return u ? std::string(u->version()) : "cannot be used: " + why;
}

}  // namespace mxtls
