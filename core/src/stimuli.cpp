#include "core/stimuli.hpp"

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "h5.hpp"

namespace bmru::core {
namespace {

// splitmix64: decorrelates the per-sequence seeds derived from (seed, sequence).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// One random sequence, generated forward frame by frame.
class RandomSequence {
 public:
  RandomSequence(std::uint64_t seed, Index s, Index n_in)
      : rng_(mix(seed ^ mix(static_cast<std::uint64_t>(s)))),
        value_(n_in),
        left_(static_cast<size_t>(n_in), 0) {}

  // Writes the next frame into `row`.
  template <typename Row>
  void next(Row&& row) {
    for (Index i = 0; i < value_.size(); ++i) {
      auto& left = left_[static_cast<size_t>(i)];
      if (left == 0) {
        value_(i) = std::clamp(normal_(rng_), -3.0, 3.0);
        left = hold_(rng_);
      }
      --left;
      row(i) = value_(i);
    }
    ++position_;
  }
  Index position() const { return position_; }

 private:
  boost::random::mt19937_64 rng_;
  boost::random::normal_distribution<double> normal_{0.0, 1.0};
  boost::random::uniform_int_distribution<int> hold_{1, 5};
  Vector value_;
  std::vector<int> left_;
  Index position_ = 0;
};

class RandomStimuli final : public StimulusSource {
 public:
  explicit RandomStimuli(const RandomStimulusSpec& spec) : spec_(spec) { restart(); }
  Index sequences() const override { return spec_.sequences; }
  Index frames() const override { return spec_.frames; }
  Index n_in() const override { return spec_.n_in; }
  std::string describe() const override { return "random seed=" + std::to_string(spec_.seed); }

  void read(Index k0, Index count, std::vector<Matrix>& out) override {
    check_range(k0, count);
    if (seq_.empty() || seq_.front().position() != k0) restart_at(k0);
    out.resize(static_cast<size_t>(count));
    for (Index j = 0; j < count; ++j) {
      Matrix& x = out[static_cast<size_t>(j)];
      x.resize(spec_.sequences, spec_.n_in);
      for (Index s = 0; s < spec_.sequences; ++s) seq_[static_cast<size_t>(s)].next(x.row(s));
    }
  }

  Matrix read_sequence(Index s, Index k0, Index count) override {
    check_range(k0, count);
    RandomSequence one(spec_.seed, s, spec_.n_in);
    Vector skip(spec_.n_in);
    for (Index k = 0; k < k0; ++k) one.next(skip);
    Matrix out(count, spec_.n_in);
    for (Index j = 0; j < count; ++j) one.next(out.row(j));
    return out;
  }

 private:
  void check_range(Index k0, Index count) const {
    if (k0 < 0 || count < 0 || k0 + count > spec_.frames)
      throw InputError("Frames [" + std::to_string(k0) + ", " + std::to_string(k0 + count) +
                       ") lie outside the " + std::to_string(spec_.frames) + "-frame sequences");
  }
  void restart() {
    seq_.clear();
    for (Index s = 0; s < spec_.sequences; ++s) seq_.emplace_back(spec_.seed, s, spec_.n_in);
  }
  void restart_at(Index k0) {
    restart();
    Vector skip(spec_.n_in);
    for (auto& q : seq_)
      for (Index k = 0; k < k0; ++k) q.next(skip);
  }

  RandomStimulusSpec spec_;
  std::vector<RandomSequence> seq_;
};

class H5Stimuli final : public StimulusSource {
 public:
  H5Stimuli(std::string path, Index n_in)
      : path_(std::move(path)), file_(h5::open_file(path_, false)) {
    const h5::Loc root{file_.get(), path_, "/"};
    const auto dims = h5::dataset_dims(root, "inputs");
    if (dims.size() != 3 || static_cast<Index>(dims[2]) != n_in)
      throw FileError(path_, "/inputs",
                      "has shape " + shape_text(dims) + ", expected [sequences, frames, " +
                          std::to_string(n_in) +
                          "] for a network with n_in = " + std::to_string(n_in));
    if (dims[0] == 0 || dims[1] == 0) throw FileError(path_, "/inputs", "holds no frames");
    s_ = static_cast<Index>(dims[0]);
    n_ = static_cast<Index>(dims[1]);
    n_in_ = n_in;
  }
  Index sequences() const override { return s_; }
  Index frames() const override { return n_; }
  Index n_in() const override { return n_in_; }
  std::string describe() const override { return "file " + path_; }

  void read(Index k0, Index count, std::vector<Matrix>& out) override {
    const auto data = slab(0, s_, k0, count);
    out.resize(static_cast<size_t>(count));
    for (Index j = 0; j < count; ++j) {
      Matrix& x = out[static_cast<size_t>(j)];
      x.resize(s_, n_in_);
      for (Index s = 0; s < s_; ++s)
        for (Index i = 0; i < n_in_; ++i)
          x(s, i) = data[static_cast<size_t>((s * count + j) * n_in_ + i)];
    }
  }

