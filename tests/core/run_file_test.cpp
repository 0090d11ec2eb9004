#include "core/run_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>

#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "h5_reader.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

using test::read_dataset;

Frame frame(Index batch, Index d, Index n_out, double base) {
  Frame f;
  f.layers.resize(1);
  auto fill = [&](Index cols, double off) {
    return Matrix(Matrix::NullaryExpr(batch, cols, [&](Index b, Index i) {
      return base + off + 10.0 * static_cast<double>(b) + static_cast<double>(i);
    }));
  };
  f.layers[0] = {fill(d, 0.1), fill(d, 0.2), fill(d, 0.3)};
  f.logits = fill(n_out, 0.4);
  return f;
}

TEST(RunFile, TracesLandAtSequenceFrameCell) {
  test::TempDir dir;
  const TraceShape shape{3, 4, 2, 2, 1, 1};
  const Network net = test::random_network(2, 2, 1, 1, 1);
  {
    RunFile file(dir / "run.h5", {"9.9", "bmru test"});
    file.write_model(net);
    TraceWriter sw = file.add_traces("sw", shape, "model units");
    // Two blocks of two frames for sequences 0-2, written in reverse order.
    sw.write_block(0, 2, {frame(3, 2, 1, 200), frame(3, 2, 1, 300)});
    sw.write_block(0, 0, {frame(3, 2, 1, 0), frame(3, 2, 1, 100)});
    sw.write_decisions({{0, 0.5}, {kTie, 0.0}, {1, 0.25}});
    file.commit();
  }
  std::vector<hsize_t> dims;
  const auto state = read_dataset(dir / "run.h5", "/sw/layer1/state", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{3, 4, 2}));
  // [s, k, i] = 100 k + 10 s + i + 0.2
  for (hsize_t s = 0; s < 3; ++s)
    for (hsize_t k = 0; k < 4; ++k)
      for (hsize_t i = 0; i < 2; ++i)
        EXPECT_DOUBLE_EQ(state[(s * 4 + k) * 2 + i], 100.0 * k + 10.0 * s + i + 0.2);
  EXPECT_EQ(read_dataset(dir / "run.h5", "/sw/decision"), (std::vector<double>{0, -1, 1}));
  EXPECT_EQ(read_model(dir / "run.h5"), net);  // the /model group is a model file
  EXPECT_FALSE(std::filesystem::exists(dir / "run.h5.part"));
}

TEST(RunFile, UncommittedRunLeavesTheOldFileAndAReadablePart) {
  test::TempDir dir;
  std::ofstream(dir / "run.h5") << "previous results";
  const TraceShape shape{1, 2, 1, 1, 1, 1};
  {
    RunFile file(dir / "run.h5", {"9.9", "bmru test"});
    TraceWriter sw = file.add_traces("sw", shape, "model units");
    sw.write_block(0, 0, {frame(1, 1, 1, 5)});
    // the run fails here: no commit
  }
  std::ifstream old(dir / "run.h5");
  std::string text;
  std::getline(old, text);
  EXPECT_EQ(text, "previous results");
  const auto cand = read_dataset(dir / "run.h5.part", "/sw/layer1/candidate");
  EXPECT_DOUBLE_EQ(cand[0], 5.1);
}

TEST(RunFile, EveryTraceHasUnits) {
  test::TempDir dir;
  RunFile file(dir / "run.h5", {"9.9", "bmru test"});
  file.add_traces("hw", {1, 1, 1, 1, 1, 1}, "A");
  file.commit();
  hid_t f = H5Fopen((dir / "run.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  for (const char* name :
       {"/hw/layer1/candidate", "/hw/layer1/state", "/hw/layer1/output", "/hw/logits"})
    EXPECT_GT(H5Aexists_by_name(f, name, "units", H5P_DEFAULT), 0) << name;
  H5Fclose(f);
}

TEST(RunFile, UnwritableFolderIsNamed) {
  try {
    RunFile file("/nonexistent/folder/run.h5", {"9.9", "bmru test"});
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/folder/run.h5"), std::string::npos);
  }
}

}  // namespace
}  // namespace bmru::core
