// A program built against the installed mxtls package (find_package or pkg-config), not the
// build tree: it includes only the umbrella header and uses the core (lint), the target
// normaliser (libidn2) and the scenarios (yaml-cpp), so each library's link line is tried.
#include <mxtls/mxtls.hpp>

#include <cstdio>

int main() {
  mxtls::lint_result r = mxtls::lint("250-STARTTLS\r\n250-mail.example.com\r\n250 8BITMIME\r\n", {.raw = true});
  mxtls::normalised_target t = mxtls::normalise_target("smtp://bücher.example:25");
  mxtls::scenario_error error;
  auto seed = mxtls::builtin("seed", error);
  std::printf("mxtls %s: %zu errors; %s; scenario %s\n", MXTLS_VERSION_STRING, r.errors, t.text.c_str(),
              seed ? seed->name.c_str() : error.what().c_str());
  return r.errors > 0 && t.text == "xn--bcher-kva.example:25" && seed ? 0 : 1;
}