  Matrix read_sequence(Index s, Index k0, Index count) override {
    const auto data = slab(s, 1, k0, count);
    Matrix out(count, n_in_);
    for (Index j = 0; j < count; ++j)
      for (Index i = 0; i < n_in_; ++i) out(j, i) = data[static_cast<size_t>(j * n_in_ + i)];
    return out;
  }

 private:
  static std::string shape_text(const std::vector<hsize_t>& dims) {
    std::string t = "[";
    for (size_t i = 0; i < dims.size(); ++i) t += (i ? "," : "") + std::to_string(dims[i]);
    return t + "]";
  }
  std::vector<double> slab(Index s0, Index ns, Index k0, Index count) {
    const h5::Loc root{file_.get(), path_, "/"};
    auto data = h5::read_slab(
        root, "inputs", {static_cast<hsize_t>(s0), static_cast<hsize_t>(k0), 0},
        {static_cast<hsize_t>(ns), static_cast<hsize_t>(count), static_cast<hsize_t>(n_in_)});
    for (size_t p = 0; p < data.size(); ++p)
      if (!std::isfinite(data[p])) {
        const auto i = static_cast<Index>(p) % n_in_;
        const auto j = static_cast<Index>(p) / n_in_ % count;
        const auto s = static_cast<Index>(p) / n_in_ / count;
        throw FileError(path_, "/inputs",
                        "value at [" + std::to_string(s0 + s) + "," + std::to_string(k0 + j) + "," +
                            std::to_string(i) + "] is not finite");
      }
    return data;
  }

  std::string path_;
  h5::Id file_;
  Index s_ = 0, n_ = 0, n_in_ = 0;
};

// CSV: one sequence, kept in memory (its size is the file's size).
class CsvStimuli final : public StimulusSource {
 public:
  CsvStimuli(const std::string& path, Index n_in) : path_(path) {
    std::ifstream in(path);
    if (!in) throw FileError(path, "", "could not be opened for reading");
    std::vector<std::vector<double>> rows;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      std::vector<double> row;
      bool numeric = true;
      std::stringstream fields(line);
      std::string field;
      while (std::getline(fields, field, ',')) {
        const auto b = field.find_first_not_of(" \t\r");
        const auto e = field.find_last_not_of(" \t\r");
        const std::string t = b == std::string::npos ? "" : field.substr(b, e - b + 1);
        double v = 0;
        const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc() || ptr != t.data() + t.size() || t.empty()) {
          numeric = false;
          break;
        }
        if (!std::isfinite(v))
          throw FileError(path, "line " + std::to_string(number),
                          "column " + std::to_string(row.size() + 1) + " is not finite");
        row.push_back(v);
      }
      if (!numeric) {
        if (rows.empty() && !header_seen_) {
          header_seen_ = true;
          continue;
        }
        throw FileError(path, "line " + std::to_string(number),
                        "holds a value that is not a number");
      }
      if (static_cast<Index>(row.size()) != n_in)
        throw FileError(path, "line " + std::to_string(number),
                        "has " + std::to_string(row.size()) +
                            " columns, expected n_in = " + std::to_string(n_in));
      rows.push_back(std::move(row));
    }
    if (rows.empty()) throw FileError(path, "", "holds no frames");
    data_.resize(static_cast<Index>(rows.size()), n_in);
    for (size_t r = 0; r < rows.size(); ++r)
      for (Index i = 0; i < n_in; ++i)
        data_(static_cast<Index>(r), i) = rows[r][static_cast<size_t>(i)];
  }
  Index sequences() const override { return 1; }
  Index frames() const override { return data_.rows(); }
  Index n_in() const override { return data_.cols(); }
  std::string describe() const override { return "file " + path_; }
  void read(Index k0, Index count, std::vector<Matrix>& out) override {
    out.resize(static_cast<size_t>(count));
    for (Index j = 0; j < count; ++j) out[static_cast<size_t>(j)] = data_.row(k0 + j);
  }
  Matrix read_sequence(Index, Index k0, Index count) override {
    return data_.middleRows(k0, count);
  }

 private:
  std::string path_;
  Matrix data_;
  bool header_seen_ = false;
};

}  // namespace

std::unique_ptr<StimulusSource> random_stimuli(const RandomStimulusSpec& spec) {
  if (spec.sequences < 1 || spec.frames < 1 || spec.n_in < 1)
    throw InputError("Random inputs need at least one sequence, one frame and one input (got " +
                     std::to_string(spec.sequences) + " sequences of " +
                     std::to_string(spec.frames) + " frames)");
  return std::make_unique<RandomStimuli>(spec);
}

std::unique_ptr<StimulusSource> file_stimuli(const std::filesystem::path& path, Index n_in) {
  const std::string p = path.string();
  if (!std::filesystem::exists(path)) throw FileError(p, "", "no such input file");
  if (h5::is_hdf5(p)) return std::make_unique<H5Stimuli>(p, n_in);
  return std::make_unique<CsvStimuli>(p, n_in);
}

std::vector<Matrix> read_all(StimulusSource& source) {
  std::vector<Matrix> out;
  for (Index s = 0; s < source.sequences(); ++s)
    out.push_back(source.read_sequence(s, 0, source.frames()));
  return out;
}

}  // namespace bmru::core
