#include "experiments/validate.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "netlist_includes.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;

std::string field_string(const json& j, const std::string& key, const std::string& where,
                         const std::string& file) {
  if (!j.contains(key) || !j.at(key).is_string() || j.at(key).get<std::string>().empty())
    throw InputError("Port map '" + file + "': " + where + "." + key +
                     " must be a non-empty string (a source name)");
  return lower_case(j.at(key).get<std::string>());
}

// A layer output's part: one probe name, or a list of them whose currents add.
std::vector<std::string> probe_sum(const json& j, const std::string& key, const std::string& where,
                                   const std::string& file) {
  if (j.contains(key) && j.at(key).is_array()) {
    std::vector<std::string> out;
    const json& list = j.at(key);
    for (size_t i = 0; i < list.size(); ++i)
      if (!list[i].is_string() || list[i].get<std::string>().empty())
        throw InputError("Port map '" + file + "': " + where + "." + key + "[" + std::to_string(i) +
                         "] must be a probe name");
      else
        out.push_back(lower_case(list[i].get<std::string>()));
    if (out.empty())
      throw InputError("Port map '" + file + "': " + where + "." + key +
                       " must name at least one probe");
    return out;
  }
  return {field_string(j, key, where, file)};
}

models::PortPair pair(const json& j, const std::string& where, const std::string& file) {
  if (!j.is_object())
    throw InputError("Port map '" + file + "': " + where + " must be an object {pos, neg}");
  return {field_string(j, "pos", where, file), field_string(j, "neg", where, file)};
}

std::vector<std::string> names(const json& j, const std::string& where, const std::string& file) {
  if (!j.is_array())
    throw InputError("Port map '" + file + "': " + where + " must be a list of probe names");
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string() || j[i].get<std::string>().empty())
      throw InputError("Port map '" + file + "': " + where + "[" + std::to_string(i) +
                       "] must be a probe name");
    out.push_back(lower_case(j[i].get<std::string>()));
  }
  return out;
}

// Dot commands that analyse or print: the lockstep runs its own transient and reads its own probes.
const std::set<std::string> kDropped{".tran", ".op",      ".dc",    ".ac",    ".noise", ".tf",
                                     ".pz",   ".sens",    ".disto", ".print", ".plot",  ".save",
                                     ".meas", ".measure", ".probe", ".four",  ".width", ".end"};

}  // namespace

