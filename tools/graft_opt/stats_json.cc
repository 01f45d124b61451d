#include "tools/graft_opt/stats_json.h"

#include <map>

#include <nlohmann/json.hpp>

namespace graft {
namespace opt {

std::string StatsJson(const DriverResult& result) {
  using Json = nlohmann::ordered_json;  // keys in the order written
  auto or_null = [](const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); };
  RuleStats totals;
  Json rules = Json::array();
  for (const auto& [name, st] : result.stats) {
    totals.tried += st.tried;
    totals.matched += st.matched;
    totals.applied += st.applied;
    totals.refused += st.refused;
    totals.nanos += st.nanos;
    Json refusals = Json::object();
    std::map<std::string, int64_t> by_reason(st.refusals.begin(), st.refusals.end());
    for (const auto& [reason, n] : by_reason) refusals[reason] = n;
    rules.push_back({{"name", name},
                     {"tried", st.tried},
                     {"matched", st.matched},
                     {"applied", st.applied},
                     {"refused", st.refused},
                     {"time_ns", st.nanos},
                     {"refusals", std::move(refusals)}});
  }
  Json out = {{"converged", result.converged},
              {"stopped_by", or_null(result.stopped_by)},
              {"stop_reason", or_null(result.stop_reason)},
              {"still_firing", result.still_firing},
              {"iterations", result.iterations},
              {"rewrites", result.rewrites},
              {"nodes_visited", result.nodes_visited},
              {"uses_moved", result.uses_moved},
              {"dead_erased", result.dead_erased},
              {"totals",
               {{"tried", totals.tried},
                {"matched", totals.matched},
                {"applied", totals.applied},
                {"refused", totals.refused},
                {"time_ns", totals.nanos}}},
              {"rules", std::move(rules)}};
  // Rule names and refusal reasons are the user's text: replace invalid
  // UTF-8 rather than throw.
  return out.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace opt
}  // namespace graft
