#include "experiments/evaluate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/array_file.hpp"
#include "core/atomic_file.hpp"
#include "core/dataset_file.hpp"
#include "core/errors.hpp"
#include "core/file_lock.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "core/units.hpp"
#include "experiments/simulate.hpp"
#include "models/reference_engine.hpp"
#include "version.hpp"

#include "distribute.hpp"
#include "sweep_journal.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using core::Index;
using Clock = std::chrono::steady_clock;

const char* rule_name(core::DecisionRule r) {
  switch (r) {
    case core::DecisionRule::vote:
      return "vote";
    case core::DecisionRule::last:
      return "last";
    case core::DecisionRule::time_share:
      return "time-share";
  }
  return "?";
}

std::string engines_name(const FidelityOptions& o) {
  return o.hw ? (o.ct ? "sw,ct,hw" : "sw,hw") : "sw,ct";
}

// Every problem of the dataset against the model, named, before anything runs.
std::vector<Index> check_and_select(const EvaluateOptions& o, const core::Network& net,
                                    const core::Dataset& ds) {
  const std::string file = "'" + o.data.string() + "'";
  std::vector<std::string> bad = ds.problems();
  if (ds.features != net.n_in())
    bad.push_back("the dataset has " + std::to_string(ds.features) +
                  " features per frame; the model takes " + std::to_string(net.n_in()) +
                  " inputs (n_in)");
  if (ds.labels.empty())
    bad.push_back("the dataset has no /labels: evaluate scores labelled clips");
  if (static_cast<Index>(ds.classes.size()) > net.n_out())
    bad.push_back("the dataset has " + std::to_string(ds.classes.size()) +
                  " classes in /classes; the model has " + std::to_string(net.n_out()) +
                  " outputs (n_out)");
  for (size_t i = 0; i < ds.labels.size(); ++i)
    if (ds.labels[i] < 0 || ds.labels[i] >= net.n_out()) {
      bad.push_back("/labels[" + std::to_string(i) + "] = " + std::to_string(ds.labels[i]) +
                    " is beyond the model's " + std::to_string(net.n_out()) + " outputs");
      break;
    }
  for (const auto& m : core::feature_mismatches(net, ds.input_attrs)) bad.push_back(m);
  std::vector<Index> which;
  try {
    which = ds.select(o.scheme, o.part);
  } catch (const InputError& e) {
    bad.push_back(e.what());
  }
  if (o.limit && *o.limit < 1) bad.push_back("--limit must be at least 1");
  if (!bad.empty())
    throw InputError("Cannot evaluate the model on " + file + ":" + problem_list(bad));
  if (o.limit && static_cast<Index>(which.size()) > *o.limit) {
    // Evenly spaced over the part, so that a sorted dataset's classes are all represented.
    std::vector<Index> spread;
    const auto n = static_cast<double>(which.size()), k = static_cast<double>(*o.limit);
    for (Index i = 0; i < *o.limit; ++i)
      spread.push_back(which[static_cast<size_t>(std::floor(static_cast<double>(i) * n / k))]);
    which = spread;
  }
  return which;
}

std::string clips_sha256(const core::Dataset& ds, const std::vector<Index>& which) {
  std::ostringstream in;
  in.precision(17);
  for (Index c : which) in << c << ':' << ds.labels[size_t(c)] << ':' << ds.clip(c) << ';';
  return core::sha256_hex(in.str());
}

json fingerprint(const EvaluateOptions& o, const core::Network& net, const core::Dataset& ds,
                 const std::vector<Index>& which) {
  json run = fidelity_options_to_json(o.base);
  for (const char* k : {"out", "jobs", "binary", "command_line", "inputs", "max_output_gb",
                        "random_sequences", "frames", "seed", "model"})
    run.erase(k);
  return {{"tool_version", kToolVersion},
          {"model_sha256", core::sha256_hex(core::model_to_json(net))},
          {"clips_sha256", clips_sha256(ds, which)},
          {"scheme", o.scheme},
          {"part", o.part},
          {"decision", rule_name(o.decision)},
          {"tie", o.tie == core::TiePolicy::first ? "first" : "none"},
          {"run", run.dump()}};
}

