#include "fidelity_target.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.hpp"
#include "experiments/calibration.hpp"
#include "experiments/netlist.hpp"
#include "experiments/worker_jobs.hpp"

namespace bmru::experiments {

using nlohmann::json;

namespace {
// "[k]" after a port's field when it is a list of several probes.
std::string list_index(size_t size, size_t k) {
  return size == 1 ? "" : "[" + std::to_string(k) + "]";
}
}  // namespace

// The generator's circuit for this network, calibrated in a worker (no ngspice in this process).
Target generated_target(const FidelityOptions& o, const core::Network& net,
                        const pdk::Technology& tech, const pdk::Conditions& k,
                        const core::Matrix& x0, spice::WorkerPool& pool,
                        std::optional<models::CtFacts>& ct_facts, const StageFn& stage) {
  const pdk::Conditions cal_k =
      o.calibration_conditions.value_or(pdk::Conditions{k.corner, k.temperature_c, k.vdd_v, false});
  if (stage)
    stage("calibrating the circuit on " + tech.name() + " " + k.corner +
          " (about 8-20 s the first time, then cached" +
          std::string(o.ct ? "; the ct model's characterization a few seconds more" : "") + ")");
  CalibrationReply cal = request_calibration(pool, o, k, o.ct);
  ct_facts = cal.ct;
  const models::CircuitModel circuit = models::build_circuit(net, tech, circuit_options(cal, o, k));
  Target t;
  t.network = circuit.network;
  t.realised = circuit.realised;
  t.clamped = circuit.clamped;
  if (cal.ct) t.ct_die = models::die_factors(circuit.draws, cal.ct->slope_v);
  t.lockstep = lockstep_netlist(circuit, tech, k);
  if (o.noise.active()) {
    // The noise sources go before the deck's end.
    std::string lines;
    for (const auto& l :
         o.noise_all_lines ? circuit.line_noise_source_lines : circuit.noise_source_lines)
      lines += l + "\n";
    const auto end = t.lockstep.rfind(".end");
    if (end == std::string::npos) throw Error("The lockstep netlist has no .end");
    t.lockstep.insert(end, lines);
    t.noise_sources = o.noise_all_lines ? circuit.line_noise_sources : circuit.noise_sources;
  }
  // The technology's header sets gmin; the deck's .option line the rest.
  spice::SimOptions gmin;
  gmin.gmin_s = tech.gmin_s();
  t.sim = gmin.merged(spice::SimOptions::lockstep_defaults());
  t.standalone = standalone_netlist(circuit, tech, k, x0, o.axis, "standalone.data");
  t.map = circuit.map;
  t.ports = circuit.ports;
  for (const auto& in : circuit.inputs) t.sources.push_back(in.name);
  t.supplies = {{core::PowerBlock::cells, circuit.ports.supply_cells + "#branch"},
                {core::PowerBlock::feedforward, circuit.ports.supply_feedforward + "#branch"},
                {core::PowerBlock::bias, circuit.ports.supply_bias + "#branch"}};
  for (const auto& c : circuit.ports.cell_supplies) t.cell_supplies.push_back(c + "#branch");
  for (const auto& c : circuit.ports.position_supplies)
    t.position_supplies.push_back(c + "#branch");
  t.config = {{"netlist_source", std::string("generated")},
              {"calibration_corner", cal_k.corner},
              {"calibration_temperature", cal_k.temperature_c},
              {"calibration_vdd", cal_k.vdd_v}};
  return t;
}

// A user's netlist and port map (bmru validate): prepared, and checked against the network and
// against an operating point in a worker; every problem is reported at once.
Target user_target(const FidelityOptions& o, const UserPorts& u, const core::Network& net,
                   spice::WorkerPool& pool, const StageFn& stage) {
  const auto file = o.user_netlist->string();
  std::ifstream in(*o.user_netlist);
  if (!in) throw FileError(file, "", "cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> problems = port_count_problems(u, net);
  PreparedNetlist prepared = prepare_netlist(text.str(), file, u.ports);
  if (!prepared.refused.empty())
    throw InputError("The netlist '" + file + "' is refused before any simulation (" +
                     std::to_string(prepared.refused.size()) +
                     " problems):" + problem_list(prepared.refused));
  problems.insert(problems.end(), prepared.problems.begin(), prepared.problems.end());
  Target t;
  t.ports = u.ports;
  t.has_logits = u.has_logits;
  {
    std::vector<std::string> vectors;
    if (stage) stage("checking the netlist with an operating point");
    const auto r =
        pool.run({job(JobKind::vectors, prepared.text, 300)}, [&](size_t, const std::string& m) {
          vectors = json::parse(m).get<std::vector<std::string>>();
        });
    if (!r[0].ok)
      throw InputError(
          "The netlist '" + file +
          "' does not simulate (an operating point with the inputs at zero): " + r[0].error +
          (problems.empty() ? "" : "\nand against its port map:" + problem_list(problems)));
    const auto resolve = [&](std::string& probe, const std::string& port) {
      const ProbeLookup q = resolve_probe(probe, vectors);
      if (q.resolved)
        probe = *q.resolved;
      else
        problems.push_back(port + " '" + probe + "': " + q.problem);
    };
    for (size_t l = 0; l < t.ports.layers.size(); ++l) {
      auto& lp = t.ports.layers[l];
      const std::string w = "layers[" + std::to_string(l) + "]";
      for (size_t i = 0; i < lp.candidate.size(); ++i)
        resolve(lp.candidate[i], w + ".candidate[" + std::to_string(i) + "]");
      for (size_t i = 0; i < lp.state.size(); ++i)
        resolve(lp.state[i], w + ".state[" + std::to_string(i) + "]");
      for (size_t i = 0; i < lp.output.size(); ++i) {
        const std::string at = w + ".output[" + std::to_string(i) + "]";
        for (size_t k = 0; k < lp.output[i].pos.size(); ++k)
          resolve(lp.output[i].pos[k], at + ".pos" + list_index(lp.output[i].pos.size(), k));
        for (size_t k = 0; k < lp.output[i].neg.size(); ++k)
          resolve(lp.output[i].neg[k], at + ".neg" + list_index(lp.output[i].neg.size(), k));
      }
    }
    for (size_t j = 0; j < t.ports.logits.size(); ++j) {
      resolve(t.ports.logits[j].pos, "logits[" + std::to_string(j) + "].pos");
      resolve(t.ports.logits[j].neg, "logits[" + std::to_string(j) + "].neg");
    }
    std::string* supply[3] = {&t.ports.supply_cells, &t.ports.supply_feedforward,
                              &t.ports.supply_bias};
    const char* key[3] = {"cells", "feedforward", "bias"};
    for (int b = 0; b < 3; ++b)
      if (u.has_supply[static_cast<size_t>(b)]) {
        resolve(*supply[b], std::string("supplies.") + key[b]);
        t.supplies.push_back({core::kSupplyBlocks[static_cast<size_t>(b)], *supply[b]});
      }
  }
  if (!problems.empty()) {
    throw InputError("The netlist '" + file + "' does not match its port map '" +
                     o.user_ports->string() + "' (" + std::to_string(problems.size()) +
                     " problems):" + problem_list(problems));
  }
  for (const auto& q : t.ports.inputs) {
    t.sources.push_back(q.pos);
    t.sources.push_back(q.neg);
  }
  t.lockstep = prepared.text;
  t.sim = prepared.sim;
  t.standalone = text.str();
  t.config = {{"netlist_source", file}, {"port_map", o.user_ports->string()}};
  return t;
}

}  // namespace bmru::experiments