UserPorts read_port_map(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw InputError("Port map '" + file + "' is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw InputError("Port map '" + file + "' must be a JSON object");
  UserPorts u;
  for (const char* key : {"inputs", "layers"})
    if (!j.contains(key) || !j.at(key).is_array())
      throw InputError("Port map '" + file + "': '" + key + "' (a list) is missing");
  for (size_t k = 0; k < j["inputs"].size(); ++k)
    u.ports.inputs.push_back(pair(j["inputs"][k], "inputs[" + std::to_string(k) + "]", file));
  for (size_t l = 0; l < j["layers"].size(); ++l) {
    const json& jl = j["layers"][l];
    const std::string w = "layers[" + std::to_string(l) + "]";
    if (!jl.is_object()) throw InputError("Port map '" + file + "': " + w + " must be an object");
    models::LayerPorts lp;
    for (const char* key : {"candidate", "state", "output"})
      if (!jl.contains(key))
        throw InputError("Port map '" + file + "': " + w + "." + key + " is missing");
    lp.candidate = names(jl["candidate"], w + ".candidate", file);
    lp.state = names(jl["state"], w + ".state", file);
    if (!jl["output"].is_array())
      throw InputError("Port map '" + file + "': " + w + ".output must be a list");
    for (size_t i = 0; i < jl["output"].size(); ++i) {
      const std::string at = w + ".output[" + std::to_string(i) + "]";
      const json& q = jl["output"][i];
      if (!q.is_object())
        throw InputError("Port map '" + file + "': " + at + " must be an object {pos, neg}");
      lp.output.push_back({probe_sum(q, "pos", at, file), probe_sum(q, "neg", at, file)});
    }
    u.ports.layers.push_back(lp);
  }
  if (j.contains("logits")) {
    if (!j["logits"].is_array()) throw InputError("Port map '" + file + "': logits must be a list");
    for (size_t k = 0; k < j["logits"].size(); ++k)
      u.ports.logits.push_back(pair(j["logits"][k], "logits[" + std::to_string(k) + "]", file));
  }
  u.has_logits = !u.ports.logits.empty();
  std::string* supply[3] = {&u.ports.supply_cells, &u.ports.supply_feedforward,
                            &u.ports.supply_bias};
  const char* supply_key[3] = {"cells", "feedforward", "bias"};
  for (int b = 0; b < 3; ++b) supply[b]->clear();
  if (j.contains("supplies")) {
    if (!j["supplies"].is_object())
      throw InputError("Port map '" + file + "': supplies must be an object");
    for (int b = 0; b < 3; ++b)
      if (j["supplies"].contains(supply_key[b])) {
        *supply[b] = field_string(j["supplies"], supply_key[b], "supplies", file);
        u.has_supply[static_cast<size_t>(b)] = true;
      }
  }
  if (j.contains("parameters"))
    u.parameters = core::model_from_json(j["parameters"].dump(), file + " (parameters)");
  return u;
}

std::vector<std::string> port_count_problems(const UserPorts& u, const core::Network& net) {
  std::vector<std::string> out;
  const auto count = [&](const std::string& what, size_t have, core::Index want) {
    if (have != static_cast<size_t>(want))
      out.push_back(what + ": " + std::to_string(have) + " entries, the model needs " +
                    std::to_string(want));
  };
  count("inputs", u.ports.inputs.size(), net.n_in());
  count("layers", u.ports.layers.size(), net.n_layers());
  for (size_t l = 0; l < u.ports.layers.size(); ++l) {
    const std::string w = "layers[" + std::to_string(l) + "]";
    count(w + ".candidate", u.ports.layers[l].candidate.size(), net.d());
    count(w + ".state", u.ports.layers[l].state.size(), net.d());
    count(w + ".output", u.ports.layers[l].output.size(), net.d());
  }
  if (u.has_logits) count("logits", u.ports.logits.size(), net.n_out());
  return out;
}

spice::SimOptions validate_sim_options() {
  spice::SimOptions o = spice::SimOptions::lockstep_defaults();
  o.gmin_s = 1e-15;  // a user's netlist brings its own models: our gmin, as for generated circuits
  return o;
}

PreparedNetlist prepare_netlist(const std::string& netlist, const std::string& file,
                                const models::PortMap& ports) {
  std::vector<std::string> raw;
  {
    std::istringstream in(netlist);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      raw.push_back(line);
    }
  }
  PreparedNetlist p;
  p.sim = validate_sim_options();
  if (raw.empty()) {
    p.problems.push_back("netlist '" + file + "' is empty");
    return p;
  }
  // Logical lines: a line and its '+' continuations.
  std::vector<std::string> lines;
  std::vector<size_t> line_number;  // of each logical line's first line, from 1
  for (size_t i = 1; i < raw.size(); ++i) {
    const auto start = raw[i].find_first_not_of(" \t");
    if (start != std::string::npos && raw[i][start] == '+' && !lines.empty()) {
      lines.back() += " " + raw[i].substr(start + 1);
    } else {
      lines.push_back(raw[i]);
      line_number.push_back(i + 1);
    }
  }
  std::map<std::string, std::string> wanted;  // input source -> port
  for (size_t k = 0; k < ports.inputs.size(); ++k) {
    wanted[ports.inputs[k].pos] = "inputs[" + std::to_string(k) + "].pos";
    wanted[ports.inputs[k].neg] = "inputs[" + std::to_string(k) + "].neg";
  }
  std::set<std::string> found;
  std::string body;
  int depth = 0;
  bool control = false;
  const std::filesystem::path base_dir = std::filesystem::absolute(file).parent_path();
  IncludeScan includes;
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string line =
        follow_include(lines[n], base_dir, file + ":" + std::to_string(line_number[n]), includes);
    const auto t = split_words(line);
    if (t.empty() || t[0][0] == '*') {
      body += line + "\n";
      continue;
    }
    const std::string head = lower_case(t[0]);
    if (control) {
      if (head == ".endc") control = false;
      continue;
    }
    if (head == ".control") {
      control = true;
      continue;
    }
    if (depth == 0 && (head == ".option" || head == ".options" || head == ".opt"))
      p.sim = p.sim.merged(spice::SimOptions::from_option_line(line));  // the netlist's own win
    if (head == ".subckt") ++depth;
    if (head == ".ends") --depth;
    if (depth == 0 && kDropped.count(head)) continue;
    if (depth == 0 && wanted.count(head)) {
      found.insert(head);
      if (head[0] != 'i' || t.size() < 3) {
        p.problems.push_back(wanted[head] + " '" + head +
                             "': an input must be a current source (I...) with two nodes");
        continue;
      }
      body += t[0] + " " + t[1] + " " + t[2] + " external\n";
      continue;
    }
    body += line + "\n";
  }
  for (const auto& [name, port] : wanted)
    if (!found.count(name))
      p.problems.push_back(port + " '" + name + "': no such source at the top level of " + file);
  // Our transient options first, so that the netlist's own .option lines override them.
  p.refused = std::move(includes.problems);
  p.text = raw[0] + "\n" + validate_sim_options().option_line() + "\n" + body + ".end\n";
  return p;
}

ProbeLookup resolve_probe(const std::string& probe, const std::vector<std::string>& vectors) {
  std::string name = lower_case(probe);
  // The vector name of a source's current ("vs#branch") names the same source.
  if (name.size() > 7 && name.compare(name.size() - 7, 7, "#branch") == 0)
    name.resize(name.size() - 7);
  const auto has = [&](const std::string& v) {
    return std::find(vectors.begin(), vectors.end(), v) != vectors.end();
  };
  std::vector<std::string> tries{name};
  // "x1.vs" is ngspice's "v.x1.vs" (a source inside instance x1).
  if (name.find('.') != std::string::npos && name.rfind("v.", 0) != 0) {
    const auto dot = name.rfind('.');
    tries.push_back(name.substr(dot + 1, 1) + "." + name);
  }
  for (const auto& t : tries)
    if (has(t + "#branch")) return {t + "#branch", ""};
  for (const auto& t : tries)
    if (has(t))
      return {std::nullopt, "is a node voltage, not a current (name a zero-volt source in series)"};
  return {std::nullopt, "no such source in the netlist"};
}

}  // namespace bmru::experiments