json decision_json(const EngineDecision& e) {
  return {{"run", e.run},
          {"decision", e.decision.decision},
          {"margin", e.run ? json(e.decision.margin) : json()}};
}
EngineDecision decision_from(const json& j) {
  EngineDecision e;
  e.run = j.at("run").get<bool>();
  e.decision.decision = j.at("decision").get<int>();
  e.decision.margin = j.at("margin").is_null() ? std::nan("") : j.at("margin").get<double>();
  return e;
}
double number(const json& j) {
  return j.is_null() ? std::nan("") : j.get<double>();
}

json clip_to_json(const ClipResult& c) {
  json energy = json::object();
  for (const auto b : core::kPowerBlocks)
    energy[core::block_name(b)] = std::isnan(c.energy_j[b]) ? json() : json(c.energy_j[b]);
  const auto num = [](double v) { return std::isnan(v) ? json() : json(v); };
  return {{"clip", c.clip},
          {"name", c.name},
          {"label", c.label},
          {"status", c.status},
          {"error", c.error},
          {"run", c.run},
          {"sequence", c.sequence},
          {"sw", decision_json(c.sw)},
          {"ct", decision_json(c.ct)},
          {"hw", decision_json(c.hw)},
          {"state_agreement", num(c.state_agreement)},
          {"ct_sw_state_agreement", num(c.ct_sw_state_agreement)},
          {"hw_ct_state_agreement", num(c.hw_ct_state_agreement)},
          {"energy_j", energy},
          {"spice_s", c.spice_s},
          {"ct_s", c.ct_s}};
}

ClipResult clip_from_json(const json& j) {
  ClipResult c;
  c.clip = j.at("clip").get<Index>();
  c.name = j.at("name").get<std::string>();
  c.label = j.at("label").get<std::int64_t>();
  c.status = j.at("status").get<std::string>();
  c.error = j.at("error").get<std::string>();
  c.run = j.at("run").get<std::string>();
  c.sequence = j.at("sequence").get<Index>();
  c.sw = decision_from(j.at("sw"));
  c.ct = decision_from(j.at("ct"));
  c.hw = decision_from(j.at("hw"));
  c.state_agreement = number(j.at("state_agreement"));
  c.ct_sw_state_agreement = number(j.at("ct_sw_state_agreement"));
  c.hw_ct_state_agreement = number(j.at("hw_ct_state_agreement"));
  for (const auto b : core::kPowerBlocks)
    c.energy_j[b] = number(j.at("energy_j").at(block_name(b)));
  c.spice_s = j.at("spice_s").get<double>();
  c.ct_s = j.at("ct_s").get<double>();
  return c;
}

fs::path row_path(const fs::path& journal, Index clip) {
  return journal / ("clip_" + std::to_string(clip) + ".json");
}

// [frames, classes] of sequence s from a [S, N, C] array.
core::Matrix sequence_of(const core::NamedArray& a, Index s, double scale = 1) {
  const auto N = static_cast<Index>(a.dims.at(1)), C = static_cast<Index>(a.dims.at(2));
  core::Matrix m(N, C);
  for (Index t = 0; t < N; ++t)
    for (Index j = 0; j < C; ++j) m(t, j) = a.data[size_t((s * N + t) * C + j)] / scale;
  return m;
}

struct Chunk {
  std::string id;
  std::vector<Index> clips;  // dataset indices
};

