#include "experiments/worker_jobs.hpp"

#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "experiments/fidelity.hpp"
#include "experiments/sweep.hpp"

namespace bmru::experiments {
namespace {

using nlohmann::json;
constexpr const char* kTransient = "netlist.transient";

void run_transient(const std::string& payload, spice::JobContext& ctx) {
  const json r = json::parse(payload);
  spice::Transient tran{r.at("step").get<double>(), r.at("stop").get<double>(),
                        r.at("tmax").get<double>()};
  const auto names = r.at("vectors").get<std::vector<std::string>>();
  spice::Circuit c =
      ctx.session().load(r.at("netlist").get<std::string>(), r.at("seed").get<std::uint64_t>());
  const auto analysis = r.value("analysis", std::string());
  json reply = json::object();
  if (analysis.empty()) {
    c.transient(tran, names);
    reply["time"] = c.vector("time");
  } else {
    c.analysis(analysis);
  }
  for (const auto& n : names) reply[n] = c.vector(n);
  ctx.send(reply.dump());
}

}  // namespace

spice::Job make_job(const TransientRequest& q) {
  const json r{{"netlist", q.netlist},      {"seed", q.seed},
               {"step", q.tran.step_s},     {"stop", q.tran.stop_s},
               {"tmax", q.tran.max_step_s}, {"vectors", q.vectors},
               {"analysis", q.analysis}};
  return {kTransient, r.dump(), spice::default_timeout_s(q.tran.stop_s)};
}

std::map<std::string, std::vector<double>> parse_transient_reply(const std::string& message) {
  try {
    return json::parse(message).get<std::map<std::string, std::vector<double>>>();
  } catch (const json::exception& e) {
    throw Error(std::string("A worker sent a reply that is not a transient result: ") + e.what());
  }
}

const char* job_kind_name(JobKind kind) {
  switch (kind) {
    case JobKind::transient:
      return kTransient;
    case JobKind::calibration:
      return "fidelity.calibration";
    case JobKind::sequence:
      return "fidelity.sequence";
    case JobKind::vectors:
      return "validate.vectors";
    case JobKind::sweep_run:
      return "sweep.run";
  }
  return "?";
}

spice::Job job(JobKind kind, std::string payload, double timeout_s) {
  return {job_kind_name(kind), std::move(payload), timeout_s};
}

std::map<std::string, spice::JobHandler> worker_handlers() {
  return {{job_kind_name(JobKind::transient), run_transient},
          {job_kind_name(JobKind::calibration), run_calibration_job},
          {job_kind_name(JobKind::sequence), run_sequence_job},
          {job_kind_name(JobKind::vectors), run_vectors_job},
          {job_kind_name(JobKind::sweep_run), run_sweep_point_job}};
}

}  // namespace bmru::experiments
