#include "experiments/netlist.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/model_file.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "spice/sim_options.hpp"

namespace bmru::experiments {

using core::format_number;

Calibrated calibrated_options(spice::Session& session, const pdk::Technology& tech,
                              const pdk::Conditions& conditions) {
  Calibrated c;
  c.options.conditions = conditions;
  const CachedCalibration cell = cell_calibration(session, tech, conditions);
  c.options.cell = cell.cell;
  c.cell_from_cache = cell.from_cache;
  c.cell_build_s = cell.build_s;
  c.notes = cell.notes;
  c.options.mirror = calibrate_mirrors(session, tech, conditions);
  return c;
}

namespace {

std::string head(const models::CircuitModel& c, const pdk::Technology& tech,
                 const pdk::Conditions& k) {
  // Transient settings of DESIGN.md section 4: gear, and an abstol far below the pA signals.
  return "* bmru-cosim generated circuit (" + std::to_string(c.map.size()) + " map rows), " +
         tech.name() + " " + k.corner + "\n" + tech.header(k) +
         spice::SimOptions::lockstep_defaults().option_line() + "\n" + c.body;
}

std::string tail(const models::CircuitModel& c) {
  std::string s;
  for (const auto& ic : c.initial_conditions) s += ic + "\n";
  return s;
}

}  // namespace

std::string lockstep_netlist(const models::CircuitModel& c, const pdk::Technology& tech,
                             const pdk::Conditions& k) {
  std::string s = head(c, tech, k);
  for (const auto& in : c.inputs) s += "I" + in.name.substr(1) + " 0 " + in.node + " external\n";
  return s + tail(c) + ".end\n";
}

std::string driven_netlist(const models::CircuitModel& c, const pdk::Technology& tech,
                           const pdk::Conditions& k, const core::Matrix& x,
                           const core::FrameAxis& axis) {
  std::string s = head(c, tech, k);
  const core::Index n = x.rows();
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const core::Index col = static_cast<core::Index>(i / 2);
    const bool pos = i % 2 == 0;
    const auto part = [&](core::Index f) {
      const double v = x(f, col) * c.unit_current_a;
      return pos ? std::max(v, 0.0) : std::max(-v, 0.0);
    };
    std::string pwl = "I" + c.inputs[i].name.substr(1) + " 0 " + c.inputs[i].node + " pwl(0 " +
                      format_number(part(0));
    for (core::Index f = 1; f < n; ++f)
      for (const double v : {axis.frame_start(f), part(f - 1), axis.ramp_end(f), part(f)}) {
        pwl += ' ';
        pwl += format_number(v);
      }
    s += pwl + ")\n";
  }
  return s + tail(c);
}

std::string standalone_netlist(const models::CircuitModel& c, const pdk::Technology& tech,
                               const pdk::Conditions& k, const core::Matrix& x,
                               const core::FrameAxis& axis, const std::string& data_file) {
  std::string s = driven_netlist(c, tech, k, x, axis);
  const core::Index n = x.rows();
  std::string probes;
  for (const auto& l : c.ports.layers) {
    for (const auto& p : l.candidate) probes += " " + p;
    for (const auto& p : l.state) probes += " " + p;
    for (const auto& q : l.output)
      for (const auto* part : {&q.pos, &q.neg})
        for (const auto& p : *part) probes += " " + p;
  }
  for (const auto& p : c.ports.logits) probes += " " + p.pos + " " + p.neg;
  s += ".control\nset num_threads=1\nsave" + probes + "\ntran " + format_number(axis.print_step()) +
       " " + format_number(axis.stop_time(n)) + " 0 " + format_number(axis.max_step()) +
       "\nwrdata " + data_file + probes + "\nquit\n.endc\n";
  return s + ".end\n";
}

std::string port_map_json(const models::PortMap& p, const core::Network* parameters) {
  using nlohmann::json;
  // DESIGN.md section 6 names sources; the circuit model's probes are their "#branch" vectors.
  const auto source = [](std::string n) {
    if (n.size() > 7 && n.compare(n.size() - 7, 7, "#branch") == 0) n.resize(n.size() - 7);
    return n;
  };
  const auto sources = [&](const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const auto& n : v) out.push_back(source(n));
    return out;
  };
  const auto pair = [&](const models::PortPair& q) {
    return json{{"pos", source(q.pos)}, {"neg", source(q.neg)}};
  };
  json j;
  j["inputs"] = json::array();
  for (const auto& q : p.inputs) j["inputs"].push_back(pair(q));
  j["layers"] = json::array();
  for (const auto& l : p.layers) {
    json out = json::array();
    for (const auto& q : l.output) {
      // One probe per part as a name, several (their currents added) as a list.
      const auto part = [&](const std::vector<std::string>& v) {
        return v.size() == 1 ? json(source(v[0])) : json(sources(v));
      };
      out.push_back({{"pos", part(q.pos)}, {"neg", part(q.neg)}});
    }
    j["layers"].push_back(
        {{"candidate", sources(l.candidate)}, {"state", sources(l.state)}, {"output", out}});
  }
  j["logits"] = json::array();
  for (const auto& q : p.logits) j["logits"].push_back(pair(q));
  j["supplies"] = {
      {"cells", p.supply_cells}, {"feedforward", p.supply_feedforward}, {"bias", p.supply_bias}};
  if (parameters) j["parameters"] = json::parse(core::model_to_json(*parameters));
  return j.dump(1) + "\n";
}

std::string map_table(const std::vector<models::MapEntry>& map) {
  std::string s = "instance\tkind\tparameter\tvalue\n";
  for (const auto& e : map)
    s += (e.instance.empty() ? "-" : e.instance) + "\t" + e.kind + "\t" + e.parameter + "\t" +
         (e.unit.empty() ? "-" : format_number(e.value) + " " + e.unit) + "\n";
  return s;
}

}  // namespace bmru::experiments