// One chunk: its clips' inputs as a dataset file, a fidelity run over them, then a row per clip.
// A run that fails for other than bad input fails its clips (each row says why); the rest go on.
std::vector<ClipResult> run_chunk(const EvaluateOptions& o, const core::Network& net,
                                  const core::Dataset& ds, const Chunk& chunk,
                                  const std::vector<core::Decision>& sw, const fs::path& journal,
                                  const std::function<void(long long, long long)>& progress) {
  const fs::path runs = journal / "runs";
  fs::create_directories(runs);
  core::Dataset part;
  part.input_attrs = ds.input_attrs;
  for (Index c : chunk.clips) {
    part.append_clip(ds.clip(c));
    part.name.push_back(ds.name[size_t(c)]);
  }
  const fs::path inputs = runs / (chunk.id + ".inputs.h5");
  core::write_dataset(inputs, part, {kToolVersion, o.base.command_line});
  FidelityOptions run = o.base;
  run.inputs = inputs;
  run.out = runs / (chunk.id + ".h5");
  fs::remove(run.out);
  std::vector<ClipResult> rows;
  for (size_t s = 0; s < chunk.clips.size(); ++s) {
    ClipResult r;
    r.clip = chunk.clips[s];
    r.name = ds.name[size_t(r.clip)];
    r.label = ds.labels[size_t(r.clip)];
    r.run = chunk.id;
    r.sequence = static_cast<Index>(s);
    r.sw = {true, sw[s]};
    const double nan = std::nan("");
    r.state_agreement = r.ct_sw_state_agreement = r.hw_ct_state_agreement = nan;
    for (const auto b : core::kPowerBlocks) r.energy_j[b] = nan;
    rows.push_back(r);
  }
  try {
    const FidelityResult f = run_fidelity(run, progress);
    const Index S = static_cast<Index>(chunk.clips.size());
    const double duration = o.base.axis.period_s * static_cast<double>(ds.frames);
    std::optional<core::NamedArray> hw_logits, hw_lead, ct_logits;
    std::vector<core::NamedArray> power;
    if (o.base.hw) {
      hw_logits = core::read_array(run.out, "hw/logits");
      if (o.decision == core::DecisionRule::time_share)
        hw_lead = core::read_array(run.out, "hw/argmax_time");
      for (const auto b : core::kPowerBlocks)
        power.push_back(core::read_array(run.out, std::string("hw/power/") + block_name(b)));
    }
    if (o.base.ct) ct_logits = core::read_array(run.out, "ct/logits");
    const int busy = std::max(1, std::min<int>(f.workers, static_cast<int>(S)));
    const double spice_total = f.spice_s > 0 ? f.spice_s : f.hw_wall_s * busy;
    for (Index s = 0; s < S; ++s) {
      ClipResult& r = rows[size_t(s)];
      const bool ok = f.sequence_ok.empty() || f.sequence_ok[size_t(s)];
      if (!ok) {
        r.status = "failed";
        for (const auto& e : f.failed)
          if (e.rfind("sequence " + std::to_string(s) + " ", 0) == 0) r.error = e;
        continue;
      }
      r.spice_s = o.base.hw ? spice_total / static_cast<double>(S) : 0;
      r.ct_s = f.ct_wall_s / static_cast<double>(S);
      r.state_agreement = f.metrics.sequences[size_t(s)].state_agreement;
      if (f.ct_vs_sw) r.ct_sw_state_agreement = f.ct_vs_sw->sequences[size_t(s)].state_agreement;
      if (f.hw_vs_ct) r.hw_ct_state_agreement = f.hw_vs_ct->sequences[size_t(s)].state_agreement;
      if (ct_logits) r.ct = {true, core::decide(sequence_of(*ct_logits, s), o.decision, o.tie)};
      if (hw_logits) {
        r.hw.run = true;
        r.hw.decision = hw_lead ? core::decide_by_time(sequence_of(*hw_lead, s), o.tie)
                                : core::decide(sequence_of(*hw_logits, s, net.unit_current_a),
                                               o.decision, o.tie);
        const auto N = static_cast<Index>(power.front().dims.at(1));
        for (size_t b = 0; b < power.size(); ++b) {
          double sum = 0;
          for (Index t = 0; t < N; ++t) sum += power[b].data[size_t(s * N + t)];
          r.energy_j.value[b] = sum / static_cast<double>(N) * duration;
        }
      }
    }
  } catch (const InputError&) {
    throw;  // bad input fails every chunk alike: stop and say so
  } catch (const Error& e) {
    for (auto& r : rows) {
      r.status = "failed";
      r.error = e.what();
    }
  }
  fs::remove(inputs);
  for (const auto& r : rows)
    core::write_text_atomically(row_path(journal, r.clip), clip_to_json(r).dump(2));
  return rows;
}

double share_equal(const std::vector<ClipResult>& clips, EngineDecision ClipResult::*a,
                   EngineDecision ClipResult::*b) {
  long n = 0, same = 0;
  for (const auto& c : clips)
    if (c.status == "ok" && (c.*a).run && (c.*b).run) {
      ++n;
      same += (c.*a).decision.decision == (c.*b).decision.decision;
    }
  return n ? static_cast<double>(same) / static_cast<double>(n) : std::nan("");
}

double mean_of(const std::vector<ClipResult>& clips, double ClipResult::*m) {
  double sum = 0;
  long n = 0;
  for (const auto& c : clips)
    if (c.status == "ok" && !std::isnan(c.*m)) {
      sum += c.*m;
      ++n;
    }
  return n ? sum / static_cast<double>(n) : std::nan("");
}

