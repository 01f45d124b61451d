// graft-opt --stats=json: a driver run's statistics for machines, the same
// figures as DriverResult::Report's table for people.
#ifndef GRAFT_TOOLS_GRAFT_OPT_STATS_JSON_H_
#define GRAFT_TOOLS_GRAFT_OPT_STATS_JSON_H_

#include <string>

#include "graft/driver/driver.h"

namespace graft {
namespace opt {

// One line of JSON (no newline):
//   {"converged": bool, "stopped_by": cap or null, "stop_reason": text or
//    null, "still_firing": [rule], "iterations", "rewrites",
//    "nodes_visited", "uses_moved", "dead_erased": counts,
//    "totals": {"tried", "matched", "applied", "refused", "time_ns"},
//    "rules": [{"name", "tried", "matched", "applied", "refused", "time_ns",
//               "refusals": {reason: count}}]}
// Rules in rule-set order, refusals by reason; time_ns is 0 unless the run
// measured it (DriverOptions::timing).
std::string StatsJson(const DriverResult& result);

}  // namespace opt
}  // namespace graft

#endif  // GRAFT_TOOLS_GRAFT_OPT_STATS_JSON_H_
