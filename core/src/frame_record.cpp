#include "core/frame_record.hpp"

#include <cstdint>
#include <cstring>

#include "core/errors.hpp"

namespace bmru::core {
namespace {

constexpr std::uint32_t kMagic = 0x52464D42;  // "BMFR" read as little-endian bytes

class Writer {
 public:
  template <typename T>
  void put(T v) {
    const auto at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
  }
  void put_all(const double* p, size_t n) {
    const auto at = bytes.size();
    bytes.resize(at + n * sizeof(double));
    if (n) std::memcpy(bytes.data() + at, p, n * sizeof(double));
  }
  void put_frame(const Frame& f) {
    for (const auto& l : f.layers)
      for (const Matrix* m : {&l.candidate, &l.state, &l.output})
        put_all(m->data(), static_cast<size_t>(m->size()));
    put_all(f.logits.data(), static_cast<size_t>(f.logits.size()));
  }
  void put_crossings(const std::vector<Crossings>& c) {
    for (const auto& q : c) {
      put(static_cast<double>(q.count));
      put(q.first_offset_s);
    }
  }
  std::string bytes;
};

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  T get(const char* what) {
    if (at_ + sizeof(T) > b_.size())
      throw Error(std::string("A frame record ended inside its ") + what + " (" +
                  std::to_string(b_.size()) +
                  " bytes): the worker's and the parent's record versions differ, or the stream is "
                  "damaged");
    T v;
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::vector<double> get_all(size_t n, const char* what) {
    if (at_ + n * sizeof(double) > b_.size())
      throw Error(std::string("A frame record is too short for its ") + what);
    std::vector<double> v(n);
    if (n) std::memcpy(v.data(), b_.data() + at_, n * sizeof(double));
    at_ += n * sizeof(double);
    return v;
  }
  Frame get_frame(size_t layers, Index d, Index n_out, const char* what) {
    Frame f;
    f.layers.resize(layers);
    for (auto& l : f.layers)
      for (Matrix* m : {&l.candidate, &l.state, &l.output}) {
        m->resize(1, d);
        const auto v = get_all(static_cast<size_t>(d), what);
        for (Index i = 0; i < d; ++i) (*m)(0, i) = v[static_cast<size_t>(i)];
      }
    f.logits.resize(1, n_out);
    const auto y = get_all(static_cast<size_t>(n_out), what);
    for (Index j = 0; j < n_out; ++j) f.logits(0, j) = y[static_cast<size_t>(j)];
    return f;
  }
  std::vector<Crossings> get_crossings(size_t cells, const char* what) {
    std::vector<Crossings> c(cells);
    for (auto& q : c) {
      q.count = static_cast<Index>(get<double>(what));
      q.first_offset_s = get<double>(what);
    }
    return c;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

}  // namespace

std::string encode(const FrameRecord& r) {
  Writer w;
  w.put<std::uint32_t>(kMagic);
  w.put<std::uint32_t>(kFrameRecordVersion);
  w.put<std::int64_t>(r.k);
  const auto d =
      static_cast<std::uint64_t>(r.sw.layers.empty() ? 0 : r.sw.layers.front().candidate.size());
  for (const std::uint64_t n :
       {static_cast<std::uint64_t>(r.probes.size()), static_cast<std::uint64_t>(r.sw.layers.size()),
        d, static_cast<std::uint64_t>(r.sw.logits.size()),
        static_cast<std::uint64_t>(r.supply_charge.size()),
        static_cast<std::uint64_t>(r.crossings.size()),
        static_cast<std::uint64_t>(r.waveform.size()), static_cast<std::uint64_t>(r.ct ? 1 : 0),
        static_cast<std::uint64_t>(r.argmax_s.size())})
    w.put(n);
  w.put_all(r.probes.data(), r.probes.size());
  w.put_frame(r.sw);
  w.put_all(r.supply_charge.data(), r.supply_charge.size());
  w.put_crossings(r.crossings);
  w.put_all(r.waveform.data(), r.waveform.size());
  if (r.ct) {
    w.put_frame(r.ct->frame);
    w.put_crossings(r.ct->crossings);
    w.put(r.ct->spice_s);
    w.put(r.ct->ct_s);
  }
  w.put_all(r.argmax_s.data(), r.argmax_s.size());
  return std::move(w.bytes);
}

FrameRecord decode_frame_record(std::string_view bytes) {
  Reader in(bytes);
  if (in.get<std::uint32_t>("magic") != kMagic)
    throw Error("A worker message is not a frame record (bad magic)");
  const auto version = in.get<std::uint32_t>("version");
  if (version != kFrameRecordVersion)
    throw Error("A frame record has version " + std::to_string(version) +
                "; this build reads version " + std::to_string(kFrameRecordVersion) +
                " (the worker binary is of another build)");
  FrameRecord r;
  r.k = static_cast<Index>(in.get<std::int64_t>("frame index"));
  std::uint64_t n[9];
  for (auto& c : n) c = in.get<std::uint64_t>("counts");
  for (const auto c : n)
    if (c > (std::uint64_t{1} << 32))
      throw Error("A frame record announces an impossible count (" + std::to_string(c) + ")");
  const auto layers = static_cast<size_t>(n[1]);
  const auto d = static_cast<Index>(n[2]), n_out = static_cast<Index>(n[3]);
  r.probes = in.get_all(static_cast<size_t>(n[0]), "probes");
  r.sw = in.get_frame(layers, d, n_out, "software frame");
  r.supply_charge = in.get_all(static_cast<size_t>(n[4]), "supply charges");
  r.crossings = in.get_crossings(static_cast<size_t>(n[5]), "crossings");
  r.waveform = in.get_all(static_cast<size_t>(n[6]), "waveform");
  if (n[7]) {
    CtFrameRecord ct;
    ct.frame = in.get_frame(layers, d, n_out, "ct frame");
    ct.crossings = in.get_crossings(static_cast<size_t>(n[5]), "ct crossings");
    ct.spice_s = in.get<double>("ct timing");
    ct.ct_s = in.get<double>("ct timing");
    r.ct = std::move(ct);
  }
  r.argmax_s = in.get_all(static_cast<size_t>(n[8]), "argmax times");
  if (!in.done()) throw Error("A frame record is longer than its counts say");
  return r;
}

}  // namespace bmru::core