std::vector<core::TableColumn> clip_columns(const std::vector<ClipResult>& clips) {
  std::vector<core::TableColumn> t;
  const auto column = [&](const std::string& name, auto get) {
    core::TableColumn c{name, {}};
    for (const auto& r : clips) c.values.emplace_back(get(r));
    t.push_back(std::move(c));
  };
  column("index", [](const ClipResult& r) { return static_cast<std::int64_t>(r.clip); });
  column("name", [](const ClipResult& r) { return r.name; });
  column("label", [](const ClipResult& r) { return r.label; });
  column("status", [](const ClipResult& r) { return r.status; });
  column("error", [](const ClipResult& r) { return r.error; });
  column("run", [](const ClipResult& r) { return r.run; });
  column("sequence", [](const ClipResult& r) { return static_cast<std::int64_t>(r.sequence); });
  for (const auto& [name, e] : {std::pair{"sw", &ClipResult::sw}, std::pair{"ct", &ClipResult::ct},
                                std::pair{"hw", &ClipResult::hw}}) {
    const auto member = e;
    column(std::string(name) + "_decision", [member](const ClipResult& r) {
      return static_cast<std::int64_t>((r.*member).run ? (r.*member).decision.decision : -2);
    });
    column(std::string(name) + "_margin", [member](const ClipResult& r) {
      return (r.*member).run ? (r.*member).decision.margin : std::nan("");
    });
  }
  column("state_agreement", [](const ClipResult& r) { return r.state_agreement; });
  column("ct_sw_state_agreement", [](const ClipResult& r) { return r.ct_sw_state_agreement; });
  column("hw_ct_state_agreement", [](const ClipResult& r) { return r.hw_ct_state_agreement; });
  for (const auto b : core::kPowerBlocks)
    column(std::string("energy_") + block_name(b) + "_j",
           [b](const ClipResult& r) { return r.energy_j[b]; });
  column("spice_s", [](const ClipResult& r) { return r.spice_s; });
  column("ct_s", [](const ClipResult& r) { return r.ct_s; });
  return t;
}

void write_confusion(core::RunFile& file, const std::string& engine, const core::TaskScore& s) {
  const auto C = static_cast<Index>(s.confusion.size());
  core::SeriesWriter w = file.add_series("metrics/confusion_" + engine, C, C, "clips");
  for (Index i = 0; i < C; ++i) {
    std::vector<double> row;
    for (long v : s.confusion[size_t(i)]) row.push_back(static_cast<double>(v));
    w.write(i, 0, row);
  }
  file.set_attr("/metrics/confusion_" + engine,
                {"description", std::string("clips by true class (rows) and decided class "
                                            "(columns); ties and failures in no column")});
}

// The chunks' run ids the clips came from, each once, in the clips' order.
std::vector<std::string> chunk_runs(const std::vector<ClipResult>& clips) {
  std::vector<std::string> runs;
  for (const auto& c : clips)
    if (!c.run.empty() && std::find(runs.begin(), runs.end(), c.run) == runs.end())
      runs.push_back(c.run);
  return runs;
}

