// Checks every HTML report of mxtls passes in headless Chromium (src/report/html_page.cpp is
// the page they share): driven over the DevTools protocol (cdp.hpp) as a user would.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cdp.hpp"

namespace mxtls::test {

namespace report_fs = std::filesystem;

// The rows of the table the page shows now.
inline long visible_rows(chromium_page& b) {
  return b.eval("Array.from(document.querySelectorAll('#results tbody tr')).filter(function(r){return !r.hidden&&r.offsetParent!==null;}).length")
      .get<long>();
}

// The fix-first list as the page shows it: (problem id, destinations), in order.
inline std::vector<std::pair<std::string, long>> fix_first(chromium_page& b) {
  std::vector<std::pair<std::string, long>> out;
  auto items = b.eval("Array.from(document.querySelectorAll('#fix-first li[data-problem]')).map(function(li){"
                      "return [li.dataset.problem, Number(li.querySelector('.cost b').textContent)];})");
  for (const auto& i : items) out.emplace_back(i[0].get<std::string>(), i[1].get<long>());
  return out;
}

// What every report page does (src/report/html_page.cpp): its script ran; the table holds
// `rows` rows, worst first by the severity column; every fix-first item costs no more
// destinations than the one before it, and its link shows exactly that many rows.
inline void check_report_behaviour(chromium_page& b, const std::string& table, long rows) {
  ASSERT_EQ(b.eval("document.body.dataset.ready"), "yes");
  ASSERT_EQ(visible_rows(b), rows);
  auto keys = b.eval("(function(){var t=document.getElementById('" + table + "');var i=Array.from(t.tHead.rows[0].cells)"
                     ".findIndex(function(h){return h.dataset.severity;});return Array.from(t.tBodies[0].rows).map(function(r){"
                     "return Number(r.cells[i].dataset.key);});})()");
  ASSERT_TRUE(keys.is_array());
  for (std::size_t i = 1; i < keys.size(); ++i) EXPECT_GE(keys[i - 1].get<double>(), keys[i].get<double>()) << "worst first, row " << i;
  auto problems = fix_first(b);
  for (std::size_t i = 0; i < problems.size(); ++i) {
    if (i > 0) {
      EXPECT_GE(problems[i - 1].second, problems[i].second) << "ordered by destinations: " << problems[i].first;
    }
    b.click("#fix-first li[data-problem=\"" + problems[i].first + "\"] a[data-filter]");
    EXPECT_EQ(visible_rows(b), problems[i].second) << problems[i].first;
    b.click("#fix-first li[data-problem=\"" + problems[i].first + "\"] a[data-filter]");
    EXPECT_EQ(visible_rows(b), rows) << "the second click shows every row again";
  }
}

// On a phone's width (375 CSS pixels): nothing wider than the screen, the table's head
// folded into labelled cells; a screenshot is kept for people.
inline void check_narrow_layout(chromium_page& b, const std::string& url, const report_fs::path& shot) {
  b.viewport(375, 800, true);
  b.open(url);
  EXPECT_EQ(b.eval("window.innerWidth"), 375);
  EXPECT_EQ(b.eval("document.documentElement.scrollWidth<=window.innerWidth"), true)
      << "no horizontal overflow: " << b.eval("document.documentElement.scrollWidth").dump();
  EXPECT_EQ(b.eval("getComputedStyle(document.querySelector('#results thead')).display"), "none");
  EXPECT_EQ(b.eval("Array.from(document.querySelectorAll('#results tbody td')).every(function(td){"
                   "return td.getBoundingClientRect().right<=window.innerWidth+0.5;})"),
            true)
      << "every cell inside the screen";
  report_fs::remove(shot);
  b.screenshot(shot, true);
  ASSERT_TRUE(report_fs::exists(shot));
  EXPECT_GT(report_fs::file_size(shot), 10'000u);
}

}  // namespace mxtls::test
