#include "core/stimuli.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <fstream>

#include "core/errors.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

TEST(RandomStimuli, SameSeedSameInputsOtherSeedOtherInputs) {
  auto a = read_all(*random_stimuli({3, 50, 13, 7}));
  auto b = read_all(*random_stimuli({3, 50, 13, 7}));
  auto c = read_all(*random_stimuli({3, 50, 13, 8}));
  ASSERT_EQ(a.size(), 3u);
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(a[s], b[s]);
    EXPECT_NE(a[s], c[s]);
  }
  EXPECT_NE(a[0], a[1]);  // sequences differ from each other
}

TEST(RandomStimuli, ValuesAreClippedGaussiansHeldOneToFiveFrames) {
  const Matrix x = random_stimuli({1, 20000, 4, 3})->read_sequence(0, 0, 20000);
  EXPECT_LE(x.maxCoeff(), 3.0);
  EXPECT_GE(x.minCoeff(), -3.0);
  for (Index i = 0; i < x.cols(); ++i) {
    int run = 1;
    std::vector<int> runs;
    for (Index k = 1; k < x.rows(); ++k) {
      // Two clipped draws in a row (+-3) would merge two runs: such runs are not counted.
      if (x(k, i) == x(k - 1, i) && std::abs(x(k, i)) < 3.0) {
        ++run;
      } else {
        runs.push_back(run);
        run = 1;
      }
    }
    // Runs of one drawn value last 1-5 frames, 3 on average (unclipped draws never repeat).
    EXPECT_EQ(*std::min_element(runs.begin(), runs.end()), 1);
    EXPECT_EQ(*std::max_element(runs.begin(), runs.end()), 5);
    double mean_run = 0;
    for (int r : runs) mean_run += r;
    mean_run /= static_cast<double>(runs.size());
    EXPECT_NEAR(mean_run, 3.0, 0.1);
    // Values: mean 0 and standard deviation about 1 (clipping at 3 sigma removes 0.3 %).
    const double mean = x.col(i).mean();
    const double sd = std::sqrt((x.col(i).array() - mean).square().mean());
    EXPECT_NEAR(mean, 0.0, 0.05);
    EXPECT_NEAR(sd, 1.0, 0.05);
  }
}

TEST(RandomStimuli, BlocksAgreeWithWholeSequencesInAnyOrder) {
  auto src = random_stimuli({4, 30, 5, 9});
  const auto whole = read_all(*src);
  std::vector<Matrix> block;
  for (Index k0 : {0, 10, 20, 10, 0}) {  // going back restarts the generators
    src->read(k0, 10, block);
    for (Index j = 0; j < 10; ++j)
      for (Index s = 0; s < 4; ++s)
        EXPECT_EQ(block[static_cast<size_t>(j)].row(s), whole[static_cast<size_t>(s)].row(k0 + j));
  }
  EXPECT_THROW(src->read(25, 10, block), InputError);
}

TEST(FileStimuli, CsvWithHeaderAndComments) {
  test::TempDir dir;
  std::ofstream(dir / "x.csv") << "# two inputs\na,b\n1, 2\n-0.5,3e-1 # trailing comment\n\n4,5\n";
  auto src = file_stimuli(dir / "x.csv", 2);
  EXPECT_EQ(src->sequences(), 1);
  EXPECT_EQ(src->frames(), 3);
  Matrix want(3, 2);
  want << 1, 2, -0.5, 0.3, 4, 5;
  EXPECT_EQ(src->read_sequence(0, 0, 3), want);
}

TEST(FileStimuli, CsvErrorsNameFileAndLine) {
  test::TempDir dir;
  std::ofstream(dir / "cols.csv") << "1,2\n1,2,3\n";
  try {
    file_stimuli(dir / "cols.csv", 2);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("cols.csv"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("3 columns"), std::string::npos);
  }
  std::ofstream(dir / "nan.csv") << "1,2\nnan,2\n";
  EXPECT_THROW(file_stimuli(dir / "nan.csv", 2), FileError);
  std::ofstream(dir / "text.csv") << "1,2\n1,x\n";
  EXPECT_THROW(file_stimuli(dir / "text.csv", 2), FileError);
}

void write_inputs(const std::filesystem::path& path, const std::vector<hsize_t>& dims,
                  const std::vector<float>& values) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t s = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t d = H5Dcreate2(f, "inputs", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(d);
  H5Sclose(s);
  H5Fclose(f);
}

TEST(FileStimuli, Hdf5InputsAreReadAsSequencesFramesInputs) {
  test::TempDir dir;
  std::vector<float> v(2 * 3 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  write_inputs(dir / "in.h5", {2, 3, 2}, v);
  auto src = file_stimuli(dir / "in.h5", 2);
  EXPECT_EQ(src->sequences(), 2);
  EXPECT_EQ(src->frames(), 3);
  std::vector<Matrix> block;
  src->read(1, 2, block);
  EXPECT_EQ(block[0](1, 0), 8.0f);  // sequence 1, frame 1, input 0 = (1*3 + 1)*2 + 0
  EXPECT_EQ(block[1](0, 1), 5.0f);  // sequence 0, frame 2, input 1
  EXPECT_EQ(src->read_sequence(1, 0, 3)(2, 1), 11.0);
}

TEST(FileStimuli, Hdf5ShapeAndNanErrorsNameTheDataset) {
  test::TempDir dir;
  write_inputs(dir / "shape.h5", {2, 3}, std::vector<float>(6, 0.f));
  try {
    file_stimuli(dir / "shape.h5", 2);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/inputs"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[2,3]"), std::string::npos);
  }
  std::vector<float> v(4, 0.f);
  v[3] = std::nanf("");
  write_inputs(dir / "nan.h5", {1, 2, 2}, v);
  auto src = file_stimuli(dir / "nan.h5", 2);
  try {
    src->read_sequence(0, 0, 2);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("[0,1,1]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bmru::core