void write_evaluation_file(const EvaluateOptions& o, const core::Network& net,
                           const EvaluateResult& r, const json& print) {
  double need = 1e6;
  const std::vector<std::string> runs = chunk_runs(r.clips);
  for (const auto& id : runs) {
    std::error_code ec;
    const auto size = fs::file_size(r.journal / "runs" / (id + ".h5"), ec);
    if (!ec) need += 1.05 * static_cast<double>(size);
  }
  core::require_space(fs::path(o.base.out.string() + ".part"), need);
  core::RunFile file(o.base.out, {kToolVersion, o.base.command_line});
  std::string classes;
  for (const auto& c : r.classes) classes += (classes.empty() ? "" : ",") + c;
  const pdk::Conditions& k = o.base.tech.conditions;
  std::vector<core::Attr> config{
      {"kind", std::string("evaluate")},
      {"data", fs::absolute(o.data).string()},
      {"scheme", o.scheme},
      {"part", o.part},
      {"limit", static_cast<std::int64_t>(o.limit.value_or(-1))},
      {"decision", std::string(rule_name(o.decision))},
      {"tie", std::string(o.tie == core::TiePolicy::first ? "first" : "none")},
      {"engines", engines_name(o.base)},
      {"classes", classes},
      {"pdk", o.base.tech.pdk},
      {"corner", k.corner},
      {"temperature", k.temperature_c},
      {"vdd", k.vdd_v},
      {"frame_period", o.base.axis.period_s},
      {"unit_current", net.unit_current_a},
      {"mismatch_seed",
       o.base.mismatch_seed ? static_cast<std::int64_t>(*o.base.mismatch_seed) : std::int64_t{-1}},
      {"journal", r.journal.string()},
      {"fingerprint", print.dump()}};
  file.write_config(config);
  file.write_model(net);
  file.write_table("clips", clip_columns(r.clips));
  std::vector<core::Attr> m;
  for (const auto& [name, e] :
       {std::pair{"sw", &r.sw}, std::pair{"ct", &r.ct}, std::pair{"hw", &r.hw}}) {
    const double nan = std::nan("");
    m.push_back({std::string(name) + "_accuracy", e->run ? e->score.accuracy : nan});
    m.push_back(
        {std::string(name) + "_balanced_accuracy", e->run ? e->score.balanced_accuracy : nan});
    m.push_back({std::string(name) + "_ties", static_cast<std::int64_t>(e->score.ties)});
  }
  m.insert(m.end(), {{"decision_agreement", r.decision_agreement},
                     {"ct_sw_decision_agreement", r.ct_sw_decision_agreement},
                     {"hw_ct_decision_agreement", r.hw_ct_decision_agreement},
                     {"state_agreement", r.state_agreement},
                     {"ct_sw_state_agreement", r.ct_sw_state_agreement},
                     {"hw_ct_state_agreement", r.hw_ct_state_agreement},
                     {"clip_duration_s", r.clip_duration_s},
                     {"spice_s_per_clip", r.spice_s_per_clip},
                     {"ct_s_per_clip", r.ct_s_per_clip},
                     {"clips", static_cast<std::int64_t>(r.clips.size())},
                     {"failed", static_cast<std::int64_t>(r.failed)}});
  for (const auto b : core::kPowerBlocks) {
    m.push_back(
        {std::string(b == core::PowerBlock::total ? "mean_power_w"
                                                  : std::string("power_") + block_name(b) + "_w"),
         r.mean_power_w[b]});
    m.push_back(
        {std::string(b == core::PowerBlock::total ? "energy_per_inference_j"
                                                  : std::string("energy_") + block_name(b) + "_j"),
         r.energy_j[b]});
  }
  for (const auto& [name, e] :
       {std::pair{"sw", &r.sw}, std::pair{"ct", &r.ct}, std::pair{"hw", &r.hw}})
    if (e->run) write_confusion(file, name, e->score);
  for (const auto& a : m) file.set_attr("/metrics", a);
  for (const auto& id : runs) {
    const fs::path f = r.journal / "runs" / (id + ".h5");
    if (fs::exists(f)) file.copy_run(id, f);
  }
  file.commit();
}

}  // namespace

EvaluateSelection evaluate_selection(const EvaluateOptions& o, const core::Network& net) {
  const core::Dataset ds = core::read_dataset(o.data);
  EvaluateSelection s;
  s.clips = check_and_select(o, net, ds);
  s.frames = ds.frames;
  s.sha256 = clips_sha256(ds, s.clips);
  return s;
}

fs::path evaluate_journal(const fs::path& out) {
  return fs::path(out.string() + ".clips");
}

