#include "checkpoint.hpp"

#include <sstream>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "core/units.hpp"

namespace bmru::train {
namespace {

constexpr const char* kCheckpointFormat = "bmru-train-checkpoint/1";

std::string text_of(const TrainOptions& o) {
  std::string s = o.scheme;
  for (double v : {double(o.d),
                   double(o.layers),
                   double(o.batch),
                   o.lr,
                   o.dropout,
                   double(o.seed),
                   o.sharpness,
                   double(o.patience),
                   o.unit_current_a,
                   double(o.hardware_aware),
                   o.mismatch_sigma,
                   double(o.class_weights),
                   double(int(o.decision)),
                   double(int(o.tie)),
                   double(o.threads),
                   o.input_noise,
                   o.power_weight,
                   o.power_budget_w,
                   double(int(o.lr_schedule)),
                   double(o.anneal_epochs),
                   o.anneal_start,
                   o.anneal_end})
    s += "|" + std::to_string(v);
  return s;
}

}  // namespace

std::string fingerprint(const core::Dataset& data, const TrainOptions& o) {
  std::string content(reinterpret_cast<const char*>(data.inputs.data()),
                      data.inputs.size() * sizeof(double));
  content.append(reinterpret_cast<const char*>(data.labels.data()),
                 data.labels.size() * sizeof(std::int64_t));
  for (const auto& s : data.splits)
    for (const auto& p : s.part) content += p;
  return core::sha256_hex(content) + "|" + text_of(o);
}

void save_checkpoint(const std::filesystem::path& path, const std::string& fp,
                     const TrainState& state, const TorchNet& net, const torch::optim::Adam& adam) {
  torch::serialize::OutputArchive a;
  a.write("format", c10::IValue(std::string(kCheckpointFormat)));
  a.write("fingerprint", c10::IValue(fp));
  for (size_t i = 0; i < net.params.size(); ++i)
    a.write("param" + std::to_string(i), net.params[i].detach());
  torch::serialize::OutputArchive opt;
  adam.save(opt);
  a.write("optimizer", opt);
  a.write("state",
          torch::tensor({double(state.epochs_done), double(state.best_epoch),
                         state.best_val_accuracy, state.best_val_loss, double(state.stale)},
                        torch::kDouble));
  std::vector<double> h;
  for (const EpochRecord& r : state.history)
    h.insert(h.end(), {double(r.epoch), r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy,
                       r.seconds});
  a.write("history", torch::tensor(h, torch::kDouble));
  a.write("best", c10::IValue(core::model_to_json(state.best)));
  // Serialised in memory, then written by our own checked writer: libtorch's file writer throws
  // from its destructor on a failed write (a full disk), which ends the process.
  std::ostringstream bytes;
  a.save_to(bytes);
  core::write_text_atomically(path, bytes.str(), ".part");
}

TrainState load_checkpoint(const std::filesystem::path& path, const std::string& fp, TorchNet& net,
                           torch::optim::Adam& adam) {
  const std::string p = path.string();
  torch::serialize::InputArchive a;
  c10::IValue format, stored_fp, best;
  try {
    a.load_from(p);
    a.read("format", format);
  } catch (const c10::Error& e) {
    throw FileError(p, "",
                    std::string("is not a training checkpoint: ") + e.what_without_backtrace());
  }
  if (!format.isString() || format.toStringRef() != kCheckpointFormat)
    throw FileError(p, "format", std::string("is not '") + kCheckpointFormat + "'");
  a.read("fingerprint", stored_fp);
  if (stored_fp.toStringRef() != fp)
    throw FileError(p, "fingerprint",
                    "was made by a run with another dataset or other options; remove it (or "
                    "drop --resume) to start afresh");
  TrainState s;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < net.params.size(); ++i) {
      torch::Tensor t;
      a.read("param" + std::to_string(i), t);
      net.params[i].copy_(t);
    }
  }
  torch::serialize::InputArchive opt;
  a.read("optimizer", opt);
  adam.load(opt);
  torch::Tensor st, h;
  a.read("state", st);
  a.read("history", h);
  s.epochs_done = long(st[0].item<double>());
  s.best_epoch = long(st[1].item<double>());
  s.best_val_accuracy = st[2].item<double>();
  s.best_val_loss = st[3].item<double>();
  s.stale = long(st[4].item<double>());
  const auto hv = h.contiguous();
  for (long i = 0; i + 6 <= hv.numel(); i += 6) {
    const double* r = hv.data_ptr<double>() + i;
    s.history.push_back({long(r[0]), r[1], r[2], r[3], r[4], r[5]});
  }
  a.read("best", best);
  s.best = core::model_from_json(best.toStringRef(), p);
  return s;
}

}  // namespace bmru::train
