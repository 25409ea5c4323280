// Everything the mxtls library offers, in one include: the reply parser and linter, the
// client models, the probe and scan engines, the mock server and the renderers.
//
//   #include <mxtls/mxtls.hpp>
//   find_package(mxtls) + target_link_libraries(app PRIVATE mxtls::mxtls), or
//   pkg-config --cflags --libs mxtls
//
// The list of headers is generated at configure time from include/mxtls/ (every public
// header, include/mxtls/model/ included), so a new header is part of it without an edit here.
#pragma once

#include "mxtls/version.hpp"
#include "mxtls/all_headers.hpp"