EvaluateResult score_clips(std::vector<ClipResult> clips, std::vector<std::string> classes, bool ct,
                           bool hw) {
  EvaluateResult r;
  r.classes = std::move(classes);
  r.clips = std::move(clips);
  // Every engine is scored over the same clips: those that finished.
  std::vector<std::int64_t> labels;
  std::vector<int> sw, ctd, hwd;
  for (const auto& c : r.clips) {
    if (c.status != "ok") {
      ++r.failed;
      continue;
    }
    labels.push_back(c.label);
    sw.push_back(c.sw.decision.decision);
    ctd.push_back(c.ct.run ? c.ct.decision.decision : core::kTie);
    hwd.push_back(c.hw.run ? c.hw.decision.decision : core::kTie);
  }
  const size_t C = r.classes.size();
  r.sw = {true, core::task_score(sw, labels, C)};
  r.ct = {ct, core::task_score(ctd, labels, C)};
  r.hw = {hw, core::task_score(hwd, labels, C)};
  const double nan = std::nan("");
  r.ct_sw_decision_agreement = ct ? share_equal(r.clips, &ClipResult::ct, &ClipResult::sw) : nan;
  r.hw_ct_decision_agreement =
      ct && hw ? share_equal(r.clips, &ClipResult::hw, &ClipResult::ct) : nan;
  r.decision_agreement =
      hw ? share_equal(r.clips, &ClipResult::hw, &ClipResult::sw) : r.ct_sw_decision_agreement;
  r.state_agreement = mean_of(r.clips, &ClipResult::state_agreement);
  r.ct_sw_state_agreement = mean_of(r.clips, &ClipResult::ct_sw_state_agreement);
  r.hw_ct_state_agreement = mean_of(r.clips, &ClipResult::hw_ct_state_agreement);
  r.spice_s_per_clip = hw ? mean_of(r.clips, &ClipResult::spice_s) : nan;
  r.ct_s_per_clip = ct ? mean_of(r.clips, &ClipResult::ct_s) : nan;
  for (const auto b : core::kPowerBlocks) {
    double sum = 0;
    long n = 0;
    for (const auto& c : r.clips)
      if (c.status == "ok" && !std::isnan(c.energy_j[b])) {
        sum += c.energy_j[b];
        ++n;
      }
    r.energy_j[b] = n ? sum / static_cast<double>(n) : nan;
  }
  return r;
}

