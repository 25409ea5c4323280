// What a reason means for a mail administrator, as a problem of the "fix first" list of the
// HTML reports: a title for the problem (whatever the detail of one destination) and what
// to do about it. Words, kept beside the renderers; the reasons themselves are core's.
#pragma once

#include <string_view>

#include "mxtls/diagnosis.hpp"

namespace mxtls {

struct reason_advice {
  std::string_view title;  // "STARTTLS is not offered"
  std::string_view fix;    // "Enable STARTTLS on the server: ..."
};
reason_advice advice_for(reason_id r);

}  // namespace mxtls