EvaluateResult run_evaluate(const EvaluateOptions& o,
                            const std::function<void(long long, long long)>& progress,
                            const std::function<void(const std::string&)>& finished,
                            const MpiWorld* world) {
  if (o.base.out.empty()) throw InputError("evaluate needs an output file (--out FILE.h5)");
  const auto t0 = Clock::now();
  o.base.axis.check();
  const core::Network net = load_network(o.base.model, o.base.unit_current_a);
  const core::Dataset ds = core::read_dataset(o.data);
  const std::vector<Index> which = check_and_select(o, net, ds);

  // The behavioural decisions of every clip, in this process, in one batch (the model run free).
  std::vector<core::Decision> sw;
  for (const auto& l : models::dataset_logits(net, ds, which))
    sw.push_back(core::decide(l, o.decision, o.tie));
  const fs::path journal = evaluate_journal(o.base.out);
  const fs::path staging = fs::path(o.base.out.string() + ".staging");
  // A chunk's work: its clips (positions in `which`) run and scored, the run file in `dir`.
  const auto work = [&](const std::string& payload, const fs::path& dir,
                        const std::function<void(long long, long long)>& frames) {
    const json p = json::parse(payload);
    Chunk chunk;
    chunk.id = p.at("id").get<std::string>();
    std::vector<core::Decision> chunk_sw;
    for (const auto k : p.at("pos").get<std::vector<size_t>>()) {
      chunk.clips.push_back(which[k]);
      chunk_sw.push_back(sw[k]);
    }
    json rows = json::array();
    for (const auto& r : run_chunk(o, net, ds, chunk, chunk_sw, dir, frames))
      rows.push_back(clip_to_json(r));
    const fs::path run = dir / "runs" / (chunk.id + ".h5");
    return json{{"rows", rows}, {"staged", dir == journal ? json() : json(run.string())}}.dump();
  };
  if (world && !world->root()) {
    // Another rank: run the chunks rank 0 hands out in a staging folder of this rank.
    const fs::path mine = staging / ("rank" + std::to_string(world->rank()));
    fs::create_directories(mine);
    distribute(*world, {}, [&](const std::string& payload) { return work(payload, mine, {}); }, {});
    EvaluateResult none;
    none.root = false;
    return none;
  }
  fs::create_directories(journal);
  const core::FileLock lock(journal / "lock", "The evaluation journal '" + journal.string() + "'",
                            false);
  const json print = fingerprint(o, net, ds, which);
  stamp_journal(journal, print, "evaluate.json");

  std::vector<std::optional<ClipResult>> rows(which.size());
  std::vector<size_t> pending;
  for (size_t i = 0; i < which.size(); ++i) {
    if (const auto j = read_json(row_path(journal, which[i]))) {
      rows[i] = clip_from_json(*j);
      if (!(o.retry_failed && rows[i]->status != "ok")) continue;
      rows[i].reset();
    }
    pending.push_back(i);
  }
  EvaluateResult result;
  result.skipped = static_cast<int>(which.size() - pending.size());
  const int workers = o.base.jobs > 0
                          ? o.base.jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const size_t per_chunk =
      o.chunk > 0 ? static_cast<size_t>(o.chunk) : static_cast<size_t>(std::max(8, 4 * workers));
  std::vector<std::string> payloads;
  std::vector<std::string> ids;
  for (size_t at = 0; at < pending.size(); at += per_chunk) {
    std::vector<size_t> pos(
        pending.begin() + static_cast<long>(at),
        pending.begin() + static_cast<long>(std::min(pending.size(), at + per_chunk)));
    const std::string stem =
        "clips_" + std::to_string(which[pos.front()]) + "_" + std::to_string(pos.size());
    std::string id = stem;
    for (int n = 2; fs::exists(journal / "runs" / (id + ".h5")) ||
                    std::find(ids.begin(), ids.end(), id) != ids.end();
         ++n)
      id = stem + "_try" + std::to_string(n);
    ids.push_back(id);
    payloads.push_back(json{{"id", id}, {"pos", pos}}.dump());
  }
  const long long total = static_cast<long long>(pending.size()) * ds.frames;
  long long done = 0;
  const bool alone = !world || world->size() == 1;
  auto started = Clock::now();
  const MpiWorld one(false);
  distribute(
      world ? *world : one, payloads,
      [&](const std::string& payload) {
        // Per-frame progress only when this is the only thread reporting.
        return work(payload, journal,
                    alone ? std::function<void(long long, long long)>([&](long long d, long long) {
                      if (progress) progress(done + d, total);
                    })
                          : std::function<void(long long, long long)>());
      },
      [&](size_t n, const std::string& text) {
        const json j = json::parse(text);
        if (!j.at("staged").is_null()) {
          const fs::path from = j.at("staged").get<std::string>();
          fs::create_directories(journal / "runs");
          if (fs::exists(from)) fs::rename(from, journal / "runs" / (ids[n] + ".h5"));
        }
        std::vector<ClipResult> got;
        for (const auto& r : j.at("rows")) got.push_back(clip_from_json(r));
        for (const auto& r : got)
          core::write_text_atomically(row_path(journal, r.clip), clip_to_json(r).dump(2));
        // The rows come in the order of the chunk's positions in `which`.
        const auto pos = json::parse(payloads[n]).at("pos").get<std::vector<size_t>>();
        for (size_t k = 0; k < got.size(); ++k) rows[pos[k]] = got[k];
        result.ran += static_cast<int>(got.size());
        done += static_cast<long long>(got.size()) * ds.frames;
        if (progress) progress(done, total);
        if (finished) {
          const long failed = std::count_if(got.begin(), got.end(),
                                            [](const ClipResult& c) { return c.status != "ok"; });
          char line[200];
          std::snprintf(line, sizeof line, "%s: %zu clips (%d of %zu done), %ld failed, %.1f s",
                        ids[n].c_str(), got.size(), result.ran, pending.size(), failed,
                        std::chrono::duration<double>(Clock::now() - started).count());
          finished(line);
        }
        started = Clock::now();
      });
  std::error_code ignore;
  fs::remove_all(staging, ignore);
  std::vector<ClipResult> clips;
  for (auto& r : rows) clips.push_back(std::move(*r));
  EvaluateResult scored = score_clips(std::move(clips), ds.classes, o.base.ct, o.base.hw);
  scored.ran = result.ran;
  scored.skipped = result.skipped;
  scored.journal = journal;
  scored.clip_duration_s = o.base.axis.period_s * static_cast<double>(ds.frames);
  scored.mean_power_w = scored.energy_j;
  for (auto& v : scored.mean_power_w.value) v /= scored.clip_duration_s;
  write_evaluation_file(o, net, scored, print);
  if (o.base.noise.active()) {
    // The suppression over every clip, from the chunks' noisy runs.
    std::vector<fs::path> runs;
    for (const auto& id : chunk_runs(scored.clips))
      if (fs::exists(journal / "runs" / (id + ".h5")))
        runs.push_back(journal / "runs" / (id + ".h5"));
    std::vector<core::NamedArray> arrays;
    std::vector<std::pair<std::string, core::Attr>> attrs;
    scored.suppression = pooled_suppression(runs, !o.base.leak.has_value(), arrays, attrs);
    if (!arrays.empty()) core::append_arrays(o.base.out, arrays, attrs);
  }
  scored.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return scored;
}

}  // namespace bmru::experiments
